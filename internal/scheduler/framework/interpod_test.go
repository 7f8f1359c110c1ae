package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func zone(z string) func(*corev1.Node) {
	return func(n *corev1.Node) { n.Labels[corev1.LabelTopologyZone] = z }
}

func withLabels(kv ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Labels == nil {
			p.Labels = map[string]string{}
		}
		for i := 0; i < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func inNamespace(ns string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Namespace = ns }
}

func term(topologyKey string, kv ...string) corev1.PodAffinityTerm {
	ml := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		ml[kv[i]] = kv[i+1]
	}
	return corev1.PodAffinityTerm{LabelSelector: &metav1.LabelSelector{MatchLabels: ml}, TopologyKey: topologyKey}
}

func requiredAffinity(terms ...corev1.PodAffinityTerm) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &corev1.Affinity{}
		}
		p.Spec.Affinity.PodAffinity = &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

func requiredAnti(terms ...corev1.PodAffinityTerm) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &corev1.Affinity{}
		}
		p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: terms}
	}
}

// verdicts is the expected Status per node: "" for fits, else a reason.
type verdicts map[string]string

func checkVerdicts(t *testing.T, got map[string]*framework.Status, want verdicts) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got verdicts for %d nodes, want %d: %v", len(got), len(want), got)
	}
	for name, reason := range want {
		st := got[name]
		if reason == "" {
			if !st.IsSuccess() {
				t.Errorf("node %q: %v, want success", name, st)
			}
			continue
		}
		if st.IsSuccess() || st.Message() != reason {
			t.Errorf("node %q: %v, want %q", name, st, reason)
		}
	}
}

func threeNodes() []*corev1.Node {
	return []*corev1.Node{node("a", zone("z1")), node("b", zone("z1")), node("c", zone("z2"))}
}

func TestInterPodAffinityFilter(t *testing.T) {
	const (
		aff      = framework.ReasonAffinityRulesNotMatch
		anti     = framework.ReasonAntiAffinityRulesNotMatch
		existing = framework.ReasonExistingAntiAffinityNotMatch
	)
	nsSelectorTerm := term(corev1.LabelTopologyZone, "app", "db")
	nsSelectorTerm.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: "other"}}
	nsListTerm := term(corev1.LabelTopologyZone, "app", "db")
	nsListTerm.Namespaces = []string{"other"}
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     verdicts
	}{
		{"affinity to a pod's zone",
			threeNodes(), []*corev1.Pod{pod("db", on("a"), withLabels("app", "db"))},
			pod("p", requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"))),
			verdicts{"a": "", "b": "", "c": aff}},
		{"affinity needs the topology label",
			[]*corev1.Node{node("a", zone("z1")), node("b")}, []*corev1.Pod{pod("db", on("a"), withLabels("app", "db"))},
			pod("p", requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"))),
			verdicts{"a": "", "b": aff}},
		{"first pod of a self-affine group goes anywhere with the label",
			[]*corev1.Node{node("a", zone("z1")), node("b")}, nil,
			pod("p", withLabels("app", "db"), requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"))),
			verdicts{"a": "", "b": aff}},
		{"no matching pod and not self-affine",
			threeNodes(), nil,
			pod("p", requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"))),
			verdicts{"a": aff, "b": aff, "c": aff}},
		{"affinity is namespaced to the pod by default",
			threeNodes(), []*corev1.Pod{pod("db", on("a"), withLabels("app", "db"), inNamespace("other"))},
			pod("p", requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"))),
			verdicts{"a": aff, "b": aff, "c": aff}},
		{"namespaceSelector reaches other namespaces",
			threeNodes(), []*corev1.Pod{pod("db", on("c"), withLabels("app", "db"), inNamespace("other"))},
			pod("p", requiredAffinity(nsSelectorTerm)),
			verdicts{"a": aff, "b": aff, "c": ""}},
		{"namespaces list",
			threeNodes(), []*corev1.Pod{pod("db", on("c"), withLabels("app", "db"), inNamespace("other"))},
			pod("p", requiredAffinity(nsListTerm)),
			verdicts{"a": aff, "b": aff, "c": ""}},
		{"all terms must match one pod",
			threeNodes(), []*corev1.Pod{pod("db", on("a"), withLabels("app", "db")), pod("cache", on("c"), withLabels("tier", "cache"))},
			pod("p", requiredAffinity(term(corev1.LabelTopologyZone, "app", "db"), term(corev1.LabelTopologyZone, "tier", "cache"))),
			verdicts{"a": aff, "b": aff, "c": aff}},
		{"anti-affinity per host",
			threeNodes(), []*corev1.Pod{pod("web", on("a"), withLabels("app", "web"))},
			pod("p", requiredAnti(term(corev1.LabelHostname, "app", "web"))),
			verdicts{"a": anti, "b": "", "c": ""}},
		{"anti-affinity per zone",
			threeNodes(), []*corev1.Pod{pod("web", on("a"), withLabels("app", "web"))},
			pod("p", requiredAnti(term(corev1.LabelTopologyZone, "app", "web"))),
			verdicts{"a": anti, "b": anti, "c": ""}},
		{"an existing pod's anti-affinity keeps the pod out of its zone",
			threeNodes(), []*corev1.Pod{pod("loner", on("b"), requiredAnti(term(corev1.LabelTopologyZone, "app", "web")))},
			pod("p", withLabels("app", "web")),
			verdicts{"a": existing, "b": existing, "c": ""}},
		{"an existing pod's anti-affinity ignores other pods",
			threeNodes(), []*corev1.Pod{pod("loner", on("b"), requiredAnti(term(corev1.LabelTopologyZone, "app", "web")))},
			pod("p", withLabels("app", "db")),
			verdicts{"a": "", "b": "", "c": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkVerdicts(t, framework.FilterAll(newFramework(), tt.pod, snapshot(tt.nodes, tt.existing...)), tt.want)
		})
	}
}

func preferred(anti bool, weight int32, terms ...corev1.PodAffinityTerm) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		var w []corev1.WeightedPodAffinityTerm
		for _, t := range terms {
			w = append(w, corev1.WeightedPodAffinityTerm{Weight: weight, PodAffinityTerm: t})
		}
		if p.Spec.Affinity == nil {
			p.Spec.Affinity = &corev1.Affinity{}
		}
		if anti {
			p.Spec.Affinity.PodAntiAffinity = &corev1.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: w}
		} else {
			p.Spec.Affinity.PodAffinity = &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: w}
		}
	}
}

