package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func spread(key string, maxSkew int32, action corev1.UnsatisfiableConstraintAction, mutate ...func(*corev1.TopologySpreadConstraint)) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		c := corev1.TopologySpreadConstraint{
			MaxSkew: maxSkew, TopologyKey: key, WhenUnsatisfiable: action,
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		}
		for _, m := range mutate {
			m(&c)
		}
		p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, c)
	}
}

func web(name, nodeName string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	return pod(name, append([]func(*corev1.Pod){on(nodeName), withLabels("app", "web")}, mutate...)...)
}

func TestPodTopologySpreadFilter(t *testing.T) {
	const (
		skew    = framework.ReasonTopologySpreadNotMatch
		missing = framework.ReasonTopologyLabelMissing
	)
	honor, ignore := corev1.NodeInclusionPolicyHonor, corev1.NodeInclusionPolicyIgnore
	three := int32(3)
	terminating := func(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{} }
	pool := func(n *corev1.Node) { n.Labels["pool"] = "x" }
	tainted := func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}}
	}
	incoming := func(mutate ...func(*corev1.Pod)) *corev1.Pod {
		return pod("p", append([]func(*corev1.Pod){withLabels("app", "web")}, mutate...)...)
	}
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     verdicts
	}{
		{"zone with fewer pods wins",
			threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "b")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)),
			verdicts{"a": skew, "b": skew, "c": ""}},
		{"within maxSkew",
			threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "b")},
			incoming(spread(corev1.LabelTopologyZone, 3, corev1.DoNotSchedule)),
			verdicts{"a": "", "b": "", "c": ""}},
		{"a pod that does not match its selector adds nothing",
			threeNodes(), []*corev1.Pod{web("w1", "a")},
			pod("p", spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)),
			verdicts{"a": "", "b": "", "c": ""}},
		{"per host",
			threeNodes(), []*corev1.Pod{web("w1", "a")},
			incoming(spread(corev1.LabelHostname, 1, corev1.DoNotSchedule)),
			verdicts{"a": skew, "b": "", "c": ""}},
		{"nodes without the key are rejected",
			[]*corev1.Node{node("a", zone("z1")), node("b")}, nil,
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)),
			verdicts{"a": "", "b": missing}},
		{"other namespaces and terminating pods do not count",
			threeNodes(), []*corev1.Pod{web("w1", "a", inNamespace("other")), web("w2", "b", terminating)},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)),
			verdicts{"a": "", "b": "", "c": ""}},
		{"minDomains above the domains makes the global minimum 0",
			threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "c")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule, func(c *corev1.TopologySpreadConstraint) { c.MinDomains = &three })),
			verdicts{"a": skew, "b": skew, "c": skew}},
		{"nodeAffinityPolicy Honor leaves excluded nodes' domains out",
			[]*corev1.Node{node("a", zone("z1"), pool), node("c", zone("z2"))}, []*corev1.Pod{web("w1", "a")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule, func(c *corev1.TopologySpreadConstraint) { c.NodeAffinityPolicy = &honor }),
				func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": "x"} }),
			verdicts{"a": "", "c": framework.ReasonNodeAffinity}},
		{"nodeAffinityPolicy Ignore counts them",
			[]*corev1.Node{node("a", zone("z1"), pool), node("c", zone("z2"))}, []*corev1.Pod{web("w1", "a")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule, func(c *corev1.TopologySpreadConstraint) { c.NodeAffinityPolicy = &ignore }),
				func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"pool": "x"} }),
			verdicts{"a": skew, "c": framework.ReasonNodeAffinity}},
		{"nodeTaintsPolicy Ignore (default) counts tainted nodes' domains",
			[]*corev1.Node{node("a", zone("z1")), node("c", zone("z2"), tainted)}, []*corev1.Pod{web("w1", "a")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)),
			verdicts{"a": skew, "c": "node(s) had untolerated taint {k: }"}},
		{"nodeTaintsPolicy Honor leaves them out",
			[]*corev1.Node{node("a", zone("z1")), node("c", zone("z2"), tainted)}, []*corev1.Pod{web("w1", "a")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule, func(c *corev1.TopologySpreadConstraint) { c.NodeTaintsPolicy = &honor })),
			verdicts{"a": "", "c": "node(s) had untolerated taint {k: }"}},
		{"matchLabelKeys narrows the selector to the pod's own value",
			threeNodes(), []*corev1.Pod{web("w1", "a", withLabels("rev", "1")), web("w2", "b", withLabels("rev", "1"))},
			incoming(withLabels("rev", "2"), spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule, func(c *corev1.TopologySpreadConstraint) { c.MatchLabelKeys = []string{"rev"} })),
			verdicts{"a": "", "b": "", "c": ""}},
		{"ScheduleAnyway never filters",
			threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "b")},
			incoming(spread(corev1.LabelTopologyZone, 1, corev1.ScheduleAnyway)),
			verdicts{"a": "", "b": "", "c": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdicts(t, framework.FilterAll(newFramework(), tt.pod, snapshot(tt.nodes, tt.existing...)), tt.want)
		})
	}
}

