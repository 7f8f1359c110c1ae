package core

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// podStrategy gives Pods their semantics. Status is written only through
// /status; the spec is immutable but for images, a shortened
// activeDeadlineSeconds, added tolerations and removed scheduling gates;
// spec.nodeName is set at create or by binding, never by an update.
type podStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = podStrategy{}

func (podStrategy) New() runtime.Object     { return &corev1.Pod{} }
func (podStrategy) NewList() runtime.Object { return &corev1.PodList{} }

func (podStrategy) Default(obj runtime.Object) {
	podspec.DefaultPod(&obj.(*corev1.Pod).Spec)
}

// PrepareForCreate starts the pod Pending with its QoS class, which is
// fixed for the pod's life, and blocks scheduling while gates remain.
func (podStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pod := obj.(*corev1.Pod)
	pod.Generation = 1
	pod.Status = corev1.PodStatus{Phase: corev1.PodPending, QOSClass: qosClass(&pod.Spec)}
	if len(pod.Spec.SchedulingGates) > 0 {
		pod.Status.Conditions = []corev1.PodCondition{{
			Type:    corev1.PodScheduled,
			Status:  corev1.ConditionFalse,
			Reason:  corev1.PodReasonSchedulingGated,
			Message: "Scheduling is blocked due to non-empty scheduling gates",
		}}
	}
}

func (podStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	pod, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	if sub == "binding" {
		return // the binding handler changes spec.nodeName and the PodScheduled condition only
	}
	if sub == "status" {
		pod.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(&pod.ObjectMeta, &o.ObjectMeta)
		// Old kubelets drop qosClass when they reject a pod; it never
		// changes, so carry it over.
		if pod.Status.QOSClass == "" {
			pod.Status.QOSClass = o.Status.QOSClass
		}
		return
	}
	pod.Status = o.Status
	if !apiequality.Semantic.DeepEqual(pod.Spec, o.Spec) {
		pod.Generation = o.Generation + 1
	}
}

func (podStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return podspec.ValidateSpec(&obj.(*corev1.Pod).Spec, field.NewPath("spec"))
}

// ValidateUpdate checks what the write may change: the status of a /status
// write (the spec is the stored one), the node of a /binding write, and
// the mutable spec fields of a main-resource write.
func (s podStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pod, o := obj.(*corev1.Pod), old.(*corev1.Pod)
	switch registry.SubresourceFrom(ctx) {
	case "status":
		return validatePodStatus(&pod.Status, &o.Status, field.NewPath("status"))
	case "binding":
		if o.Spec.NodeName != "" || pod.Spec.NodeName == "" {
			return field.ErrorList{field.Forbidden(field.NewPath("spec", "nodeName"), "a binding assigns a node to an unassigned pod only")}
		}
		want := o.Spec // shallow: only the node name is set on it
		want.NodeName = pod.Spec.NodeName
		if !registry.EqualEncoded(&pod.Spec, &want) {
			return field.ErrorList{field.Forbidden(field.NewPath("spec"), "a binding changes spec.nodeName only")}
		}
		return nil
	}
	errs := s.Validate(ctx, obj)
	errs = append(errs, validatePodSpecUpdate(&pod.Spec, &o.Spec, field.NewPath("spec"))...)
	errs = append(errs, validatePodStatus(&pod.Status, &o.Status, field.NewPath("status"))...)
	return errs
}

