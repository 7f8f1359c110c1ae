package nodelifecycle

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	testingclock "k8s.io/utils/clock/testing"
)

// TestEvictorTimers drives the evictor's timers with a fake clock: a pod
// tolerating the unreachable taint for 2 s is due after 2 s, not before;
// a pod that tolerates nothing is due at once; lifting the taint cancels.
func TestEvictorTimers(t *testing.T) {
	clk := testingclock.NewFakeClock(at(0))
	nodes := cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Node{}, 0, cache.Indexers{})
	pods := cache.NewSharedIndexInformer(&cache.ListWatch{}, &corev1.Pod{}, 0, cache.Indexers{nodeNameIndex: func(obj any) ([]string, error) {
		return []string{obj.(*corev1.Pod).Spec.NodeName}, nil
	}})
	e := newEvictor(nil, nodes, pods, clk)
	defer e.due.ShutDown()
	pod := func(name string, tols ...corev1.Toleration) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
			Spec: corev1.PodSpec{NodeName: "n1", Tolerations: tols}}
		if err := pods.GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pod("patient", corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(2)})
	pod("intolerant")
	pod("forever", corev1.Toleration{Operator: corev1.TolerationOpExists})

	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	tainted := node.DeepCopy()
	tainted.Spec.Taints = []corev1.Taint{{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}}
	e.nodeChanged(node, tainted)

	dueNow := func() []string {
		var out []string
		for e.due.Len() > 0 {
			k, _ := e.due.Get()
			out = append(out, k)
			e.due.Done(k)
		}
		return out
	}
	if got := dueNow(); len(got) != 1 || got[0] != "ns/intolerant" {
		t.Fatalf("due at once: %v, want [ns/intolerant]", got)
	}
	clk.Step(1999 * time.Millisecond)
	if got := dueNow(); len(got) != 0 {
		t.Fatalf("due after 1.999s: %v", got)
	}
	clk.Step(time.Millisecond)
	if got := dueNow(); len(got) != 1 || got[0] != "ns/patient" {
		t.Fatalf("due after 2s: %v, want [ns/patient]", got)
	}
	if _, ok := e.pending["ns/forever"]; ok {
		t.Error("a pod tolerating the taint forever has an eviction pending")
	}

	// The node comes back before a second pod's time: its eviction is
	// cancelled, and no timer fires later.
	pod("late", corev1.Toleration{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists,
		Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(5)})
	if err := nodes.GetIndexer().Add(tainted); err != nil {
		t.Fatal(err)
	}
	e.podChanged(mustGetPod(t, pods, "ns/late"))
	if _, ok := e.pending["ns/late"]; !ok {
		t.Fatal("no eviction pending for ns/late")
	}
	e.nodeChanged(tainted, node)
	if _, ok := e.pending["ns/late"]; ok {
		t.Fatal("eviction of ns/late not cancelled when the taint went")
	}
	clk.Step(10 * time.Second)
	for _, k := range dueNow() {
		if k == "ns/late" {
			t.Fatal("cancelled eviction fired")
		}
	}
}

func mustGetPod(t *testing.T, inf cache.SharedIndexInformer, key string) *corev1.Pod {
	t.Helper()
	o, ok, err := inf.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		t.Fatalf("pod %s: %v %v", key, ok, err)
	}
	return o.(*corev1.Pod)
}