func TestInterPodAffinityScore(t *testing.T) {
	tests := []struct {
		name     string
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     map[string]int64 // nil: the plugin skips the pod
	}{
		{"nothing to score", []*corev1.Pod{pod("db", on("a"), withLabels("app", "db"))}, pod("p"), nil},
		{"preferred affinity to a zone",
			[]*corev1.Pod{pod("db", on("a"), withLabels("app", "db"))},
			pod("p", preferred(false, 10, term(corev1.LabelTopologyZone, "app", "db"))),
			map[string]int64{"a": 100, "b": 100, "c": 0}},
		{"preferred anti-affinity to a host",
			[]*corev1.Pod{pod("web", on("a"), withLabels("app", "web"))},
			pod("p", preferred(true, 10, term(corev1.LabelHostname, "app", "web"))),
			map[string]int64{"a": 0, "b": 100, "c": 100}},
		{"anti-affinity weighed by matching pods",
			[]*corev1.Pod{pod("w1", on("a"), withLabels("app", "web")), pod("w2", on("a"), withLabels("app", "web")), pod("w3", on("b"), withLabels("app", "web"))},
			pod("p", preferred(true, 5, term(corev1.LabelHostname, "app", "web"))),
			map[string]int64{"a": 0, "b": 50, "c": 100}},
		{"an existing pod's required affinity attracts the pod",
			[]*corev1.Pod{pod("fan", on("c"), requiredAffinity(term(corev1.LabelTopologyZone, "app", "web")))},
			pod("p", withLabels("app", "web")),
			map[string]int64{"a": 0, "b": 0, "c": 100}},
		{"an existing pod's preferred anti-affinity repels the pod",
			[]*corev1.Pod{pod("shy", on("c"), preferred(true, 7, term(corev1.LabelTopologyZone, "app", "web")))},
			pod("p", withLabels("app", "web")),
			map[string]int64{"a": 100, "b": 100, "c": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := framework.PluginScores(newFramework(), framework.InterPodAffinityName, tt.pod, snapshot(threeNodes(), tt.existing...))
			checkScores(t, got, tt.want)
		})
	}
}

func checkScores(t *testing.T, got, want map[string]int64) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("scores = %v, want %v", got, want)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("scores = %v, want %v", got, want)
			return
		}
	}
}
