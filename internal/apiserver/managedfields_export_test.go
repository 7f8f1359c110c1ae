package apiserver

import (
	"maps"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/skiff/internal/registry"
)

// TrackCreate records the create of obj by manager in its managedFields as
// the create path does; fast chooses the create tracker, which may decline
// (false), or else the generic chain, which always tracks.
func (s *Server) TrackCreate(res *registry.Resource, subresource string, obj runtime.Object, manager string, fast bool) (bool, error) {
	fm, err := s.fieldManagers.get(res, subresource)
	if err != nil {
		return false, err
	}
	obj.GetObjectKind().SetGroupVersionKind(res.GVK())
	if fast {
		return fm.create.track(obj, manager, time.Now()), nil
	}
	return true, fm.trackGeneric(res, obj, nil, manager)
}

// SchemaWithInteger switches managed fields to the published schemas, in
// which gvk's definition def types its property prop as an integer: the
// schema rejects any other value there.
func (s *Server) SchemaWithInteger(gvk schema.GroupVersionKind, def, prop string) {
	svc := s.openapi
	s.fieldManagers.setTypeConverters(func(k schema.GroupVersionKind) (managedfields.TypeConverter, error) {
		schemas, err := svc.KindSchemas(k)
		if err != nil {
			return nil, err
		}
		if k == gvk {
			schemas = maps.Clone(schemas)
			d := *schemas[def]
			d.Properties = maps.Clone(d.Properties)
			d.Properties[prop] = spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"integer"}}}
			schemas[def] = &d
		}
		return managedfields.NewTypeConverter(schemas, false)
	})
}

// FieldManagerFor is the field manager of res and subresource; copying:
// one that, as apimachinery's by default, converts with Scheme, deep
// copies included.
func (s *Server) FieldManagerFor(res *registry.Resource, subresource string, copying bool) (*managedfields.FieldManager, error) {
	fm, err := s.fieldManagers.get(res, subresource)
	if err != nil {
		return nil, err
	}
	if !copying {
		return fm.FieldManager, nil
	}
	s.fieldManagers.mu.Lock()
	tc, err := s.fieldManagers.typeConverterLocked(res.GVK())
	s.fieldManagers.mu.Unlock()
	if err != nil {
		return nil, err
	}
	gvk := res.GVK()
	return managedfields.NewDefaultFieldManager(tc, Scheme, res.Strategy, Scheme, gvk, gvk.GroupVersion(), subresource, nil)
}

// TrackUpdate records the update of old into obj by manager in obj's
// managedFields as the update path does; whole passes the objects to the
// chain as they are, without leaving out what they share.
func (s *Server) TrackUpdate(res *registry.Resource, subresource string, obj, old runtime.Object, manager string, whole bool) error {
	fm, err := s.fieldManagers.get(res, subresource)
	if err != nil {
		return err
	}
	obj.GetObjectKind().SetGroupVersionKind(res.GVK())
	old.GetObjectKind().SetGroupVersionKind(res.GVK())
	if whole {
		out := fm.UpdateNoErrors(old, obj, manager)
		om, _ := meta.Accessor(out)
		m, _ := meta.Accessor(obj)
		m.SetManagedFields(om.GetManagedFields())
		return nil
	}
	return fm.trackGeneric(res, obj, old, manager)
}

// WithoutShared is withoutShared.
var WithoutShared = withoutShared
