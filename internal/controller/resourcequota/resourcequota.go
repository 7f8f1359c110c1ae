package resourcequota

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/quota"
)

// DefaultResyncPeriod is kube-controller-manager's
// --resource-quota-sync-period default.
const DefaultResyncPeriod = 5 * time.Minute

// rediscoverAfter is how soon a quota counting a resource the server does
// not serve (yet: its CRD may come) looks again.
const rediscoverAfter = 30 * time.Second

// Controller keeps ResourceQuotas' status.
type Controller struct {
	core     *client.Core
	md       metadata.Interface
	quotas   cache.SharedIndexInformer
	queue    workqueue.TypedRateLimitingInterface[string]
	period   time.Duration
	shared   Shared // nil: the monitors' informers are all our own
	runCtx   context.Context
	monitors monitors
	// wg holds the goroutines Run started besides the loop's.
	wg sync.WaitGroup
}

// Shared gives informers the process already runs, indexed by namespace,
// so that the monitors of pods, services and claims add a handler to
// them instead of holding a copy of every object of their own. The
// informers' RunWithContext must return when its context ends and leave
// the informer running for its other users.
type Shared interface {
	Pods() cache.SharedIndexInformer
	Services() cache.SharedIndexInformer
	PersistentVolumeClaims() cache.SharedIndexInformer
}

