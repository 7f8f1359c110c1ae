package garbagecollector

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/client"
)

// monitor is the informer of one resource: the process's shared informer
// when it has one for the resource, else the collector's own metadata
// informer.
type monitor struct {
	info     resourceInfo
	informer cache.SharedIndexInformer
	// reg is the collector's handler on informer; shared says informer is
	// not the collector's, so stopping the monitor removes reg instead of
	// dropping the informer.
	reg    cache.ResourceEventHandlerRegistration
	shared bool
	cancel context.CancelFunc
	done   chan struct{}
}

// synced reports whether the monitor has seen every object of its
// resource once.
func (m *monitor) synced() bool { return m.reg.HasSynced() }

// stop ends the monitor's watch of its resource.
func (m *monitor) stop() {
	if m.shared {
		_ = m.informer.RemoveEventHandler(m.reg)
	}
	m.cancel()
	<-m.done
}

// newMonitor builds (but does not start) the informer of one resource,
// feeding the graph: a shared one, or metadata only with managedFields
// stripped.
func (c *Controller) newMonitor(info resourceInfo) (*monitor, error) {
	m := &monitor{info: info}
	if c.shared != nil {
		m.informer, m.shared = c.shared(info.GVR)
	}
	if !m.shared {
		m.informer = cache.NewSharedIndexInformer(client.MetadataListWatch(c.metadata, info.GVR), &metav1.PartialObjectMetadata{}, 0, cache.Indexers{})
		// The graph needs no managedFields; dropping them halves what the
		// informer keeps.
		if err := m.informer.SetTransform(func(obj any) (any, error) {
			if m, ok := obj.(*metav1.PartialObjectMetadata); ok {
				m.ManagedFields = nil
			}
			return obj, nil
		}); err != nil {
			return nil, err
		}
	}
	id := func(m metav1.Object) identity {
		return identity{Resource: info.GVR, APIVersion: info.GVR.GroupVersion().String(), Kind: info.Kind,
			Namespace: m.GetNamespace(), Name: m.GetName(), UID: m.GetUID()}
	}
	// A CRD's change (created, Established, deleted) changes what is
	// served: rediscover now rather than at the end of the period.
	crds := info.GVR.GroupResource() == schema.GroupResource{Group: "apiextensions.k8s.io", Resource: "customresourcedefinitions"}
	upsert := func(obj any) {
		if m, err := meta.Accessor(obj); err == nil {
			c.observe(nodeFor(id(m), m))
		}
		if crds {
			c.askRediscovery()
		}
	}
	reg, err := m.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    upsert,
		UpdateFunc: func(_, obj any) { upsert(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if m, err := meta.Accessor(obj); err == nil {
				c.forget(m.GetUID())
			}
			if crds {
				c.askRediscovery()
			}
		},
	})
	if err != nil {
		return nil, err
	}
	m.reg = reg
	return m, nil
}

// observe records an object in the graph and queues what needs a look.
func (c *Controller) observe(n node) {
	c.mu.Lock()
	ks := c.graph.observe(n)
	c.mu.Unlock()
	c.enqueue(ks)
}

// forget removes an object from the graph and queues what needs a look.
func (c *Controller) forget(uid types.UID) {
	c.mu.Lock()
	ks := c.graph.remove(uid)
	c.mu.Unlock()
	slog.Debug("garbagecollector: gone", "uid", uid, "queue", ks)
	c.enqueue(ks)
}

func (c *Controller) enqueue(ks []types.UID) {
	for _, k := range ks {
		c.queue.Add(string(k))
	}
}

// runDiscovery rediscovers resources every period and when asked, and
// starts and stops monitors to match, until ctx ends.
func (c *Controller) runDiscovery(ctx context.Context) {
	t := time.NewTicker(c.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.rediscover:
		}
		c.resync(ctx)
		// Ask at most once a second, however many lookups fail.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// askRediscovery asks runDiscovery for a pass soon, without blocking.
func (c *Controller) askRediscovery() {
	select {
	case c.rediscover <- struct{}{}:
	default:
	}
}

// resync runs one discovery and matches the monitors to it. The
// resources of groups that failed to be discovered keep their monitors.
func (c *Controller) resync(ctx context.Context) {
	cat, err := discover(ctx, c.core.REST())
	if cat == nil {
		if ctx.Err() == nil {
			slog.Warn("garbagecollector: discovery failed", "err", err)
		}
		return
	}
	if err != nil {
		slog.Info("garbagecollector: discovery incomplete", "err", err)
	}
	c.mu.Lock()
	if old := c.catalog; old != nil {
		for gvk, ri := range old.byKind {
			if cat.failed[gvk.Group] {
				cat.byKind[gvk] = ri
			}
		}
		for gvr, ri := range old.watch {
			if cat.failed[gvr.Group] {
				cat.watch[gvr] = ri
			}
		}
	}
	if old := c.catalog; old != nil {
		if c.retired == nil {
			c.retired = map[schema.GroupKind]struct{}{}
		}
		for gvk := range old.byKind {
			if _, ok := cat.byKind[gvk]; !ok && !cat.failed[gvk.Group] {
				c.retired[gvk.GroupKind()] = struct{}{}
			}
		}
	}
	for gvk := range cat.byKind {
		delete(c.retired, gvk.GroupKind())
	}
	c.catalog = cat
	var start []*monitor
	var stop []*monitor
	for gvr, ri := range cat.watch {
		if _, ok := c.monitors[gvr]; ok {
			continue
		}
		m, err := c.newMonitor(ri)
		if err != nil {
			slog.Warn("garbagecollector: monitor", "resource", gvr, "err", err)
			continue
		}
		c.monitors[gvr] = m
		start = append(start, m)
	}
	for gvr, m := range c.monitors {
		if _, ok := cat.watch[gvr]; !ok {
			delete(c.monitors, gvr)
			stop = append(stop, m)
		}
	}
	c.mu.Unlock()
	for _, m := range start {
		mctx, cancel := context.WithCancel(ctx)
		m.cancel, m.done = cancel, make(chan struct{})
		c.wg.Go(func() {
			defer close(m.done)
			m.informer.RunWithContext(mctx)
		})
	}
	for _, m := range stop {
		m.stop()
		// Its objects get no more events; each is looked up once, and
		// those gone (as all are when a CRD was deleted) leave the graph
		// and free their dependents.
		c.mu.Lock()
		ks := c.graph.ofResource(m.info.GVR)
		c.mu.Unlock()
		c.enqueue(ks)
		slog.Info("garbagecollector: stopped watching", "resource", m.info.GVR.String())
	}
}

// synced: every monitor has listed its resource once.
func (c *Controller) synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.catalog != nil && len(c.unsyncedLocked()) == 0
}

func (c *Controller) unsynced() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unsyncedLocked()
}

func (c *Controller) unsyncedLocked() []string {
	var out []string
	for gvr, m := range c.monitors {
		if !m.synced() {
			out = append(out, gvr.String())
		}
	}
	slices.Sort(out)
	return out
}

// isRetired reports whether the kind of an owner reference was served and
// no longer is.
func (c *Controller) isRetired(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.retired[gv.WithKind(kind).GroupKind()]
	return ok
}

// resourceFor resolves an owner reference through the latest discovery.
func (c *Controller) resourceFor(apiVersion, kind string) (resourceInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.catalog == nil {
		return resourceInfo{}, errUnknownKind
	}
	return c.catalog.lookup(apiVersion, kind)
}
