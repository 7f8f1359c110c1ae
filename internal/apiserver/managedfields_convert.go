package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
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
}

func (c readOnlyConvertor) ConvertToVersion(in runtime.Object, target runtime.GroupVersioner) (runtime.Object, error) {
	if _, ok := in.(runtime.Unstructured); !ok {
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
