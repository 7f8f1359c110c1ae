package nodelifecycle_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	testingclock "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/controller/nodelifecycle"
	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/controlplane/controlplanetest"
)

// TestSilentNodesTaintedAtTheZoneRate runs the node lifecycle controller
// on a fake clock against a real control plane (its own node controllers
// off): of three nodes, two go silent past the grace period; both turn
// Unknown at once, but the second gets its NoExecute taint only when the
// zone's rate allows, and the node still heard from keeps its Ready.
func TestSilentNodesTaintedAtTheZoneRate(t *testing.T) {
	cfg := controlplanetest.Start(t, controlplane.Config{DisableScheduler: true,
		Controllers: "*,-nodelifecycle,-taint-eviction-controller,-nodeipam"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(cfg)
	t0 := time.Now().Truncate(time.Second)
	clk := testingclock.NewFakeClock(t0)
	until := func(what string, cond func() (bool, string)) {
		t.Helper()
		var msg string
		if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
			var ok bool
			ok, msg = cond()
			return ok, nil
		}); err != nil {
			t.Fatalf("%s: %s", what, msg)
		}
	}
	create := func(name string) {
		t.Helper()
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
		n, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// As a kubelet posts it: a patch, which the controller's taint
		// writes meanwhile do not conflict with.
		hb := t0.UTC().Format(time.RFC3339)
		patch := fmt.Sprintf(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":%q,"lastTransitionTime":%q}]}}`, hb, hb)
		if _, err := cs.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, "status"); err != nil {
			t.Fatal(err)
		}
	}
	// registered waits for the controller's first look at a node, which
	// starts its grace period.
	registered := func(name string) {
		t.Helper()
		until(name+" registered in the controller", func() (bool, string) {
			evs, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: "reason=RegisteredNode"})
			if err != nil {
				return false, err.Error()
			}
			for _, e := range evs.Items {
				if e.InvolvedObject.Name == name {
					return true, ""
				}
			}
			return false, fmt.Sprintf("%d events", len(evs.Items))
		})
	}
	node := func(name string) (corev1.ConditionStatus, []string) {
		n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", []string{err.Error()}
		}
		var st corev1.ConditionStatus
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				st = c.Status
			}
		}
		var taints []string
		for _, tn := range n.Spec.Taints {
			if tn.Effect == corev1.TaintEffectNoExecute {
				taints = append(taints, tn.Key)
				if tn.TimeAdded == nil {
					t.Errorf("%s: NoExecute taint %s without timeAdded", name, tn.Key)
				}
			}
		}
		return st, taints
	}

	// a and b exist with their Ready condition before the controller
	// lists nodes, so its first look (at t1) sees them Ready.
	create("a")
	create("b")
	c, err := nodelifecycle.New(cfg, nodelifecycle.Options{
		Lifecycle: true, Clock: clk, MonitorPeriod: time.Second,
		Timeouts: nodelifecycle.Timeouts{MonitorGracePeriod: 10 * time.Second, StartupGracePeriod: time.Minute},
		Rates:    nodelifecycle.Rates{EvictionRate: 2},
	}, nodelifecycle.Informers{})
	if err != nil {
		t.Fatal(err)
	}
	ctrlCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { c.Run(ctrlCtx); close(ran) }()
	defer func() { stop(); <-ran }()

	until("the monitor runs", func() (bool, string) {
		clk.Step(0) // nothing moves; the ticker is made once Run has synced
		return clk.HasWaiters(), "no ticker yet"
	})
	clk.Step(time.Second) // t1: a and b first seen
	registered("a")
	registered("b")
	create("c")
	clk.Step(time.Second) // t2: c first seen
	registered("c")

	// t12: a and b silent for 11 s, c for 10 s (not more than the grace).
	clk.Step(10 * time.Second)
	var first, second string
	until("a and b Unknown, one of them tainted at once", func() (bool, string) {
		sa, ta := node("a")
		sb, tb := node("b")
		switch {
		case sa != corev1.ConditionUnknown || sb != corev1.ConditionUnknown:
			return false, fmt.Sprintf("a %s b %s", sa, sb)
		case slices.Equal(ta, []string{corev1.TaintNodeUnreachable}) && len(tb) == 0:
			first, second = "a", "b"
		case slices.Equal(tb, []string{corev1.TaintNodeUnreachable}) && len(ta) == 0:
			first, second = "b", "a"
		default:
			return false, fmt.Sprintf("NoExecute taints a %v b %v", ta, tb)
		}
		return true, ""
	})
	if st, taints := node("c"); st != corev1.ConditionTrue || len(taints) != 0 {
		t.Errorf("c: Ready %s taints %v, want True and none", st, taints)
	}
	if _, taints := node(second); len(taints) != 0 {
		t.Fatalf("%s tainted before the rate allowed: %v", second, taints)
	}
	// The zone's rate (2/s) allows the next taint half a second later.
	clk.Step(500 * time.Millisecond)
	until(second+" tainted when the rate allows", func() (bool, string) {
		_, taints := node(second)
		return slices.Equal(taints, []string{corev1.TaintNodeUnreachable}), fmt.Sprint(taints)
	})
	if _, taints := node(first); !slices.Equal(taints, []string{corev1.TaintNodeUnreachable}) {
		t.Errorf("%s taints %v", first, taints)
	}
}
