package nodelifecycle

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }

var timeouts = Timeouts{MonitorGracePeriod: 40 * time.Second, StartupGracePeriod: 60 * time.Second}

// kubeletNode is a node whose kubelet posted Ready (status) with its
// heartbeat at second hb.
func kubeletNode(status corev1.ConditionStatus, hb int) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", CreationTimestamp: metav1.NewTime(at(-100))}}
	pressure := corev1.ConditionFalse
	if status == corev1.ConditionUnknown {
		pressure = corev1.ConditionUnknown // as the controller left them
	}
	for _, typ := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: typ, Status: pressure,
			LastHeartbeatTime: metav1.NewTime(at(hb)), LastTransitionTime: metav1.NewTime(at(-100))})
	}
	for _, typ := range []corev1.NodeConditionType{corev1.NodeNetworkUnavailable} {
		n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: typ, Status: corev1.ConditionFalse,
			LastHeartbeatTime: metav1.NewTime(at(hb)), LastTransitionTime: metav1.NewTime(at(-100))})
	}
	n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: corev1.NodeReady, Status: status,
		Reason: "KubeletReady", LastHeartbeatTime: metav1.NewTime(at(hb)), LastTransitionTime: metav1.NewTime(at(-100))})
	return n
}

func leaseAt(s int) *coordinationv1.Lease {
	rt := metav1.NewMicroTime(at(s))
	return &coordinationv1.Lease{Spec: coordinationv1.LeaseSpec{RenewTime: &rt}}
}

func TestAssess(t *testing.T) {
	seen := func(probe, hb int, lease int) *health {
		h := &health{probe: at(probe), readyHeartbeat: metav1.NewTime(at(hb)), readyTransition: metav1.NewTime(at(-100)), seen: true}
		if lease >= 0 {
			h.leaseRenew = at(lease)
		}
		return h
	}
	for _, tc := range []struct {
		name      string
		prev      *health
		node      *corev1.Node
		lease     *coordinationv1.Lease
		now       time.Time
		wantProbe time.Time
		wantAfter corev1.ConditionStatus
		unknown   bool // conditions turned Unknown
	}{
		{name: "first sight: now is the probe time", node: kubeletNode(corev1.ConditionTrue, -1000), now: at(0),
			wantProbe: at(0), wantAfter: corev1.ConditionTrue},
		{name: "heartbeat unchanged within grace", prev: seen(0, 0, -1), node: kubeletNode(corev1.ConditionTrue, 0), now: at(40),
			wantProbe: at(0), wantAfter: corev1.ConditionTrue},
		{name: "heartbeat unchanged past grace: Unknown", prev: seen(0, 0, -1), node: kubeletNode(corev1.ConditionTrue, 0), now: at(41),
			wantProbe: at(0), wantAfter: corev1.ConditionUnknown, unknown: true},
		{name: "new heartbeat is a sign of life", prev: seen(0, 0, -1), node: kubeletNode(corev1.ConditionTrue, 30), now: at(50),
			wantProbe: at(50), wantAfter: corev1.ConditionTrue},
		{name: "renewed lease is a sign of life", prev: seen(0, 0, 5), node: kubeletNode(corev1.ConditionTrue, 0), lease: leaseAt(35), now: at(50),
			wantProbe: at(50), wantAfter: corev1.ConditionTrue},
		{name: "stale lease is not", prev: seen(0, 0, 5), node: kubeletNode(corev1.ConditionTrue, 0), lease: leaseAt(5), now: at(50),
			wantProbe: at(0), wantAfter: corev1.ConditionUnknown, unknown: true},
		{name: "already Unknown: nothing to write", prev: seen(0, 0, -1), node: kubeletNode(corev1.ConditionUnknown, 0), now: at(100),
			wantProbe: at(0), wantAfter: corev1.ConditionUnknown},
		{name: "not ready kubelet that posts stays False", prev: seen(0, 0, -1), node: kubeletNode(corev1.ConditionFalse, 20), now: at(30),
			wantProbe: at(30), wantAfter: corev1.ConditionFalse},
		{name: "never posted: startup grace from creation", node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(at(0))}},
			now: at(60), wantProbe: at(0), wantAfter: corev1.ConditionUnknown},
		{name: "never posted, past startup grace", prev: &health{probe: at(0)}, node: &corev1.Node{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(at(0))}},
			now: at(61), wantProbe: at(0), wantAfter: corev1.ConditionUnknown, unknown: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.node.DeepCopy()
			a := assess(tc.prev, tc.node, tc.lease, tc.now, timeouts)
			if !a.next.probe.Equal(tc.wantProbe) {
				t.Errorf("probe = %v, want %v", a.next.probe, tc.wantProbe)
			}
			if a.after != tc.wantAfter {
				t.Errorf("after = %s, want %s", a.after, tc.wantAfter)
			}
			if a.hasReady != (len(before.Status.Conditions) > 0 || tc.unknown) {
				t.Errorf("hasReady = %v", a.hasReady)
			}
			if (a.conditions != nil) != tc.unknown {
				t.Fatalf("conditions = %v, want Unknown written: %v", a.conditions, tc.unknown)
			}
			if len(tc.node.Status.Conditions) != len(before.Status.Conditions) || (len(before.Status.Conditions) > 0 && tc.node.Status.Conditions[0] != before.Status.Conditions[0]) {
				t.Errorf("assess modified the node it was given")
			}
			if !tc.unknown {
				return
			}
			for _, typ := range staleConditionTypes {
				c := condition(a.conditions, typ)
				if c == nil || c.Status != corev1.ConditionUnknown || !c.LastTransitionTime.Time.Equal(tc.now) {
					t.Errorf("%s = %+v", typ, c)
					continue
				}
				if len(before.Status.Conditions) > 0 && (c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status.") {
					t.Errorf("%s reason %q message %q", typ, c.Reason, c.Message)
				}
				if len(before.Status.Conditions) == 0 && (c.Reason != "NodeStatusNeverUpdated" || c.Message != "Kubelet never posted node status.") {
					t.Errorf("%s reason %q message %q", typ, c.Reason, c.Message)
				}
			}
			if c := condition(a.conditions, corev1.NodeNetworkUnavailable); c != nil && c.Status != corev1.ConditionFalse {
				t.Errorf("NetworkUnavailable changed: %+v", c)
			}
		})
	}
}

