package apps

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

type replicaSetStrategy struct{ registry.BaseStrategy }

func (replicaSetStrategy) New() runtime.Object     { return &appsv1.ReplicaSet{} }
func (replicaSetStrategy) NewList() runtime.Object { return &appsv1.ReplicaSetList{} }

func (replicaSetStrategy) Default(obj runtime.Object) {
	rs := obj.(*appsv1.ReplicaSet)
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = int32Ptr(1)
	}
	podspec.DefaultTemplate(&rs.Spec.Template)
}

func (replicaSetStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	rs := obj.(*appsv1.ReplicaSet)
	rs.Status = appsv1.ReplicaSetStatus{}
	rs.Generation = 1
}

func (replicaSetStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	rs, o := obj.(*appsv1.ReplicaSet), old.(*appsv1.ReplicaSet)
	if isStatus(sub) {
		rs.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(rs, o)
		return
	}
	rs.Status = o.Status
	bumpGeneration(rs, o, specChanged(rs.Spec, o.Spec))
}

func (replicaSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateReplicaSetSpec(&obj.(*appsv1.ReplicaSet).Spec, field.NewPath("spec"))
}

func (replicaSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	rs, o := obj.(*appsv1.ReplicaSet), old.(*appsv1.ReplicaSet)
	spec := field.NewPath("spec")
	errs := validateReplicaSetSpec(&rs.Spec, spec)
	errs = append(errs, apivalidation.ValidateImmutableField(rs.Spec.Selector, o.Spec.Selector, spec.Child("selector"))...)
	return append(errs, validateReplicaSetStatus(&rs.Status, field.NewPath("status"))...)
}

// SelectableFields: kubectl and controllers select ReplicaSets by
// status.replicas, as upstream allows.
func (replicaSetStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.replicas": strconv.Itoa(int(obj.(*appsv1.ReplicaSet).Status.Replicas))}
}

func validateReplicaSetSpec(spec *appsv1.ReplicaSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Replicas != nil {
		errs = append(errs, nonNegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	errs = append(errs, validateSelector(spec.Selector, "replicaset", path.Child("selector"))...)
	errs = append(errs, validateTemplateMatches(spec.Selector, &spec.Template, path.Child("selector"), path.Child("template"))...)
	return append(errs, validateWorkloadTemplate(&spec.Template, "ReplicaSet", path.Child("template"))...)
}

func validateReplicaSetStatus(s *appsv1.ReplicaSetStatus, path *field.Path) field.ErrorList {
	errs := nonNegative(s.ObservedGeneration, path.Child("observedGeneration"))
	errs = append(errs, validateReplicaCounts(path, s.Replicas,
		replicaCount{"fullyLabeledReplicas", s.FullyLabeledReplicas},
		replicaCount{"readyReplicas", s.ReadyReplicas},
		replicaCount{"availableReplicas", s.AvailableReplicas})...)
	if s.TerminatingReplicas != nil {
		errs = append(errs, nonNegative(int64(*s.TerminatingReplicas), path.Child("terminatingReplicas"))...)
	}
	return append(errs, validateAvailableNotAboveReady(s.AvailableReplicas, s.ReadyReplicas, path)...)
}
