package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// DefaultNoExecuteSeconds is how long a pod stays on a node that became
// not-ready or unreachable before it is evicted, unless it says otherwise.
const DefaultNoExecuteSeconds = 300

// DefaultTolerationSeconds adds to every pod that does not already
// tolerate them the NoExecute tolerations of the not-ready and unreachable
// taints, for DefaultNoExecuteSeconds.
type DefaultTolerationSeconds struct{}

func (DefaultTolerationSeconds) Admit(_ context.Context, a *Attributes) error {
	if !a.Is(podsResource) {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		if toleratesNoExecute(pod.Spec.Tolerations, key) {
			continue
		}
		seconds := int64(DefaultNoExecuteSeconds)
		pod.Spec.Tolerations = append(pod.Spec.Tolerations, corev1.Toleration{
			Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds,
		})
	}
	return nil
}

// toleratesNoExecute: a toleration of key (or of every key) with effect
// NoExecute (or every effect) is already there.
func toleratesNoExecute(ts []corev1.Toleration, key string) bool {
	for _, t := range ts {
		if (t.Key == key || t.Key == "") && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "") {
			return true
		}
	}
	return false
}

// TaintNodesByCondition taints every new node not-ready (NoSchedule)
// until its agent reports it ready, so that nothing is scheduled onto a
// node before it can run pods.
type TaintNodesByCondition struct{}

func (TaintNodesByCondition) Admit(_ context.Context, a *Attributes) error {
	if !a.Is(nodesResource) || a.Operation != Create {
		return nil
	}
	node := a.Object.(*corev1.Node)
	for _, t := range node.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady && t.Effect == corev1.TaintEffectNoSchedule {
			return nil
		}
	}
	node.Spec.Taints = append(node.Spec.Taints, corev1.Taint{Key: corev1.TaintNodeNotReady, Effect: corev1.TaintEffectNoSchedule})
	return nil
}
