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
// Pods are counted as upstream counts them, with the
// batch.kubernetes.io/job-tracking finalizer: every pod is created with
// it; a finished pod that still holds it is first listed in
// status.uncountedTerminatedPods, its finalizer is removed once that
// status is written, and a listed pod without the finalizer (or gone) is
// then added to succeeded/failed. So each pod's end counts exactly once,
// even if the pod is deleted before or after; pods the controller deletes
// itself (extra, suspended) are released first and not counted; a
// running pod deleted by someone else, or deleted because the Job
// failed, counts as failed. Pods of a Job being deleted or gone are
// released. podFailurePolicy rules (onExitCodes In/NotIn, optionally per
// container, then init containers; onPodConditions such as
// DisruptionTarget) are matched in order on each failed pod: FailJob
// fails the Job with reason PodFailurePolicy and upstream's message,
// Ignore neither counts the failure nor backs off its replacement, Count
// counts it. An Indexed Job's successPolicy rules (succeededIndexes,
// succeededCount, or both) are checked before completions: the first met
// sets SuccessCriteriaMet with reason SuccessPolicy, and the pods still
// running are deleted, not counted as failed.
//
// podReplacementPolicy Failed (implied by a podFailurePolicy) lets a
// terminating pod keep its place (and index) until it is Failed; with
// TerminatingOrFailed it is a failure and replaced at once.
//
// backoffLimitPerIndex: each index backs off on its own failures (the
// batch.kubernetes.io/job-index-failure-count annotation carries the
// count to the index's next pod); an index failed more often than the
// limit, or whose pod matched a FailIndex rule, goes into
// status.failedIndexes and is not run again; more failed indexes than
// maxFailedIndexes fails the Job (MaxFailedIndexesExceeded), as does
// every index done with some failed (FailedIndexes).
//
// Not done: orphan adoption (only pods whose controller reference is the
// Job count); the job-index-ignored-failure-count annotation.
// Events are recorded as upstream's job-controller records them
// (SuccessfulCreate, SuccessfulDelete, Completed, BackoffLimitExceeded,
// DeadlineExceeded, Suspended, Resumed).
package job
