package informers

import (
	"context"
	"reflect"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/client"
)

// ControllerUIDIndex indexes objects by the UID of their controller, and
// controllerless objects under OrphanIndexKey(namespace): a controller
// finds what it owns, and the orphans it might adopt, without a scan of
// the namespace.
const ControllerUIDIndex = "controllerUID"

// OrphanIndexKey is the ControllerUIDIndex key of the orphans in ns. UIDs
// never contain a slash, so it cannot collide with one.
func OrphanIndexKey(ns string) string { return "orphan/" + ns }

// ControllerUIDIndexFunc is the ControllerUIDIndex index function.
func ControllerUIDIndexFunc(obj any) ([]string, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return nil, nil
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		return []string{string(ref.UID)}, nil
	}
	return []string{OrphanIndexKey(m.GetNamespace())}, nil
}

// Local serves list-watches of a resource without the API (the API
// server's LocalListWatch, in its own process); ok is false for a
// resource it does not serve.
type Local func(gvr schema.GroupVersionResource) (lw cache.ListerWatcher, ok bool)

// Factory makes and holds the shared informers. A factory from Scope is
// a view of another's informers that remembers the handlers added through
// it, so that they can be removed together.
type Factory struct {
	*pool
	scope *scope // nil for the factory New returns
}

// pool is what a factory and its scopes share: the informers and clients.
type pool struct {
	ctx   context.Context
	cfg   *rest.Config
	core  *client.Core
	local Local

	mu     sync.Mutex // guards byType; held while an informer is made
	byType map[reflect.Type]*shared
	// running counts the informers started, for Wait.
	running  sync.WaitGroup
	groupsMu sync.Mutex // guards groups; list-watches made under mu take it
	groups   map[schema.GroupVersion]*client.Group
}

// New returns a factory whose informers reach the API through cfg and run
// until ctx ends. With local (nil: none) the factory's own kinds (Pods,
// Nodes, ...) are listed and watched through it instead: in the API
// server's process, from its watch cache.
func New(ctx context.Context, cfg *rest.Config, local Local) (*Factory, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	return &Factory{pool: &pool{ctx: ctx, cfg: cfg, core: core, local: local,
		byType: map[reflect.Type]*shared{}, groups: map[schema.GroupVersion]*client.Group{}}}, nil
}

// Scope returns a view of the factory for one term of a component that
// may run again in the same process (a controller or the scheduler while
// it holds its Lease): the same informers, but the event handlers added
// through the view's informers are removed by Release. Without that, every
// term won back would leave its predecessor's handlers feeding stopped
// queues.
func (f *Factory) Scope() *Factory {
	return &Factory{pool: f.pool, scope: &scope{views: map[*shared]*scoped{}}}
}

// Release removes every event handler added through the scope's informers
// and returns when they will be called no more; the scope's informers
// then refuse new handlers, as stopped informers do. Release does nothing
// on a factory that is not a scope.
func (f *Factory) Release() {
	if f.scope != nil {
		f.scope.release()
	}
}

// For returns the shared informer of obj's kind, made on the first call
// with the list-watch lw returns, which lists and watches every object of
// the kind; later calls for the kind ignore lw, and so does a factory
// with a Local source that serves the kind.
func (f *Factory) For(obj runtime.Object, lw func() cache.ListerWatcher) cache.SharedIndexInformer {
	return f.informer(obj, lw, DropManagedFields)
}

func (f *Factory) informer(obj runtime.Object, lw func() cache.ListerWatcher, transform cache.TransformFunc) cache.SharedIndexInformer {
	t := reflect.TypeOf(obj)
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.byType[t]; ok {
		return f.view(s)
	}
	var gvr schema.GroupVersionResource
	if gvks, _, err := client.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		gvr, _ = meta.UnsafeGuessKindToResource(gvks[0])
	}
	var source cache.ListerWatcher
	if f.local != nil {
		if local, ok := f.local(gvr); ok {
			// The objects are the watch cache's own, read-only: dropping
			// their managed fields would take a copy of each to save
			// nothing, as the cache keeps them anyway.
			source, transform = local, nil
		}
	}
	if source == nil {
		source = lw()
	}
	inf := cache.NewSharedIndexInformer(source, obj, 0, cache.Indexers{
		cache.NamespaceIndex: cache.MetaNamespaceIndexFunc,
		ControllerUIDIndex:   ControllerUIDIndexFunc,
	})
	// Setting a transform fails only on a started informer.
	_ = inf.SetTransform(transform)
	s := &shared{SharedIndexInformer: inf, gvr: gvr, ctx: f.ctx, running: &f.running}
	f.byType[t] = s
	return f.view(s)
}

// view is s as the factory hands it out: itself, or a scope's view of it.
func (f *Factory) view(s *shared) cache.SharedIndexInformer {
	if f.scope == nil {
		return s
	}
	return f.scope.view(s)
}