func TestPodTopologySpreadScore(t *testing.T) {
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     map[string]int64
	}{
		{"no soft constraints", threeNodes(), nil, pod("p", spread(corev1.LabelHostname, 1, corev1.DoNotSchedule)), nil},
		// Raw scores: count × log(3 nodes + 2) + (maxSkew − 1) = 3, 0, 2;
		// normalized 100 × (max + min − s) / max.
		{"per host", threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "a"), web("w3", "c")},
			pod("p", spread(corev1.LabelHostname, 1, corev1.ScheduleAnyway)),
			map[string]int64{"a": 0, "b": 100, "c": 33}},
		// Zone counts z1 = 2, z2 = 0; log(2 + 2) = 1.386: raw 3, 3, 0.
		{"per zone", threeNodes(), []*corev1.Pod{web("w1", "a"), web("w2", "b")},
			pod("p", spread(corev1.LabelTopologyZone, 1, corev1.ScheduleAnyway)),
			map[string]int64{"a": 0, "b": 0, "c": 100}},
		{"nodes without the key score 0", []*corev1.Node{node("a", zone("z1")), node("b", zone("z2")), node("c")},
			[]*corev1.Pod{web("w1", "a")},
			pod("p", spread(corev1.LabelTopologyZone, 1, corev1.ScheduleAnyway)),
			map[string]int64{"a": 0, "b": 100, "c": 0}},
		{"no matching pods anywhere", threeNodes(), nil,
			pod("p", spread(corev1.LabelTopologyZone, 1, corev1.ScheduleAnyway)),
			map[string]int64{"a": 100, "b": 100, "c": 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScores(t, framework.PluginScores(newFramework(), framework.PodTopologySpreadName, tt.pod, snapshot(tt.nodes, tt.existing...)), tt.want)
		})
	}
}

// defaultSpread is a VolumeLister that also gives every pod labelled
// app=web the default spreading selector app=web, as a Service would.
type defaultSpread struct{ volumes }

func (defaultSpread) DefaultSpreadSelector(p *corev1.Pod) labels.Selector {
	if p.Labels["app"] != "web" {
		return labels.Everything()
	}
	return labels.SelectorFromSet(labels.Set{"app": "web"})
}

func TestPodTopologySpreadSystemDefaults(t *testing.T) {
	existing := []*corev1.Pod{web("w1", "a"), web("w2", "a")}
	withDefaults := func(nodes []*corev1.Node) *framework.Snapshot {
		return framework.NewSnapshot(snapshot(nodes, existing...).NodeInfos(), defaultSpread{})
	}
	tests := []struct {
		name string
		snap *framework.Snapshot
		pod  *corev1.Pod
		want map[string]int64
	}{
		// Raw: count×log(3+2) + 2 per host, plus count×log(2+2) + 4 per
		// zone: a 12, b 9, c 6; normalized 100 × (12 + 6 − s) / 12.
		{"hostname and zone defaults", withDefaults(threeNodes()), pod("p", withLabels("app", "web")),
			map[string]int64{"a": 50, "b": 75, "c": 100}},
		{"pods nothing selects are not spread", withDefaults(threeNodes()), pod("p", withLabels("app", "db")), nil},
		{"without a DefaultSpreadLister", snapshot(threeNodes(), existing...), pod("p", withLabels("app", "web")), nil},
		{"a pod's own constraints replace the defaults", withDefaults(threeNodes()),
			pod("p", withLabels("app", "web"), spread(corev1.LabelTopologyZone, 1, corev1.DoNotSchedule)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScores(t, framework.PluginScores(newFramework(), framework.PodTopologySpreadName, tt.pod, tt.snap), tt.want)
		})
	}
}
