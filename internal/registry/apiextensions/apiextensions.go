// Package apiextensions holds the strategy of apiextensions.k8s.io/v1
// CustomResourceDefinition: defaulting, what a client may set on create and
// update, and validation with upstream's field paths and messages. Serving
// the custom resources a CRD declares is package crd's job; this package
// only keeps CRD objects well-formed.
//
// Deleting a CRD does not remove it at once: PrepareForDeletion adds the
// customresourcecleanup.apiextensions.k8s.io finalizer and the Terminating
// condition, and package crd removes the finalizer once every custom
// resource of the CRD is gone, as upstream's finalizer controller does.
package apiextensions

import (
	"context"
	"slices"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// CleanupFinalizer holds a CRD being deleted until its custom resources
// are gone.
const CleanupFinalizer = apiextensionsv1.CustomResourceCleanupFinalizer

// Resources are the apiextensions.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		GVR:  apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"),
		Kind: "CustomResourceDefinition", ListKind: "CustomResourceDefinitionList",
		SingularName: "customresourcedefinition", ShortNames: []string{"crd", "crds"},
		Categories:   []string{"api-extensions"},
		Subresources: []string{"status"},
		Strategy:     Strategy{},
	}}
}

// Strategy is the CRD strategy. Compile, when set, checks the CEL rules of
// a version's schema (package crd/cel); nil skips that check.
type Strategy struct{ registry.BaseStrategy }

var (
	_ registry.Strategy         = Strategy{}
	_ registry.DeletionStrategy = Strategy{}
)

func (Strategy) New() runtime.Object { return &apiextensionsv1.CustomResourceDefinition{} }
func (Strategy) NewList() runtime.Object {
	return &apiextensionsv1.CustomResourceDefinitionList{}
}

func (Strategy) Default(obj runtime.Object) {
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(crd)
}

// PrepareForCreate starts status afresh: no conditions until the CRD is
// established, and the storage version as the only stored one.
func (Strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	crd.Status = apiextensionsv1.CustomResourceDefinitionStatus{StoredVersions: []string{}}
	for _, v := range crd.Spec.Versions {
		if v.Storage {
			crd.Status.StoredVersions = append(crd.Status.StoredVersions, v.Name)
		}
	}
	crd.Generation = 1
}

// PrepareForUpdate keeps status on the main resource and spec on /status,
// bumps generation on spec changes, and records a new storage version in
// status.storedVersions: objects may now be stored in it.
func (Strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, subresource string) {
	crd, o := obj.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition)
	if subresource == "status" {
		crd.Spec = o.Spec
		crd.Labels, crd.Annotations, crd.Finalizers, crd.OwnerReferences = o.Labels, o.Annotations, o.Finalizers, o.OwnerReferences
		return
	}
	crd.Status = *o.Status.DeepCopy()
	if !apiequality.Semantic.DeepEqual(crd.Spec, o.Spec) {
		crd.Generation = o.Generation + 1
	}
	for _, v := range crd.Spec.Versions {
		if v.Storage && !slices.Contains(crd.Status.StoredVersions, v.Name) {
			crd.Status.StoredVersions = append(crd.Status.StoredVersions, v.Name)
		}
	}
}

func (Strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return ValidateCRD(obj.(*apiextensionsv1.CustomResourceDefinition))
}

func (Strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return ValidateCRDUpdate(obj.(*apiextensionsv1.CustomResourceDefinition), old.(*apiextensionsv1.CustomResourceDefinition))
}

func (Strategy) SelectableFields(runtime.Object) fields.Set { return nil }

// PrepareForDeletion marks the CRD terminating and holds it with the
// cleanup finalizer until its objects are deleted.
func (Strategy) PrepareForDeletion(obj runtime.Object) {
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !slices.Contains(crd.Finalizers, CleanupFinalizer) {
		crd.Finalizers = append(crd.Finalizers, CleanupFinalizer)
	}
	SetCondition(&crd.Status, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: apiextensionsv1.Terminating, Status: apiextensionsv1.ConditionTrue,
		Reason: "InstanceDeletionPending", Message: "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon",
	})
}

// PendingFinalizers holds a CRD that is not being deleted yet (so that the
// first delete goes through PrepareForDeletion) and one whose cleanup has
// not finished.
func (Strategy) PendingFinalizers(obj runtime.Object) bool {
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	return crd.DeletionTimestamp == nil || slices.Contains(crd.Finalizers, CleanupFinalizer)
}

// SetCondition sets or replaces the condition of c's type; the transition
// time changes only when the status does.
func SetCondition(s *apiextensionsv1.CustomResourceDefinitionStatus, c apiextensionsv1.CustomResourceDefinitionCondition) {
	now := metav1.Now().Rfc3339Copy()
	for i := range s.Conditions {
		old := &s.Conditions[i]
		if old.Type != c.Type {
			continue
		}
		if old.Status != c.Status || old.LastTransitionTime.IsZero() {
			old.LastTransitionTime = now
		}
		old.Status, old.Reason, old.Message = c.Status, c.Reason, c.Message
		return
	}
	c.LastTransitionTime = now
	s.Conditions = append(s.Conditions, c)
}

// Condition returns the condition of type t, or nil.
func Condition(s *apiextensionsv1.CustomResourceDefinitionStatus, t apiextensionsv1.CustomResourceDefinitionConditionType) *apiextensionsv1.CustomResourceDefinitionCondition {
	for i := range s.Conditions {
		if s.Conditions[i].Type == t {
			return &s.Conditions[i]
		}
	}
	return nil
}

// IsTrue reports whether the condition of type t is True.
func IsTrue(s *apiextensionsv1.CustomResourceDefinitionStatus, t apiextensionsv1.CustomResourceDefinitionConditionType) bool {
	c := Condition(s, t)
	return c != nil && c.Status == apiextensionsv1.ConditionTrue
}
