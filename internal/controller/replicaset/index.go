package replicaset

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/informers"
)

// The controller index lives with the shared informers; these names stay
// for the controllers that grew up here.
const ControllerUIDIndex = informers.ControllerUIDIndex

// OrphanIndexKey is informers.OrphanIndexKey.
func OrphanIndexKey(ns string) string { return informers.OrphanIndexKey(ns) }

// ControllerUIDIndexFunc is informers.ControllerUIDIndexFunc.
func ControllerUIDIndexFunc(obj any) ([]string, error) { return informers.ControllerUIDIndexFunc(obj) }

// newIndexedInformer is an informer indexed by namespace and controller,
// holding its objects without their managed fields, as the shared
// informers are; the tests build theirs with it.
func newIndexedInformer(lw cache.ListerWatcher, obj runtime.Object) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformer(lw, obj, 0,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, ControllerUIDIndex: ControllerUIDIndexFunc})
	// Setting a transform fails only on a started informer.
	_ = inf.SetTransform(DropManagedFields)
	return inf
}

// DropManagedFields is an informer transform that drops an object's
// managed fields, which no controller reads. An object updated from the
// cache is sent without them, and the API server then keeps the stored
// ones (as kube-apiserver does for a request without managedFields).
func DropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
