// Package deployment is the Deployment controller: it rolls a
// Deployment's pod template out through ReplicaSets, as upstream's does.
//
// Each template a Deployment has had is one ReplicaSet named
// "<deployment>-<pod-template-hash>", the hash being upstream's (FNV-32a
// of the template's deep dump, plus the collision count, rendered with
// SafeEncodeString), also set as the pod-template-hash label on the
// ReplicaSet, its selector and its pods. The ReplicaSet whose template
// equals the Deployment's (ignoring that label) is the new one; the
// others are old. Revisions are annotations: the new ReplicaSet's
// deployment.kubernetes.io/revision is one more than the highest old one
// (a rollback to an old template re-uses its ReplicaSet and gives it the
// next revision, keeping the old numbers in revision-history), and
// desired-replicas / max-replicas record the size the Deployment had, so a
// later change of spec.replicas is told apart from a rollout.
//
// Each pass, level-triggered on the Deployment's key, does the first of:
//   - being deleted: only status is written;
//   - paused, or a scaling event (an active ReplicaSet's desired-replicas
//     differs from spec.replicas): scale, proportionally across the active
//     ReplicaSets when a rolling update is under way (largest first, the
//     leftover to the largest), without rolling out;
//   - Recreate: scale every old ReplicaSet to zero, wait until none of
//     their pods is running, then create and scale up the new one;
//   - RollingUpdate: scale the new ReplicaSet up while the total stays
//     within replicas+maxSurge, then scale old ones down while the
//     available pods stay at least replicas-maxUnavailable (unhealthy old
//     replicas first); percentages resolve as upstream's (surge rounded up,
//     unavailable down, both zero meaning one unavailable).
//
// Status reports replicas, updatedReplicas, readyReplicas,
// availableReplicas, unavailableReplicas, terminatingReplicas and
// observedGeneration from the ReplicaSets' statuses, and the conditions
// Available (MinimumReplicasAvailable / MinimumReplicasUnavailable) and
// Progressing (NewReplicaSetCreated, FoundNewReplicaSet,
// ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded
// after progressDeadlineSeconds without progress, DeploymentPaused /
// DeploymentResumed). Old ReplicaSets beyond revisionHistoryLimit that
// have no pods are deleted once a rollout completes.
//
// ReplicaSets matching the selector are adopted and those that stop
// matching released, as the ReplicaSet controller does with pods. The
// decisions are pure functions (plan.go, util.go) of the Deployment, its
// ReplicaSets and the time; controller.go applies them through appsAPI.
//
// The revision annotation is written on the Deployment with its status,
// as upstream does (its status strategy keeps metadata.annotations); a
// server whose status writes drop annotation changes loses only that
// copy, the ReplicaSets' revisions stay authoritative.
package deployment
