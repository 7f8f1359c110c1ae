package nodelifecycle

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func taintString(ts []corev1.Taint) string {
	var parts []string
	for _, t := range ts {
		s := t.Key + ":" + string(t.Effect)
		if t.Value != "" {
			s = t.Key + "=" + t.Value + ":" + string(t.Effect)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func parseTaints(s string) []corev1.Taint {
	var out []corev1.Taint
	for _, f := range strings.Fields(s) {
		kv, eff, _ := strings.Cut(f, ":")
		k, v, _ := strings.Cut(kv, "=")
		out = append(out, corev1.Taint{Key: k, Value: v, Effect: corev1.TaintEffect(eff)})
	}
	return out
}

func TestNoScheduleTaints(t *testing.T) {
	cond := func(typ corev1.NodeConditionType, s corev1.ConditionStatus) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: s}
	}
	ready := cond(corev1.NodeReady, corev1.ConditionTrue)
	for _, tc := range []struct {
		name          string
		conds         []corev1.NodeCondition
		unschedulable bool
		taints        string
		want          string
		changed       bool
	}{
		{name: "ready node loses admission's not-ready taint", conds: []corev1.NodeCondition{ready},
			taints: "node.kubernetes.io/not-ready:NoSchedule", want: "", changed: true},
		{name: "ready node untouched", conds: []corev1.NodeCondition{ready}, taints: "dedicated=a:NoSchedule", want: "dedicated=a:NoSchedule"},
		{name: "not ready", conds: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionFalse)},
			want: "node.kubernetes.io/not-ready:NoSchedule", changed: true},
		{name: "unknown swaps not-ready for unreachable", conds: []corev1.NodeCondition{cond(corev1.NodeReady, corev1.ConditionUnknown)},
			taints: "node.kubernetes.io/not-ready:NoSchedule", want: "node.kubernetes.io/unreachable:NoSchedule", changed: true},
		{name: "pressures and network", conds: []corev1.NodeCondition{ready, cond(corev1.NodeMemoryPressure, corev1.ConditionTrue),
			cond(corev1.NodeDiskPressure, corev1.ConditionTrue), cond(corev1.NodePIDPressure, corev1.ConditionTrue),
			cond(corev1.NodeNetworkUnavailable, corev1.ConditionTrue)},
			want:    "node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule node.kubernetes.io/network-unavailable:NoSchedule node.kubernetes.io/pid-pressure:NoSchedule",
			changed: true},
		{name: "unschedulable", conds: []corev1.NodeCondition{ready}, unschedulable: true,
			want: "node.kubernetes.io/unschedulable:NoSchedule", changed: true},
		{name: "schedulable again", conds: []corev1.NodeCondition{ready}, taints: "node.kubernetes.io/unschedulable:NoSchedule", changed: true},
		{name: "NoExecute taints are not this pass's", conds: []corev1.NodeCondition{ready},
			taints: "node.kubernetes.io/unreachable:NoExecute", want: "node.kubernetes.io/unreachable:NoExecute"},
		{name: "no conditions at all: admission's taint goes, as upstream", taints: "node.kubernetes.io/not-ready:NoSchedule", changed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := &corev1.Node{Spec: corev1.NodeSpec{Taints: parseTaints(tc.taints), Unschedulable: tc.unschedulable},
				Status: corev1.NodeStatus{Conditions: tc.conds}}
			got, changed := noScheduleTaints(n)
			if taintString(got) != tc.want || changed != tc.changed {
				t.Errorf("got %q changed %v, want %q changed %v", taintString(got), changed, tc.want, tc.changed)
			}
		})
	}
}

func TestNoExecuteTaints(t *testing.T) {
	now := metav1.NewTime(at(7))
	old := metav1.NewTime(at(1))
	for _, tc := range []struct {
		taints  string
		ready   corev1.ConditionStatus
		want    string
		changed bool
	}{
		{"", corev1.ConditionTrue, "", false},
		{"", corev1.ConditionUnknown, "node.kubernetes.io/unreachable:NoExecute", true},
		{"", corev1.ConditionFalse, "node.kubernetes.io/not-ready:NoExecute", true},
		{"node.kubernetes.io/not-ready:NoExecute", corev1.ConditionUnknown, "node.kubernetes.io/unreachable:NoExecute", true},
		{"node.kubernetes.io/unreachable:NoExecute", corev1.ConditionUnknown, "node.kubernetes.io/unreachable:NoExecute", false},
		{"a:NoExecute node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule", corev1.ConditionTrue,
			"a:NoExecute node.kubernetes.io/unreachable:NoSchedule", true},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.taints, tc.ready), func(t *testing.T) {
			in := parseTaints(tc.taints)
			for i := range in {
				in[i].TimeAdded = &old
			}
			got, changed := noExecuteTaints(in, tc.ready, now)
			if taintString(got) != tc.want || changed != tc.changed {
				t.Fatalf("got %q changed %v, want %q changed %v", taintString(got), changed, tc.want, tc.changed)
			}
			for _, g := range got {
				wasThere := strings.Contains(tc.taints, g.Key+":"+string(g.Effect))
				if wasThere && !g.TimeAdded.Equal(&old) || !wasThere && !g.TimeAdded.Equal(&now) {
					t.Errorf("%s timeAdded = %v", g.Key, g.TimeAdded)
				}
			}
		})
	}
}
