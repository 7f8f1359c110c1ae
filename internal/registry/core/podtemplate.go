package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// podTemplateStrategy: a PodTemplate is a named, freely editable pod
// template; its generation counts template changes.
type podTemplateStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = podTemplateStrategy{}

func (podTemplateStrategy) New() runtime.Object     { return &corev1.PodTemplate{} }
func (podTemplateStrategy) NewList() runtime.Object { return &corev1.PodTemplateList{} }

func (podTemplateStrategy) Default(obj runtime.Object) {
	podspec.DefaultTemplate(&obj.(*corev1.PodTemplate).Template)
}

func (podTemplateStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*corev1.PodTemplate).Generation = 1
}

func (podTemplateStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	pt, o := obj.(*corev1.PodTemplate), old.(*corev1.PodTemplate)
	if !apiequality.Semantic.DeepEqual(pt.Template, o.Template) {
		pt.Generation = o.Generation + 1
	}
}

func (podTemplateStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return podspec.ValidateTemplate(&obj.(*corev1.PodTemplate).Template, field.NewPath("template"))
}

func (s podTemplateStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
