package autoscaling

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// V1Resources are the autoscaling/v1 resources; v2 is the autoscaling/v2
// horizontalpodautoscalers resource whose storage they share, so an HPA
// written through either version reads through both (kubectl autoscale
// writes v1, kubectl get reads v2, the preferred version).
func V1Resources(v2 *registry.Resource) []*registry.Resource {
	return []*registry.Resource{{
		GVR: autoscalingv1.SchemeGroupVersion.WithResource("horizontalpodautoscalers"), Kind: "HorizontalPodAutoscaler",
		ListKind: "HorizontalPodAutoscalerList", SingularName: "horizontalpodautoscaler", ShortNames: []string{"hpa"},
		Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status"},
		Strategy: v1Strategy{v2: v2.Strategy},
		StoredAs: &registry.StoredAs{Resource: v2, ToStorage: v1ToStorage, FromStorage: v1FromStorage},
	}}
}

// v1Strategy gives autoscaling/v1 HPAs v2's semantics: every step runs on
// the v2 form of the object. Field paths in errors are v2's, as upstream
// reports them (it validates its internal type, which v2 mirrors).
type v1Strategy struct{ v2 registry.Strategy }

var _ registry.Strategy = v1Strategy{}

func (v1Strategy) New() runtime.Object     { return &autoscalingv1.HorizontalPodAutoscaler{} }
func (v1Strategy) NewList() runtime.Object { return &autoscalingv1.HorizontalPodAutoscalerList{} }

func (s v1Strategy) ValidateName(name string, prefix bool) []string {
	return s.v2.ValidateName(name, prefix)
}

// Default applies v2's defaults (one minimum replica, the 80% CPU target
// of an HPA without metrics, the behavior's gaps) to the v2 form: upstream
// applies them when it reads the object back from storage as v2.
func (s v1Strategy) Default(obj runtime.Object) {
	h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	v2 := ToV2(h)
	s.v2.Default(v2)
	*h = *ToV1(v2)
}

func (s v1Strategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	v2 := ToV2(h)
	s.v2.PrepareForCreate(ctx, v2)
	*h = *ToV1(v2)
}

func (s v1Strategy) PrepareForUpdate(ctx context.Context, obj, old runtime.Object, sub string) {
	h := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	v2 := ToV2(h)
	s.v2.PrepareForUpdate(ctx, v2, ToV2(old.(*autoscalingv1.HorizontalPodAutoscaler)), sub)
	*h = *ToV1(v2)
}

func (s v1Strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return s.v2.Validate(ctx, ToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler)))
}

func (s v1Strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return s.v2.ValidateUpdate(ctx, ToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler)), ToV2(old.(*autoscalingv1.HorizontalPodAutoscaler)))
}

func (s v1Strategy) SelectableFields(obj runtime.Object) fields.Set {
	return s.v2.SelectableFields(ToV2(obj.(*autoscalingv1.HorizontalPodAutoscaler)))
}

func v1ToStorage(obj runtime.Object) (runtime.Object, error) {
	h, ok := obj.(*autoscalingv1.HorizontalPodAutoscaler)
	if !ok {
		return nil, fmt.Errorf("autoscaling: want *autoscalingv1.HorizontalPodAutoscaler, got %T", obj)
	}
	return ToV2(h), nil
}

func v1FromStorage(obj runtime.Object) (runtime.Object, error) {
	h, ok := obj.(*autoscalingv2.HorizontalPodAutoscaler)
	if !ok {
		return nil, fmt.Errorf("autoscaling: want *autoscalingv2.HorizontalPodAutoscaler, got %T", obj)
	}
	return ToV1(h), nil
}
