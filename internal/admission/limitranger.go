package admission

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	resourcehelper "k8s.io/component-helpers/resource"
)

// LimitRangerAnnotation records on a pod which defaults LimitRanger set.
const LimitRangerAnnotation = "kubernetes.io/limit-ranger"

// LimitRanger applies a namespace's LimitRanges: on a new pod it fills in
// the Container items' default limits and requests its containers lack,
// then refuses pods (on create) and claims (on create and update) outside
// the items' min, max and maxLimitRequestRatio.
type LimitRanger struct{ Reader Reader }

func (p LimitRanger) applies(a *Attributes) bool {
	switch {
	case a.Is(podsResource):
		// Containers cannot be added or their resources changed by an
		// update (resizes go through their own subresource).
		return a.Operation == Create
	case a.Is(pvcsResource):
		return true
	}
	return false
}

func (p LimitRanger) limitRanges(ctx context.Context, ns string) ([]*corev1.LimitRange, error) {
	objs, err := p.Reader.List(ctx, limitRangesGVR, ns)
	if err != nil {
		return nil, fmt.Errorf("listing LimitRanges: %w", err)
	}
	lrs := make([]*corev1.LimitRange, len(objs))
	for i, o := range objs {
		lrs[i] = o.(*corev1.LimitRange)
	}
	// Deterministic: the first range (by name) to default a value wins.
	slices.SortFunc(lrs, func(a, b *corev1.LimitRange) int { return strings.Compare(a.Name, b.Name) })
	return lrs, nil
}

func (p LimitRanger) Admit(ctx context.Context, a *Attributes) error {
	if !p.applies(a) || a.Resource != podsResource {
		return nil
	}
	lrs, err := p.limitRanges(ctx, a.Namespace)
	if err != nil {
		return err
	}
	pod := a.Object.(*corev1.Pod)
	for _, lr := range lrs {
		defaults := containerDefaults(lr)
		// Containers, then init containers: the annotation lists them in
		// upstream's order.
		var set []string
		for i := range pod.Spec.Containers {
			set = mergeDefaults(&pod.Spec.Containers[i], defaults, "container", set)
		}
		for i := range pod.Spec.InitContainers {
			set = mergeDefaults(&pod.Spec.InitContainers[i], defaults, "init container", set)
		}
		if len(set) > 0 {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[LimitRangerAnnotation] = "LimitRanger plugin set: " + strings.Join(set, "; ")
		}
	}
	return nil
}

func (p LimitRanger) Validate(ctx context.Context, a *Attributes) error {
	if !p.applies(a) {
		return nil
	}
	lrs, err := p.limitRanges(ctx, a.Namespace)
	if err != nil {
		return err
	}
	for _, lr := range lrs {
		var errs []error
		switch obj := a.Object.(type) {
		case *corev1.Pod:
			errs = validatePodLimits(lr, obj)
		case *corev1.PersistentVolumeClaim:
			errs = validateClaimLimits(lr, obj)
		}
		if len(errs) > 0 {
			return a.Forbidden(utilerrors.NewAggregate(errs))
		}
	}
	return nil
}

// containerDefaults are the default limits and requests of a range's
// Container items.
func containerDefaults(lr *corev1.LimitRange) corev1.ResourceRequirements {
	d := corev1.ResourceRequirements{Limits: corev1.ResourceList{}, Requests: corev1.ResourceList{}}
	for _, it := range lr.Spec.Limits {
		if it.Type != corev1.LimitTypeContainer {
			continue
		}
		for k, v := range it.Default {
			d.Limits[k] = v.DeepCopy()
		}
		for k, v := range it.DefaultRequest {
			d.Requests[k] = v.DeepCopy()
		}
	}
	return d
}

// mergeDefaults sets the defaults c lacks and appends what it set, in
// upstream's annotation wording, to set.
func mergeDefaults(c *corev1.Container, d corev1.ResourceRequirements, kind string, set []string) []string {
	fill := func(have *corev1.ResourceList, defaults corev1.ResourceList) []string {
		var names []string
		for k, v := range defaults {
			if _, ok := (*have)[k]; ok {
				continue
			}
			if *have == nil {
				*have = corev1.ResourceList{}
			}
			(*have)[k] = v.DeepCopy()
			names = append(names, string(k))
		}
		sort.Strings(names)
		return names
	}
	if names := fill(&c.Resources.Requests, d.Requests); len(names) > 0 {
		set = append(set, fmt.Sprintf("%s request for %s %s", strings.Join(names, ", "), kind, c.Name))
	}
	if names := fill(&c.Resources.Limits, d.Limits); len(names) > 0 {
		set = append(set, fmt.Sprintf("%s limit for %s %s", strings.Join(names, ", "), kind, c.Name))
	}
	return set
}

