package apiserver

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/admission"
	"skiff.dev/skiff/internal/registry"
)

// SetAdmission sets the admission plugins every write passes (none by
// default). Call before serving.
func (s *Server) SetAdmission(c admission.Chain) { s.admission = c }

// AdmissionReader is what admission plugins read through: single objects
// from storage, lists from the watch caches.
func (s *Server) AdmissionReader() admission.Reader { return admissionReader{s} }

// admit wraps opts' mutating step (managed-fields tracking, which must
// see only what the client sent) with the mutating plugins, and adds the
// validating ones.
func (s *Server) admit(res *registry.Resource, ns string, opts registry.WriteOptions) registry.WriteOptions {
	if len(s.admission) == 0 {
		return opts
	}
	attrs := func(obj, old runtime.Object) *admission.Attributes {
		op := admission.Update
		if old == nil {
			op = admission.Create
		}
		return &admission.Attributes{
			Operation: op, Resource: res.GVR.GroupResource(), Subresource: opts.Subresource,
			Namespace: ns, Object: obj, OldObject: old, DryRun: opts.DryRun,
		}
	}
	track := opts.Mutate
	opts.Mutate = func(ctx context.Context, obj, old runtime.Object) error {
		if track != nil {
			if err := track(ctx, obj, old); err != nil {
				return err
			}
		}
		return s.admission.Admit(ctx, attrs(obj, old))
	}
	check := opts.Validate
	opts.Validate = func(ctx context.Context, obj, old runtime.Object) error {
		if check != nil {
			if err := check(ctx, obj, old); err != nil {
				return err
			}
		}
		return s.admission.Validate(ctx, attrs(obj, old))
	}
	return opts
}

type admissionReader struct{ s *Server }

func (r admissionReader) store(gvr schema.GroupVersionResource) (*registry.Store, error) {
	st, ok := r.s.Store(gvr)
	if !ok {
		return nil, fmt.Errorf("resource %s is not served", gvr)
	}
	return st, nil
}

func (r admissionReader) Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	st, err := r.store(gvr)
	if err != nil {
		return nil, err
	}
	return st.Get(ctx, ns, name)
}

func (r admissionReader) List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]runtime.Object, error) {
	st, err := r.store(gvr)
	if err != nil {
		return nil, err
	}
	list, err := st.List(ctx, ns, registry.ListOptions{})
	if err != nil {
		return nil, err
	}
	return meta.ExtractList(list)
}

func (r admissionReader) Served(gr schema.GroupResource) (schema.GroupVersionResource, bool) {
	r.s.mu.RLock()
	defer r.s.mu.RUnlock()
	for _, v := range r.s.versions[gr.Group] {
		gvr := gr.WithVersion(v)
		if _, ok := r.s.resources[gvr]; ok {
			return gvr, true
		}
	}
	return schema.GroupVersionResource{}, false
}
