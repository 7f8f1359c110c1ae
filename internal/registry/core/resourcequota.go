package core

import (
	"context"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// resourceQuotaStrategy gives ResourceQuotas their semantics: the quota
// controller writes status through /status; the scopes of a quota are
// fixed at creation, and every scope must be able to count the resources
// the quota limits.
type resourceQuotaStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = resourceQuotaStrategy{}

func (resourceQuotaStrategy) New() runtime.Object     { return &corev1.ResourceQuota{} }
func (resourceQuotaStrategy) NewList() runtime.Object { return &corev1.ResourceQuotaList{} }

func (resourceQuotaStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*corev1.ResourceQuota).Status = corev1.ResourceQuotaStatus{}
}

func (resourceQuotaStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	if sub == "status" {
		q.Spec = o.Spec
		return
	}
	q.Status = o.Status
}

func (resourceQuotaStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateResourceQuota(obj.(*corev1.ResourceQuota))
}

func (resourceQuotaStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	q, o := obj.(*corev1.ResourceQuota), old.(*corev1.ResourceQuota)
	errs := validateResourceQuota(q)
	if !sets.New(q.Spec.Scopes...).Equal(sets.New(o.Spec.Scopes...)) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "scopes"), q.Spec.Scopes, apivalidation.FieldImmutableErrorMsg))
	}
	return errs
}

func validateResourceQuota(q *corev1.ResourceQuota) field.ErrorList {
	sp, st := field.NewPath("spec"), field.NewPath("status")
	errs := validateQuotaList(q.Spec.Hard, sp.Child("hard"))
	errs = append(errs, validateQuotaScopes(&q.Spec, sp)...)
	errs = append(errs, validateQuotaList(q.Status.Hard, st.Child("hard"))...)
	errs = append(errs, validateQuotaList(q.Status.Used, st.Child("used"))...)
	return errs
}

func validateQuotaList(l corev1.ResourceList, p *field.Path) field.ErrorList {
	return validateResourceList(l, isStandardQuotaResourceName, "resource for quota", p)
}

// isStandardQuotaResourceName: the native resources a quota can count.
func isStandardQuotaResourceName(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage:
		return true
	}
	s := string(name)
	return integerResources[name] || strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) || strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix)
}

var quotaScopes = []corev1.ResourceQuotaScope{
	corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating,
	corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort,
	corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
	corev1.ResourceQuotaScopeVolumeAttributesClass,
}

// quotaScopeCounts reports whether a quota of scope can count resource:
// pod scopes count pods and their compute resources (BestEffort pods
// have none), the VolumeAttributesClass scope counts claims.
func quotaScopeCounts(scope corev1.ResourceQuotaScope, r corev1.ResourceName) bool {
	pods := r == corev1.ResourcePods
	compute := false
	switch r {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory:
		compute = true
	}
	switch scope {
	case corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeNotBestEffort,
		corev1.ResourceQuotaScopePriorityClass, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return pods || compute
	case corev1.ResourceQuotaScopeBestEffort:
		return pods
	case corev1.ResourceQuotaScopeVolumeAttributesClass:
		return r == corev1.ResourcePersistentVolumeClaims || r == corev1.ResourceRequestsStorage
	}
	return true
}

// scopesApply reports whether every standard resource of hard can be
// counted under scope.
func scopesApply(scope corev1.ResourceQuotaScope, hard corev1.ResourceList) bool {
	for r := range hard {
		if isStandardQuotaResourceName(r) && !quotaScopeCounts(scope, r) {
			return false
		}
	}
	return true
}

func conflictingScopes(set sets.Set[corev1.ResourceQuotaScope]) bool {
	return set.HasAll(corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort) ||
		set.HasAll(corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating)
}

// validateQuotaScopes checks spec.scopes and spec.scopeSelector. As
// upstream, errors about an expression point at the matchExpressions list
// rather than at one element.
func validateQuotaScopes(spec *corev1.ResourceQuotaSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	scp := p.Child("scopes")
	set := sets.New[corev1.ResourceQuotaScope]()
	for _, s := range spec.Scopes {
		if !isQuotaScope(s) {
			errs = append(errs, field.Invalid(scp, spec.Scopes, "unsupported scope"))
		}
		if !scopesApply(s, spec.Hard) {
			errs = append(errs, field.Invalid(scp, spec.Scopes, "unsupported scope applied to resource"))
		}
		set.Insert(s)
	}
	if conflictingScopes(set) {
		errs = append(errs, field.Invalid(scp, spec.Scopes, "conflicting scopes"))
	}
	if spec.ScopeSelector == nil {
		return errs
	}
	mp := p.Child("scopeSelector", "matchExpressions")
	set = sets.New[corev1.ResourceQuotaScope]()
	for _, r := range spec.ScopeSelector.MatchExpressions {
		if !isQuotaScope(r.ScopeName) {
			errs = append(errs, field.Invalid(mp.Child("scopeName"), r.ScopeName, "unsupported scope"))
		}
		if !scopesApply(r.ScopeName, spec.Hard) {
			errs = append(errs, field.Invalid(mp, spec.ScopeSelector, "unsupported scope applied to resource"))
		}
		switch r.ScopeName {
		case corev1.ResourceQuotaScopeBestEffort, corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeTerminating,
			corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
			if r.Operator != corev1.ScopeSelectorOpExists {
				errs = append(errs, field.Invalid(mp.Child("operator"), r.Operator, "must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, "+
					"ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"))
			}
		}
		switch r.Operator {
		case corev1.ScopeSelectorOpIn, corev1.ScopeSelectorOpNotIn:
			if len(r.Values) == 0 {
				errs = append(errs, field.Required(mp.Child("values"), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"))
			}
		case corev1.ScopeSelectorOpExists, corev1.ScopeSelectorOpDoesNotExist:
			if len(r.Values) != 0 {
				errs = append(errs, field.Invalid(mp.Child("values"), r.Values, "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"))
			}
		default:
			errs = append(errs, field.Invalid(mp.Child("operator"), r.Operator, "not a valid selector operator"))
		}
		set.Insert(r.ScopeName)
	}
	if conflictingScopes(set) {
		errs = append(errs, field.Invalid(mp, spec.ScopeSelector, "conflicting scopes"))
	}
	return errs
}

func isQuotaScope(s corev1.ResourceQuotaScope) bool { return slices.Contains(quotaScopes, s) }
