package apps

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

func gvr(resource string) schema.GroupVersionResource {
	return appsv1.SchemeGroupVersion.WithResource(resource)
}

var (
	categoryAll = []string{"all"}
	statusOnly  = []string{"status"}
)

// Resources are the apps/v1 resources.
// statusAndScale are the subresources of the scalable workloads.
var statusAndScale = []string{"status", "scale"}

func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("deployments"), Kind: "Deployment", ListKind: "DeploymentList", SingularName: "deployment",
			ShortNames: []string{"deploy"}, Categories: categoryAll, Namespaced: true, Subresources: statusAndScale,
			Scale: workloadScale, Strategy: deploymentStrategy{}},
		{GVR: gvr("replicasets"), Kind: "ReplicaSet", ListKind: "ReplicaSetList", SingularName: "replicaset",
			ShortNames: []string{"rs"}, Categories: categoryAll, Namespaced: true, Subresources: statusAndScale,
			Scale: workloadScale, Strategy: replicaSetStrategy{}},
		{GVR: gvr("statefulsets"), Kind: "StatefulSet", ListKind: "StatefulSetList", SingularName: "statefulset",
			ShortNames: []string{"sts"}, Categories: categoryAll, Namespaced: true, Subresources: statusAndScale,
			Scale: workloadScale, Strategy: statefulSetStrategy{}},
		{GVR: gvr("daemonsets"), Kind: "DaemonSet", ListKind: "DaemonSetList", SingularName: "daemonset",
			ShortNames: []string{"ds"}, Categories: categoryAll, Namespaced: true, Subresources: statusOnly,
			Strategy: daemonSetStrategy{}},
		{GVR: gvr("controllerrevisions"), Kind: "ControllerRevision", ListKind: "ControllerRevisionList",
			SingularName: "controllerrevision", Namespaced: true, Strategy: controllerRevisionStrategy{}},
	}
}

// isStatus reports whether a write goes through the status subresource.
func isStatus(subresource string) bool { return subresource == "status" }

// bumpGeneration sets obj's generation one past old's when changed.
func bumpGeneration(obj, old metav1.Object, changed bool) {
	if changed {
		obj.SetGeneration(old.GetGeneration() + 1)
	}
}

func specChanged(a, b any) bool { return !apiequality.Semantic.DeepEqual(a, b) }

func int32Ptr(v int32) *int32 { return &v }

func nonNegative(v int64, path *field.Path) field.ErrorList {
	return apivalidation.ValidateNonnegativeField(v, path)
}

// validateSelector checks a workload's selector: required, valid, and not
// empty (an empty selector would adopt every pod of the namespace).
func validateSelector(sel *metav1.LabelSelector, kind string, path *field.Path) field.ErrorList {
	if sel == nil {
		return field.ErrorList{field.Required(path, "")}
	}
	errs := metav1validation.ValidateLabelSelector(sel, metav1validation.LabelSelectorValidationOptions{}, path)
	if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(path, sel, "empty selector is invalid for "+kind))
	}
	return errs
}

// validateTemplateMatches checks that the pods a template makes are
// selected by the workload's selector.
func validateTemplateMatches(sel *metav1.LabelSelector, tmpl *corev1.PodTemplateSpec, selPath, tmplPath *field.Path) field.ErrorList {
	selector, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return field.ErrorList{field.Invalid(selPath, sel, "invalid label selector")}
	}
	if !selector.Empty() && !selector.Matches(labels.Set(tmpl.Labels)) {
		return field.ErrorList{field.Invalid(tmplPath.Child("metadata", "labels"), tmpl.Labels, "`selector` does not match template `labels`")}
	}
	return nil
}

// validateWorkloadTemplate checks the pod template of a workload whose pods
// run forever: restartPolicy Always and no activeDeadlineSeconds.
func validateWorkloadTemplate(tmpl *corev1.PodTemplateSpec, kind string, path *field.Path) field.ErrorList {
	errs := podspec.ValidateTemplate(tmpl, path)
	if tmpl.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(path.Child("spec", "restartPolicy"), tmpl.Spec.RestartPolicy,
			[]corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if tmpl.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(path.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in "+kind+" is not Supported"))
	}
	return errs
}

// validateRevisionHistoryLimit: zero is valid, it keeps no history.
func validateRevisionHistoryLimit(limit *int32, path *field.Path) field.ErrorList {
	if limit == nil {
		return nil
	}
	return nonNegative(int64(*limit), path)
}

// validateIntOrPercent checks a non-negative integer or a valid percentage.
func validateIntOrPercent(v intstr.IntOrString, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch v.Type {
	case intstr.String:
		for _, msg := range validation.IsValidPercent(v.StrVal) {
			errs = append(errs, field.Invalid(path, v, msg))
		}
	case intstr.Int:
		errs = append(errs, nonNegative(int64(v.IntValue()), path)...)
	default:
		errs = append(errs, field.Invalid(path, v, "must be an integer or percentage (e.g '5%')"))
	}
	return errs
}

// percent returns a valid percentage's value.
func percent(v intstr.IntOrString) (int, bool) {
	if v.Type != intstr.String || len(validation.IsValidPercent(v.StrVal)) != 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(v.StrVal[:len(v.StrVal)-1])
	return n, true
}

// intOrPercentValue is the number of a value or percentage, to tell zero
// from non-zero.
func intOrPercentValue(v *intstr.IntOrString) int {
	if v == nil {
		return 0
	}
	if n, ok := percent(*v); ok {
		return n
	}
	return v.IntValue()
}

func notMoreThan100Percent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	if n, ok := percent(*v); ok && n > 100 {
		return field.ErrorList{field.Invalid(path, *v, "must not be greater than 100%")}
	}
	return nil
}

func validateOptionalIntOrPercent(v *intstr.IntOrString, path *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return validateIntOrPercent(*v, path)
}

// validateCollisionCount: the controllers count hash collisions up only.
func validateCollisionCount(count, old *int32, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if count != nil {
		errs = append(errs, nonNegative(int64(*count), path)...)
	}
	if old != nil && (count == nil || *count < *old) {
		v := int32(0)
		if count != nil {
			v = *count
		}
		errs = append(errs, field.Invalid(path, v, "cannot be decremented"))
	}
	return errs
}

// replicaCounts checks status counters: non-negative, and each at most the
// total it is part of.
type replicaCount struct {
	name  string
	value int32
}

func validateReplicaCounts(path *field.Path, total int32, counts ...replicaCount) field.ErrorList {
	errs := nonNegative(int64(total), path.Child("replicas"))
	for _, c := range counts {
		errs = append(errs, nonNegative(int64(c.value), path.Child(c.name))...)
		if c.value > total {
			errs = append(errs, field.Invalid(path.Child(c.name), c.value, "cannot be greater than status.replicas"))
		}
	}
	return errs
}

func validateAvailableNotAboveReady(available, ready int32, path *field.Path) field.ErrorList {
	if available > ready {
		return field.ErrorList{field.Invalid(path.Child("availableReplicas"), available, "cannot be greater than readyReplicas")}
	}
	return nil
}
