package scheduler

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	testingclock "k8s.io/utils/clock/testing"
)

func testNode(name string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110"),
		}},
	}
}

func onNode(p *corev1.Pod, node, cpu string) *corev1.Pod {
	p = p.DeepCopy()
	p.Spec.NodeName = node
	p.Spec.Containers = []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
	}}}
	return p
}

// requested returns the snapshot's requested milli-CPU and pod count on node.
func requested(t *testing.T, c *Cache, snap *Snapshot, node string) (int64, int) {
	t.Helper()
	c.UpdateSnapshot(snap)
	ni := snap.Get(node)
	if ni == nil {
		t.Fatalf("node %s not in snapshot", node)
	}
	return ni.Requested.MilliCPU, len(ni.Pods())
}

func TestAssumeConfirm(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	c := NewCache(clk, DefaultAssumedTTL)
	c.AddNode(testNode("n1"))
	snap := NewSnapshot()
	p := onNode(testPod("p", 0), "n1", "1")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	if cpu, n := requested(t, c, snap, "n1"); cpu != 1000 || n != 1 {
		t.Fatalf("after assume: %dm on %d pods, want 1000m on 1", cpu, n)
	}
	if err := c.AssumePod(p); err == nil {
		t.Fatal("assuming a pod twice succeeded")
	}
	c.FinishBinding(p)
	// The informer shows the binding: confirmed, counted once.
	bound := p.DeepCopy()
	bound.ResourceVersion = "7"
	c.AddPod(bound)
	if c.IsAssumed(p) {
		t.Fatal("still assumed after the binding was observed")
	}
	if cpu, n := requested(t, c, snap, "n1"); cpu != 1000 || n != 1 {
		t.Fatalf("after confirm: %dm on %d pods, want 1000m on 1", cpu, n)
	}
	clk.Step(2 * DefaultAssumedTTL)
	if exp := c.CleanupExpired(); len(exp) != 0 {
		t.Fatal("a confirmed pod expired")
	}
	c.RemovePod(bound)
	if cpu, n := requested(t, c, snap, "n1"); cpu != 0 || n != 0 {
		t.Fatalf("after delete: %dm on %d pods, want none", cpu, n)
	}
}

func TestAssumeForget(t *testing.T) {
	c := NewCache(testingclock.NewFakeClock(epoch), DefaultAssumedTTL)
	c.AddNode(testNode("n1"))
	snap := NewSnapshot()
	p := onNode(testPod("p", 0), "n1", "2")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	c.ForgetPod(p)
	if cpu, n := requested(t, c, snap, "n1"); cpu != 0 || n != 0 {
		t.Fatalf("after forget: %dm on %d pods, want none", cpu, n)
	}
	if c.IsAssumed(p) {
		t.Fatal("forgotten pod still assumed")
	}
}

func TestAssumedPodExpiresOnlyAfterBindingAndTTL(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	c := NewCache(clk, 30*time.Second)
	c.AddNode(testNode("n1"))
	p := onNode(testPod("p", 0), "n1", "1")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	clk.Step(time.Hour)
	if exp := c.CleanupExpired(); len(exp) != 0 {
		t.Fatal("expired while its binding was still in flight")
	}
	c.FinishBinding(p)
	clk.Step(30 * time.Second)
	if exp := c.CleanupExpired(); len(exp) != 0 {
		t.Fatal("expired at, not after, the TTL")
	}
	clk.Step(time.Millisecond)
	exp := c.CleanupExpired()
	if len(exp) != 1 || exp[0].Name != "p" {
		t.Fatalf("expired %v, want p", exp)
	}
	if cpu, n := requested(t, c, NewSnapshot(), "n1"); cpu != 0 || n != 0 {
		t.Fatalf("expired pod still accounted: %dm on %d pods", cpu, n)
	}
}

func TestBindingObservedOnAnotherNode(t *testing.T) {
	c := NewCache(testingclock.NewFakeClock(epoch), DefaultAssumedTTL)
	c.AddNode(testNode("n1"))
	c.AddNode(testNode("n2"))
	p := onNode(testPod("p", 0), "n1", "1")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	c.AddPod(onNode(testPod("p", 0), "n2", "1"))
	snap := NewSnapshot()
	if cpu, _ := requested(t, c, snap, "n1"); cpu != 0 {
		t.Fatal("pod still counted on the assumed node")
	}
	if cpu, _ := requested(t, c, snap, "n2"); cpu != 1000 {
		t.Fatal("pod not counted on the node the API says")
	}
}

func TestSnapshotCopiesOnlyChangedNodes(t *testing.T) {
	c := NewCache(testingclock.NewFakeClock(epoch), DefaultAssumedTTL)
	for _, n := range []string{"a", "b", "c"} {
		c.AddNode(testNode(n))
	}
	snap := NewSnapshot()
	c.UpdateSnapshot(snap)
	if len(snap.List) != 3 || snap.List[0].Node().Name != "a" || snap.List[2].Node().Name != "c" {
		t.Fatalf("snapshot list %d nodes, want a, b, c", len(snap.List))
	}
	a, b := snap.Get("a"), snap.Get("b")
	if err := c.AssumePod(onNode(testPod("p", 0), "b", "1")); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(snap)
	if snap.Get("a") != a {
		t.Fatal("unchanged node a was copied again")
	}
	if snap.Get("b") == b || len(snap.Get("b").Pods()) != 1 || len(b.Pods()) != 0 {
		t.Fatal("changed node b was not copied, or the old copy was mutated")
	}
	if snap.List[1] != snap.Get("b") {
		t.Fatal("list not updated in place")
	}
	// Removing a node with no pods drops it from the snapshot.
	c.RemoveNode(testNode("c"))
	c.UpdateSnapshot(snap)
	if len(snap.List) != 2 || snap.Get("c") != nil {
		t.Fatalf("removed node still in snapshot (%d nodes)", len(snap.List))
	}
	// A removed node with pods stays accounted but is not offered.
	c.RemoveNode(testNode("b"))
	c.UpdateSnapshot(snap)
	if len(snap.List) != 1 || snap.List[0].Node().Name != "a" {
		t.Fatalf("node b still offered after removal")
	}
	if nodes, pods, assumed := c.Counts(); nodes != 1 || pods != 1 || assumed != 1 {
		t.Fatalf("counts %d %d %d, want 1 1 1", nodes, pods, assumed)
	}
}

func TestTwoSnapshotsBothSeeEveryChange(t *testing.T) {
	c := NewCache(testingclock.NewFakeClock(epoch), DefaultAssumedTTL)
	c.AddNode(testNode("a"))
	c.AddNode(testNode("b"))
	s1, s2 := NewSnapshot(), NewSnapshot()
	c.UpdateSnapshot(s1)
	c.UpdateSnapshot(s2)
	if err := c.AssumePod(onNode(testPod("p", 0), "a", "1")); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s2) // takes the change set
	if err := c.AssumePod(onNode(testPod("q", 0), "b", "1")); err != nil {
		t.Fatal(err)
	}
	c.UpdateSnapshot(s1) // must still see p's change on a
	c.UpdateSnapshot(s2)
	for _, s := range []*Snapshot{s1, s2} {
		if s.Get("a").Requested.MilliCPU != 1000 || s.Get("b").Requested.MilliCPU != 1000 {
			t.Fatalf("snapshot missed a change: a %dm, b %dm", s.Get("a").Requested.MilliCPU, s.Get("b").Requested.MilliCPU)
		}
	}
}
