package framework_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func priority(p int32) func(*corev1.Pod) {
	return func(pod *corev1.Pod) { pod.Spec.Priority = &p }
}

// started sets the pod's start time to minute m of a fixed day.
func started(m int) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		t := metav1.NewTime(time.Date(2026, 1, 1, 0, m, 0, 0, time.UTC))
		p.Status.StartTime = &t
	}
}

// victim is a 1-cpu pod of the given priority started at minute m.
func victim(name, nodeName string, prio int32, m int, mutate ...func(*corev1.Pod)) *corev1.Pod {
	return pod(name, append([]func(*corev1.Pod){on(nodeName), requests("cpu", "1"), priority(prio), started(m)}, mutate...)...)
}

func pdb(name string, allowed int32, kv ...string) *policyv1.PodDisruptionBudget {
	ml := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		ml[kv[i]] = kv[i+1]
	}
	one := intstr.FromInt32(1)
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: ml}},
		Status:     policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: allowed},
	}
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestPreempt(t *testing.T) {
	never := corev1.PreemptNever
	tainted := func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	}
	twoNodes := []*corev1.Node{node("a"), node("b")}
	// Each node has 4 cpu; victims take 1 cpu each.
	fill := func(nodeName string, prio int32, first int, mutate ...func(*corev1.Pod)) []*corev1.Pod {
		var out []*corev1.Pod
		for i := range 4 {
			out = append(out, victim(nodeName+string(rune('1'+i)), nodeName, prio, first+i, mutate...))
		}
		return out
	}
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pdbs     []*policyv1.PodDisruptionBudget
		pod      *corev1.Pod
		node     string
		victims  []string
		message  string // for a failed preemption
	}{
		{"minimal victims, the least important ones",
			twoNodes, append(fill("a", 0, 0), fill("b", 100, 0)...), nil,
			pod("p", requests("cpu", "2"), priority(50)),
			"a", []string{"a3", "a4"}, ""},
		{"lowest priorities go first",
			[]*corev1.Node{node("a")}, []*corev1.Pod{
				victim("hi", "a", 30, 0), victim("lo", "a", 10, 0), victim("mid", "a", 20, 0), victim("top", "a", 100, 0)}, nil,
			pod("p", requests("cpu", "1"), priority(50)),
			"a", []string{"lo"}, ""},
		{"preemptionPolicy Never",
			twoNodes, append(fill("a", 0, 0), fill("b", 0, 0)...), nil,
			pod("p", requests("cpu", "2"), priority(50), func(p *corev1.Pod) { p.Spec.PreemptionPolicy = &never }),
			"", nil, "preemption: not eligible due to preemptionPolicy=Never."},
		{"unresolvable nodes and nodes without lower-priority pods",
			[]*corev1.Node{node("a", tainted), node("b")}, fill("b", 100, 0), nil,
			pod("p", requests("cpu", "2"), priority(50)),
			"", nil, "preemption: 0/2 nodes are available: 1 No preemption victims found for incoming pod, 1 Preemption is not helpful for scheduling."},
		{"victims that would not make room",
			[]*corev1.Node{node("a")}, []*corev1.Pod{victim("lo", "a", 0, 0), pod("big", on("a"), requests("cpu", "3"), priority(100))}, nil,
			pod("p", requests("cpu", "2"), priority(50)),
			"", nil, "preemption: 0/1 nodes are available: 1 Insufficient cpu."},
		{"fewest PDB violations",
			twoNodes, append(fill("a", 0, 0, withLabels("app", "guarded")), fill("b", 0, 10)...),
			[]*policyv1.PodDisruptionBudget{pdb("guard", 0, "app", "guarded")},
			pod("p", requests("cpu", "1"), priority(50)),
			"b", []string{"b4"}, ""},
		{"PDB-violating victims are reprieved first",
			[]*corev1.Node{node("a")}, append(fill("a", 0, 0)[:2], victim("g1", "a", 0, 5, withLabels("app", "guarded")), victim("g2", "a", 0, 6, withLabels("app", "guarded"))),
			[]*policyv1.PodDisruptionBudget{pdb("guard", 0, "app", "guarded")},
			pod("p", requests("cpu", "2"), priority(50)),
			"a", []string{"a1", "a2"}, ""},
		{"lowest highest-victim priority",
			twoNodes, append(fill("a", 10, 0), fill("b", 5, 0)...), nil,
			pod("p", requests("cpu", "1"), priority(50)),
			"b", []string{"b4"}, ""},
		{"smallest priority sum",
			twoNodes, []*corev1.Pod{
				victim("a1", "a", 5, 0), victim("a2", "a", 5, 0), pod("a-big", on("a"), requests("cpu", "2"), priority(100)),
				victim("b1", "b", 5, 0), victim("b2", "b", 1, 0), pod("b-big", on("b"), requests("cpu", "2"), priority(100))}, nil,
			pod("p", requests("cpu", "2"), priority(50)),
			"b", []string{"b1", "b2"}, ""},
		{"fewest victims",
			twoNodes, []*corev1.Pod{
				victim("a1", "a", 5, 0), victim("a2", "a", 5, 0), pod("a-big", on("a"), requests("cpu", "2"), priority(100)),
				victim("b1", "b", 5, 0), pod("b-mid", on("b"), requests("cpu", "2"), priority(5), started(0)), pod("b-big", on("b"), requests("cpu", "1"), priority(100))}, nil,
			pod("p", requests("cpu", "2"), priority(50)),
			"b", []string{"b-mid"}, ""},
		{"latest start of the most important victims",
			twoNodes, append(fill("a", 0, 0), fill("b", 0, 10)...), nil,
			pod("p", requests("cpu", "1"), priority(50)),
			"b", []string{"b4"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fw := newFramework()
			snap := snapshot(tt.nodes, tt.existing...)
			_, err := fw.Schedule(tt.pod, snap)
			var fe *framework.FitError
			if !errors.As(err, &fe) {
				t.Fatalf("Schedule: %v, want a FitError", err)
			}
			res, ok := fw.Preempt(tt.pod, snap, tt.pdbs, fe.Diagnosis)
			if ok != (tt.node != "") || res.NodeName != tt.node || !slicesEqual(names(res.Victims), tt.victims) || res.Message != tt.message {
				t.Errorf("Preempt = %+v (victims %v), %v\nwant node %q victims %v message %q", res, names(res.Victims), ok, tt.node, tt.victims, tt.message)
			}
		})
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPreemptWaitsForTerminatingVictims(t *testing.T) {
	terminating := func(p *corev1.Pod) {
		p.DeletionTimestamp = &metav1.Time{}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: corev1.PodReasonPreemptionByScheduler}}
	}
	existing := []*corev1.Pod{victim("a1", "a", 0, 0, terminating), victim("a2", "a", 0, 0), victim("a3", "a", 0, 0), victim("a4", "a", 0, 0)}
	p := pod("p", requests("cpu", "2"), priority(50), func(p *corev1.Pod) { p.Status.NominatedNodeName = "a" })
	fw := newFramework()
	snap := snapshot([]*corev1.Node{node("a")}, existing...)
	_, err := fw.Schedule(p, snap)
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("Schedule: %v", err)
	}
	res, ok := fw.Preempt(p, snap, nil, fe.Diagnosis)
	if ok || res.Message != "preemption: not eligible due to a terminating pod on the nominated node." {
		t.Errorf("Preempt = %+v, %v", res, ok)
	}
}

