package daemonset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints}}
}

func taint(key string, effect corev1.TaintEffect) corev1.Taint {
	return corev1.Taint{Key: key, Value: "x", Effect: effect}
}

func dsWith(mut func(*corev1.PodSpec)) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns", UID: "ds-uid"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType},
		},
	}
	if mut != nil {
		mut(&ds.Spec.Template.Spec)
	}
	return ds
}

func TestShouldRun(t *testing.T) {
	zoneA := map[string]string{"zone": "a"}
	requireZoneA := &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}}},
	}}}
	for _, tc := range []struct {
		name      string
		spec      func(*corev1.PodSpec)
		node      *corev1.Node
		run, cont bool
	}{
		{"plain node", nil, node("n", nil), true, true},
		{"nodeSelector matches", func(s *corev1.PodSpec) { s.NodeSelector = zoneA }, node("n", zoneA), true, true},
		{"nodeSelector excludes", func(s *corev1.PodSpec) { s.NodeSelector = zoneA }, node("n", nil), false, false},
		{"required affinity matches", func(s *corev1.PodSpec) { s.Affinity = requireZoneA }, node("n", zoneA), true, true},
		{"required affinity excludes", func(s *corev1.PodSpec) { s.Affinity = requireZoneA }, node("n", map[string]string{"zone": "b"}), false, false},
		{"template nodeName elsewhere", func(s *corev1.PodSpec) { s.NodeName = "other" }, node("n", nil), false, false},
		{"template nodeName here", func(s *corev1.PodSpec) { s.NodeName = "n" }, node("n", nil), true, true},
		{"untolerated NoSchedule keeps new pods off, running ones stay", nil, node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), false, true},
		{"untolerated NoExecute removes", nil, node("n", nil, taint("dedicated", corev1.TaintEffectNoExecute)), false, false},
		{"PreferNoSchedule is ignored", nil, node("n", nil, taint("dedicated", corev1.TaintEffectPreferNoSchedule)), true, true},
		{"tolerated NoSchedule", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpExists}}
		}, node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), true, true},
		{"toleration with the wrong value", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "y"}}
		}, node("n", nil, taint("dedicated", corev1.TaintEffectNoSchedule)), false, true},
		{"not-ready NoExecute tolerated by default", nil, node("n", nil, taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute)), true, true},
		{"unreachable NoExecute tolerated by default", nil, node("n", nil, taint(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute)), true, true},
		{"not-ready NoSchedule is not", nil, node("n", nil, taint(corev1.TaintNodeNotReady, corev1.TaintEffectNoSchedule)), false, true},
		{"unschedulable tolerated by default", nil, node("n", nil, taint(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule)), true, true},
		{"disk-pressure tolerated by default", nil, node("n", nil, taint(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"memory-pressure tolerated by default", nil, node("n", nil, taint(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"pid-pressure tolerated by default", nil, node("n", nil, taint(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule)), true, true},
		{"network-unavailable not tolerated without host network", nil, node("n", nil, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), false, true},
		{"network-unavailable tolerated with host network", func(s *corev1.PodSpec) { s.HostNetwork = true },
			node("n", nil, taint(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule)), true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, cont := NewEligibility(dsWith(tc.spec)).ShouldRun(tc.node)
			if run != tc.run || cont != tc.cont {
				t.Errorf("ShouldRun = %v, %v; want %v, %v", run, cont, tc.run, tc.cont)
			}
		})
	}
}

func TestWithDaemonTolerations(t *testing.T) {
	secs := int64(300)
	user := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &secs},
		{Key: "dedicated", Operator: corev1.TolerationOpExists},
	}
	got := withDaemonTolerations(user, false)
	if user[0].TolerationSeconds == nil {
		t.Fatal("the argument was modified")
	}
	if len(got) != 1+len(daemonTolerations) {
		t.Fatalf("got %d tolerations: %+v", len(got), got)
	}
	for _, tol := range got {
		if tol.Key == corev1.TaintNodeNotReady && tol.TolerationSeconds != nil {
			t.Errorf("not-ready toleration kept tolerationSeconds: %+v", tol)
		}
		if tol.Key == corev1.TaintNodeNetworkUnavailable {
			t.Errorf("network-unavailable toleration without host network")
		}
	}
	if got := withDaemonTolerations(nil, true); got[len(got)-1].Key != corev1.TaintNodeNetworkUnavailable {
		t.Errorf("host network pod lacks the network-unavailable toleration: %+v", got)
	}
	if len(daemonTolerations) != 6 {
		t.Errorf("daemonTolerations was appended to: %d", len(daemonTolerations))
	}
}

func TestNewPodAimsAtNode(t *testing.T) {
	ds := dsWith(func(s *corev1.PodSpec) {
		s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}}},
		}}}
	})
	gen := int64(3)
	p, err := NewPod(ds, podTemplate(ds, Revision{Hash: "abc", Generation: &gen}), "n1")
	if err != nil {
		t.Fatal(err)
	}
	if TargetNode(p) != "n1" || p.Spec.NodeName != "" {
		t.Errorf("target %q nodeName %q", TargetNode(p), p.Spec.NodeName)
	}
	terms := p.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchExpressions) != 0 || terms[0].MatchFields[0].Key != "metadata.name" {
		t.Errorf("affinity terms %+v", terms)
	}
	if ds.Spec.Template.Spec.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields != nil {
		t.Error("the template was modified")
	}
	if p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != "abc" || p.Labels[TemplateGenerationLabel] != "3" || p.Labels["app"] != "d" {
		t.Errorf("labels %v", p.Labels)
	}
	if ds.Spec.Template.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] != "" {
		t.Error("the template's labels were modified")
	}
	if len(p.Spec.Tolerations) != len(daemonTolerations) {
		t.Errorf("tolerations %+v", p.Spec.Tolerations)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != ds.UID || ref.Kind != "DaemonSet" || p.Namespace != "ns" || p.GenerateName != "d-" {
		t.Errorf("pod meta %+v", p.ObjectMeta)
	}
}

func TestTargetNode(t *testing.T) {
	bound := &corev1.Pod{Spec: corev1.PodSpec{NodeName: "b", Affinity: nodeNameAffinity(nil, "a")}}
	aimed := &corev1.Pod{Spec: corev1.PodSpec{Affinity: nodeNameAffinity(nil, "a")}}
	none := &corev1.Pod{}
	if TargetNode(bound) != "b" || TargetNode(aimed) != "a" || TargetNode(none) != "" {
		t.Errorf("TargetNode: %q %q %q", TargetNode(bound), TargetNode(aimed), TargetNode(none))
	}
}
