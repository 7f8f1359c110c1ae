package core

import (
	"context"
	"maps"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// replicationControllerStrategy: an RC keeps spec.replicas pods matching
// its selector running from its template. Status is written through
// /status; the generation counts spec changes.
type replicationControllerStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = replicationControllerStrategy{}

func (replicationControllerStrategy) New() runtime.Object { return &corev1.ReplicationController{} }
func (replicationControllerStrategy) NewList() runtime.Object {
	return &corev1.ReplicationControllerList{}
}

// Default: one replica; the selector, and the RC's own labels when it has
// none, default to the template's labels.
func (replicationControllerStrategy) Default(obj runtime.Object) {
	rc := obj.(*corev1.ReplicationController)
	if t := rc.Spec.Template; t != nil {
		if t.Labels != nil {
			if len(rc.Spec.Selector) == 0 {
				rc.Spec.Selector = maps.Clone(t.Labels)
			}
			if len(rc.Labels) == 0 {
				rc.Labels = maps.Clone(t.Labels)
			}
		}
		podspec.DefaultTemplate(t)
	}
	if rc.Spec.Replicas == nil {
		one := int32(1)
		rc.Spec.Replicas = &one
	}
}

func (replicationControllerStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	rc := obj.(*corev1.ReplicationController)
	rc.Generation = 1
	rc.Status = corev1.ReplicationControllerStatus{}
}

func (replicationControllerStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	rc, o := obj.(*corev1.ReplicationController), old.(*corev1.ReplicationController)
	if sub == "status" {
		rc.Spec = o.Spec
		return
	}
	rc.Status = o.Status
	if !apiequality.Semantic.DeepEqual(rc.Spec, o.Spec) {
		rc.Generation = o.Generation + 1
	}
}

func (replicationControllerStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateRCSpec(&obj.(*corev1.ReplicationController).Spec, field.NewPath("spec"))
}

func (s replicationControllerStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	rc := obj.(*corev1.ReplicationController)
	errs := s.Validate(ctx, obj)
	return append(errs, validateRCStatus(&rc.Status, field.NewPath("status"))...)
}

func (replicationControllerStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.replicas": strconv.Itoa(int(obj.(*corev1.ReplicationController).Status.Replicas))}
}

// validateRCSpec: a non-empty selector that matches the template's
// labels, non-negative counts, and a template whose pods restart Always
// and have no deadline, since an RC keeps them running.
func validateRCSpec(spec *corev1.ReplicationControllerSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Selector) == 0 {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	}
	if spec.Replicas != nil && *spec.Replicas < 0 {
		errs = append(errs, field.Invalid(path.Child("replicas"), *spec.Replicas, "must be greater than or equal to 0"))
	}
	if spec.MinReadySeconds < 0 {
		errs = append(errs, field.Invalid(path.Child("minReadySeconds"), spec.MinReadySeconds, "must be greater than or equal to 0"))
	}
	tp := path.Child("template")
	t := spec.Template
	if t == nil {
		return append(errs, field.Required(tp, ""))
	}
	if sel := labels.Set(spec.Selector).AsSelector(); !sel.Empty() && !sel.Matches(labels.Set(t.Labels)) {
		errs = append(errs, field.Invalid(tp.Child("metadata", "labels"), t.Labels, "`selector` does not match template `labels`"))
	}
	errs = append(errs, podspec.ValidateTemplate(t, tp)...)
	if t.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		errs = append(errs, field.NotSupported(tp.Child("spec", "restartPolicy"), t.Spec.RestartPolicy, []corev1.RestartPolicy{corev1.RestartPolicyAlways}))
	}
	if t.Spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, field.Forbidden(tp.Child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicationController is not Supported"))
	}
	return errs
}

// validateRCStatus: counts are non-negative and no count of a subset of
// the replicas exceeds the count of its superset.
func validateRCStatus(st *corev1.ReplicationControllerStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []struct {
		name string
		v    int64
	}{
		{"replicas", int64(st.Replicas)},
		{"fullyLabeledReplicas", int64(st.FullyLabeledReplicas)},
		{"readyReplicas", int64(st.ReadyReplicas)},
		{"availableReplicas", int64(st.AvailableReplicas)},
		{"observedGeneration", st.ObservedGeneration},
	} {
		if c.v < 0 {
			errs = append(errs, field.Invalid(path.Child(c.name), c.v, "must be greater than or equal to 0"))
		}
	}
	if st.FullyLabeledReplicas > st.Replicas {
		errs = append(errs, field.Invalid(path.Child("fullyLabeledReplicas"), st.FullyLabeledReplicas, "cannot be greater than the number of replicas"))
	}
	if st.ReadyReplicas > st.Replicas {
		errs = append(errs, field.Invalid(path.Child("readyReplicas"), st.ReadyReplicas, "cannot be greater than the number of replicas"))
	}
	if st.AvailableReplicas > st.Replicas {
		errs = append(errs, field.Invalid(path.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than the number of replicas"))
	}
	if st.AvailableReplicas > st.ReadyReplicas {
		errs = append(errs, field.Invalid(path.Child("availableReplicas"), st.AvailableReplicas, "cannot be greater than readyReplicas"))
	}
	return errs
}
