package framework_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func newFramework() *framework.Framework {
	return framework.New(framework.Options{Rand: rand.New(rand.NewPCG(1, 2))})
}

func snapshot(nodes []*corev1.Node, pods ...*corev1.Pod) *framework.Snapshot {
	var infos []*framework.NodeInfo
	byName := map[string]*framework.NodeInfo{}
	for _, n := range nodes {
		ni := framework.NewNodeInfo(n)
		infos = append(infos, ni)
		byName[n.Name] = ni
	}
	for _, p := range pods {
		byName[p.Spec.NodeName].AddPod(p)
	}
	return framework.NewSnapshot(infos, nil)
}

func on(nodeName string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.NodeName = nodeName }
}

func TestScheduleNoNodes(t *testing.T) {
	_, err := newFramework().Schedule(pod("p"), framework.NewSnapshot(nil, nil))
	if !errors.Is(err, framework.ErrNoNodesAvailable) {
		t.Fatalf("err = %v, want ErrNoNodesAvailable", err)
	}
}

func TestFitErrorMessage(t *testing.T) {
	taint := func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	}
	small := func(n *corev1.Node) { n.Status.Allocatable = rl("cpu", "1", "memory", "1Gi", "pods", "10") }
	nodes := []*corev1.Node{node("a", small), node("b", taint), node("c", taint)}
	_, err := newFramework().Schedule(pod("p", requests("cpu", "2")), snapshot(nodes))
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want FitError", err)
	}
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {k: v}."
	if fe.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", fe.Error(), want)
	}
	if got := fe.Diagnosis.UnschedulablePlugins; !got.Has(framework.NodeResourcesFitName) || !got.Has(framework.TaintTolerationName) || got.Len() != 2 {
		t.Errorf("UnschedulablePlugins = %v", got.UnsortedList())
	}
	if len(fe.Diagnosis.NodeToStatus) != 3 {
		t.Errorf("NodeToStatus has %d nodes, want 3", len(fe.Diagnosis.NodeToStatus))
	}
	fe.Diagnosis.PostFilterMsg = "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
	want += " preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
	if fe.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", fe.Error(), want)
	}
}

func TestFitErrorSortsAsStrings(t *testing.T) {
	fe := &framework.FitError{NumAllNodes: 12, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{}}}
	for i := range 10 {
		fe.Diagnosis.NodeToStatus[string(rune('a'+i))] = framework.NewStatus(framework.Unschedulable, "Insufficient cpu", "Insufficient memory")
	}
	fe.Diagnosis.NodeToStatus["k"] = framework.NewStatus(framework.UnschedulableAndUnresolvable, framework.ReasonNodeAffinity)
	fe.Diagnosis.NodeToStatus["l"] = framework.NewStatus(framework.UnschedulableAndUnresolvable, framework.ReasonNodeAffinity)
	want := "0/12 nodes are available: 10 Insufficient cpu, 10 Insufficient memory, 2 node(s) didn't match Pod's node affinity/selector."
	if fe.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", fe.Error(), want)
	}
}

func TestScheduleRespectsFilters(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	full := pod("full", on("a"), requests("cpu", "4"))
	res, err := newFramework().Schedule(pod("p", requests("cpu", "1"), func(p *corev1.Pod) {
		p.Spec.NodeSelector = map[string]string{corev1.LabelHostname: "a"}
	}), snapshot(nodes, full))
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("Schedule = %+v, %v; want FitError", res, err)
	}
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector."
	if fe.Error() != want {
		t.Errorf("Error() = %q, want %q", fe.Error(), want)
	}
	res, err = newFramework().Schedule(pod("p", requests("cpu", "1")), snapshot(nodes, full))
	if err != nil || res.SuggestedHost == "a" || res.FeasibleNodes != 2 || res.EvaluatedNodes != 3 {
		t.Errorf("Schedule = %+v, %v; want b or c of 2 feasible, 3 evaluated", res, err)
	}
}
