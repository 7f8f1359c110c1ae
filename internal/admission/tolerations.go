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
// taints, for NotReady and Unreachable seconds (kube-apiserver's
// --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds); nil means
// DefaultNoExecuteSeconds.
type DefaultTolerationSeconds struct {
	NotReady, Unreachable *int64
}

func (d DefaultTolerationSeconds) Admit(_ context.Context, a *Attributes) error {
	if !a.Is(podsResource) {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	for _, def := range []struct {
		key string
		set *int64
	}{{corev1.TaintNodeNotReady, d.NotReady}, {corev1.TaintNodeUnreachable, d.Unreachable}} {
		key := def.key
		if toleratesNoExecute(pod.Spec.Tolerations, key) {
			continue
		}
		seconds := int64(DefaultNoExecuteSeconds)
		if def.set != nil {
			seconds = *def.set
		}
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

// WithTolerationSeconds returns the chain with its DefaultTolerationSeconds
// set to kube-apiserver's --default-not-ready-toleration-seconds and
// --default-unreachable-toleration-seconds (nil: 300).
func (c Chain) WithTolerationSeconds(notReady, unreachable *int64) Chain {
	out := append(Chain(nil), c...)
	for i, p := range out {
		if _, ok := p.(DefaultTolerationSeconds); ok {
			out[i] = DefaultTolerationSeconds{NotReady: notReady, Unreachable: unreachable}
		}
	}
	return out
}
