package replicaset

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/informers"
)

// newIndexedInformer is an informer indexed and trimmed as the shared
// informers are, for tests that feed it themselves.
func newIndexedInformer(lw cache.ListerWatcher, obj runtime.Object) cache.SharedIndexInformer {
	inf := cache.NewSharedIndexInformer(lw, obj, 0,
		cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc})
	// Setting a transform fails only on a started informer.
	_ = inf.SetTransform(informers.DropManagedFields)
	return inf
}
