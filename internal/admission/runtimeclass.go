package admission

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// RuntimeClass gives a new pod that names a RuntimeClass the class's pod
// overhead and scheduling constraints (node selector and tolerations),
// refusing a pod whose own values conflict with them.
type RuntimeClass struct{ Reader Reader }

func (p RuntimeClass) Admit(ctx context.Context, a *Attributes) error {
	if !a.Is(podsResource) || a.Operation != Create {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	if pod.Spec.RuntimeClassName == nil || *pod.Spec.RuntimeClassName == "" {
		return nil
	}
	obj, err := p.Reader.Get(ctx, runtimeClassesGVR, "", *pod.Spec.RuntimeClassName)
	if apierrors.IsNotFound(err) {
		return a.Forbiddenf("pod rejected: RuntimeClass %q not found", *pod.Spec.RuntimeClassName)
	}
	if err != nil {
		return err
	}
	rc := obj.(*nodev1.RuntimeClass)
	if rc.Overhead != nil {
		if len(pod.Spec.Overhead) > 0 && !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
			return a.Forbiddenf("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
		}
		pod.Spec.Overhead = rc.Overhead.PodFixed.DeepCopy()
	}
	if rc.Scheduling == nil {
		return nil
	}
	for k, v := range rc.Scheduling.NodeSelector {
		if old, ok := pod.Spec.NodeSelector[k]; ok && old != v {
			return a.Forbiddenf("conflict: runtimeClass.scheduling.nodeSelector[%s] = %s; pod.spec.nodeSelector[%s] = %s", k, v, k, old)
		}
	}
	for k, v := range rc.Scheduling.NodeSelector {
		if pod.Spec.NodeSelector == nil {
			pod.Spec.NodeSelector = map[string]string{}
		}
		pod.Spec.NodeSelector[k] = v
	}
	for _, t := range rc.Scheduling.Tolerations {
		if !hasToleration(pod.Spec.Tolerations, t) {
			pod.Spec.Tolerations = append(pod.Spec.Tolerations, t)
		}
	}
	return nil
}

func hasToleration(ts []corev1.Toleration, t corev1.Toleration) bool {
	for _, have := range ts {
		if apiequality.Semantic.DeepEqual(have, t) {
			return true
		}
	}
	return false
}

// Validate refuses a new pod whose overhead is not its RuntimeClass's:
// overhead is the runtime's to declare, not the pod's.
func (p RuntimeClass) Validate(ctx context.Context, a *Attributes) error {
	if !a.Is(podsResource) || a.Operation != Create {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	if len(pod.Spec.Overhead) == 0 {
		return nil
	}
	var rc *nodev1.RuntimeClass
	if pod.Spec.RuntimeClassName != nil && *pod.Spec.RuntimeClassName != "" {
		obj, err := p.Reader.Get(ctx, runtimeClassesGVR, "", *pod.Spec.RuntimeClassName)
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		if err == nil {
			rc = obj.(*nodev1.RuntimeClass)
		}
	}
	if rc == nil || rc.Overhead == nil {
		return a.Forbiddenf("pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead")
	}
	if !apiequality.Semantic.DeepEqual(pod.Spec.Overhead, rc.Overhead.PodFixed) {
		return a.Forbiddenf("pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead")
	}
	return nil
}
