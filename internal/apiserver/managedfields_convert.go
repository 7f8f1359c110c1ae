package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/registry"
)

// readOnlyConvertor is the object convertor of the field managers: Scheme,
// except that an object already of the target kind (its type registered
// as that kind, which its TypeMeta names) is returned as it is, where
// Scheme returns a deep copy.
//
// This is safe because apimachinery's field manager (v0.37.2) only reads
// what it converts this way: structuredMerge's Update and Apply and
// lastAppliedManager convert the live and new objects to their version to
// make typed values of them, which are compared and dropped. The one
// result it writes to, the merged object of an apply that it defaults, it
// converts from an unstructured object, which is always converted anew.
type readOnlyConvertor struct {
	*runtime.Scheme
	// versions, when set, converts objects the scheme does not know
	// (custom resources) between the versions of their kind.
	versions func(obj *unstructured.Unstructured, target schema.GroupVersion) (runtime.Object, error)
}

func (c readOnlyConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	if u, ok := in.(runtime.Unstructured); ok {
		if out, ok := c.convertUnknown(u, target); ok {
			return out, nil
		}
	} else {
		gvk := in.GetObjectKind().GroupVersionKind()
		kinds, unversioned, err := c.ObjectKinds(in)
		if err == nil && !unversioned {
			// As Scheme.ConvertToVersion picks the kind to convert to.
			if want, ok := target.KindForGroupVersionKinds(kinds); ok && want == gvk {
				for _, k := range kinds {
					if k == want {
						return in, nil
					}
				}
			}
		}
	}
	return c.Scheme.ConvertToVersion(in, target)
}

// ConvertToVersion of an object the scheme does not know (a custom
// resource) renames its version: the field manager converts between the
// versions of one kind only to compare field sets, and custom resource
// versions share their fields unless a conversion webhook says otherwise.
func (c readOnlyConvertor) convertUnknown(in runtime.Unstructured, target runtime.GroupVersioner) (runtime.Object, bool) {
	obj, ok := in.(runtime.Object)
	if !ok {
		return nil, false
	}
	gvk := obj.GetObjectKind().GroupVersionKind()
	if gvk.Empty() || c.Recognizes(gvk) {
		return nil, false
	}
	want, ok := target.KindForGroupVersionKinds([]schema.GroupVersionKind{gvk})
	if !ok {
		return nil, false
	}
	if want == gvk {
		return obj, true
	}
	u, ok := obj.DeepCopyObject().(*unstructured.Unstructured)
	if !ok {
		return nil, false
	}
	if c.versions != nil {
		if out, err := c.versions(u, want.GroupVersion()); err == nil {
			return out, true
		}
	}
	u.SetGroupVersionKind(want)
	return u, true
}

// convertCustom converts a custom resource to another served version of
// its kind the way its reads and writes are converted: to the storage
// version through the resource of its own version, then out through the
// target version's (a conversion webhook's renames included), so managed
// fields recorded through one version map onto another.
func (s *Server) convertCustom(obj *unstructured.Unstructured, target schema.GroupVersion) (runtime.Object, error) {
	from := obj.GroupVersionKind()
	s.mu.RLock()
	var src, dst *registry.Resource
	for gvr, sv := range s.resources {
		if sv.res.Kind != from.Kind || gvr.Group != from.Group {
			continue
		}
		switch gvr.Version {
		case from.Version:
			src = sv.res
		case target.Version:
			dst = sv.res
		}
	}
	s.mu.RUnlock()
	if src == nil || dst == nil || src.StoredAs == nil || dst.StoredAs == nil {
		return nil, fmt.Errorf("apiserver: no conversion of %v to %v", from, target)
	}
	stored, err := src.StoredAs.ToStorage(obj)
	if err != nil {
		return nil, err
	}
	return dst.StoredAs.FromStorage(stored)
}

// unstructuredCreater is Scheme as the field managers' object creater,
// making unstructured objects of kinds it does not know (custom resources).
type unstructuredCreater struct{ *runtime.Scheme }

func (c unstructuredCreater) New(gvk schema.GroupVersionKind) (runtime.Object, error) {
	if c.Recognizes(gvk) {
		return c.Scheme.New(gvk)
	}
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	return u, nil
}
