package apps

import (
	"context"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// templateGenerationAnnotation is where apps/v1 keeps a DaemonSet's
// template generation (a spec field in the older API versions): 1 on
// create, bumped by the server on every template change.
const templateGenerationAnnotation = "deprecated.daemonset.template.generation"

type daemonSetStrategy struct{ registry.BaseStrategy }

func (daemonSetStrategy) New() runtime.Object     { return &appsv1.DaemonSet{} }
func (daemonSetStrategy) NewList() runtime.Object { return &appsv1.DaemonSetList{} }

// Default applies apps/v1's DaemonSet defaults: a rolling update of one
// node at a time without surge, ten revisions kept.
func (daemonSetStrategy) Default(obj runtime.Object) {
	ds := obj.(*appsv1.DaemonSet)
	s := &ds.Spec.UpdateStrategy
	if s.Type == "" {
		s.Type = appsv1.RollingUpdateDaemonSetStrategyType
	}
	if s.Type == appsv1.RollingUpdateDaemonSetStrategyType {
		if s.RollingUpdate == nil {
			s.RollingUpdate = &appsv1.RollingUpdateDaemonSet{}
		}
		if s.RollingUpdate.MaxUnavailable == nil {
			v := intstr.FromInt32(1)
			s.RollingUpdate.MaxUnavailable = &v
		}
		if s.RollingUpdate.MaxSurge == nil {
			v := intstr.FromInt32(0)
			s.RollingUpdate.MaxSurge = &v
		}
	}
	if ds.Spec.RevisionHistoryLimit == nil {
		ds.Spec.RevisionHistoryLimit = int32Ptr(10)
	}
	podspec.DefaultTemplate(&ds.Spec.Template)
}

func (daemonSetStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ds := obj.(*appsv1.DaemonSet)
	ds.Status = appsv1.DaemonSetStatus{}
	ds.Generation = 1
	if templateGeneration(ds) < 1 {
		setTemplateGeneration(ds, 1)
	}
}

func (daemonSetStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	ds, o := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	if isStatus(sub) {
		ds.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(ds, o)
		return
	}
	ds.Status = o.Status
	// The template generation is the server's: carried over, and bumped
	// with the template.
	gen := templateGeneration(o)
	if specChanged(ds.Spec.Template, o.Spec.Template) {
		gen++
	}
	setTemplateGeneration(ds, gen)
	bumpGeneration(ds, o, specChanged(ds.Spec, o.Spec))
}

func templateGeneration(ds *appsv1.DaemonSet) int64 {
	n, err := strconv.ParseInt(ds.Annotations[templateGenerationAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func setTemplateGeneration(ds *appsv1.DaemonSet, gen int64) {
	if ds.Annotations == nil {
		ds.Annotations = map[string]string{}
	}
	ds.Annotations[templateGenerationAnnotation] = strconv.FormatInt(gen, 10)
}

func (daemonSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateDaemonSetSpec(&obj.(*appsv1.DaemonSet).Spec, field.NewPath("spec"))
}

func (daemonSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ds, o := obj.(*appsv1.DaemonSet), old.(*appsv1.DaemonSet)
	spec := field.NewPath("spec")
	errs := validateDaemonSetSpec(&ds.Spec, spec)
	errs = append(errs, apivalidation.ValidateImmutableField(ds.Spec.Selector, o.Spec.Selector, spec.Child("selector"))...)
	return append(errs, validateDaemonSetStatus(&ds.Status, &o.Status, field.NewPath("status"))...)
}

// validateDaemonSetSpec follows upstream: a missing selector shows as a
// template that it does not match.
func validateDaemonSetSpec(spec *appsv1.DaemonSetSpec, path *field.Path) field.ErrorList {
	errs := metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	if spec.Selector != nil && len(spec.Selector.MatchLabels)+len(spec.Selector.MatchExpressions) == 0 {
		errs = append(errs, field.Invalid(path.Child("selector"), spec.Selector, "empty selector is invalid for daemonset"))
	}
	errs = append(errs, validateWorkloadTemplate(&spec.Template, "DaemonSet", path.Child("template"))...)
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	errs = append(errs, validateDaemonSetUpdateStrategy(&spec.UpdateStrategy, path.Child("updateStrategy"))...)
	return append(errs, validateRevisionHistoryLimit(spec.RevisionHistoryLimit, path.Child("revisionHistoryLimit"))...)
}

func validateDaemonSetUpdateStrategy(s *appsv1.DaemonSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case appsv1.OnDeleteDaemonSetStrategyType:
		return nil
	case appsv1.RollingUpdateDaemonSetStrategyType:
	default:
		return field.ErrorList{field.NotSupported(path, s.Type,
			[]appsv1.DaemonSetUpdateStrategyType{appsv1.RollingUpdateDaemonSetStrategyType, appsv1.OnDeleteDaemonSetStrategyType})}
	}
	ru, p := s.RollingUpdate, path.Child("rollingUpdate")
	if ru == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	errs := validateOptionalIntOrPercent(ru.MaxUnavailable, p.Child("maxUnavailable"))
	errs = append(errs, validateOptionalIntOrPercent(ru.MaxSurge, p.Child("maxSurge"))...)
	errs = append(errs, notMoreThan100Percent(ru.MaxUnavailable, p.Child("maxUnavailable"))...)
	errs = append(errs, notMoreThan100Percent(ru.MaxSurge, p.Child("maxSurge"))...)
	// Exactly one of the two is non-zero: a node's pod is either replaced
	// in place or surged.
	unavailable, surge := intOrPercentValue(ru.MaxUnavailable) != 0, intOrPercentValue(ru.MaxSurge) != 0
	switch {
	case unavailable && surge:
		errs = append(errs, field.Invalid(p.Child("maxSurge"), ru.MaxSurge, "may not be set when maxUnavailable is non-zero"))
	case !unavailable && !surge:
		errs = append(errs, field.Required(p.Child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
	}
	return errs
}

func validateDaemonSetStatus(s, old *appsv1.DaemonSetStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, c := range []replicaCount{
		{"currentNumberScheduled", s.CurrentNumberScheduled},
		{"numberMisscheduled", s.NumberMisscheduled},
		{"desiredNumberScheduled", s.DesiredNumberScheduled},
		{"numberReady", s.NumberReady},
		{"updatedNumberScheduled", s.UpdatedNumberScheduled},
		{"numberAvailable", s.NumberAvailable},
		{"numberUnavailable", s.NumberUnavailable},
	} {
		errs = append(errs, nonNegative(int64(c.value), path.Child(c.name))...)
	}
	errs = append(errs, nonNegative(s.ObservedGeneration, path.Child("observedGeneration"))...)
	return append(errs, validateCollisionCount(s.CollisionCount, old.CollisionCount, path.Child("collisionCount"))...)
}
