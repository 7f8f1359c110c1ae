package nodelifecycle

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func secs(s int64) *int64 { return &s }

func TestDecideEviction(t *testing.T) {
	unreachable := corev1.Taint{Key: corev1.TaintNodeUnreachable, Effect: corev1.TaintEffectNoExecute}
	notReady := corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoExecute}
	noSched := corev1.Taint{Key: "dedicated", Value: "x", Effect: corev1.TaintEffectNoSchedule}
	defaults := []corev1.Toleration{ // what DefaultTolerationSeconds adds
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(300)},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: secs(2)},
	}
	forever := []corev1.Toleration{{Operator: corev1.TolerationOpExists}}
	for _, tc := range []struct {
		name   string
		tols   []corev1.Toleration
		taints []corev1.Taint
		cur    *pending
		want   verdict
	}{
		{name: "no taints", tols: defaults, want: verdict{}},
		{name: "only NoSchedule taints", taints: []corev1.Taint{noSched}, want: verdict{}},
		{name: "untolerated: now", taints: []corev1.Taint{unreachable}, want: verdict{evict: true, created: at(10), at: at(10)}},
		{name: "tolerated for 2s", tols: defaults, taints: []corev1.Taint{unreachable},
			want: verdict{evict: true, created: at(10), at: at(12)}},
		{name: "smallest of the used tolerations", tols: defaults, taints: []corev1.Taint{unreachable, notReady},
			want: verdict{evict: true, created: at(10), at: at(12)}},
		{name: "one untolerated taint among tolerated ones: now", tols: defaults,
			taints: []corev1.Taint{unreachable, {Key: "other", Effect: corev1.TaintEffectNoExecute}},
			want:   verdict{evict: true, created: at(10), at: at(10)}},
		{name: "tolerated forever", tols: forever, taints: []corev1.Taint{unreachable}, want: verdict{}},
		{name: "forever and limited: the limit counts, as upstream", taints: []corev1.Taint{unreachable, notReady},
			tols: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists},
				{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, TolerationSeconds: secs(5)}},
			want: verdict{evict: true, created: at(10), at: at(15)}},
		{name: "negative seconds: now", taints: []corev1.Taint{unreachable},
			tols: []corev1.Toleration{{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, TolerationSeconds: secs(-3)}},
			want: verdict{evict: true, created: at(10), at: at(10)}},
		{name: "value must match with Equal", taints: []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoExecute}},
			tols: []corev1.Toleration{{Key: "k", Value: "w", Effect: corev1.TaintEffectNoExecute}},
			want: verdict{evict: true, created: at(10), at: at(10)}},
		{name: "pending eviction stands", tols: defaults, taints: []corev1.Taint{unreachable}, cur: &pending{created: at(9), at: at(11)},
			want: verdict{evict: true, created: at(9), at: at(11), keep: true}},
		{name: "a taint swap keeps the start: not-ready 300s pending, now unreachable 2s", tols: defaults, taints: []corev1.Taint{unreachable},
			cur:  &pending{created: at(5), at: at(305)},
			want: verdict{evict: true, created: at(5), at: at(7)}},
		{name: "taints gone: cancel", tols: defaults, cur: &pending{created: at(5), at: at(7)}, want: verdict{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decideEviction(tc.tols, tc.taints, at(10), tc.cur)
			if got.evict != tc.want.evict || got.keep != tc.want.keep || !got.created.Equal(tc.want.created) || !got.at.Equal(tc.want.at) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
