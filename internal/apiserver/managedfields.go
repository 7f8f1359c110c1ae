package apiserver

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"skiff.dev/skiff/internal/registry"
)

// fieldManagers caches one managedfields.FieldManager per resource and
// subresource, and one type converter per kind.
type fieldManagers struct {
	mu sync.Mutex
	// converterFor builds the type converter of one kind from its schemas;
	// nil: deduce them from the objects (every list atomic), until OpenAPI
	// schemas are wired in.
	converterFor func(schema.GroupVersionKind) (managedfields.TypeConverter, error)
	// converters are converterFor's results, built on a kind's first write:
	// a converter of every kind at once would hold the typed schemas of
	// kinds nobody writes (MiBs of heap).
	converters map[schema.GroupVersionKind]managedfields.TypeConverter
	byKey      map[fieldManagerKey]*fieldManager
	// convertCustom converts custom resources between versions.
	convertCustom func(obj *unstructured.Unstructured, target schema.GroupVersion) (runtime.Object, error)
}

// fieldManager tracks the writes of one resource or subresource: creates
// by createTracker when it can, everything else by the generic chain.
type fieldManager struct {
	*managedfields.FieldManager
	create      *createTracker // nil: creates take the generic chain too
	subresource string
}

type fieldManagerKey struct {
	gvr         schema.GroupVersionResource
	subresource string
}

// setTypeConverters switches to schema-aware managed fields, each kind's
// converter built by converterFor when first needed; converters and field
// managers built before are dropped.
func (f *fieldManagers) setTypeConverters(converterFor func(schema.GroupVersionKind) (managedfields.TypeConverter, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.converterFor = converterFor
	f.converters = nil
	f.byKey = nil
}

func (f *fieldManagers) get(res *registry.Resource, subresource string) (*fieldManager, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	key := fieldManagerKey{res.GVR, subresource}
	if fm, ok := f.byKey[key]; ok {
		return fm, nil
	}
	gvk := res.GVK()
	tc, err := f.typeConverterLocked(gvk)
	if err != nil {
		return nil, err
	}
	// The strategy defaults the merged object, so apply compares like with like.
	generic, err := managedfields.NewDefaultFieldManager(tc, readOnlyConvertor{Scheme: Scheme, versions: f.convertCustom}, res.Strategy, unstructuredCreater{Scheme}, gvk, gvk.GroupVersion(), subresource, nil)
	if err != nil {
		return nil, err
	}
	fm := &fieldManager{FieldManager: generic, create: newCreateTracker(res, tc, subresource), subresource: subresource}
	if f.byKey == nil {
		f.byKey = make(map[fieldManagerKey]*fieldManager)
	}
	f.byKey[key] = fm
	return fm, nil
}

func (f *fieldManagers) typeConverterLocked(gvk schema.GroupVersionKind) (managedfields.TypeConverter, error) {
	if f.converterFor == nil {
		return managedfields.NewDeducedTypeConverter(), nil
	}
	if tc, ok := f.converters[gvk]; ok {
		return tc, nil
	}
	tc, err := f.converterFor(gvk)
	if err != nil {
		return nil, fmt.Errorf("apiserver: server-side apply schemas of %v: %w", gvk, err)
	}
	if f.converters == nil {
		f.converters = make(map[schema.GroupVersionKind]managedfields.TypeConverter)
	}
	f.converters[gvk] = tc
	return tc, nil
}

// managedFieldsMutator records the write of manager in the object's
// managedFields, as every write in Kubernetes does.
func (s *Server) managedFieldsMutator(res *registry.Resource, manager, verb, subresource string) func(context.Context, runtime.Object, runtime.Object) error {
	return func(_ context.Context, obj, old runtime.Object) error {
		fm, err := s.fieldManagers.get(res, subresource)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		obj.GetObjectKind().SetGroupVersionKind(res.GVK())
		if old == nil && fm.create.track(obj, manager, time.Now()) {
			return nil
		}
		return fm.trackGeneric(res, obj, old, manager)
	}
}

// trackGeneric records the write of manager in obj's managedFields through
// apimachinery's field manager; obj has its kind set.
func (fm *fieldManager) trackGeneric(res *registry.Resource, obj, old runtime.Object, manager string) error {
	live := old
	if live == nil {
		live = res.Strategy.New()
		live.GetObjectKind().SetGroupVersionKind(res.GVK())
	}
	l, o := withoutShared(live, obj)
	if fm.subresource != "" {
		// A subresource's write keeps the live managed fields whatever it
		// sends; the chain would parse what it sent first, for nothing.
		o = withoutManagedFields(o, obj)
	}
	out := fm.UpdateNoErrors(l, o, manager)
	om, err := meta.Accessor(out)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	m, _ := meta.Accessor(obj)
	m.SetManagedFields(om.GetManagedFields())
	return nil
}

// applyMutator performs a server-side apply of applied onto the object the
// store prepared (the live object, or a new one), then defaults the result.
func (s *Server) applyMutator(res *registry.Resource, applied *unstructured.Unstructured, manager string, force bool, subresource string) func(context.Context, runtime.Object, runtime.Object) error {
	return func(ctx context.Context, obj, old runtime.Object) error {
		fm, err := s.fieldManagers.get(res, subresource)
		if err != nil {
			return apierrors.NewInternalError(err)
		}
		base := obj
		if old == nil {
			// A new object: apply onto nothing but its metadata. The
			// defaults the store filled in would otherwise count as fields
			// of an earlier manager and conflict with the applied values.
			if base, err = metadataOnly(res, obj); err != nil {
				return apierrors.NewInternalError(err)
			}
		}
		base.GetObjectKind().SetGroupVersionKind(res.GVK())
		out, err := fm.Apply(base, applied, manager, force)
		if err != nil {
			if apierrors.IsConflict(err) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) {
				return err
			}
			return apierrors.NewBadRequest(err.Error())
		}
		dst, src := reflect.ValueOf(obj), reflect.ValueOf(out)
		if dst.Type() != src.Type() || dst.Kind() != reflect.Pointer {
			return apierrors.NewInternalError(fmt.Errorf("apply returned %T for %T", out, obj))
		}
		dst.Elem().Set(src.Elem())
		res.Strategy.Default(obj)
		if old == nil {
			res.Strategy.PrepareForCreate(ctx, obj)
		}
		return nil
	}
}

// metadataOnly is an empty object of res's kind with obj's metadata.
func metadataOnly(res *registry.Resource, obj runtime.Object) (runtime.Object, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		out := &unstructured.Unstructured{Object: map[string]any{}}
		if md, ok := u.Object["metadata"]; ok {
			out.Object["metadata"] = runtime.DeepCopyJSONValue(md)
		}
		out.SetGroupVersionKind(u.GroupVersionKind())
		return out, nil
	}
	out := res.Strategy.New()
	src, ok1 := obj.(metav1.ObjectMetaAccessor)
	dst, ok2 := out.(metav1.ObjectMetaAccessor)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("apply: %T has no object metadata", obj)
	}
	from, ok1 := src.GetObjectMeta().(*metav1.ObjectMeta)
	to, ok2 := dst.GetObjectMeta().(*metav1.ObjectMeta)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("apply: %T has no object metadata", obj)
	}
	*to = *from.DeepCopy()
	return out, nil
}
