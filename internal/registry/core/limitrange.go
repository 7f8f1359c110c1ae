package core

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// limitRangeStrategy gives LimitRanges their semantics: a Container item
// defaults its default limit to max and its default request to the
// default limit, then to min; the quantities of an item must be ordered
// min <= defaultRequest <= default <= max.
type limitRangeStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = limitRangeStrategy{}

func (limitRangeStrategy) New() runtime.Object     { return &corev1.LimitRange{} }
func (limitRangeStrategy) NewList() runtime.Object { return &corev1.LimitRangeList{} }

func (limitRangeStrategy) Default(obj runtime.Object) {
	lr := obj.(*corev1.LimitRange)
	for i := range lr.Spec.Limits {
		it := &lr.Spec.Limits[i]
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		copyMissing(&it.Default, it.Max)
		copyMissing(&it.DefaultRequest, it.Default)
		copyMissing(&it.DefaultRequest, it.Min)
	}
}

func (limitRangeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateLimitRange(obj.(*corev1.LimitRange))
}

func (limitRangeStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	return validateLimitRange(obj.(*corev1.LimitRange))
}

func validateLimitRange(lr *corev1.LimitRange) field.ErrorList {
	var errs field.ErrorList
	types := sets.New[corev1.LimitType]()
	for i := range lr.Spec.Limits {
		it := &lr.Spec.Limits[i]
		p := field.NewPath("spec", "limits").Index(i)
		errs = append(errs, validateLimitType(it.Type, p.Child("type"))...)
		if types.Has(it.Type) {
			errs = append(errs, field.Duplicate(p.Child("type"), it.Type))
		}
		types.Insert(it.Type)

		names := func(l corev1.ResourceList, child string) {
			for _, name := range sortedResourceNames(l) {
				errs = append(errs, validateLimitRangeResourceName(it.Type, name, p.Child(child).Key(string(name)))...)
			}
		}
		names(it.Max, "max")
		names(it.Min, "min")
		if it.Type == corev1.LimitTypePod {
			if len(it.Default) > 0 {
				errs = append(errs, field.Forbidden(p.Child("default"), "may not be specified when `type` is 'Pod'"))
			}
			if len(it.DefaultRequest) > 0 {
				errs = append(errs, field.Forbidden(p.Child("defaultRequest"), "may not be specified when `type` is 'Pod'"))
			}
		} else {
			names(it.Default, "default")
			names(it.DefaultRequest, "defaultRequest")
		}
		names(it.MaxLimitRequestRatio, "maxLimitRequestRatio")
		if it.Type == corev1.LimitTypePersistentVolumeClaim {
			_, hasMin := it.Min[corev1.ResourceStorage]
			_, hasMax := it.Max[corev1.ResourceStorage]
			if !hasMin && !hasMax {
				errs = append(errs, field.Required(p.Child("limits"), "either minimum or maximum storage value is required, but neither was provided"))
			}
		}
		errs = append(errs, validateLimitRangeOrder(it, p)...)
	}
	return errs
}

