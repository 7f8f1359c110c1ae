package replicaset

import (
	"context"
	"sync/atomic"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
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

// Informers are the pod and ReplicaSet informers the ReplicaSet,
// ReplicationController and Deployment controllers share, so a cluster's
// pods are held in memory once. Each controller lists them among its
// loop's informers; only the first Run starts one, so every controller
// sharing them must run under the same context.
type Informers struct {
	Pods        cache.SharedIndexInformer
	ReplicaSets cache.SharedIndexInformer
}

// NewInformers returns the shared informers, reaching the API through cfg.
func NewInformers(cfg *rest.Config) (*Informers, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	pods := newIndexedInformer(client.ListWatch(core.Pods(""), nil), &corev1.Pod{})
	if err := pods.SetTransform(TrimPod); err != nil {
		return nil, err
	}
	return &Informers{
		Pods:        runOnce(pods),
		ReplicaSets: runOnce(newIndexedInformer(client.ListWatch(apps.ReplicaSets(""), nil), &appsv1.ReplicaSet{})),
	}, nil
}

// TrimPod is the pod informer's transform. Of a pod the ReplicaSet,
// ReplicationController and Deployment controllers read its metadata
// (labels, owners, deletion cost, timestamps), spec.nodeName and its
// status; the rest of the spec (containers, volumes, tolerations...), the
// managed fields and the last-applied-configuration annotation are
// dropped, since a cluster's pods are cached by every controller that
// watches them. The controllers only create, patch and delete pods, never
// write a cached pod back, so nothing dropped can be lost from the stored
// pod. The ReplicaSets keep everything: the Deployment controller updates
// them from the cache.
func TrimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	client.TrimMetadata(p)
	p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName}
	return p, nil
}

// newIndexedInformer is an informer indexed by namespace and controller,
// holding its objects without their managed fields (DropManagedFields).
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

// sharedInformer lets several controller.Loops run one informer: the
// first RunWithContext runs it, the others wait for their context.
type sharedInformer struct {
	cache.SharedIndexInformer
	started *atomic.Bool
}

func runOnce(inf cache.SharedIndexInformer) cache.SharedIndexInformer {
	return sharedInformer{SharedIndexInformer: inf, started: new(atomic.Bool)}
}

func (s sharedInformer) RunWithContext(ctx context.Context) {
	if s.started.CompareAndSwap(false, true) {
		s.SharedIndexInformer.RunWithContext(ctx)
		return
	}
	<-ctx.Done()
}

func (s sharedInformer) Run(stop <-chan struct{}) { s.RunWithContext(wait.ContextForChannel(stop)) }
