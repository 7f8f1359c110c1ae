// Package coordination holds the strategy of coordination.k8s.io/v1 Lease,
// the object leader election and node heartbeats renew.
package coordination

import (
	"context"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// Resources are the coordination.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		GVR: coordinationv1.SchemeGroupVersion.WithResource("leases"), Kind: "Lease", ListKind: "LeaseList",
		SingularName: "lease", Namespaced: true, Strategy: leaseStrategy{},
	}}
}

type leaseStrategy struct{ registry.BaseStrategy }

func (leaseStrategy) New() runtime.Object     { return &coordinationv1.Lease{} }
func (leaseStrategy) NewList() runtime.Object { return &coordinationv1.LeaseList{} }

func (leaseStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	spec := obj.(*coordinationv1.Lease).Spec
	var errs field.ErrorList
	p := field.NewPath("spec")
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(p.Child("leaseDurationSeconds"), *spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		errs = append(errs, field.Invalid(p.Child("leaseTransitions"), *spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	return errs
}

func (s leaseStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}
