package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func priorityClass(name string, value int32, globalDefault bool, policy corev1.PreemptionPolicy) *schedulingv1.PriorityClass {
	pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: globalDefault}
	if policy != "" {
		pc.PreemptionPolicy = &policy
	}
	return pc
}

func TestPriorityAdmit(t *testing.T) {
	never := corev1.PreemptNever
	lower := corev1.PreemptLowerPriority
	tests := []struct {
		name       string
		classes    []*schedulingv1.PriorityClass
		pod        *corev1.Pod
		wantClass  string
		wantValue  int32
		wantPolicy corev1.PreemptionPolicy
		wantErr    string
	}{{
		name:       "no class and no default: 0",
		classes:    []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, "")},
		pod:        newPod("web"),
		wantValue:  0,
		wantPolicy: lower,
	}, {
		name:       "global default used",
		classes:    []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, ""), priorityClass("base", 10, true, never)},
		pod:        newPod("web"),
		wantClass:  "base",
		wantValue:  10,
		wantPolicy: never,
	}, {
		name:       "of several global defaults the lowest",
		classes:    []*schedulingv1.PriorityClass{priorityClass("b", 20, true, ""), priorityClass("a", 5, true, ""), priorityClass("c", 30, true, "")},
		pod:        newPod("web"),
		wantClass:  "a",
		wantValue:  5,
		wantPolicy: lower,
	}, {
		name:       "named class",
		classes:    []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, never), priorityClass("base", 10, true, "")},
		pod:        newPod("web", func(p *corev1.Pod) { p.Spec.PriorityClassName = "high" }),
		wantClass:  "high",
		wantValue:  1000,
		wantPolicy: never,
	}, {
		name:    "unknown class",
		pod:     newPod("web", func(p *corev1.Pod) { p.Spec.PriorityClassName = "x" }),
		wantErr: `pods "web" is forbidden: no PriorityClass with name x was found`,
	}, {
		name:    "a conflicting priority in the spec",
		classes: []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, "")},
		pod: newPod("web", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "high"
			p.Spec.Priority = ptrTo(int32(5))
		}),
		wantErr: `pods "web" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name`,
	}, {
		name:    "a priority in the spec without a class",
		pod:     newPod("web", func(p *corev1.Pod) { p.Spec.Priority = ptrTo(int32(7)) }),
		wantErr: `pods "web" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name`,
	}, {
		name:    "the same priority in the spec is fine",
		classes: []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, "")},
		pod: newPod("web", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "high"
			p.Spec.Priority = ptrTo(int32(1000))
		}),
		wantClass:  "high",
		wantValue:  1000,
		wantPolicy: lower,
	}, {
		name:    "a conflicting preemption policy in the spec",
		classes: []*schedulingv1.PriorityClass{priorityClass("high", 1000, false, "")},
		pod: newPod("web", func(p *corev1.Pod) {
			p.Spec.PriorityClassName = "high"
			p.Spec.PreemptionPolicy = &never
		}),
		wantErr: `pods "web" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReader()
			for _, pc := range tt.classes {
				r.add(pc)
			}
			err := (Priority{r}).Admit(context.Background(), create(podsResource, tt.pod))
			wantForbidden(t, err, tt.wantErr)
			if tt.wantErr != "" {
				return
			}
			s := tt.pod.Spec
			if s.PriorityClassName != tt.wantClass || s.Priority == nil || *s.Priority != tt.wantValue ||
				s.PreemptionPolicy == nil || *s.PreemptionPolicy != tt.wantPolicy {
				t.Errorf("class %q priority %v policy %v, want %q %d %s", s.PriorityClassName, deref(s.Priority), deref(s.PreemptionPolicy),
					tt.wantClass, tt.wantValue, tt.wantPolicy)
			}
		})
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

// An update that leaves priority out keeps the stored one, even when the
// classes changed since.
func TestPriorityUpdateKeepsOld(t *testing.T) {
	r := newReader(priorityClass("base", 99, true, ""))
	old := newPod("web", func(p *corev1.Pod) {
		p.Spec.PriorityClassName = "high"
		p.Spec.Priority = ptrTo(int32(1000))
		p.Spec.PreemptionPolicy = ptrTo(corev1.PreemptNever)
	})
	p := old.DeepCopy()
	p.Spec.Priority, p.Spec.PreemptionPolicy = nil, nil
	if err := (Priority{r}).Admit(context.Background(), update(podsResource, p, old)); err != nil {
		t.Fatal(err)
	}
	if deref(p.Spec.Priority) != int32(1000) || deref(p.Spec.PreemptionPolicy) != corev1.PreemptNever || p.Spec.PriorityClassName != "high" {
		t.Errorf("after update: class %q priority %v policy %v", p.Spec.PriorityClassName, deref(p.Spec.Priority), deref(p.Spec.PreemptionPolicy))
	}
}

func TestPriorityValidateOneGlobalDefault(t *testing.T) {
	r := newReader(priorityClass("first", 10, true, ""), priorityClass("other", 5, false, ""))
	p := Priority{r}
	ctx := context.Background()

	second := priorityClass("second", 20, true, "")
	wantForbidden(t, p.Validate(ctx, create(pcsResource, second)),
		`priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist`)

	// Turning another class into the default is refused the same way.
	other := priorityClass("other", 5, true, "")
	wantForbidden(t, p.Validate(ctx, update(pcsResource, other, priorityClass("other", 5, false, ""))),
		`priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass first is already marked as default. Only one default can exist`)

	// The default itself may be updated; non-defaults are always fine.
	first := priorityClass("first", 10, true, "")
	first.Description = "changed"
	wantForbidden(t, p.Validate(ctx, update(pcsResource, first, priorityClass("first", 10, true, ""))), "")
	wantForbidden(t, p.Validate(ctx, create(pcsResource, priorityClass("third", 1, false, ""))), "")

	// Without a default, the first one is accepted.
	wantForbidden(t, (Priority{newReader()}).Validate(ctx, create(pcsResource, second)), "")
}