// New returns the resourcequota controller over cfg; period <= 0 is
// DefaultResyncPeriod; shared may be nil.
func New(cfg *rest.Config, period time.Duration, shared Shared) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if period <= 0 {
		period = DefaultResyncPeriod
	}
	c := &Controller{core: core, md: md, queue: controller.NewQueue("resourcequota"), period: period, shared: shared}
	c.monitors.byGR = map[schema.GroupResource]*monitor{}
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	// The informer's resync is the periodic full recalculation.
	c.quotas = cache.NewSharedIndexInformer(client.ListWatch(core.ResourceQuotas(""), nil), &corev1.ResourceQuota{}, period, nsIndex)
	if err := c.quotas.SetTransform(trim); err != nil {
		return nil, err
	}
	if _, err := c.quotas.AddEventHandler(cache.ResourceEventHandlerFuncs{
		// A quota counts quotas too: a new or deleted one changes
		// its neighbours' "resourcequotas" usage.
		AddFunc: func(obj any) { c.enqueueNamespace(obj.(*corev1.ResourceQuota).Namespace) },
		UpdateFunc: func(old, cur any) {
			o, n := old.(*corev1.ResourceQuota), cur.(*corev1.ResourceQuota)
			// Our own status writes come back here: look again only
			// when the limits changed, status no longer mirrors them,
			// or on the periodic resync (same object).
			if o.ResourceVersion == n.ResourceVersion || !quota.Equal(o.Spec.Hard, n.Spec.Hard) ||
				!quota.Equal(n.Spec.Hard, n.Status.Hard) || !slices.Equal(o.Spec.Scopes, n.Spec.Scopes) {
				c.enqueue(n)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if q, ok := obj.(*corev1.ResourceQuota); ok {
				c.enqueueNamespace(q.Namespace)
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runCtx = ctx
	defer c.wg.Wait()
	defer c.monitors.stopAll()
	c.wg.Go(func() { c.collectMonitors(ctx) })
	controller.Loop{Name: "resourcequota", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.quotas}, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) enqueue(q *corev1.ResourceQuota) { c.queue.Add(q.Namespace + "/" + q.Name) }

// enqueueNamespace queues every quota of ns.
func (c *Controller) enqueueNamespace(ns string) {
	objs, _ := c.quotas.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	for _, o := range objs {
		c.enqueue(o.(*corev1.ResourceQuota))
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.quotas.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	q := obj.(*corev1.ResourceQuota)
	names := make([]corev1.ResourceName, 0, len(q.Spec.Hard))
	for n := range q.Spec.Hard {
		names = append(names, n)
	}
	slices.Sort(names)
	r := &reader{c: c}
	for _, gr := range quota.Resources(names) {
		ready, err := c.ensureMonitor(ctx, gr)
		if err != nil {
			return err
		}
		if !ready {
			// The monitor's first list queues the namespace again.
			return nil
		}
	}
	now := time.Now()
	used, err := quota.Used(ctx, r, q, q.Namespace, names, now)
	if err != nil {
		return err
	}
	if r.unserved {
		c.queue.AddAfter(key, rediscoverAfter)
	}
	if next, ok := c.nextGraceEnd(q.Namespace, names, now); ok {
		// A pod past its deletion grace period stops being charged
		// with no event to say so.
		c.queue.AddAfter(key, next.Sub(now)+time.Second)
	}
	if quota.Equal(q.Status.Hard, q.Spec.Hard) && quota.Equal(q.Status.Used, used) {
		return nil
	}
	out := q.DeepCopy()
	out.Status = corev1.ResourceQuotaStatus{Hard: q.Spec.Hard.DeepCopy(), Used: used}
	_, err = c.core.ResourceQuotas(q.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		// The newer quota comes through the informer and is synced
		// then, whatever changed.
		c.queue.Add(key)
		return nil
	}
	return err
}

// nextGraceEnd is the first time after now when a pod of ns being
// deleted stops being charged, if names count pods at all.
func (c *Controller) nextGraceEnd(ns string, names []corev1.ResourceName, now time.Time) (time.Time, bool) {
	m := c.monitors.get(quota.Pods)
	if m == nil || !slices.Contains(quota.Resources(names), quota.Pods) {
		return time.Time{}, false
	}
	objs, _ := m.informer.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	var next time.Time
	for _, o := range objs {
		end, ok := quota.GraceEnd(o.(*corev1.Pod))
		if ok && end.After(now) && (next.IsZero() || end.Before(next)) {
			next = end
		}
	}
	return next, !next.IsZero()
}

// trim keeps what quotas need of a ResourceQuota: everything but the
// managed fields and last-applied annotation.
func trim(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}

// reader is package quota's view of the monitors.
type reader struct {
	c *Controller
	// unserved: a counted resource was not served.
	unserved bool
}

func (r *reader) List(_ context.Context, gvr schema.GroupVersionResource, ns string) ([]runtime.Object, error) {
	inf := r.c.quotas
	if gvr.GroupResource() != quotasGR {
		m := r.c.monitors.get(gvr.GroupResource())
		if m == nil {
			return nil, nil
		}
		inf = m.informer
	}
	objs, err := inf.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return nil, err
	}
	out := make([]runtime.Object, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(runtime.Object))
	}
	return out, nil
}

func (r *reader) Served(gr schema.GroupResource) (schema.GroupVersionResource, bool) {
	if gr == quotasGR {
		return quotasGR.WithVersion("v1"), true
	}
	m := r.c.monitors.get(gr)
	if m == nil {
		r.unserved = true
		return schema.GroupVersionResource{}, false
	}
	return m.gvr, true
}

var quotasGR = schema.GroupResource{Resource: "resourcequotas"}

// monitors are the informers of counted resources, by group-resource.
type monitors struct {
	mu   sync.Mutex
	byGR map[schema.GroupResource]*monitor
	// unserved records when a resource was last found not served.
	unserved map[schema.GroupResource]time.Time
}

type monitor struct {
	gvr      schema.GroupVersionResource
	informer cache.SharedIndexInformer
	// handler is our handler on a shared informer, removed on stop.
	handler cache.ResourceEventHandlerRegistration
	cancel  context.CancelFunc
	done    chan struct{}
}

// stop stops the monitor's informer, or leaves a shared one to its other
// users without our handler.
func (m *monitor) stop() {
	m.cancel()
	<-m.done
	if m.handler != nil {
		_ = m.informer.RemoveEventHandler(m.handler)
	}
}

func (ms *monitors) get(gr schema.GroupResource) *monitor {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return ms.byGR[gr]
}

func (ms *monitors) stopAll() {
	ms.mu.Lock()
	all := ms.byGR
	ms.byGR = map[schema.GroupResource]*monitor{}
	ms.mu.Unlock()
	for _, m := range all {
		m.stop()
	}
}

// ensureMonitor starts the informer of gr unless it runs; ready reports
// whether it has listed (or gr is not served, which counts nothing).
func (c *Controller) ensureMonitor(ctx context.Context, gr schema.GroupResource) (ready bool, err error) {
	if gr == quotasGR {
		return true, nil
	}
	c.monitors.mu.Lock()
	m := c.monitors.byGR[gr]
	last, wasUnserved := c.monitors.unserved[gr]
	c.monitors.mu.Unlock()
	if m != nil {
		return m.informer.HasSynced(), nil
	}
	if wasUnserved && time.Since(last) < rediscoverAfter {
		return true, nil
	}
	gvr, ok, err := c.discover(ctx, gr)
	if err != nil {
		return false, err
	}
	if !ok {
		c.monitors.mu.Lock()
		if c.monitors.unserved == nil {
			c.monitors.unserved = map[schema.GroupResource]time.Time{}
		}
		c.monitors.unserved[gr] = time.Now()
		c.monitors.mu.Unlock()
		return true, nil
	}
	m, err = c.newMonitor(gvr)
	if err != nil {
		return false, err
	}
	c.monitors.mu.Lock()
	if cur := c.monitors.byGR[gr]; cur != nil {
		// Another worker started it first: ours never runs, and must
		// not stay a handler on a shared informer.
		c.monitors.mu.Unlock()
		_ = m.informer.RemoveEventHandler(m.handler)
		return cur.informer.HasSynced(), nil
	}
	c.monitors.byGR[gr] = m
	delete(c.monitors.unserved, gr)
	c.monitors.mu.Unlock()
	mctx, cancel := context.WithCancel(c.runCtx)
	m.cancel, m.done = cancel, make(chan struct{})
	c.wg.Go(func() {
		defer close(m.done)
		m.informer.RunWithContext(mctx)
	})
	c.wg.Go(func() {
		// The quotas that waited for this first list are looked at now.
		if cache.WaitForCacheSync(mctx.Done(), m.informer.HasSynced) {
			for _, o := range c.quotas.GetStore().List() {
				c.enqueue(o.(*corev1.ResourceQuota))
			}
		}
	})
	return false, nil
}

// coreCounted are the core resources quotas count, all served as v1.
var coreCounted = map[string]bool{
	"pods": true, "services": true, "persistentvolumeclaims": true, "configmaps": true,
	"secrets": true, "replicationcontrollers": true,
}

// discover finds the version gr is served in (its group's preferred one
// when that serves it); ok is false when it is not served.
func (c *Controller) discover(ctx context.Context, gr schema.GroupResource) (gvr schema.GroupVersionResource, ok bool, err error) {
	if gr.Group == "" && coreCounted[gr.Resource] {
		return gr.WithVersion("v1"), true, nil
	}
	v, err := c.core.PreferredVersion(ctx, gr.Group)
	if apierrors.IsNotFound(err) {
		return gvr, false, nil
	}
	if err != nil {
		return gvr, false, err
	}
	list, err := c.core.APIResources(ctx, schema.GroupVersion{Group: gr.Group, Version: v})
	if apierrors.IsNotFound(err) {
		return gvr, false, nil
	}
	if err != nil {
		return gvr, false, err
	}
	for _, r := range list {
		if r.Name == gr.Resource && r.Namespaced {
			return gr.WithVersion(v), true, nil
		}
	}
	return gvr, false, nil
}

// newMonitor builds the informer of gvr: typed and trimmed for the
// resources whose usage is more than a count, metadata-only otherwise.
func (c *Controller) newMonitor(gvr schema.GroupVersionResource) (*monitor, error) {
	gr := gvr.GroupResource()
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	var inf cache.SharedIndexInformer
	var transform cache.TransformFunc = trim
	if c.shared != nil {
		switch gr {
		case quota.Pods:
			inf = c.shared.Pods()
		case quota.Services:
			inf = c.shared.Services()
		case quota.PVCs:
			inf = c.shared.PersistentVolumeClaims()
		}
	}
	switch {
	case inf != nil:
		transform = nil // the shared informer trims its objects itself
	case gr == quota.Pods:
		inf = cache.NewSharedIndexInformer(client.ListWatch(c.core.Pods(""), nil), &corev1.Pod{}, 0, nsIndex)
		transform = slimPod
	case gr == quota.Services:
		inf = cache.NewSharedIndexInformer(client.ListWatch(c.core.Services(""), nil), &corev1.Service{}, 0, nsIndex)
	case gr == quota.PVCs:
		inf = cache.NewSharedIndexInformer(client.ListWatch(c.core.PersistentVolumeClaims(""), nil), &corev1.PersistentVolumeClaim{}, 0, nsIndex)
	default:
		inf = cache.NewSharedIndexInformer(client.MetadataListWatch(c.md, gvr), &metav1.PartialObjectMetadata{}, 0, nsIndex)
	}
	if transform != nil {
		if err := inf.SetTransform(transform); err != nil {
			return nil, err
		}
	}
	nsOf := func(obj any) string {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if m, ok := obj.(metav1.Object); ok {
			return m.GetNamespace()
		}
		return ""
	}
	reg, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.enqueueNamespace(nsOf(obj)) },
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(runtime.Object)
			n, ok2 := cur.(runtime.Object)
			now := time.Now()
			if ok1 && ok2 && !quota.Equal(quota.Usage(gr, o, true, now), quota.Usage(gr, n, true, now)) {
				c.enqueueNamespace(nsOf(cur))
			}
		},
		DeleteFunc: func(obj any) { c.enqueueNamespace(nsOf(obj)) },
	})
	if err != nil {
		return nil, err
	}
	return &monitor{gvr: gvr, informer: inf, handler: reg}, nil
}