func validatePodLimits(lr *corev1.LimitRange, pod *corev1.Pod) []error {
	var errs []error
	for _, it := range lr.Spec.Limits {
		kind := string(it.Type)
		switch it.Type {
		case corev1.LimitTypeContainer:
			for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
				for i := range cs {
					errs = append(errs, checkItem(it, kind, cs[i].Resources.Requests, cs[i].Resources.Limits)...)
				}
			}
		case corev1.LimitTypePod:
			// Pod items bound the containers' sum; overhead is the
			// runtime's, not the pod's to declare.
			opts := resourcehelper.PodResourcesOptions{ExcludeOverhead: true}
			errs = append(errs, checkItem(it, kind, resourcehelper.PodRequests(pod, opts), resourcehelper.PodLimits(pod, opts))...)
		}
	}
	return errs
}

func checkItem(it corev1.LimitRangeItem, kind string, requests, limits corev1.ResourceList) []error {
	var errs []error
	for _, k := range sortedNames(it.Min) {
		errs = appendErr(errs, minConstraint(kind, k, it.Min[k], requests, limits))
	}
	for _, k := range sortedNames(it.Max) {
		errs = appendErr(errs, maxConstraint(kind, k, it.Max[k], requests, limits))
	}
	for _, k := range sortedNames(it.MaxLimitRequestRatio) {
		errs = appendErr(errs, ratioConstraint(kind, k, it.MaxLimitRequestRatio[k], requests, limits))
	}
	return errs
}

func validateClaimLimits(lr *corev1.LimitRange, pvc *corev1.PersistentVolumeClaim) []error {
	var errs []error
	requests := pvc.Spec.Resources.Requests
	for _, it := range lr.Spec.Limits {
		if it.Type != corev1.LimitTypePersistentVolumeClaim {
			continue
		}
		kind := string(it.Type)
		for _, k := range sortedNames(it.Min) {
			errs = appendErr(errs, minConstraint(kind, k, it.Min[k], requests, nil))
		}
		// A claim's limits are not the user's to bound: max applies to
		// what it requests.
		for _, k := range sortedNames(it.Max) {
			enforced := it.Max[k]
			req, ok := requests[k]
			switch {
			case !ok:
				errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s.  No request is specified", k, kind, enforced.String()))
			case req.Cmp(enforced) > 0:
				errs = append(errs, fmt.Errorf("maximum %s usage per %s is %s, but request is %s", k, kind, enforced.String(), req.String()))
			}
		}
	}
	return errs
}

func minConstraint(kind string, name corev1.ResourceName, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	switch {
	case !hasReq:
		return fmt.Errorf("minimum %s usage per %s is %s.  No request is specified", name, kind, enforced.String())
	case req.Cmp(enforced) < 0:
		return fmt.Errorf("minimum %s usage per %s is %s, but request is %s", name, kind, enforced.String(), req.String())
	case hasLim && lim.Cmp(enforced) < 0:
		return fmt.Errorf("minimum %s usage per %s is %s, but limit is %s", name, kind, enforced.String(), lim.String())
	}
	return nil
}

func maxConstraint(kind string, name corev1.ResourceName, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	switch {
	case !hasLim:
		return fmt.Errorf("maximum %s usage per %s is %s.  No limit is specified", name, kind, enforced.String())
	case lim.Cmp(enforced) > 0:
		return fmt.Errorf("maximum %s usage per %s is %s, but limit is %s", name, kind, enforced.String(), lim.String())
	case hasReq && req.Cmp(enforced) > 0:
		return fmt.Errorf("maximum %s usage per %s is %s, but request is %s", name, kind, enforced.String(), req.String())
	}
	return nil
}

func ratioConstraint(kind string, name corev1.ResourceName, enforced resource.Quantity, requests, limits corev1.ResourceList) error {
	req, hasReq := requests[name]
	lim, hasLim := limits[name]
	if !hasReq || req.IsZero() {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no request is specified or request is 0", name, kind, enforced.String())
	}
	if !hasLim || lim.IsZero() {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but no limit is specified or limit is 0", name, kind, enforced.String())
	}
	ratio := lim.AsApproximateFloat64() / req.AsApproximateFloat64()
	if ratio > enforced.AsApproximateFloat64() {
		return fmt.Errorf("%s max limit to request ratio per %s is %s, but provided ratio is %f", name, kind, enforced.String(), ratio)
	}
	return nil
}

func sortedNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		errs = append(errs, err)
	}
	return errs
}