// validatePodSpecUpdate allows only the changes upstream allows: it
// overlays the mutable fields of the new spec on a copy of the old one,
// after checking each of them, and forbids any other difference.
func validatePodSpecUpdate(spec, old *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Containers) != len(old.Containers) {
		return field.ErrorList{field.Forbidden(path.Child("containers"), "pod updates may not add or remove containers")}
	}
	if len(spec.InitContainers) != len(old.InitContainers) {
		return field.ErrorList{field.Forbidden(path.Child("initContainers"), "pod updates may not add or remove containers")}
	}
	if spec.NodeName != old.NodeName {
		errs = append(errs, field.Forbidden(path.Child("nodeName"), "may not be changed by an update; a pod is bound to a node at create or through the binding subresource"))
	}
	ap := path.Child("activeDeadlineSeconds")
	switch n, o := spec.ActiveDeadlineSeconds, old.ActiveDeadlineSeconds; {
	case n != nil && (*n < 0 || *n > math.MaxInt32):
		errs = append(errs, field.Invalid(ap, *n, validation.InclusiveRangeError(0, math.MaxInt32)))
	case n != nil && o != nil && *n > *o:
		errs = append(errs, field.Invalid(ap, *n, "must be less than or equal to previous value"))
	case n == nil && o != nil:
		errs = append(errs, field.Invalid(ap, n, "must not update from a positive integer to nil value"))
	}
	errs = append(errs, validateOnlyAddedTolerations(spec.Tolerations, old.Tolerations, path.Child("tolerations"))...)
	oldGates := sets.New[string]()
	for _, g := range old.SchedulingGates {
		oldGates.Insert(g.Name)
	}
	for _, g := range spec.SchedulingGates {
		if !oldGates.Has(g.Name) {
			errs = append(errs, field.Forbidden(path.Child("schedulingGates"), fmt.Sprintf("only deletion is allowed, but found new scheduling gate '%s'", g.Name)))
		}
	}

	munged := spec.DeepCopy()
	for i := range munged.Containers {
		munged.Containers[i].Image = old.Containers[i].Image
	}
	for i := range munged.InitContainers {
		munged.InitContainers[i].Image = old.InitContainers[i].Image
	}
	munged.NodeName = old.NodeName
	munged.ActiveDeadlineSeconds = old.ActiveDeadlineSeconds
	munged.Tolerations = old.Tolerations
	munged.SchedulingGates = old.SchedulingGates
	if !apiequality.Semantic.DeepEqual(munged, old) {
		errs = append(errs, field.Forbidden(path, "pod updates may not change fields other than `spec.containers[*].image`, "+
			"`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations), "+
			"`spec.schedulingGates` (only removals)"))
	}
	return errs
}

// validateOnlyAddedTolerations requires every old toleration to remain;
// only its tolerationSeconds may change.
func validateOnlyAddedTolerations(ts, old []corev1.Toleration, path *field.Path) field.ErrorList {
	for _, o := range old {
		found := false
		for _, t := range ts {
			o.TolerationSeconds = t.TolerationSeconds
			if reflect.DeepEqual(o, t) {
				found = true
				break
			}
		}
		if !found {
			return field.ErrorList{field.Forbidden(path, "existing toleration can not be modified except its tolerationSeconds")}
		}
	}
	return nil
}

// validatePodStatus checks what kubelets and schedulers write to status.
func validatePodStatus(st, old *corev1.PodStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if old.QOSClass != "" && st.QOSClass != old.QOSClass {
		errs = append(errs, field.Invalid(path.Child("qosClass"), st.QOSClass, "field is immutable"))
	}
	if n := st.NominatedNodeName; n != "" {
		for _, msg := range validation.IsDNS1123Subdomain(n) {
			errs = append(errs, field.Invalid(path.Child("nominatedNodeName"), n, msg))
		}
	}
	ip := func(s string, p *field.Path) {
		if _, err := netip.ParseAddr(s); err != nil {
			errs = append(errs, field.Invalid(p, s, "must be a valid IP address"))
		}
	}
	if st.PodIP != "" {
		ip(st.PodIP, path.Child("podIP"))
	}
	for i, p := range st.PodIPs {
		ip(p.IP, path.Child("podIPs").Index(i).Child("ip"))
	}
	if len(st.PodIPs) > 0 && st.PodIP != st.PodIPs[0].IP {
		errs = append(errs, field.Invalid(path.Child("podIPs").Index(0).Child("ip"), st.PodIPs[0].IP, "must match status.podIP"))
	}
	if st.HostIP != "" {
		ip(st.HostIP, path.Child("hostIP"))
	}
	for i, p := range st.HostIPs {
		ip(p.IP, path.Child("hostIPs").Index(i).Child("ip"))
	}
	return errs
}

