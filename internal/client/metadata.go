package client

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
)

// MetadataListWatch lists and watches resource gvr in every namespace as
// PartialObjectMetadata, for an informer of any resource, custom ones
// included, that needs only metadata (the garbage collector, quota
// counts).
func MetadataListWatch(md metadata.Interface, gvr schema.GroupVersionResource) cache.ListerWatcher {
	ri := md.Resource(gvr)
	return listThenWatch{&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return ri.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return ri.Watch(ctx, opts)
		},
	}}
}

// listThenWatch makes the reflector list, then watch, instead of one
// streaming watch (sendInitialEvents): skiff's server ends a metadata-only
// watch at the initial-events-end bookmark instead of sending it, so a
// streaming list would never finish.
type listThenWatch struct{ *cache.ListWatch }

func (listThenWatch) IsWatchListSemanticsUnSupported() bool { return true }
