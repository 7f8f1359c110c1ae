package apiserver

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/watchcache"
)

// LocalListWatch is a list-watch of every object of resource gvr served
// from the server's watch cache in process: no HTTP, TLS, encoding or
// decoding, and no second copy of the objects. It is for the control
// plane's own informers (scheduler, controllers, the built-in node agent),
// which run with full rights, so requests are neither authenticated,
// authorized nor admitted, and are not counted as API requests.
//
// The objects its watches return are the cache's own, shared with every
// other reader and with the API's responses: a reader must copy before
// changing anything, as with any informer's objects (no transform may
// write them either), and the watch cache warms Quantities so that reading
// never writes. Lists return typed lists, whose items are shallow copies
// (watchcache.Shallow).
//
// ok is false for a resource the server does not serve, or serves through
// another resource's storage.
func (s *Server) LocalListWatch(gvr schema.GroupVersionResource) (lw cache.ListerWatcher, ok bool) {
	s.mu.RLock()
	sv, found := s.resources[gvr]
	s.mu.RUnlock()
	if !found || sv.res.StoredAs != nil {
		return nil, false
	}
	return &localListWatch{store: sv.store}, true
}

type localListWatch struct {
	store *registry.Store
}

var _ cache.ListerWatcherWithContext = (*localListWatch)(nil)

func (l *localListWatch) List(opts metav1.ListOptions) (runtime.Object, error) {
	return l.ListWithContext(context.Background(), opts)
}

func (l *localListWatch) Watch(opts metav1.ListOptions) (watch.Interface, error) {
	return l.WatchWithContext(context.Background(), opts)
}

func (l *localListWatch) ListWithContext(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	lo, err := localListOptions(opts)
	if err != nil {
		return nil, err
	}
	// The typed list holds the items by value: shallow copies already.
	return l.store.List(ctx, "", lo)
}

func (l *localListWatch) WatchWithContext(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	lo, err := localListOptions(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w, err := l.store.Watch(ctx, "", registry.WatchOptions{
		ListOptions: lo, AllowBookmarks: opts.AllowWatchBookmarks, SendInitialEvents: opts.SendInitialEvents,
	})
	if err != nil {
		cancel()
		return nil, err
	}
	// The cache's events carry *CachedObject wrappers; informers expect
	// the kind's own type.
	return watch.Filter(stopCancels{w, cancel}, func(ev watch.Event) (watch.Event, bool) {
		if co, ok := ev.Object.(*watchcache.CachedObject); ok {
			ev.Object = co.Object()
		}
		return ev, true
	}), nil
}

// stopCancels ends a watch's context when it is stopped.
type stopCancels struct {
	watch.Interface
	cancel context.CancelFunc
}

func (s stopCancels) Stop() {
	s.Interface.Stop()
	s.cancel()
}

// localListOptions are opts as the registry takes them; a watch uses the
// selectors and the resourceVersion.
func localListOptions(opts metav1.ListOptions) (registry.ListOptions, error) {
	lo := registry.ListOptions{
		ResourceVersion: opts.ResourceVersion, ResourceVersionMatch: opts.ResourceVersionMatch,
		Limit: opts.Limit, Continue: opts.Continue,
	}
	if opts.LabelSelector != "" {
		sel, err := labels.Parse(opts.LabelSelector)
		if err != nil {
			return lo, err
		}
		lo.Labels = sel
	}
	if opts.FieldSelector != "" {
		sel, err := fields.ParseSelector(opts.FieldSelector)
		if err != nil {
			return lo, err
		}
		lo.Fields = sel
	}
	return lo, nil
}
