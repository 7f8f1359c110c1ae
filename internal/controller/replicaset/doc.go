// Package replicaset is the ReplicaSet controller and, through the same
// code, the ReplicationController controller: each keeps the number of
// active pods its selector claims equal to spec.replicas.
//
// As upstream does, a ReplicationController is read as if it were an
// older API version of a ReplicaSet: it is converted to the apps/v1 form
// on the way in and its status converted back on the way out, so one
// reconcile serves both kinds.
//
// Contract, per object, on every pass (level-triggered; a key names the
// object, never what changed):
//   - Pods it controls (ownerReference controller=true pointing at it) that
//     no longer match its selector are released (the reference is removed
//     with a strategic merge patch guarded by the pod's UID); orphan pods
//     that match, are active and not being deleted are adopted (a
//     reference with controller=true and blockOwnerDeletion=true is added),
//     after a live read confirms the owner itself is not being deleted.
//   - If it is not being deleted and its expectations are met, the
//     difference between active claimed pods and spec.replicas is acted
//     on: at most BurstReplicas pods per pass, creations in slow-start
//     batches (1, 2, 4, ...) that stop at the first failure, deletions of
//     the pods upstream's ranking puts first (unscheduled, pending, not
//     ready, doubled up on a node, ready for less time, restarted more,
//     newer).
//   - Expectations record the creations and deletions issued and not yet
//     seen through the pod informer, so a lagging informer never causes a
//     second round of creations or deletions; they expire after five
//     minutes, as upstream's, in case a watch event is lost.
//   - Status (replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas after minReadySeconds, terminatingReplicas,
//     observedGeneration and the ReplicaFailure condition) is written
//     whenever it differs from what the informer holds.
//
// The pod and ReplicaSet informers are shared with the Deployment
// controller (see Informers); informer caches are never modified.
package replicaset
