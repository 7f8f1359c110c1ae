package podspec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultRequestsFromLimits sets a container's missing requests to its
// limits. Upstream does this for Pods only, not for templates, so a
// Deployment's stored template keeps the requests its author wrote.
func defaultRequestsFromLimits(r *corev1.ResourceRequirements) {
	for name, limit := range r.Limits {
		if _, ok := r.Requests[name]; ok {
			continue
		}
		if r.Requests == nil {
			r.Requests = corev1.ResourceList{}
		}
		r.Requests[name] = limit.DeepCopy()
	}
}

// isStandardContainerResource: the unprefixed (or kubernetes.io/)
// resources a container may ask for.
func isStandardContainerResource(name corev1.ResourceName) bool {
	switch name {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
		return true
	}
	return strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix)
}

// isExtendedResource: a domain-qualified resource outside kubernetes.io,
// such as nvidia.com/gpu. Extended resources cannot be overcommitted.
func isExtendedResource(name corev1.ResourceName) bool {
	s := string(name)
	return strings.Contains(s, "/") && !strings.Contains(s, corev1.ResourceDefaultNamespacePrefix) && !strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix)
}

func validateResourceName(name corev1.ResourceName, path *field.Path) field.ErrorList {
	s := string(name)
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(s) {
		errs = append(errs, field.Invalid(path, s, msg))
	}
	if len(errs) > 0 {
		return errs
	}
	native := !strings.Contains(s, "/") || strings.HasPrefix(s, corev1.ResourceDefaultNamespacePrefix)
	if native && !isStandardContainerResource(corev1.ResourceName(strings.TrimPrefix(s, corev1.ResourceDefaultNamespacePrefix))) {
		errs = append(errs, field.Invalid(path, s, "must be a standard resource for containers"))
	}
	return errs
}

// validateResources checks a container's resources: names, non-negative
// quantities, and requests no greater than limits (equal to them for
// extended resources, which also need a whole number and a limit).
func validateResources(r *corev1.ResourceRequirements, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	lp, rp := path.Child("limits"), path.Child("requests")
	for _, name := range sortedNames(r.Limits) {
		q := r.Limits[name]
		p := lp.Key(string(name))
		errs = append(errs, validateResourceName(name, p)...)
		errs = append(errs, validateQuantity(name, q, p)...)
	}
	for _, name := range sortedNames(r.Requests) {
		q := r.Requests[name]
		p := rp.Key(string(name))
		errs = append(errs, validateResourceName(name, p)...)
		errs = append(errs, validateQuantity(name, q, p)...)
		limit, hasLimit := r.Limits[name]
		switch {
		case isExtendedResource(name) && !hasLimit:
			errs = append(errs, field.Required(lp.Key(string(name)), "Limit must be set for non overcommitable resources"))
		case isExtendedResource(name) && q.Cmp(limit) != 0:
			errs = append(errs, field.Invalid(p, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
		case hasLimit && q.Cmp(limit) > 0:
			errs = append(errs, field.Invalid(p, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return errs
}

func validateQuantity(name corev1.ResourceName, q resource.Quantity, path *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(path, q.String(), "must be greater than or equal to 0")}
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(path, q.String(), "must be an integer")}
	}
	return nil
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(l))
}