// TestPreemptAntiAffinity checks that victims are removed from the
// cross-node state too: the pod's anti-affinity to a lower-priority pod is
// resolved by preempting it.
func TestPreemptAntiAffinity(t *testing.T) {
	existing := []*corev1.Pod{
		victim("web", "a", 0, 0, withLabels("app", "web")),
		victim("other", "a", 0, 0),
		victim("web-b", "b", 100, 0, withLabels("app", "web")),
	}
	p := pod("p", priority(50), requiredAnti(term(corev1.LabelHostname, "app", "web")))
	fw := newFramework()
	snap := snapshot([]*corev1.Node{node("a"), node("b")}, existing...)
	_, err := fw.Schedule(p, snap)
	var fe *framework.FitError
	if !errors.As(err, &fe) {
		t.Fatalf("Schedule: %v", err)
	}
	res, ok := fw.Preempt(p, snap, nil, fe.Diagnosis)
	if !ok || res.NodeName != "a" || !slicesEqual(names(res.Victims), []string{"web"}) {
		t.Errorf("Preempt = %+v (victims %v), %v; want web on a", res, names(res.Victims), ok)
	}
	// The snapshot is unchanged.
	if n := len(snap.Get("a").Pods()); n != 2 {
		t.Errorf("node a has %d pods after Preempt, want 2", n)
	}
}