func (podStrategy) SelectableFields(obj runtime.Object) fields.Set {
	pod := obj.(*corev1.Pod)
	return fields.Set{
		"spec.nodeName":            pod.Spec.NodeName,
		"spec.restartPolicy":       string(pod.Spec.RestartPolicy),
		"spec.schedulerName":       pod.Spec.SchedulerName,
		"spec.serviceAccountName":  pod.Spec.ServiceAccountName,
		"spec.hostNetwork":         strconv.FormatBool(pod.Spec.HostNetwork),
		"status.phase":             string(pod.Status.Phase),
		"status.podIP":             pod.Status.PodIP,
		"status.nominatedNodeName": pod.Status.NominatedNodeName,
	}
}

// qosClass computes a pod's QoS class as upstream does, from the cpu and
// memory of its containers (or of the pod, when pod-level resources are
// set): BestEffort with no requests or limits at all, Guaranteed when
// every container limits both and requests equal limits, else Burstable.
func qosClass(spec *corev1.PodSpec) corev1.PodQOSClass {
	requests, limits := corev1.ResourceList{}, corev1.ResourceList{}
	guaranteed := true
	add := func(r *corev1.ResourceRequirements) {
		for name, q := range r.Requests {
			if qosResource(name) && q.Sign() > 0 {
				sum(requests, name, q)
			}
		}
		found := 0
		for name, q := range r.Limits {
			if qosResource(name) && q.Sign() > 0 {
				sum(limits, name, q)
				found++
			}
		}
		if found < 2 {
			guaranteed = false
		}
	}
	if r := spec.Resources; r != nil && (hasQOSResource(r.Requests) || hasQOSResource(r.Limits)) {
		add(r)
	} else {
		for i := range spec.Containers {
			add(&spec.Containers[i].Resources)
		}
		for i := range spec.InitContainers {
			add(&spec.InitContainers[i].Resources)
		}
	}
	if len(requests) == 0 && len(limits) == 0 {
		return corev1.PodQOSBestEffort
	}
	if guaranteed {
		for name, req := range requests {
			if lim, ok := limits[name]; !ok || lim.Cmp(req) != 0 {
				guaranteed = false
				break
			}
		}
	}
	if guaranteed && len(requests) == len(limits) {
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

func qosResource(name corev1.ResourceName) bool {
	return name == corev1.ResourceCPU || name == corev1.ResourceMemory
}

func hasQOSResource(l corev1.ResourceList) bool {
	for name := range l {
		if qosResource(name) {
			return true
		}
	}
	return false
}

func sum(l corev1.ResourceList, name corev1.ResourceName, q resource.Quantity) {
	total := q.DeepCopy()
	if prev, ok := l[name]; ok {
		total.Add(prev)
	}
	l[name] = total
}

// GracePeriod is how long a deleted pod has to stop: the request's
// gracePeriodSeconds, else the pod's terminationGracePeriodSeconds. A pod
// no node runs (unscheduled) or that has finished goes at once; the node
// agent removes the others with a zero-grace delete once stopped.
func (podStrategy) GracePeriod(obj runtime.Object, requested *int64) int64 {
	pod := obj.(*corev1.Pod)
	grace := int64(corev1.DefaultTerminationGracePeriodSeconds)
	switch {
	case requested != nil:
		grace = *requested
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		grace = *pod.Spec.TerminationGracePeriodSeconds
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if grace < 0 {
		grace = 1 // as upstream: a negative period still gives the kubelet a moment
	}
	return grace
}