// TestAssessSequence drives one node through silence and recovery with
// a fake clock: heartbeats stop, it turns Unknown after the grace period,
// and a renewed lease brings the probe time back.
func TestAssessSequence(t *testing.T) {
	n := kubeletNode(corev1.ConditionTrue, 0)
	var h *health
	step := func(now int, lease *coordinationv1.Lease) assessment {
		a := assess(h, n, lease, at(now), timeouts)
		h = &a.next
		if a.conditions != nil {
			n = n.DeepCopy()
			n.Status.Conditions = a.conditions
		}
		return a
	}
	if a := step(0, leaseAt(0)); a.after != corev1.ConditionTrue {
		t.Fatalf("t=0: %s", a.after)
	}
	for s := 5; s <= 40; s += 5 {
		if a := step(s, leaseAt(0)); a.after != corev1.ConditionTrue {
			t.Fatalf("t=%d: %s, want True within the grace period", s, a.after)
		}
	}
	a := step(45, leaseAt(0))
	if a.before != corev1.ConditionTrue || a.after != corev1.ConditionUnknown || a.conditions == nil {
		t.Fatalf("t=45: before %s after %s", a.before, a.after)
	}
	if a := step(50, leaseAt(0)); a.before != corev1.ConditionUnknown || a.conditions != nil {
		t.Fatalf("t=50: before %s, conditions rewritten %v", a.before, a.conditions != nil)
	}
	// The kubelet comes back: a new heartbeat and lease.
	n = kubeletNode(corev1.ConditionTrue, 55)
	if a := step(55, leaseAt(55)); a.after != corev1.ConditionTrue || !h.probe.Equal(at(55)) {
		t.Fatalf("t=55: after %s probe %v", a.after, h.probe)
	}
}
