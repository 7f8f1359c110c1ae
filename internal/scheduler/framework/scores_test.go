package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func TestResourceScores(t *testing.T) {
	// Nodes have 4 cpu and 8Gi.
	nodes := []*corev1.Node{node("a"), node("b"), node("c")}
	existing := []*corev1.Pod{
		pod("half-cpu", on("b"), requests("cpu", "2")),
		pod("best-effort", on("c")), // counts as 100m and 200Mi for LeastAllocated only
	}
	tests := []struct {
		name   string
		plugin string
		pod    *corev1.Pod
		want   map[string]int64
	}{
		// a: cpu (4000−1000)/4000 = 75, memory (8192−2048)/8192 = 75.
		// b: cpu 25; half-cpu requests no memory, so it holds 200Mi: 72.
		{"least allocated", framework.NodeResourcesFitName, pod("p", requests("cpu", "1", "memory", "2Gi")),
			map[string]int64{"a": 75, "b": 48, "c": 72}},
		// The incoming best-effort pod counts as 100m and 200Mi:
		// a: cpu 97 (97.5 truncated), memory 97.
		{"least allocated, best effort", framework.NodeResourcesFitName, pod("p"),
			map[string]int64{"a": 97, "b": 71, "c": 95}},
		// a: cpu .25, memory .125 -> 100 × (1 − .0625); b: cpu .75.
		{"balanced", framework.BalancedAllocationName, pod("p", requests("cpu", "1", "memory", "1Gi")),
			map[string]int64{"a": 93, "b": 68, "c": 93}},
		{"balanced skips best-effort pods", framework.BalancedAllocationName, pod("p"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScores(t, framework.PluginScores(newFramework(), tt.plugin, tt.pod, snapshot(nodes, existing...)), tt.want)
		})
	}
}

func TestNodeAffinityScore(t *testing.T) {
	ssd := func(n *corev1.Node) { n.Labels["disk"] = "ssd" }
	nodes := []*corev1.Node{node("a", zone("z1"), ssd), node("b", zone("z1")), node("c", zone("z2"))}
	pref := func(w int32, key, value string) corev1.PreferredSchedulingTerm {
		return corev1.PreferredSchedulingTerm{Weight: w, Preference: corev1.NodeSelectorTerm{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: []string{value}}},
		}}
	}
	p := pod("p", func(p *corev1.Pod) {
		p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{
				pref(5, corev1.LabelTopologyZone, "z1"), pref(10, "disk", "ssd"),
			},
		}}
	})
	// Raw 15, 5, 0, scaled so the best is 100.
	checkScores(t, framework.PluginScores(newFramework(), framework.NodeAffinityName, p, snapshot(nodes)),
		map[string]int64{"a": 100, "b": 33, "c": 0})
	checkScores(t, framework.PluginScores(newFramework(), framework.NodeAffinityName, pod("p"), snapshot(nodes)), nil)
}

func TestTaintTolerationScore(t *testing.T) {
	soft := func(keys ...string) func(*corev1.Node) {
		return func(n *corev1.Node) {
			for _, k := range keys {
				n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Effect: corev1.TaintEffectPreferNoSchedule})
			}
		}
	}
	nodes := []*corev1.Node{node("a"), node("b", soft("x")), node("c", soft("x", "y"))}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want map[string]int64
	}{
		{"fewer untolerated PreferNoSchedule taints is better", pod("p"), map[string]int64{"a": 100, "b": 50, "c": 0}},
		{"tolerated taints do not count", pod("p", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "x", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectPreferNoSchedule}}
		}), map[string]int64{"a": 100, "b": 100, "c": 0}},
		{"NoSchedule tolerations do not tolerate PreferNoSchedule", pod("p", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "x", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}
		}), map[string]int64{"a": 100, "b": 50, "c": 0}},
		{"no taints anywhere: all best", pod("p"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := nodes
			want := tt.want
			if want == nil {
				ns = []*corev1.Node{node("a"), node("b"), node("c")}
				want = map[string]int64{"a": 100, "b": 100, "c": 100}
			}
			checkScores(t, framework.PluginScores(newFramework(), framework.TaintTolerationName, tt.pod, snapshot(ns)), want)
		})
	}
}

func TestImageLocalityScore(t *testing.T) {
	const mib = 1024 * 1024
	images := func(size int64, names ...string) func(*corev1.Node) {
		return func(n *corev1.Node) {
			n.Status.Images = append(n.Status.Images, corev1.ContainerImage{Names: names, SizeBytes: size})
		}
	}
	nodes := []*corev1.Node{
		node("a", images(500*mib, "registry.example/app:v1")),
		node("b", images(500*mib, "registry.example/app:v1"), images(10*mib, "nginx")),
		node("c", images(10*mib, "nginx:latest")),
	}
	tests := []struct {
		name  string
		image string
		want  map[string]int64
	}{
		// 500Mi held by 2 of 3 nodes counts 333Mi: 100 × (333 − 23) / (1000 − 23).
		{"sized and spread", "registry.example/app:v1", map[string]int64{"a": 31, "b": 31, "c": 0}},
		// Under the 23Mi threshold; "nginx" means "nginx:latest".
		{"small images do not count", "nginx", map[string]int64{"a": 0, "b": 0, "c": 0}},
		{"absent image", "other", map[string]int64{"a": 0, "b": 0, "c": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod("p", func(p *corev1.Pod) { p.Spec.Containers[0].Image = tt.image })
			checkScores(t, framework.PluginScores(newFramework(), framework.ImageLocalityName, p, snapshot(nodes)), tt.want)
		})
	}
}
