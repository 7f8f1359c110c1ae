package core_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newQuota() *corev1.ResourceQuota {
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "compute", Namespace: "team-a"},
		Spec: corev1.ResourceQuotaSpec{Hard: rl("requests.cpu", "4", "limits.memory", "16Gi", "pods", "20",
			"count/deployments.apps", "10", "requests.nvidia.com/gpu", "2", "gold.storageclass.storage.k8s.io/requests.storage", "1Ti")},
	}
}

func TestResourceQuotaValidate(t *testing.T) {
	sel := func(reqs ...corev1.ScopedResourceSelectorRequirement) *corev1.ScopeSelector {
		return &corev1.ScopeSelector{MatchExpressions: reqs}
	}
	tests := []struct {
		name   string
		modify func(*corev1.ResourceQuota)
		want   []fieldErr
	}{
		{"valid", func(*corev1.ResourceQuota) {}, nil},
		{"resource not for quota", func(q *corev1.ResourceQuota) { q.Spec.Hard = rl("storage", "1Ti") }, []fieldErr{invalid("spec.hard[storage]")}},
		{"bad name", func(q *corev1.ResourceQuota) { q.Spec.Hard = rl("a b", "1") }, []fieldErr{invalid("spec.hard[a b]")}},
		{"negative", func(q *corev1.ResourceQuota) { q.Spec.Hard = rl("requests.memory", "-1Gi") }, []fieldErr{invalid("spec.hard[requests.memory]")}},
		{"fractional count", func(q *corev1.ResourceQuota) { q.Spec.Hard = rl("pods", "1.5", "count/jobs.batch", "500m") },
			[]fieldErr{invalid("spec.hard[pods]"), invalid("spec.hard[count/jobs.batch]")}},
		{"status quantities", func(q *corev1.ResourceQuota) { q.Status.Used = rl("pods", "-1") }, []fieldErr{invalid("status.used[pods]")}},
		{"scopes", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10", "requests.cpu", "2")
			q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort}
		}, nil},
		{"unknown scope", func(q *corev1.ResourceQuota) { q.Spec.Scopes = []corev1.ResourceQuotaScope{"Cheap"} }, []fieldErr{invalid("spec.scopes")}},
		{"scope cannot count resource", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10", "requests.cpu", "2")
			q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}
		}, []fieldErr{invalid("spec.scopes")}},
		{"conflicting scopes", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10")
			q.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating}
		}, []fieldErr{invalid("spec.scopes")}},
		{"priority class selector", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10", "cpu", "4")
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass,
				Operator: corev1.ScopeSelectorOpIn, Values: []string{"high"}})
		}, nil},
		{"selector values required", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10")
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpNotIn})
		}, []fieldErr{required("spec.scopeSelector.matchExpressions.values")}},
		{"selector values forbidden", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10")
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass,
				Operator: corev1.ScopeSelectorOpExists, Values: []string{"high"}})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions.values")}},
		{"selector operator", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10")
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: "Gt", Values: []string{"1"}})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions.operator")}},
		{"selector BestEffort needs Exists", func(q *corev1.ResourceQuota) {
			q.Spec.Hard = rl("pods", "10")
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeBestEffort,
				Operator: corev1.ScopeSelectorOpIn, Values: []string{"x"}})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions.operator")}},
		{"selector unknown scope", func(q *corev1.ResourceQuota) {
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: "Cheap", Operator: corev1.ScopeSelectorOpExists})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions.scopeName")}},
		{"selector scope cannot count resource", func(q *corev1.ResourceQuota) {
			q.Spec.ScopeSelector = sel(corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeBestEffort, Operator: corev1.ScopeSelectorOpExists})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions")}},
		{"selector conflicting", func(q *corev1.ResourceQuota) {
			q.Spec.ScopeSelector = sel(
				corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeTerminating, Operator: corev1.ScopeSelectorOpExists},
				corev1.ScopedResourceSelectorRequirement{ScopeName: corev1.ResourceQuotaScopeNotTerminating, Operator: corev1.ScopeSelectorOpExists})
		}, []fieldErr{invalid("spec.scopeSelector.matchExpressions")}},
	}
	s := clusterStrategy(t, "resourcequotas")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newQuota()
			tt.modify(q)
			checkErrs(t, s.Validate(bg, q), tt.want...)
		})
	}
}

func TestResourceQuotaUpdate(t *testing.T) {
	s := clusterStrategy(t, "resourcequotas")
	old := newQuota()
	old.Spec.Hard = rl("pods", "10")
	old.Spec.Scopes = []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeBestEffort}

	q := old.DeepCopy()
	q.Spec.Hard = rl("pods", "20")
	checkErrs(t, s.ValidateUpdate(bg, q, old))
	q.Spec.Scopes = nil
	checkErrs(t, s.ValidateUpdate(bg, q, old), invalid("spec.scopes"))

	// Status is cleared on create and written only through /status.
	q = newQuota()
	q.Status.Used = rl("pods", "3")
	s.PrepareForCreate(bg, q)
	if q.Status.Used != nil {
		t.Errorf("create kept status %v", q.Status)
	}
	q = old.DeepCopy()
	q.Spec.Hard = rl("pods", "30")
	q.Status.Used = rl("pods", "3")
	s.PrepareForUpdate(bg, q, old, "")
	if q.Status.Used != nil || q.Spec.Hard.Pods().String() != "30" {
		t.Errorf("main update: %+v", q)
	}
	q = old.DeepCopy()
	q.Spec.Hard = rl("pods", "30")
	q.Status.Used = rl("pods", "3")
	s.PrepareForUpdate(bg, q, old, "status")
	if q.Status.Used.Pods().String() != "3" || q.Spec.Hard.Pods().String() != "10" {
		t.Errorf("status update: %+v", q)
	}
}