// validateLimitType: Pod, Container, PersistentVolumeClaim, or a
// domain-qualified type of an extension's.
func validateLimitType(t corev1.LimitType, p *field.Path) field.ErrorList {
	s := string(t)
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(s) {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	if len(errs) == 0 && !strings.Contains(s, "/") {
		switch t {
		case corev1.LimitTypePod, corev1.LimitTypeContainer, corev1.LimitTypePersistentVolumeClaim:
		default:
			errs = append(errs, field.Invalid(p, s, "must be a standard limit type or fully qualified"))
		}
	}
	return errs
}

// validateLimitRangeResourceName: Pod and Container items limit what
// containers ask for; other items any standard resource.
func validateLimitRangeResourceName(t corev1.LimitType, name corev1.ResourceName, p *field.Path) field.ErrorList {
	if t == corev1.LimitTypePod || t == corev1.LimitTypeContainer {
		errs := validateQualifiedResourceName(name, isContainerResourceName, "resource for containers", p)
		if len(errs) == 0 && !isNativeResourceName(name) && !isExtendedResourceName(name) {
			errs = append(errs, field.Invalid(p, string(name), "doesn't follow extended resource name standard"))
		}
		return errs
	}
	return validateQualifiedResourceName(name, isStandardResourceName, "resource", p)
}

func isContainerResourceName(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// validateLimitRangeOrder checks, for each resource of an item, the
// relations upstream requires among min, max, default, defaultRequest and
// maxLimitRequestRatio.
func validateLimitRangeOrder(it *corev1.LimitRangeItem, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	keys := sets.New[corev1.ResourceName]()
	for _, l := range []corev1.ResourceList{it.Max, it.Min, it.Default, it.DefaultRequest, it.MaxLimitRequestRatio} {
		for k := range l {
			keys.Insert(k)
		}
	}
	one := resource.MustParse("1")
	for _, k := range sets.List(keys) {
		ks := string(k)
		minQ, hasMin := it.Min[k]
		maxQ, hasMax := it.Max[k]
		def, hasDef := it.Default[k]
		defReq, hasDefReq := it.DefaultRequest[k]
		ratio, hasRatio := it.MaxLimitRequestRatio[k]
		if it.Type == corev1.LimitTypePod {
			// Pod items may not set defaults, as reported above.
			hasDef, hasDefReq = false, false
		}
		if hasMin && hasMax && minQ.Cmp(maxQ) > 0 {
			errs = append(errs, field.Invalid(p.Child("min").Key(ks), minQ.String(), quantityf("min value %s is greater than max value %s", minQ, maxQ)))
		}
		if hasDefReq && hasMin && minQ.Cmp(defReq) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(ks), defReq.String(), quantityf("min value %s is greater than default request value %s", minQ, defReq)))
		}
		if hasDefReq && hasMax && defReq.Cmp(maxQ) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(ks), defReq.String(), quantityf("default request value %s is greater than max value %s", defReq, maxQ)))
		}
		if hasDefReq && hasDef && defReq.Cmp(def) > 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(ks), defReq.String(), quantityf("default request value %s is greater than default limit value %s", defReq, def)))
		}
		if hasDef && hasMin && minQ.Cmp(def) > 0 {
			errs = append(errs, field.Invalid(p.Child("default").Key(ks), def.String(), quantityf("min value %s is greater than default value %s", minQ, def)))
		}
		if hasDef && hasMax && def.Cmp(maxQ) > 0 {
			errs = append(errs, field.Invalid(p.Child("default").Key(ks), def.String(), quantityf("default value %s is greater than max value %s", def, maxQ)))
		}
		if hasRatio && ratio.Cmp(one) < 0 {
			errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(ks), ratio.String(), quantityf("ratio %s is less than 1", ratio)))
		}
		if hasRatio && hasMin && hasMax && minQ.Sign() > 0 {
			limit := maxQ.AsApproximateFloat64() / minQ.AsApproximateFloat64()
			if ratio.AsApproximateFloat64() > limit {
				errs = append(errs, field.Invalid(p.Child("maxLimitRequestRatio").Key(ks), ratio.String(), fmt.Sprintf("ratio %s is greater than max/min = %f", ratio.String(), limit)))
			}
		}
		// Resources that cannot be overcommitted (hugepages, extended
		// resources) are requested at their limit.
		if !overcommitAllowed(k) && hasDef && hasDefReq && def.Cmp(defReq) != 0 {
			errs = append(errs, field.Invalid(p.Child("defaultRequest").Key(ks), defReq.String(), quantityf("default value %s must equal to defaultRequest value %s in "+ks, def, defReq)))
		}
	}
	return errs
}

// overcommitAllowed: only native resources other than hugepages may be
// requested below their limit.
func overcommitAllowed(name corev1.ResourceName) bool {
	return isNativeResourceName(name) && !strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}
