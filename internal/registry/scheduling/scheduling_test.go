package scheduling_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	. "skiff.dev/skiff/internal/registry/registrytest"
	"skiff.dev/skiff/internal/registry/scheduling"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func TestResource(t *testing.T) {
	rs := scheduling.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources", len(rs))
	}
	r := rs[0]
	if r.GVR != schedulingv1.SchemeGroupVersion.WithResource("priorityclasses") || r.Kind != "PriorityClass" || r.ListKind != "PriorityClassList" ||
		r.Namespaced || len(r.ShortNames) != 1 || r.ShortNames[0] != "pc" || len(r.Subresources) != 0 {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*schedulingv1.PriorityClass); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*schedulingv1.PriorityClassList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func TestDefault(t *testing.T) {
	s := scheduling.Resources()[0].Strategy
	pc := &schedulingv1.PriorityClass{Value: 10}
	s.Default(pc)
	if pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("preemptionPolicy = %v", pc.PreemptionPolicy)
	}
	pc.PreemptionPolicy = ptr(corev1.PreemptNever)
	s.Default(pc)
	if *pc.PreemptionPolicy != corev1.PreemptNever {
		t.Errorf("preemptionPolicy overwritten: %v", *pc.PreemptionPolicy)
	}
}

func TestValidate(t *testing.T) {
	s := scheduling.Resources()[0].Strategy
	tests := []struct {
		name          string
		value         int32
		globalDefault bool
		policy        *corev1.PreemptionPolicy
		want          []FieldErr
	}{
		{name: "high-priority", value: 1000000},
		{name: "max-user", value: 1000000000},
		{name: "negative", value: -10},
		{name: "too-high", value: 1000000001, want: []FieldErr{Forbidden("value")}},
		{name: "never", value: 1, policy: ptr(corev1.PreemptNever)},
		{name: "bad-policy", value: 1, policy: ptr(corev1.PreemptionPolicy("Always")), want: []FieldErr{NotSupported("preemptionPolicy")}},
		{name: "system-node-critical", value: 2000001000},
		{name: "system-cluster-critical", value: 2000000000},
		{name: "system-cluster-critical", value: 1000, want: []FieldErr{Forbidden("metadata.name")}},
		{name: "system-cluster-critical", value: 2000000000, globalDefault: true, want: []FieldErr{Forbidden("metadata.name")}},
		{name: "system-mine", value: 10, want: []FieldErr{Forbidden("metadata.name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: tt.name}, Value: tt.value, GlobalDefault: tt.globalDefault, PreemptionPolicy: tt.policy}
			CheckErrors(t, s.Validate(ctx, pc), tt.want...)
			CheckErrors(t, s.ValidateUpdate(ctx, pc, pc.DeepCopy()), tt.want...)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	s := scheduling.Resources()[0].Strategy
	old := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "high"}, Value: 1000, PreemptionPolicy: ptr(corev1.PreemptLowerPriority)}
	tests := []struct {
		name   string
		mutate func(*schedulingv1.PriorityClass)
		want   []FieldErr
	}{
		{name: "description and default", mutate: func(pc *schedulingv1.PriorityClass) { pc.Description = "x"; pc.GlobalDefault = true }},
		{name: "value", mutate: func(pc *schedulingv1.PriorityClass) { pc.Value = 2000 }, want: []FieldErr{Forbidden("value")}},
		{name: "preemption policy", mutate: func(pc *schedulingv1.PriorityClass) { pc.PreemptionPolicy = ptr(corev1.PreemptNever) },
			want: []FieldErr{Invalid("preemptionPolicy")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := old.DeepCopy()
			tt.mutate(pc)
			CheckErrors(t, s.ValidateUpdate(ctx, pc, old), tt.want...)
		})
	}
}
