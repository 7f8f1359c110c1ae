// Package statefulset is the StatefulSet controller: pods with stable
// names, network identities and storage, created, scaled and updated in
// ordinal order, as kube-controller-manager's statefulset controller.
//
// Contract, per StatefulSet, on every pass (level-triggered; a key names
// the set, never what changed):
//   - Pods named <set>-<ordinal> that match the selector are adopted
//     (after a live read confirms the set is not being deleted); its pods
//     that no longer match are released. ControllerRevisions likewise.
//   - The set's template is snapshotted as a ControllerRevision (see
//     internal/controller/history): the latest equal revision is reused,
//     an older equal one renumbered (a rollback), else one is created,
//     with status.collisionCount bumped on a name collision. Revisions
//     beyond revisionHistoryLimit that no pod uses are deleted.
//   - Reconcile, a pure function of the set, its revisions, its pods and
//     the claims, decides the pass (see Reconcile for the rules):
//     pods for ordinals [start, start+replicas) with hostname <pod>,
//     subdomain serviceName, the pod-name, pod-index and
//     controller-revision-hash labels, and volumes for claims
//     <template>-<set>-<ordinal> created before the pod; OrderedReady one
//     at a time after the lower ordinals are Running, Ready and available,
//     scale-down from the highest ordinal, Parallel all at once; failed
//     pods deleted and recreated; RollingUpdate from the highest ordinal
//     down to the partition within maxUnavailable, or OnDelete; claim
//     owner references per persistentVolumeClaimRetentionPolicy.
//   - The controller carries out the plan (claims, pods, labels, claim
//     owners, deletions, in that order), then writes status (replicas,
//     readyReplicas, availableReplicas, currentReplicas, updatedReplicas,
//     currentRevision, updateRevision, observedGeneration, collisionCount)
//     when it differs. A pass that became available after minReadySeconds
//     is requeued for then, as no event announces it.
//
// A live pod lacking the pod-name or pod-index label (an adopted one)
// gets them, as upstream; unlike upstream, volumes changed by hand are not
// repaired (the controller reads no pod specs, so it can run on trimmed
// pods), and such a pod keeps them until it is deleted. Informer caches
// are never modified.
package statefulset
