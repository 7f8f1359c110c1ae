package policy_test

import (
	"context"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/registry/policy"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func TestResource(t *testing.T) {
	rs := policy.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources", len(rs))
	}
	r := rs[0]
	if r.GVR != policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets") || r.Kind != "PodDisruptionBudget" || r.ListKind != "PodDisruptionBudgetList" ||
		!r.Namespaced || len(r.ShortNames) != 1 || r.ShortNames[0] != "pdb" || !r.HasSubresource("status") || len(r.Subresources) != 1 {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*policyv1.PodDisruptionBudget); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*policyv1.PodDisruptionBudgetList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func pdb() *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr(intstr.FromInt32(2)),
			Selector:     &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
		},
	}
}

func TestValidate(t *testing.T) {
	s := policy.Resources()[0].Strategy
	tests := []struct {
		name   string
		mutate func(*policyv1.PodDisruptionBudgetSpec)
		want   []FieldErr
	}{
		{name: "minAvailable", mutate: func(*policyv1.PodDisruptionBudgetSpec) {}},
		{name: "maxUnavailable percent", mutate: func(s *policyv1.PodDisruptionBudgetSpec) {
			s.MinAvailable, s.MaxUnavailable = nil, ptr(intstr.FromString("25%"))
		}},
		{name: "neither", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.MinAvailable = nil }},
		{name: "both", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.MaxUnavailable = ptr(intstr.FromInt32(1)) },
			want: []FieldErr{Invalid("spec")}},
		{name: "negative", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.MinAvailable = ptr(intstr.FromInt32(-1)) },
			want: []FieldErr{Invalid("spec.minAvailable")}},
		{name: "not a percent", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.MinAvailable = ptr(intstr.FromString("half")) },
			want: []FieldErr{Invalid("spec.minAvailable")}},
		{name: "over 100%", mutate: func(s *policyv1.PodDisruptionBudgetSpec) {
			s.MinAvailable, s.MaxUnavailable = nil, ptr(intstr.FromString("101%"))
		}, want: []FieldErr{Invalid("spec.maxUnavailable")}},
		{name: "100%", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.MinAvailable = ptr(intstr.FromString("100%")) }},
		{name: "empty selector", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.Selector = &metav1.LabelSelector{} }},
		{name: "bad selector", mutate: func(s *policyv1.PodDisruptionBudgetSpec) {
			s.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Equals", Values: []string{"a"}}}}
		}, want: []FieldErr{Invalid("spec.selector.matchExpressions[0].operator")}},
		{name: "eviction policy", mutate: func(s *policyv1.PodDisruptionBudgetSpec) { s.UnhealthyPodEvictionPolicy = ptr(policyv1.AlwaysAllow) }},
		{name: "bad eviction policy", mutate: func(s *policyv1.PodDisruptionBudgetSpec) {
			s.UnhealthyPodEvictionPolicy = ptr(policyv1.UnhealthyPodEvictionPolicyType("Never"))
		}, want: []FieldErr{NotSupported("spec.unhealthyPodEvictionPolicy")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pdb()
			tt.mutate(&p.Spec)
			CheckErrors(t, s.Validate(ctx, p), tt.want...)
			CheckErrors(t, s.ValidateUpdate(ctx, p, pdb()), tt.want...)
		})
	}
}

func TestValidateStatus(t *testing.T) {
	s := policy.Resources()[0].Strategy
	p := pdb()
	p.Status = policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: -1, CurrentHealthy: 2, DesiredHealthy: 2, ExpectedPods: -3,
		Conditions: []metav1.Condition{{Type: "DisruptionAllowed", Status: "Maybe", Reason: "SufficientPods", LastTransitionTime: metav1.Now()}}}
	CheckErrors(t, s.ValidateUpdate(ctx, p, pdb()),
		Invalid("status.disruptionsAllowed"), Invalid("status.expectedPods"), NotSupported("status.conditions[0].status"))
}

// TestSelectorLabelValueKept: a stored selector with a label value that is
// no longer valid does not block updates.
func TestSelectorLabelValueKept(t *testing.T) {
	s := policy.Resources()[0].Strategy
	p := pdb()
	p.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "In", Values: []string{"no good"}}}}
	CheckErrors(t, s.Validate(ctx, p), Invalid("spec.selector.matchExpressions[0].values[0]"))
	CheckErrors(t, s.ValidateUpdate(ctx, p, p.DeepCopy()))
}

func TestPrepare(t *testing.T) {
	s := policy.Resources()[0].Strategy
	status := policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 1, DisruptionsAllowed: 1, CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3}

	p := pdb()
	p.Status = status
	s.PrepareForCreate(ctx, p)
	if p.Generation != 1 || !apiequality.Semantic.DeepEqual(p.Status, policyv1.PodDisruptionBudgetStatus{}) {
		t.Errorf("PrepareForCreate: generation %d, status %+v", p.Generation, p.Status)
	}

	old := pdb()
	old.Generation = 2
	old.Status = status
	tests := []struct {
		name       string
		sub        string
		mutate     func(*policyv1.PodDisruptionBudget)
		generation int64
		wantStatus policyv1.PodDisruptionBudgetStatus
	}{
		{name: "labels", mutate: func(p *policyv1.PodDisruptionBudget) {
			p.Labels = map[string]string{"a": "b"}
			p.Status = policyv1.PodDisruptionBudgetStatus{}
		},
			generation: 2, wantStatus: status},
		{name: "spec", mutate: func(p *policyv1.PodDisruptionBudget) { p.Spec.MinAvailable = ptr(intstr.FromInt32(1)) },
			generation: 3, wantStatus: status},
		{name: "status", sub: "status", mutate: func(p *policyv1.PodDisruptionBudget) {
			p.Spec.MinAvailable = nil
			p.Status.DisruptionsAllowed = 0
		}, generation: 2, wantStatus: func() policyv1.PodDisruptionBudgetStatus { s := status; s.DisruptionsAllowed = 0; return s }()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := old.DeepCopy()
			tt.mutate(p)
			want := p.Spec
			if tt.sub == "status" {
				want = old.Spec
			}
			s.PrepareForUpdate(ctx, p, old, tt.sub)
			if p.Generation != tt.generation || !apiequality.Semantic.DeepEqual(p.Spec, want) || !apiequality.Semantic.DeepEqual(p.Status, tt.wantStatus) {
				t.Errorf("got generation %d, spec %+v, status %+v", p.Generation, p.Spec, p.Status)
			}
		})
	}
}
