package coordination_test

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/coordination"
	"skiff.dev/skiff/internal/registry/registrytest"
)

func leases(t *testing.T) *registry.Resource {
	t.Helper()
	rs := coordination.Resources()
	if len(rs) != 1 {
		t.Fatalf("coordination.Resources() has %d resources, want 1", len(rs))
	}
	return rs[0]
}

var checkErrs = registrytest.CheckErrors

func ptr[T any](v T) *T { return &v }

func TestResource(t *testing.T) {
	r := leases(t)
	if r.GVR != coordinationv1.SchemeGroupVersion.WithResource("leases") || r.Kind != "Lease" || r.ListKind != "LeaseList" || !r.Namespaced {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*coordinationv1.Lease); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*coordinationv1.LeaseList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func TestLeaseValidate(t *testing.T) {
	s := leases(t).Strategy
	var (
		duration    = registrytest.Invalid("spec.leaseDurationSeconds")
		transitions = registrytest.Invalid("spec.leaseTransitions")
	)
	tests := []struct {
		name        string
		duration    *int32
		transitions *int32
		want        []registrytest.FieldErr
	}{
		{name: "unset"},
		{name: "valid", duration: ptr[int32](15), transitions: ptr[int32](0)},
		{name: "duration zero", duration: ptr[int32](0), want: []registrytest.FieldErr{duration}},
		{name: "duration negative", duration: ptr[int32](-1), want: []registrytest.FieldErr{duration}},
		{name: "duration one", duration: ptr[int32](1)},
		{name: "transitions negative", transitions: ptr[int32](-1), want: []registrytest.FieldErr{transitions}},
		{name: "both", duration: ptr[int32](0), transitions: ptr[int32](-5), want: []registrytest.FieldErr{duration, transitions}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: "node-1", Namespace: "kube-node-lease"},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity:       ptr("node-1"),
					LeaseDurationSeconds: tt.duration,
					LeaseTransitions:     tt.transitions,
					RenewTime:            &metav1.MicroTime{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
				},
			}
			checkErrs(t, s.Validate(context.Background(), l), tt.want...)
			// Renewals are validated the same way.
			old := l.DeepCopy()
			old.Spec.LeaseDurationSeconds = ptr[int32](40)
			checkErrs(t, s.ValidateUpdate(context.Background(), l, old), tt.want...)
		})
	}
}

// TestLeasePreparation: a Lease has no status and no generation, so
// Default and Prepare* leave it alone; it has no selectable fields of its
// own.
func TestLeasePreparation(t *testing.T) {
	s := leases(t).Strategy
	ctx := context.Background()
	want := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: "l", Namespace: "ns"},
		Spec:       coordinationv1.LeaseSpec{HolderIdentity: ptr("a"), LeaseDurationSeconds: ptr[int32](10)},
	}
	l := want.DeepCopy()
	s.Default(l)
	s.PrepareForCreate(ctx, l)
	if !apiequality.Semantic.DeepEqual(l, want) {
		t.Errorf("Default+PrepareForCreate: %+v", l)
	}
	old := want.DeepCopy()
	old.Spec.HolderIdentity = ptr("b")
	l = want.DeepCopy()
	s.PrepareForUpdate(ctx, l, old, "")
	if !apiequality.Semantic.DeepEqual(l, want) {
		t.Errorf("PrepareForUpdate: %+v", l)
	}
	if f := s.SelectableFields(l); len(f) != 0 {
		t.Errorf("SelectableFields = %v, want none", f)
	}
}

func TestLeaseValidateName(t *testing.T) {
	s := leases(t).Strategy
	tests := []struct {
		name   string
		prefix bool
		ok     bool
	}{
		{"kube-controller-manager", false, true},
		{"node-1.example.com", false, true},
		{"Node", false, false},
		{"a_b", false, false},
		{"lease-", true, true},
	}
	for _, tt := range tests {
		if errs := s.ValidateName(tt.name, tt.prefix); (len(errs) == 0) != tt.ok {
			t.Errorf("ValidateName(%q, %v) = %q, want ok=%v", tt.name, tt.prefix, errs, tt.ok)
		}
	}
}
