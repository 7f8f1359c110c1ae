package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

type deploymentStrategy struct{ registry.BaseStrategy }

func (deploymentStrategy) New() runtime.Object     { return &appsv1.Deployment{} }
func (deploymentStrategy) NewList() runtime.Object { return &appsv1.DeploymentList{} }

// Default applies apps/v1's Deployment defaults: one replica, a 25%/25%
// rolling update, ten old ReplicaSets kept, a 600s progress deadline.
func (deploymentStrategy) Default(obj runtime.Object) {
	d := obj.(*appsv1.Deployment)
	if d.Spec.Replicas == nil {
		d.Spec.Replicas = int32Ptr(1)
	}
	s := &d.Spec.Strategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDeploymentStrategyType
	}
	if s.Type == appsv1.RollingUpdateDeploymentStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDeployment{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromString("25%")
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if d.Spec.RevisionHistoryLimit == nil {
		d.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
	if d.Spec.ProgressDeadlineSeconds == nil {
		d.Spec.ProgressDeadlineSeconds = int32Ptr(600)
	}
	podspec.DefaultTemplate(&d.Spec.Template)
}

func (deploymentStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	d := obj.(*appsv1.Deployment)
	d.Status = appsv1.DeploymentStatus{}
	d.Generation = 1
}

// PrepareForUpdate bumps the generation on spec changes and on annotation
// changes too, because the controller copies a Deployment's annotations to
// its ReplicaSets and must notice.
func (deploymentStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	if isStatus(sub) {
		// Unlike most kinds, only spec and labels are kept: the
		// controller records deployment.kubernetes.io/revision through
		// /status, as upstream's status strategy allows.
		d.Spec = o.Spec
		d.Labels = o.Labels
		return
	}
	d.Status = o.Status
	bumpGeneration(d, o, specChanged(d.Spec, o.Spec) || !apiequality.Semantic.DeepEqual(d.Annotations, o.Annotations))
}

func (deploymentStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateDeploymentSpec(&obj.(*appsv1.Deployment).Spec, field.NewPath("spec"))
}

func (deploymentStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	d, o := obj.(*appsv1.Deployment), old.(*appsv1.Deployment)
	spec := field.NewPath("spec")
	errs := validateDeploymentSpec(&d.Spec, spec)
	errs = append(errs, apivalidation.ValidateImmutableField(d.Spec.Selector, o.Spec.Selector, spec.Child("selector"))...)
	return append(errs, validateDeploymentStatus(&d.Status, &o.Status, field.NewPath("status"))...)
}

func validateDeploymentSpec(spec *appsv1.DeploymentSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if spec.Replicas != nil {
		errs = append(errs, nonNegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, validateSelector(spec.Selector, "deployment", path.Child("selector"))...)
	errs = append(errs, validateTemplateMatches(spec.Selector, &spec.Template, path.Child("selector"), path.Child("template"))...)
	errs = append(errs, validateWorkloadTemplate(&spec.Template, "ReplicaSet", path.Child("template"))...)
	errs = append(errs, validateDeploymentStrategy(&spec.Strategy, path.Child("strategy"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	errs = append(errs, validateRevisionHistoryLimit(spec.RevisionHistoryLimit, path.Child("revisionHistoryLimit"))...)
	if p := spec.ProgressDeadlineSeconds; p != nil {
		errs = append(errs, nonNegative(int64(*p), path.Child("progressDeadlineSeconds"))...)
		if *p <= spec.MinReadySeconds {
			errs = append(errs, field.Invalid(path.Child("progressDeadlineSeconds"), *p, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateDeploymentStrategy(s *appsv1.DeploymentStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.RecreateDeploymentStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Forbidden(path.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")}
		}
	case appsv1.RollingUpdateDeploymentStrategyType:
		if s.RollingUpdate == nil {
			return field.ErrorList{field.Required(path.Child("rollingUpdate"), "this should be defaulted and never be nil")}
		}
		ru, p := s.RollingUpdate, path.Child("rollingUpdate")
		errs := validateOptionalIntOrPercent(ru.MaxUnavailable, p.Child("maxUnavailable"))
		errs = append(errs, validateOptionalIntOrPercent(ru.MaxSurge, p.Child("maxSurge"))...)
		if intOrPercentValue(ru.MaxUnavailable) == 0 && intOrPercentValue(ru.MaxSurge) == 0 {
			errs = append(errs, field.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
		}
		return append(errs, notMoreThan100Percent(ru.MaxUnavailable, p.Child("maxUnavailable"))...)
	default:
		return field.ErrorList{field.NotSupported(path, s.Type,
			[]appsv1.DeploymentStrategyType{appsv1.RecreateDeploymentStrategyType, appsv1.RollingUpdateDeploymentStrategyType})}
	}
	return nil
}

func validateDeploymentStatus(s, old *appsv1.DeploymentStatus, path *field.Path) field.ErrorList {
	errs := nonNegative(s.ObservedGeneration, path.Child("observedGeneration"))
	errs = append(errs, validateReplicaCounts(path, s.Replicas,
		replicaCount{"updatedReplicas", s.UpdatedReplicas},
		replicaCount{"readyReplicas", s.ReadyReplicas},
		replicaCount{"availableReplicas", s.AvailableReplicas})...)
	errs = append(errs, nonNegative(int64(s.UnavailableReplicas), path.Child("unavailableReplicas"))...)
	if s.TerminatingReplicas != nil {
		errs = append(errs, nonNegative(int64(*s.TerminatingReplicas), path.Child("terminatingReplicas"))...)
	}
	errs = append(errs, validateAvailableNotAboveReady(s.AvailableReplicas, s.ReadyReplicas, path)...)
	return append(errs, validateCollisionCount(s.CollisionCount, old.CollisionCount, path.Child("collisionCount"))...)
}