// TestPreemptProperties checks Preempt on random resource-bound clusters:
// victims are lower-priority pods on the chosen node, removing them makes
// the pod fit there, and sparing any one of them would not; when Preempt
// gives up, no node fits even without all its lower-priority pods.
func TestPreemptProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	preempted, refused := 0, 0
	defer func() {
		// Guard against a generator that stops exercising either path.
		if !t.Failed() && (preempted < 20 || refused < 20) {
			t.Errorf("only %d preemptions and %d refusals in 300 rounds", preempted, refused)
		}
	}()
	for round := range 300 {
		var nodes []*corev1.Node
		var pods []*corev1.Pod
		for i := range 1 + r.IntN(4) {
			name := fmt.Sprintf("n%d", i)
			nodes = append(nodes, node(name))
			used := 0
			for j := range r.IntN(6) {
				cpu := 1 + r.IntN(2)
				if used+cpu > 4 {
					break
				}
				used += cpu
				pods = append(pods, pod(fmt.Sprintf("%s-p%d", name, j), on(name),
					requests("cpu", fmt.Sprint(cpu)), priority(int32(r.IntN(4)*10)), started(r.IntN(60))))
			}
		}
		incoming := pod("in", requests("cpu", fmt.Sprint(1+r.IntN(4))), priority(int32(5+r.IntN(3)*10)))
		fw := newFramework()
		snap := snapshot(nodes, pods...)
		_, err := fw.Schedule(incoming, snap)
		var fe *framework.FitError
		if !errors.As(err, &fe) {
			continue // it fits somewhere
		}
		res, ok := fw.Preempt(incoming, snap, nil, fe.Diagnosis)
		fitsWithout := func(nodeName string, removed func(*corev1.Pod) bool) bool {
			var keep []*corev1.Pod
			for _, p := range pods {
				if !removed(p) {
					keep = append(keep, p)
				}
			}
			return framework.FilterAll(fw, incoming, snapshot(nodes, keep...))[nodeName].IsSuccess()
		}
		lower := func(p *corev1.Pod) bool { return *p.Spec.Priority < *incoming.Spec.Priority }
		if !ok {
			refused++
			for _, n := range nodes {
				if fitsWithout(n.Name, func(p *corev1.Pod) bool { return p.Spec.NodeName == n.Name && lower(p) }) {
					t.Fatalf("round %d: no preemption, but %s fits without its lower-priority pods", round, n.Name)
				}
			}
			continue
		}
		preempted++
		isVictim := map[string]bool{}
		for _, v := range res.Victims {
			if v.Spec.NodeName != res.NodeName || !lower(v) {
				t.Fatalf("round %d: victim %s (priority %d) on %s, pod priority %d, node %s",
					round, v.Name, *v.Spec.Priority, v.Spec.NodeName, *incoming.Spec.Priority, res.NodeName)
			}
			isVictim[v.Name] = true
		}
		if !fitsWithout(res.NodeName, func(p *corev1.Pod) bool { return isVictim[p.Name] }) {
			t.Fatalf("round %d: pod does not fit on %s without victims %v", round, res.NodeName, names(res.Victims))
		}
		for _, spared := range res.Victims {
			if fitsWithout(res.NodeName, func(p *corev1.Pod) bool { return isVictim[p.Name] && p != spared }) {
				t.Fatalf("round %d: victim %s on %s was not needed", round, spared.Name, res.NodeName)
			}
		}
	}
}
