package nodelifecycle

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// conditionTaints maps node conditions to the NoSchedule taints
// TaintNodesByCondition keeps on a node while they hold.
var conditionTaints = map[corev1.NodeConditionType]map[corev1.ConditionStatus]string{
	corev1.NodeReady: {
		corev1.ConditionFalse:   corev1.TaintNodeNotReady,
		corev1.ConditionUnknown: corev1.TaintNodeUnreachable,
	},
	corev1.NodeMemoryPressure:     {corev1.ConditionTrue: corev1.TaintNodeMemoryPressure},
	corev1.NodeDiskPressure:       {corev1.ConditionTrue: corev1.TaintNodeDiskPressure},
	corev1.NodeNetworkUnavailable: {corev1.ConditionTrue: corev1.TaintNodeNetworkUnavailable},
	corev1.NodePIDPressure:        {corev1.ConditionTrue: corev1.TaintNodePIDPressure},
}

// conditionTaintKeys are the keys of the NoSchedule taints this
// controller owns; other NoSchedule taints (an admin's) are left alone.
var conditionTaintKeys = map[string]bool{
	corev1.TaintNodeNotReady: true, corev1.TaintNodeUnreachable: true, corev1.TaintNodeMemoryPressure: true,
	corev1.TaintNodeDiskPressure: true, corev1.TaintNodeNetworkUnavailable: true, corev1.TaintNodePIDPressure: true,
	corev1.TaintNodeUnschedulable: true,
}

// noScheduleTaints is the TaintNodesByCondition decision: the node's
// taints with the controller-owned NoSchedule ones made to match its
// conditions and spec.unschedulable. changed is false when they already
// do. A node without a Ready condition gets no not-ready taint from it,
// as upstream: admission's not-ready taint goes, and the silent node gets
// unreachable once its startup grace period ends.
func noScheduleTaints(n *corev1.Node) (taints []corev1.Taint, changed bool) {
	want := map[string]bool{}
	for _, c := range n.Status.Conditions {
		if k, ok := conditionTaints[c.Type][c.Status]; ok {
			want[k] = true
		}
	}
	if n.Spec.Unschedulable {
		want[corev1.TaintNodeUnschedulable] = true
	}
	for _, t := range n.Spec.Taints {
		owned := t.Effect == corev1.TaintEffectNoSchedule && conditionTaintKeys[t.Key]
		switch {
		case !owned:
			taints = append(taints, t)
		case want[t.Key]:
			taints = append(taints, t)
			delete(want, t.Key) // present; a duplicate would be dropped
		default:
			changed = true
		}
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		taints = append(taints, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoSchedule})
		changed = true
	}
	return taints, changed
}

// noExecuteKeys are the taints taint-based eviction puts on a node that
// is not Ready; they mirror its Ready condition and exclude each other.
var noExecuteKeys = map[corev1.ConditionStatus]string{
	corev1.ConditionFalse:   corev1.TaintNodeNotReady,
	corev1.ConditionUnknown: corev1.TaintNodeUnreachable,
}

func isNoExecuteReadyTaint(t corev1.Taint) bool {
	return t.Effect == corev1.TaintEffectNoExecute && (t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable)
}

// noExecuteTaints returns the node's taints with the not-ready and
// unreachable NoExecute taints made to say ready (status True, or ""
// for none: both removed; False: not-ready; Unknown: unreachable). A
// taint added is stamped with now (timeAdded); one already there keeps
// its own. changed is false when the taints already say so.
func noExecuteTaints(taints []corev1.Taint, ready corev1.ConditionStatus, now metav1.Time) (out []corev1.Taint, changed bool) {
	want := noExecuteKeys[ready]
	have := false
	for _, t := range taints {
		switch {
		case !isNoExecuteReadyTaint(t):
			out = append(out, t)
		case t.Key == want && !have:
			out = append(out, t)
			have = true
		default:
			changed = true
		}
	}
	if want != "" && !have {
		out = append(out, corev1.Taint{Key: want, Effect: corev1.TaintEffectNoExecute, TimeAdded: &now})
		changed = true
	}
	return out, changed
}
