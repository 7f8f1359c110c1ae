package framework_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
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

func TestNumFeasibleNodesToFind(t *testing.T) {
	tests := []struct {
		nodes, percentage, feasible int
	}{
		{50, 0, 50},     // below 100 nodes: all of them
		{200, 0, 100},   // 49% of 200 is below the 100-node floor
		{1000, 0, 420},  // 50 − 1000/125 = 42%
		{5000, 0, 500},  // 10%
		{6000, 0, 300},  // 2% is raised to 5%
		{1000, 30, 300}, // configured
	}
	for _, tt := range tests {
		nodes := make([]*corev1.Node, tt.nodes)
		for i := range nodes {
			nodes[i] = node(fmt.Sprintf("n%05d", i))
		}
		fw := framework.New(framework.Options{Rand: rand.New(rand.NewPCG(1, 2)), PercentageOfNodesToScore: int32(tt.percentage)})
		res, err := fw.Schedule(pod("p"), snapshot(nodes))
		if err != nil || res.FeasibleNodes != tt.feasible || res.EvaluatedNodes != tt.feasible {
			t.Errorf("%d nodes, %d%%: %+v, %v; want %d feasible and evaluated", tt.nodes, tt.percentage, res, err, tt.feasible)
		}
	}
}

// TestScheduleDeterministic runs the same sequence of cycles with one and
// with many goroutines: the rotating start index, early stop and random
// tie-breaking must give identical choices.
func TestScheduleDeterministic(t *testing.T) {
	run := func(parallelism int) []framework.ScheduleResult {
		snap := benchCluster(500, 3)
		fw := framework.New(framework.Options{Rand: rand.New(rand.NewPCG(7, 8)), Parallelism: parallelism})
		var out []framework.ScheduleResult
		for i := range 50 {
			p := benchPod(fmt.Sprintf("new-%d", i), "")
			res, err := fw.Schedule(p, snap)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res)
			p.Spec.NodeName = res.SuggestedHost
			// Bind it, as the runtime's assume step would.
			for _, ni := range snap.NodeInfos() {
				if ni.Node().Name == res.SuggestedHost {
					ni.AddPod(p)
				}
			}
		}
		return out
	}
	one, many := run(1), run(8)
	if !slices.Equal(one, many) {
		t.Errorf("parallelism changed the choices:\n%v\n%v", one, many)
	}
	hosts := map[string]bool{}
	for _, r := range one {
		hosts[r.SuggestedHost] = true
	}
	if len(hosts) < 40 {
		t.Errorf("50 identical pods landed on only %d nodes", len(hosts))
	}
}

func TestScheduleRotatesStartIndex(t *testing.T) {
	nodes := make([]*corev1.Node, 1000)
	for i := range nodes {
		nodes[i] = node(fmt.Sprintf("n%04d", i))
	}
	// Only the last 100 nodes are free: a search starting at node 0 looks
	// at all 1,000; the next one starts where it stopped, at 0 again.
	snap := snapshot(nodes)
	for _, ni := range snap.NodeInfos()[:900] {
		ni.AddPod(pod("full-"+ni.Node().Name, on(ni.Node().Name), requests("cpu", "4")))
	}
	fw := newFramework()
	res, err := fw.Schedule(pod("p", requests("cpu", "1")), snap)
	if err != nil || res.EvaluatedNodes != 1000 || res.FeasibleNodes != 100 {
		t.Fatalf("first: %+v, %v", res, err)
	}
	// Now all free: 420 are wanted, starting at 0 after wrapping.
	for _, ni := range snap.NodeInfos()[:900] {
		ni.RemovePod(pod("full-" + ni.Node().Name))
	}
	res, err = fw.Schedule(pod("p", requests("cpu", "1")), snap)
	if err != nil || res.EvaluatedNodes != 420 {
		t.Fatalf("second: %+v, %v", res, err)
	}
	// The third search starts at node 420; with the first 500 full it
	// finds 420 feasible among 420..999 after skipping 80 full ones.
	for _, ni := range snap.NodeInfos()[:500] {
		ni.AddPod(pod("full-"+ni.Node().Name, on(ni.Node().Name), requests("cpu", "4")))
	}
	res, err = fw.Schedule(pod("p", requests("cpu", "1")), snap)
	if err != nil || res.EvaluatedNodes != 500 || res.FeasibleNodes != 420 {
		t.Fatalf("third: %+v, %v", res, err)
	}
}

func TestScheduleTieBreakIsSeeded(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b"), node("c"), node("d")}
	pick := func(seed uint64) []string {
		fw := framework.New(framework.Options{Rand: rand.New(rand.NewPCG(seed, seed))})
		var out []string
		for range 20 {
			res, err := fw.Schedule(pod("p"), snapshot(nodes))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, res.SuggestedHost)
		}
		return out
	}
	first := pick(1)
	if !slices.Equal(first, pick(1)) {
		t.Error("same seed, different picks")
	}
	seen := map[string]bool{}
	for _, h := range first {
		seen[h] = true
	}
	if len(seen) < 3 {
		t.Errorf("ties were not broken at random: %v", first)
	}
}

