// Package nodelifecycle holds two of kube-controller-manager's
// controllers over one set of informers (nodes, node Leases, pods bound
// to a node, all slimmed to what they read):
//
// The node lifecycle controller ("nodelifecycle"):
//   - every MonitorPeriod (--node-monitor-period, 5 s) it checks each
//     node's health: a changed heartbeat in its Ready condition or a
//     renewed Lease in kube-node-lease is a sign of life, timed by the
//     controller's own clock; a node silent for MonitorGracePeriod
//     (--node-monitor-grace-period, 40 s), or StartupGracePeriod
//     (--node-startup-grace-period, 1 m) if it never posted a Ready
//     condition, gets Ready, MemoryPressure, DiskPressure and PIDPressure
//     Unknown (reason NodeStatusUnknown, "Kubelet stopped posting node
//     status."), a NodeNotReady Event, and its pods' Ready condition set
//     to False (Event NodeNotReady on each);
//   - taint-based eviction's half: a node whose Ready is False gets the
//     node.kubernetes.io/not-ready NoExecute taint, Unknown gets
//     node.kubernetes.io/unreachable NoExecute (stamped timeAdded; the two
//     exclude each other and swap at once), added through a per-zone
//     queue rate-limited as upstream: --node-eviction-rate nodes a second
//     in a healthy zone, --secondary-node-eviction-rate in a partially
//     disrupted zone (at least --unhealthy-zone-threshold of its nodes,
//     and more than two, not Ready) larger than
//     --large-cluster-size-threshold, none in a smaller one; when every
//     zone is fully disrupted the control plane is taken to be the one
//     cut off: all these taints are lifted and none are added until a
//     node is Ready again. A Ready node loses both taints.
//   - TaintNodesByCondition: on every node change the NoSchedule taints
//     not-ready, unreachable, memory-pressure, disk-pressure,
//     pid-pressure, network-unavailable and unschedulable are made to
//     match the node's conditions and spec.unschedulable. It is this
//     controller that lifts the not-ready NoSchedule taint admission gives
//     every new node, once the node posts Ready.
//
// The taint eviction controller ("taint-eviction-controller"): a pod on
// a node with NoExecute taints it does not all tolerate is deleted at
// once; one that tolerates them with tolerationSeconds is deleted when
// the smallest of those has passed since its eviction was scheduled (a
// toleration without seconds counts only if none has them). Each pending
// eviction is a timer, cancelled (Event "Cancelling deletion of Pod")
// when the taints go or the pod does. Deleting sets the DisruptionTarget
// condition (reason DeletionByTaintManager) first, records the Event
// TaintManagerEviction, then deletes with the pod's own grace period and
// its UID as precondition.
//
// Node writes are merge patches carrying the resourceVersion read, so a
// kubelet's concurrent heartbeat or another writer's taint is never
// overwritten; pod status writes are strategic merge patches of one
// condition. The health, zone and eviction decisions are pure functions
// of (observed state, now): assess, noScheduleTaints, noExecuteTaints,
// handleDisruption and decideEviction. Health state lives in memory: a
// restarted controller gives every node a fresh grace period.
package nodelifecycle
