package crd

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	crdcel "skiff.dev/skiff/internal/crd/cel"
	crdschema "skiff.dev/skiff/internal/crd/schema"
	"skiff.dev/skiff/internal/registry"
)

// strategy is a custom resource version's registry.Strategy, driven by its
// structural schema.
type strategy struct {
	gvk        schema.GroupVersionKind
	namespaced bool
	schema     *crdschema.Structural // nil: nothing to prune, default or validate
	rules      *crdcel.Validator     // nil: no CEL rules
	status     bool                  // status subresource enabled
	// terminating, when it returns true, refuses creates: the CRD is being
	// deleted.
	terminating func() bool
}

var _ registry.Strategy = (*strategy)(nil)

func (s *strategy) New() runtime.Object {
	u := &unstructured.Unstructured{Object: map[string]any{}}
	u.SetGroupVersionKind(s.gvk)
	return u
}

func (s *strategy) NewList() runtime.Object {
	l := &unstructured.UnstructuredList{Object: map[string]any{}}
	l.SetGroupVersionKind(s.gvk.GroupVersion().WithKind(s.gvk.Kind + "List"))
	return l
}

// ValidateName: custom resource names are path segments, checked further
// by the schema when it constrains metadata.name.
func (s *strategy) ValidateName(name string, prefix bool) []string {
	return apivalidation.NameIsDNSSubdomain(name, prefix)
}

// Default prunes what the schema does not declare, then applies its
// defaults, as upstream does on decoding a write.
func (s *strategy) Default(obj runtime.Object) {
	if s.schema == nil {
		return
	}
	u := obj.(*unstructured.Unstructured)
	crdschema.Prune(u.Object, s.schema)
	crdschema.Default(u.Object, s.schema)
}

// PruneUnknownFields drops, in place, the fields obj has that the schema
// does not declare, and returns their paths: what fieldValidation reports.
// Default prunes again later, finding nothing left to remove.
func (s *strategy) PruneUnknownFields(obj runtime.Object) []string {
	if s.schema == nil {
		return nil
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	return crdschema.Prune(u.Object, s.schema)
}

func (s *strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	u := obj.(*unstructured.Unstructured)
	if s.status {
		delete(u.Object, "status")
	}
	u.SetGeneration(1)
}

func (s *strategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, subresource string) {
	u, o := obj.(*unstructured.Unstructured), old.(*unstructured.Unstructured)
	if subresource == "status" {
		// Only status changes through /status; managed fields are the
		// write's own.
		status, hasStatus := u.Object["status"]
		mf := u.GetManagedFields()
		u.Object = runtime.DeepCopyJSON(o.Object)
		if hasStatus {
			u.Object["status"] = status
		} else {
			delete(u.Object, "status")
		}
		u.SetManagedFields(mf)
		return
	}
	if s.status {
		if st, ok := o.Object["status"]; ok {
			u.Object["status"] = runtime.DeepCopyJSONValue(st)
		} else {
			delete(u.Object, "status")
		}
	}
	if specChanged(u.Object, o.Object, s.status) {
		u.SetGeneration(o.GetGeneration() + 1)
	} else {
		u.SetGeneration(o.GetGeneration())
	}
}

// specChanged reports whether anything but metadata (and status, when it
// has its own subresource) differs: what bumps generation.
func specChanged(a, b map[string]any, ignoreStatus bool) bool {
	strip := func(m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			if k == "metadata" || k == "apiVersion" || k == "kind" || (ignoreStatus && k == "status") {
				continue
			}
			out[k] = v
		}
		return out
	}
	return !apiequality.Semantic.DeepEqual(strip(a), strip(b))
}

func (s *strategy) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	return s.validate(ctx, obj.(*unstructured.Unstructured), nil)
}

func (s *strategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	return s.validate(ctx, obj.(*unstructured.Unstructured), old.(*unstructured.Unstructured))
}

func (s *strategy) validate(ctx context.Context, u, old *unstructured.Unstructured) field.ErrorList {
	var errs field.ErrorList
	if got := u.GroupVersionKind(); got != s.gvk {
		if got.Kind != s.gvk.Kind {
			errs = append(errs, field.Invalid(field.NewPath("kind"), got.Kind, fmt.Sprintf("must be %s", s.gvk.Kind)))
		}
		if got.GroupVersion() != s.gvk.GroupVersion() {
			errs = append(errs, field.Invalid(field.NewPath("apiVersion"), got.GroupVersion().String(), fmt.Sprintf("must be %s", s.gvk.GroupVersion())))
		}
	}
	if s.schema == nil {
		return errs
	}
	if old == nil {
		errs = append(errs, crdschema.Validate(s.schema, u.Object, nil)...)
	} else {
		errs = append(errs, crdschema.ValidateUpdate(s.schema, u.Object, old.Object, nil)...)
	}
	if s.rules != nil {
		// Rules do not run on a value whose shape is already wrong, as
		// upstream.
		if blocking := crdcel.BlockingError(errs); blocking != nil {
			return append(errs, blocking)
		}
		var oldObj any
		if old != nil {
			oldObj = old.Object
		}
		errs = append(errs, s.rules.Validate(ctx, nil, u.Object, oldObj)...)
	}
	return errs
}

func (s *strategy) SelectableFields(runtime.Object) fields.Set { return nil }

// RequiresResourceVersion: custom resources are not updated
// unconditionally (upstream's AllowUnconditionalUpdate is false for them).
func (s *strategy) RequiresResourceVersion() bool { return true }

// fieldPath turns a scale path (".spec.replicas") into its segments.
func fieldPath(p string) []string {
	return strings.Split(strings.TrimPrefix(p, "."), ".")
}

// AllowCreate refuses creates while the CRD is being deleted, as upstream
// does (405).
func (s *strategy) AllowCreate() error {
	if s.terminating == nil || !s.terminating() {
		return nil
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusMethodNotAllowed, Reason: metav1.StatusReasonMethodNotAllowed,
		Message: "create not allowed while custom resource definition is terminating",
	}}
}