// Existing returns the informer of resource gvr if one was made, for a
// reader of any resource (the garbage collector) that would otherwise
// watch it itself.
func (f *Factory) Existing(gvr schema.GroupVersionResource) (cache.SharedIndexInformer, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.byType {
		if s.gvr == gvr {
			return f.view(s), true
		}
	}
	return nil, false
}

// Group returns the factory's client of gv, for list-watches of For.
func (f *Factory) Group(gv schema.GroupVersion) *client.Group {
	f.groupsMu.Lock()
	defer f.groupsMu.Unlock()
	if g, ok := f.groups[gv]; ok {
		return g
	}
	g, err := client.NewGroup(f.cfg, gv)
	if err != nil {
		// NewGroup fails only on a config that NewCore accepted: a bug.
		panic("informers: " + err.Error())
	}
	f.groups[gv] = g
	return g
}

// Core returns the factory's core/v1 client.
func (f *Factory) Core() *client.Core { return f.core }

// Pods is every pod of the cluster.
func (f *Factory) Pods() cache.SharedIndexInformer {
	return f.informer(&corev1.Pod{}, func() cache.ListerWatcher { return client.ListWatch(f.core.Pods(""), nil) }, trimPod)
}

// Nodes is every node.
func (f *Factory) Nodes() cache.SharedIndexInformer {
	return f.informer(&corev1.Node{}, func() cache.ListerWatcher { return client.ListWatch(f.core.Nodes(), nil) }, DropManagedFields)
}

// Services is every Service.
func (f *Factory) Services() cache.SharedIndexInformer {
	return f.informer(&corev1.Service{}, func() cache.ListerWatcher { return client.ListWatch(f.core.Services(""), nil) }, DropManagedFields)
}

// PersistentVolumes is every PersistentVolume.
func (f *Factory) PersistentVolumes() cache.SharedIndexInformer {
	return f.informer(&corev1.PersistentVolume{}, func() cache.ListerWatcher { return client.ListWatch(f.core.PersistentVolumes(), nil) }, DropManagedFields)
}

// PersistentVolumeClaims is every PersistentVolumeClaim.
func (f *Factory) PersistentVolumeClaims() cache.SharedIndexInformer {
	return f.informer(&corev1.PersistentVolumeClaim{}, func() cache.ListerWatcher {
		return client.ListWatch(f.core.PersistentVolumeClaims(""), nil)
	}, DropManagedFields)
}

// ReplicaSets is every ReplicaSet.
func (f *Factory) ReplicaSets() cache.SharedIndexInformer {
	return f.informer(&appsv1.ReplicaSet{}, func() cache.ListerWatcher {
		return client.ListWatch(f.Group(appsv1.SchemeGroupVersion).ReplicaSets(""), nil)
	}, DropManagedFields)
}

// Jobs is every Job.
func (f *Factory) Jobs() cache.SharedIndexInformer {
	return f.informer(&batchv1.Job{}, func() cache.ListerWatcher {
		return client.ListWatch(f.Group(batchv1.SchemeGroupVersion).Jobs(""), nil)
	}, DropManagedFields)
}

// PodDisruptionBudgets is every PodDisruptionBudget.
func (f *Factory) PodDisruptionBudgets() cache.SharedIndexInformer {
	return f.informer(&policyv1.PodDisruptionBudget{}, func() cache.ListerWatcher {
		return client.ListWatch(f.Group(policyv1.SchemeGroupVersion).PodDisruptionBudgets(""), nil)
	}, DropManagedFields)
}

// StorageClasses is every StorageClass.
func (f *Factory) StorageClasses() cache.SharedIndexInformer {
	return f.informer(&storagev1.StorageClass{}, func() cache.ListerWatcher {
		return client.ListWatch(f.Group(storagev1.SchemeGroupVersion).StorageClasses(), nil)
	}, DropManagedFields)
}

// shared lets every controller.Loop "run" the informer: the first call
// starts it on the factory's context; every call returns when its own
// context ends.
type shared struct {
	cache.SharedIndexInformer
	gvr     schema.GroupVersionResource
	ctx     context.Context
	running *sync.WaitGroup
	once    sync.Once
}

func (s *shared) RunWithContext(ctx context.Context) {
	s.start()
	<-ctx.Done()
}

func (s *shared) Run(stop <-chan struct{}) {
	s.start()
	<-stop
}

func (s *shared) start() {
	s.once.Do(func() { s.running.Go(func() { s.SharedIndexInformer.RunWithContext(s.ctx) }) })
}

// Wait returns once the context given to New has ended and every
// informer started has stopped.
func (f *Factory) Wait() {
	<-f.ctx.Done()
	f.running.Wait()
}

// DropManagedFields is an informer transform that drops an object's
// managed fields, which no controller reads. An object updated from the
// cache is sent without them, and the API server then keeps the stored
// ones (as kube-apiserver does for a request without managedFields). The
// last-applied annotation is kept: such an object may be written back.
func DropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

// trimPod drops a pod's managed fields and last-applied annotation.
func trimPod(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}