// collectMonitors stops, every period, the monitors no quota needs.
func (c *Controller) collectMonitors(ctx context.Context) {
	t := time.NewTicker(c.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		needed := map[schema.GroupResource]bool{}
		for _, o := range c.quotas.GetStore().List() {
			for n := range o.(*corev1.ResourceQuota).Spec.Hard {
				needed[quota.CountedResource(n)] = true
			}
		}
		var stop []*monitor
		c.monitors.mu.Lock()
		for gr, m := range c.monitors.byGR {
			if !needed[gr] {
				delete(c.monitors.byGR, gr)
				stop = append(stop, m)
			}
		}
		c.monitors.mu.Unlock()
		for _, m := range stop {
			slog.Debug("resourcequota: monitor no longer needed", "resource", m.gvr)
			m.stop()
		}
	}
}

// slimPod keeps of a pod what its quota usage and scopes are computed
// from, so the monitor holds a fraction of every pod.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	slim := func(cs []corev1.Container) []corev1.Container {
		out := make([]corev1.Container, len(cs))
		for i, c := range cs {
			out[i] = corev1.Container{Name: c.Name, Resources: c.Resources, RestartPolicy: c.RestartPolicy}
		}
		return out
	}
	var aff *corev1.Affinity
	if p.Spec.Affinity != nil && (p.Spec.Affinity.PodAffinity != nil || p.Spec.Affinity.PodAntiAffinity != nil) {
		aff = &corev1.Affinity{PodAffinity: p.Spec.Affinity.PodAffinity, PodAntiAffinity: p.Spec.Affinity.PodAntiAffinity}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			DeletionTimestamp: p.DeletionTimestamp, DeletionGracePeriodSeconds: p.DeletionGracePeriodSeconds,
		},
		Spec: corev1.PodSpec{
			Containers: slim(p.Spec.Containers), InitContainers: slim(p.Spec.InitContainers),
			Overhead: p.Spec.Overhead, Resources: p.Spec.Resources, ActiveDeadlineSeconds: p.Spec.ActiveDeadlineSeconds,
			PriorityClassName: p.Spec.PriorityClassName, Affinity: aff,
		},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}, nil
}