func TestSchedulePrefersBestScore(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	existing := []*corev1.Pod{pod("x", on("a"), requests("cpu", "3")), pod("y", on("c"), requests("cpu", "1"))}
	res, err := newFramework().Schedule(pod("p", requests("cpu", "1", "memory", "1Gi")), snapshot(nodes, existing...))
	if err != nil || res.SuggestedHost != "b" {
		t.Errorf("Schedule = %+v, %v; want the empty node b", res, err)
	}
}

func TestScheduleTriesNominatedNodeFirst(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	existing := []*corev1.Pod{pod("x", on("a"), requests("cpu", "3"))}
	p := pod("p", requests("cpu", "1"), func(p *corev1.Pod) { p.Status.NominatedNodeName = "a" })
	res, err := newFramework().Schedule(p, snapshot(nodes, existing...))
	if err != nil || res.SuggestedHost != "a" || res.EvaluatedNodes != 1 {
		t.Errorf("Schedule = %+v, %v; want the nominated node a", res, err)
	}
	p.Spec.Containers[0].Resources.Requests = rl("cpu", "2")
	res, err = newFramework().Schedule(p, snapshot(nodes, existing...))
	if err != nil || res.SuggestedHost == "a" {
		t.Errorf("Schedule = %+v, %v; want another node once a is full", res, err)
	}
}

func TestSchedulePreFilterRejection(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b")}
	_, err := newFramework().Schedule(pod("p", usesClaims("data")), snapshot(nodes))
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want FitError", err)
	}
	want := `0/2 nodes are available: persistentvolumeclaim "data" not found.`
	if fe.Error() != want {
		t.Errorf("Error() = %q, want %q", fe.Error(), want)
	}
	if !fe.Diagnosis.UnschedulablePlugins.Has(framework.VolumeRestrictionsName) || len(fe.Diagnosis.NodeToStatus) != 2 {
		t.Errorf("Diagnosis = %+v", fe.Diagnosis)
	}
}

// daemonPod pins a pod to nodes by metadata.name, as the DaemonSet
// controller does.
func daemonPod(nodeNames ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: nodeNames}},
			}}},
		}}
	}
}

func TestScheduleNodeNameAffinityNarrowsTheSearch(t *testing.T) {
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	full := pod("full", on("b"), requests("cpu", "4"))
	res, err := newFramework().Schedule(pod("p", daemonPod("b")), snapshot(nodes))
	if err != nil || res.SuggestedHost != "b" || res.EvaluatedNodes != 1 {
		t.Errorf("Schedule = %+v, %v; want b after evaluating only b", res, err)
	}
	_, err = newFramework().Schedule(pod("p", daemonPod("b"), requests("cpu", "1")), snapshot(nodes, full))
	want := "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestScheduleNodeNameAffinityToMissingNode(t *testing.T) {
	_, err := newFramework().Schedule(pod("p", daemonPod("gone")), snapshot([]*corev1.Node{node("a"), node("b")}))
	want := "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]."
	if err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestScheduleSpreadsReplicas places replicas one after another, as the
// runtime does with assumed pods, and checks the cross-node plugins hold
// across cycles: a zone spread with maxSkew 1 and one replica per host.
func TestScheduleSpreadsReplicas(t *testing.T) {
	var nodes []*corev1.Node
	for i := range 9 {
		nodes = append(nodes, node(fmt.Sprintf("n%d", i), zone(fmt.Sprintf("z%d", i%3))))
	}
	snap := snapshot(nodes)
	fw := newFramework()
	replica := func(i int) *corev1.Pod {
		return pod(fmt.Sprintf("r%d", i), withLabels("app", "web"), requests("cpu", "100m"),
			spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule),
			requiredAnti(term(corev1.LabelHostname, "app", "web")))
	}
	perZone := map[string]int{}
	for i := range 9 {
		p := replica(i)
		res, err := fw.Schedule(p, snap)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		p.Spec.NodeName = res.SuggestedHost
		ni := snap.Get(res.SuggestedHost)
		ni.AddPod(p)
		z := ni.Node().Labels[corev1.LabelTopologyZone]
		perZone[z]++
		lo, hi := 9, 0
		for _, zz := range []string{"z0", "z1", "z2"} {
			lo, hi = min(lo, perZone[zz]), max(hi, perZone[zz])
		}
		if hi-lo > 1 {
			t.Fatalf("after %d replicas zones hold %v", i+1, perZone)
		}
	}
	for _, ni := range snap.NodeInfos() {
		if len(ni.Pods()) != 1 {
			t.Errorf("node %s holds %d replicas, want 1", ni.Node().Name, len(ni.Pods()))
		}
	}
	_, err := fw.Schedule(replica(9), snap)
	want := "0/9 nodes are available: 9 node(s) didn't match pod anti-affinity rules."
	if err == nil || err.Error() != want {
		t.Errorf("tenth replica: %v, want %q", err, want)
	}
}

// TestScheduleConcurrent shares a Framework and a Snapshot between
// goroutines; run with -race.
func TestScheduleConcurrent(t *testing.T) {
	snap := benchCluster(200, 5)
	fw := newFramework()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				p := benchPod(fmt.Sprintf("g%d-%d", g, i), "")
				p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
					PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{Weight: 1, PodAffinityTerm: term(corev1.LabelHostname, "app", "bench")}},
				}}
				if _, err := fw.Schedule(p, snap); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
}
