// Package job is the batch/v1 Job controller: it runs a Job's pods to
// completion and keeps its status, as kube-controller-manager's job
// controller does.
//
// The decision — given a Job, its pods and the time, which pods to create
// or delete and what the status and conditions become — is the pure
// function Reconcile; the Controller only feeds it from informers and
// carries it out. Handled: completions and parallelism in NonIndexed and
// Indexed completion mode (the batch.kubernetes.io/job-completion-index
// annotation and label, the pod hostname <job>-<index> and the
// JOB_COMPLETION_INDEX variable), status active/ready/terminating/
// succeeded/failed/completedIndexes, startTime and completionTime,
// backoffLimit with an exponential backoff (10 s doubling, capped at 6
// min) before failed pods are replaced, activeDeadlineSeconds, suspend,
// and the FailureTarget/SuccessCriteriaMet conditions set before the
// final Failed/Complete, once the Job's active pods are gone, as
// upstream 1.31+.
//
// Not done: the batch.kubernetes.io/job-tracking pod finalizer. Upstream
// puts it on pods so that a finished pod deleted before being counted
// (by podgc or a user) is still counted; here a Job's succeeded and failed
// counts never decrease (the larger of status and the finished pods seen
// is kept). So a pod deleted before the controller saw it finish is never
// counted (a deleted active pod is replaced, not counted failed), and
// once counted pods are deleted, later terminations count only past the
// recorded total: with the finalizer's two-step protocol (record in
// status.uncountedTerminatedPods, then remove the finalizer) the counts
// would be exact. status.uncountedTerminatedPods is always empty. Indexed
// Jobs are exact for successes: completedIndexes is kept in status. Also
// not done: podFailurePolicy, backoffLimitPerIndex, successPolicy,
// podReplacementPolicy (pods are replaced once terminated), orphan
// adoption (only pods whose controller reference is the Job count).
// Events are recorded as upstream's job-controller records them
// (SuccessfulCreate, SuccessfulDelete, Completed, BackoffLimitExceeded,
// DeadlineExceeded, Suspended, Resumed).
package job
