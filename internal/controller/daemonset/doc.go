// Package daemonset is the apps/v1 DaemonSet controller: one pod of a
// DaemonSet on every node that should run it, as kube-controller-manager's
// daemonset controller.
//
// Which nodes: Eligibility.ShouldRun, upstream's NodeShouldRunDaemonPod.
// The template's spec.nodeName, nodeSelector and required node affinity
// select nodes; a NoSchedule or NoExecute taint the pod does not tolerate
// keeps a new pod off (an untolerated NoExecute one also removes a
// running pod). The pods tolerate what upstream adds to every daemon pod:
// not-ready and unreachable NoExecute without tolerationSeconds,
// disk-pressure, memory-pressure, pid-pressure and unschedulable
// NoSchedule, and network-unavailable NoSchedule for host-network pods.
// A pod is aimed at its node by a required node affinity on the node's
// metadata.name (matchFields) and placed by the default scheduler, as
// upstream; it carries the controller-revision-hash (and
// pod-template-generation) labels of the template it was made from.
//
// What to do: the pure function Decide, given the DaemonSet, each node
// with its pods (NodePods), the current Revision and the time. Per node
// (DecideNode): create a pod where one should run and none is; delete
// pods where none may stay, extra pods (the oldest stays), and finished
// pods (Failed ones after a per-node backoff, 1 s doubling to 15 min, so
// a node that rejects the pod is not hot-looped; FailedDaemonPod and
// SucceededDaemonPod Events). Pods aimed at nodes that no longer exist
// are deleted: unscheduled ones as upstream does, and bound ones too,
// with grace 0 after a live read confirms the node is gone (upstream
// leaves those to PodGC after a 40 s quarantine; no kubelet will stop
// them either way). When that pass has nothing to do and the strategy is
// RollingUpdate, RollingUpdate replaces old-revision pods within
// maxUnavailable (delete, then the per-node pass creates) or maxSurge
// (create beside, delete the old one once the new one is available).
// OnDelete leaves old pods until someone deletes them.
//
// Revisions: every template is snapshotted as a ControllerRevision
// through package history (Data is the strategic merge patch `kubectl
// rollout undo` applies); the current one is made the newest, duplicates
// are merged, collisions counted in status.collisionCount, and old ones
// beyond spec.revisionHistoryLimit that no pod runs are deleted. Pods and
// revisions are adopted and released by selector as upstream's
// ControllerRefManager does.
//
// Expectations: creations and deletions issued and not yet seen through
// the pod informer block further decisions for that DaemonSet (its status
// is still written, without raising observedGeneration), so a lagging
// informer never causes a double create; at most BurstReplicas of each
// per pass, creations in slow-start batches (1, 2, 4, ...) that stop at
// the first failure.
//
// Status: desiredNumberScheduled, currentNumberScheduled,
// numberMisscheduled, numberReady, numberAvailable (ready for
// minReadySeconds), numberUnavailable, updatedNumberScheduled,
// observedGeneration and collisionCount, written only when they change;
// `kubectl rollout status daemonset/x` reads them.
//
// Informer caches are never modified. Pods, nodes, DaemonSets and
// ControllerRevisions come from the process's shared informers when it
// has them (SharedInformers; WithInformers for pods and nodes); on its own
// the controller keeps of pods other controllers own only their identity,
// and of nodes no status.
package daemonset
