package nodelifecycle

import (
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reasons and messages the controller writes into conditions it takes
// over from a silent kubelet, upstream's word for word.
const (
	reasonStatusUnknown      = "NodeStatusUnknown"
	messageStatusUnknown     = "Kubelet stopped posting node status."
	reasonStatusNeverUpdated = "NodeStatusNeverUpdated"
	messageNeverUpdated      = "Kubelet never posted node status."
)

// staleConditionTypes are the conditions set to Unknown when the kubelet
// goes silent. NetworkUnavailable is the network's, not the kubelet's.
var staleConditionTypes = []corev1.NodeConditionType{
	corev1.NodeReady, corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure,
}

// health is what the controller remembers of a node between passes: when
// it last saw a sign of life by its own clock (a new heartbeat in the
// Ready condition, or a renewed Lease), so that skew between the node's
// clock and ours does not matter.
type health struct {
	probe time.Time // last sign of life, our clock
	// readyHeartbeat and readyTransition are the Ready condition's times
	// as last seen; seen is false until a Ready condition was seen.
	readyHeartbeat  metav1.Time
	readyTransition metav1.Time
	seen            bool
	leaseRenew      time.Time // the Lease's renewTime as last seen
}

// Timeouts are kube-controller-manager's node monitor settings.
type Timeouts struct {
	// MonitorGracePeriod: a node silent this long is Unknown.
	MonitorGracePeriod time.Duration
	// StartupGracePeriod replaces it for a node that never posted a Ready
	// condition.
	StartupGracePeriod time.Duration
}

// assessment is the outcome of looking at one node at one instant.
type assessment struct {
	next health
	// before is the Ready condition as the node has it (Unknown, dated
	// at creation, when it has none); after is what it should have now.
	before, after corev1.ConditionStatus
	// conditions, when not nil, are the node's new status conditions:
	// the kubelet went silent and the controller marks them Unknown.
	conditions []corev1.NodeCondition
	// hasReady: the node has a Ready condition (its own, or the one
	// conditions adds). Without one, nothing is decided on its readiness
	// yet: no NoExecute taint, no pods marked.
	hasReady bool
}

// assess is the node health decision: given what was remembered (prev,
// nil for a node not seen before), the node and its Lease (nil if none)
// as they are, and now, it says what to remember and whether the node's
// conditions must turn Unknown. It follows upstream's tryUpdateNodeHealth:
// a changed heartbeat in the Ready condition or a renewed Lease is a sign
// of life; silence longer than the grace period (the startup one for a
// node that never posted Ready) turns Ready, MemoryPressure, DiskPressure
// and PIDPressure Unknown.
func assess(prev *health, node *corev1.Node, lease *coordinationv1.Lease, now time.Time, t Timeouts) assessment {
	ready := condition(node.Status.Conditions, corev1.NodeReady)
	grace := t.MonitorGracePeriod
	before := corev1.ConditionUnknown
	if ready == nil {
		grace = t.StartupGracePeriod
	} else {
		before = ready.Status
	}
	var h health
	switch {
	case prev == nil && ready == nil:
		// Never posted status: the node's age counts.
		h = health{probe: node.CreationTimestamp.Time}
	case prev == nil, !prev.seen && ready != nil:
		h = health{probe: now}
	case ready == nil:
		h = *prev
		h.seen = false
	case !ready.LastHeartbeatTime.Equal(&prev.readyHeartbeat):
		h = *prev
		h.probe = now
	default:
		h = *prev
	}
	if ready != nil {
		h.seen, h.readyHeartbeat, h.readyTransition = true, ready.LastHeartbeatTime, ready.LastTransitionTime
	}
	if lease != nil && lease.Spec.RenewTime != nil && lease.Spec.RenewTime.After(h.leaseRenew) {
		h.probe = now
		h.leaseRenew = lease.Spec.RenewTime.Time
	}
	a := assessment{next: h, before: before, after: before, hasReady: ready != nil}
	if !now.After(h.probe.Add(grace)) {
		return a
	}
	conds := append([]corev1.NodeCondition(nil), node.Status.Conditions...)
	changed := false
	for _, typ := range staleConditionTypes {
		c := condition(conds, typ)
		switch {
		case c == nil:
			conds = append(conds, corev1.NodeCondition{
				Type: typ, Status: corev1.ConditionUnknown, Reason: reasonStatusNeverUpdated, Message: messageNeverUpdated,
				LastHeartbeatTime: node.CreationTimestamp, LastTransitionTime: metav1.NewTime(now),
			})
			changed = true
		case c.Status != corev1.ConditionUnknown:
			c.Status, c.Reason, c.Message, c.LastTransitionTime = corev1.ConditionUnknown, reasonStatusUnknown, messageStatusUnknown, metav1.NewTime(now)
			changed = true
		}
	}
	a.after = corev1.ConditionUnknown
	if changed {
		a.conditions = conds
		a.hasReady = true
	}
	return a
}

// condition returns a pointer into conds, or nil.
func condition(conds []corev1.NodeCondition, typ corev1.NodeConditionType) *corev1.NodeCondition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// readyStatus is the node's Ready condition's status; Unknown without one.
func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	if c := condition(n.Status.Conditions, corev1.NodeReady); c != nil {
		return c.Status
	}
	return corev1.ConditionUnknown
}
