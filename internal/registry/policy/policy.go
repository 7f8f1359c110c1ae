// Package policy holds the strategy of policy/v1 PodDisruptionBudget.
// The eviction subresource that consults budgets belongs to pods.
package policy

import (
	"context"

	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// Resources are the policy/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		GVR: policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets"), Kind: "PodDisruptionBudget", ListKind: "PodDisruptionBudgetList",
		SingularName: "poddisruptionbudget", ShortNames: []string{"pdb"}, Namespaced: true, Subresources: []string{"status"},
		Strategy: pdbStrategy{},
	}}
}

type pdbStrategy struct{ registry.BaseStrategy }

func (pdbStrategy) New() runtime.Object     { return &policyv1.PodDisruptionBudget{} }
func (pdbStrategy) NewList() runtime.Object { return &policyv1.PodDisruptionBudgetList{} }

func (pdbStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pdb := obj.(*policyv1.PodDisruptionBudget)
	pdb.Status = policyv1.PodDisruptionBudgetStatus{}
	pdb.Generation = 1
}

func (pdbStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	pdb, o := obj.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	if sub == "status" {
		pdb.Spec = o.Spec
		return
	}
	pdb.Status = o.Status
	if !apiequality.Semantic.DeepEqual(pdb.Spec, o.Spec) {
		pdb.Generation = o.Generation + 1
	}
}

func (pdbStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateSpec(&obj.(*policyv1.PodDisruptionBudget).Spec, metav1validation.LabelSelectorValidationOptions{})
}

// ValidateUpdate checks spec and status (the spec is mutable); selector
// label values stored before stricter checks stay acceptable.
func (pdbStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pdb, o := obj.(*policyv1.PodDisruptionBudget), old.(*policyv1.PodDisruptionBudget)
	opts := metav1validation.LabelSelectorValidationOptions{
		AllowInvalidLabelValueInSelector: o.Spec.Selector != nil && metav1validation.LabelSelectorHasInvalidLabelValue(o.Spec.Selector),
	}
	errs := validateSpec(&pdb.Spec, opts)
	return append(errs, validateStatus(&pdb.Status)...)
}

var supportedEvictionPolicies = []string{string(policyv1.IfHealthyBudget), string(policyv1.AlwaysAllow)}

func validateSpec(spec *policyv1.PodDisruptionBudgetSpec, opts metav1validation.LabelSelectorValidationOptions) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		errs = append(errs, field.Invalid(p, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if spec.MinAvailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MinAvailable, p.Child("minAvailable"))...)
	}
	if spec.MaxUnavailable != nil {
		errs = append(errs, validateIntOrPercent(*spec.MaxUnavailable, p.Child("maxUnavailable"))...)
	}
	errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, opts, p.Child("selector"))...)
	if spec.UnhealthyPodEvictionPolicy != nil {
		switch *spec.UnhealthyPodEvictionPolicy {
		case policyv1.IfHealthyBudget, policyv1.AlwaysAllow:
		default:
			errs = append(errs, field.NotSupported(p.Child("unhealthyPodEvictionPolicy"), *spec.UnhealthyPodEvictionPolicy, supportedEvictionPolicies))
		}
	}
	return errs
}

// validateIntOrPercent: a non-negative count, or a percentage "N%" of at
// most 100.
func validateIntOrPercent(v intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(p, v, msg))
		}
		if len(errs) == 0 {
			if n, _ := intstr.GetScaledValueFromIntOrPercent(&v, 100, false); n > 100 {
				errs = append(errs, field.Invalid(p, v, "must not be greater than 100%"))
			}
		}
	case intstr.Int:
		errs = append(errs, apivalidation.ValidateNonnegativeField(int64(v.IntVal), p)...)
	}
	return errs
}

func validateStatus(st *policyv1.PodDisruptionBudgetStatus) field.ErrorList {
	p := field.NewPath("status")
	errs := metav1validation.ValidateConditions(st.Conditions, p.Child("conditions"))
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(st.DisruptionsAllowed), p.Child("disruptionsAllowed"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(st.CurrentHealthy), p.Child("currentHealthy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(st.DesiredHealthy), p.Child("desiredHealthy"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(st.ExpectedPods), p.Child("expectedPods"))...)
	return errs
}
