package admission

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Priority resolves a new pod's priority and preemption policy from its
// PriorityClass, or from the global default class when it names none
// (priority 0 when there is no default), and keeps at most one global
// default PriorityClass.
type Priority struct{ Reader Reader }

func (p Priority) Admit(ctx context.Context, a *Attributes) error {
	if !a.Is(podsResource) {
		return nil
	}
	pod := a.Object.(*corev1.Pod)
	if a.Operation == Update {
		// Set on create and immutable since; an update that leaves them
		// out keeps them.
		old := a.OldObject.(*corev1.Pod)
		if pod.Spec.Priority == nil {
			pod.Spec.Priority = old.Spec.Priority
		}
		if pod.Spec.PreemptionPolicy == nil {
			pod.Spec.PreemptionPolicy = old.Spec.PreemptionPolicy
		}
		return nil
	}
	var priority int32
	policy := corev1.PreemptLowerPriority
	if pod.Spec.PriorityClassName == "" {
		pc, err := p.globalDefault(ctx)
		if err != nil {
			return err
		}
		if pc != nil {
			pod.Spec.PriorityClassName = pc.Name
			priority = pc.Value
			if pc.PreemptionPolicy != nil {
				policy = *pc.PreemptionPolicy
			}
		}
	} else {
		obj, err := p.Reader.Get(ctx, priorityClassesGVR, "", pod.Spec.PriorityClassName)
		if apierrors.IsNotFound(err) {
			return a.Forbiddenf("no PriorityClass with name %s was found", pod.Spec.PriorityClassName)
		}
		if err != nil {
			return err
		}
		pc := obj.(*schedulingv1.PriorityClass)
		priority = pc.Value
		if pc.PreemptionPolicy != nil {
			policy = *pc.PreemptionPolicy
		}
	}
	if pod.Spec.Priority != nil && *pod.Spec.Priority != priority {
		return a.Forbiddenf("the integer value of priority (%d) must not be provided in pod spec; priority admission controller computed %d from the given PriorityClass name", *pod.Spec.Priority, priority)
	}
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy != policy {
		return a.Forbiddenf("the string value of PreemptionPolicy (%s) must not be provided in pod spec; priority admission controller computed %s from the given PriorityClass name", *pod.Spec.PreemptionPolicy, policy)
	}
	pod.Spec.Priority = &priority
	pod.Spec.PreemptionPolicy = &policy
	return nil
}

// Validate refuses a second global default PriorityClass.
func (p Priority) Validate(ctx context.Context, a *Attributes) error {
	if !a.Is(pcsResource) {
		return nil
	}
	pc := a.Object.(*schedulingv1.PriorityClass)
	if !pc.GlobalDefault {
		return nil
	}
	def, err := p.globalDefault(ctx)
	if err != nil {
		return err
	}
	if def != nil && def.Name != pc.Name {
		return a.Forbiddenf("PriorityClass %s is already marked as default. Only one default can exist", def.Name)
	}
	return nil
}

// globalDefault is the global default class, nil when there is none; of
// several (made before the check existed, or racing), the lowest value.
func (p Priority) globalDefault(ctx context.Context) (*schedulingv1.PriorityClass, error) {
	objs, err := p.Reader.List(ctx, priorityClassesGVR, "")
	if err != nil {
		return nil, fmt.Errorf("listing PriorityClasses: %w", err)
	}
	var def *schedulingv1.PriorityClass
	for _, o := range objs {
		pc := o.(*schedulingv1.PriorityClass)
		if pc.GlobalDefault && (def == nil || pc.Value < def.Value) {
			def = pc
		}
	}
	return def, nil
}
