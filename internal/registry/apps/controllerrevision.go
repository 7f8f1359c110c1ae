package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// controllerRevisionStrategy: a ControllerRevision is an immutable snapshot
// of a StatefulSet's or DaemonSet's template; it has no spec, status or
// generation.
type controllerRevisionStrategy struct{ registry.BaseStrategy }

func (controllerRevisionStrategy) New() runtime.Object { return &appsv1.ControllerRevision{} }
func (controllerRevisionStrategy) NewList() runtime.Object {
	return &appsv1.ControllerRevisionList{}
}

func (controllerRevisionStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateControllerRevision(obj.(*appsv1.ControllerRevision))
}

// ValidateUpdate: data never changes; the revision number may, when a
// controller rolls back to an old template.
func (controllerRevisionStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cr, o := obj.(*appsv1.ControllerRevision), old.(*appsv1.ControllerRevision)
	errs := validateControllerRevision(cr)
	if !apiequality.Semantic.DeepEqual(cr.Data, o.Data) {
		errs = append(errs, field.Invalid(field.NewPath("data"), "", "field is immutable"))
	}
	return errs
}

func validateControllerRevision(cr *appsv1.ControllerRevision) field.ErrorList {
	var errs field.ErrorList
	if cr.Data.Raw == nil && cr.Data.Object == nil {
		errs = append(errs, field.Required(field.NewPath("data"), "data is mandatory"))
	}
	return append(errs, nonNegative(cr.Revision, field.NewPath("revision"))...)
}
