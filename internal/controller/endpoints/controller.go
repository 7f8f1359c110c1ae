package endpoints

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/informers"
)

// Key prefixes in the shared queue: one controller loop serves both
// kinds, so the Service and pod informers are run (and held) once.
const (
	endpointsPrefix = "e/"
	slicesPrefix    = "s/"
)

// headlessLabel marks the Endpoints and slices of a headless Service.
const headlessLabel = "service.kubernetes.io/headless"

// Controller keeps Endpoints and/or EndpointSlices for Services with a
// selector.
type Controller struct {
	core *client.Core
	disc *client.Group

	doEndpoints, doSlices bool

	services, pods cache.SharedIndexInformer
	endpoints      cache.SharedIndexInformer // nil unless doEndpoints
	slices, nodes  cache.SharedIndexInformer // nil unless doSlices

	queue workqueue.TypedRateLimitingInterface[string]

	// pending holds, per Service key, the slices written whose effect the
	// slice cache does not show yet: a sync on a stale cache would create
	// duplicates of slices it cannot see.
	mu      sync.Mutex
	pending map[string]*sliceWrites

	maxPerSlice int
}

// pendingTimeout bounds how long a sync waits for the cache to show its
// writes: a slice created and at once deleted by someone else may never
// show.
const pendingTimeout = 10 * time.Second

type sliceWrites struct {
	at      time.Time
	created map[string]bool   // names that must appear
	deleted map[string]bool   // names that must disappear
	updated map[string]string // name → resourceVersion that must change
}

// New returns the controller serving Endpoints when endpoints is set and
// EndpointSlices when slices is set.
func New(cfg *rest.Config, inf *informers.Factory, endpoints, slices bool) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := client.NewGroup(cfg, discoveryv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		core: core, disc: disc, doEndpoints: endpoints, doSlices: slices,
		queue: controller.NewQueue("endpoint"), pending: map[string]*sliceWrites{},
		maxPerSlice: MaxEndpointsPerSlice,
	}
	c.services, c.pods = inf.Services(), inf.Pods()
	if _, err := c.services.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueService,
		UpdateFunc: func(_, cur any) { c.enqueueService(cur) },
		DeleteFunc: c.enqueueService,
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { c.enqueuePodServices(obj, nil) },
		UpdateFunc: func(old, cur any) {
			c.enqueuePodServices(cur, old)
		},
		DeleteFunc: func(obj any) { c.enqueuePodServices(obj, nil) },
	}); err != nil {
		return nil, err
	}
	if endpoints {
		c.endpoints = inf.For(&corev1.Endpoints{}, func() cache.ListerWatcher { return client.ListWatch(core.Endpoints(""), nil) })
		// Someone else's edit or deletion of an Endpoints is put right.
		if _, err := c.endpoints.AddEventHandler(cache.ResourceEventHandlerFuncs{
			UpdateFunc: func(_, cur any) { c.enqueueKey(endpointsPrefix, cur) },
			DeleteFunc: func(obj any) { c.enqueueKey(endpointsPrefix, obj) },
		}); err != nil {
			return nil, err
		}
	}
	if slices {
		// Only the controller's own slices: its informer is not shared.
		c.slices = cache.NewSharedIndexInformer(client.ListWatch(disc.EndpointSlices(""), func(o *metav1.ListOptions) {
			o.LabelSelector = ManagedByLabel + "=" + ManagedByValue
		}), &discoveryv1.EndpointSlice{}, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		if err := c.slices.SetTransform(trimMeta); err != nil {
			return nil, err
		}
		c.nodes = inf.Nodes()
		if _, err := c.slices.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    c.enqueueSliceService,
			UpdateFunc: func(_, cur any) { c.enqueueSliceService(cur) },
			DeleteFunc: c.enqueueSliceService,
		}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run keeps Endpoints and slices until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	infs := []cache.SharedIndexInformer{c.services, c.pods}
	for _, inf := range []cache.SharedIndexInformer{c.endpoints, c.slices, c.nodes} {
		if inf != nil {
			infs = append(infs, inf)
		}
	}
	controller.Loop{Name: "endpoint", Queue: c.queue, Informers: infs, Sync: c.sync}.Run(ctx, workers)
}

func trimMeta(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}

func (c *Controller) enqueue(key string) {
	if c.doEndpoints {
		c.queue.Add(endpointsPrefix + key)
	}
	if c.doSlices {
		c.queue.Add(slicesPrefix + key)
	}
}

func (c *Controller) enqueueService(obj any) {
	if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.enqueue(k)
	}
}

func (c *Controller) enqueueKey(prefix string, obj any) {
	if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(prefix + k)
	}
}

func (c *Controller) enqueueSliceService(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return
	}
	if name := s.Labels[ServiceNameLabel]; name != "" {
		c.queue.Add(slicesPrefix + s.Namespace + "/" + name)
	}
}

// enqueuePodServices enqueues the Services selecting pod (or, on an
// update, its old labels).
func (c *Controller) enqueuePodServices(obj, old any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	var oldLabels labels.Set
	if o, ok := old.(*corev1.Pod); ok {
		oldLabels = o.Labels
	}
	svcs, _ := c.services.GetIndexer().ByIndex(cache.NamespaceIndex, p.Namespace)
	for _, o := range svcs {
		svc := o.(*corev1.Service)
		if svc.Spec.Selector == nil {
			continue
		}
		sel := labels.SelectorFromValidatedSet(svc.Spec.Selector)
		if sel.Matches(labels.Set(p.Labels)) || (oldLabels != nil && sel.Matches(oldLabels)) {
			c.enqueue(svc.Namespace + "/" + svc.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	switch {
	case strings.HasPrefix(key, endpointsPrefix):
		return c.syncEndpoints(ctx, strings.TrimPrefix(key, endpointsPrefix))
	case strings.HasPrefix(key, slicesPrefix):
		return c.syncSlices(ctx, strings.TrimPrefix(key, slicesPrefix))
	}
	return nil
}

// service returns the Service of key and the pods its selector picks;
// svc is nil when the Service is gone.
func (c *Controller) service(key string) (*corev1.Service, []*corev1.Pod, error) {
	o, ok, err := c.services.GetIndexer().GetByKey(key)
	if err != nil || !ok {
		return nil, nil, err
	}
	svc := o.(*corev1.Service)
	if svc.Spec.Selector == nil {
		return svc, nil, nil
	}
	sel := labels.SelectorFromValidatedSet(svc.Spec.Selector)
	objs, err := c.pods.GetIndexer().ByIndex(cache.NamespaceIndex, svc.Namespace)
	if err != nil {
		return nil, nil, err
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if p := o.(*corev1.Pod); sel.Matches(labels.Set(p.Labels)) {
			pods = append(pods, p)
		}
	}
	return svc, pods, nil
}

func serviceLabels(svc *corev1.Service) map[string]string {
	out := map[string]string{}
	maps.Copy(out, svc.Labels)
	if svc.Spec.ClusterIP == corev1.ClusterIPNone {
		out[headlessLabel] = ""
	} else {
		delete(out, headlessLabel)
	}
	return out
}

func (c *Controller) syncEndpoints(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, pods, err := c.service(key)
	if err != nil {
		return err
	}
	o, exists, err := c.endpoints.GetIndexer().GetByKey(key)
	if err != nil {
		return err
	}
	if svc == nil {
		if !exists {
			return nil
		}
		err := c.core.Endpoints(ns).Delete(ctx, name, metav1.DeleteOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	if svc.Spec.Selector == nil {
		return nil // someone else's Endpoints (or none)
	}
	subsets := Subsets(svc, pods)
	lbls := serviceLabels(svc)
	if !exists {
		ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: lbls}, Subsets: subsets}
		_, err := c.core.Endpoints(ns).Create(ctx, ep, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("%w: endpoints %s not in the cache yet", controller.ErrRequeue, key)
		}
		return err
	}
	cur := o.(*corev1.Endpoints)
	if apiequality.Semantic.DeepEqual(cur.Subsets, subsets) && apiequality.Semantic.DeepEqual(cur.Labels, lbls) {
		return nil
	}
	ep := cur.DeepCopy()
	ep.Subsets, ep.Labels = subsets, lbls
	_, err = c.core.Endpoints(ns).Update(ctx, ep, metav1.UpdateOptions{})
	return err
}

// sliceLabels are a managed slice's labels for svc.
func sliceLabels(svc *corev1.Service) map[string]string {
	out := serviceLabels(svc)
	out[ServiceNameLabel] = svc.Name
	out[ManagedByLabel] = ManagedByValue
	return out
}

func (c *Controller) syncSlices(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	if !c.cacheCaughtUp(key) {
		return fmt.Errorf("%w: slices of %s written, not yet seen", controller.ErrRequeue, key)
	}
	svc, pods, err := c.service(key)
	if err != nil {
		return err
	}
	// A deleted Service's slices go with it: they are owned by it, and the
	// garbage collector deletes them.
	// ExternalName Services get no slices either, as upstream
	// (kubernetes/kubernetes#105986): their name is their endpoint.
	if svc == nil || svc.Spec.Selector == nil || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	objs, err := c.slices.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return err
	}
	existing := map[string][]*discoveryv1.EndpointSlice{}
	var stale []*discoveryv1.EndpointSlice
	for _, o := range objs {
		s := o.(*discoveryv1.EndpointSlice)
		if s.Labels[ServiceNameLabel] != name || s.Labels[ManagedByLabel] != ManagedByValue {
			continue
		}
		if s.AddressType != discoveryv1.AddressTypeIPv4 {
			stale = append(stale, s)
			continue
		}
		k := slicePortsKey(s.Ports)
		existing[k] = append(existing[k], s)
	}
	groups := SliceGroups(svc, pods, c.zone, c.maxPerSlice)
	if len(groups) == 0 {
		// As upstream, a Service with no endpoints keeps one empty slice,
		// so its slice is there to watch.
		groups = []SliceGroup{{Chunks: [][]discoveryv1.Endpoint{nil}}}
	}
	lbls := sliceLabels(svc)
	w := &sliceWrites{at: time.Now(), created: map[string]bool{}, deleted: map[string]bool{}, updated: map[string]string{}}
	defer c.expect(key, w)
	var errs []error
	for _, g := range groups {
		have := existing[g.Key()]
		delete(existing, g.Key())
		sort.Slice(have, func(i, j int) bool { return have[i].Name < have[j].Name })
		for i, chunk := range g.Chunks {
			if i < len(have) {
				wrote, err := c.updateSlice(ctx, have[i], g.Ports, chunk, lbls)
				if wrote {
					w.updated[have[i].Name] = have[i].ResourceVersion
				}
				errs = append(errs, err)
				continue
			}
			s := newSlice(svc, lbls, g.Ports, chunk)
			created, err := c.disc.EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{})
			if err == nil {
				w.created[created.Name] = true
			}
			errs = append(errs, err)
		}
		if len(have) > len(g.Chunks) {
			stale = append(stale, have[len(g.Chunks):]...)
		}
	}
	for _, ss := range existing {
		stale = append(stale, ss...)
	}
	for _, s := range stale {
		err := c.disc.EndpointSlices(ns).Delete(ctx, s.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &s.UID}})
		if err == nil {
			w.deleted[s.Name] = true
		}
		if !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *Controller) zone(node string) string {
	o, ok, _ := c.nodes.GetIndexer().GetByKey(node)
	if !ok {
		return ""
	}
	return o.(*corev1.Node).Labels[corev1.LabelTopologyZone]
}

func newSlice(svc *corev1.Service, lbls map[string]string, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			GenerateName: svc.Name + "-",
			Namespace:    svc.Namespace,
			Labels:       lbls,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr(true), BlockOwnerDeletion: ptr(true),
			}},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   eps,
	}
}

func (c *Controller) updateSlice(ctx context.Context, cur *discoveryv1.EndpointSlice, ports []discoveryv1.EndpointPort, eps []discoveryv1.Endpoint, lbls map[string]string) (bool, error) {
	if apiequality.Semantic.DeepEqual(cur.Endpoints, eps) && apiequality.Semantic.DeepEqual(cur.Ports, ports) &&
		apiequality.Semantic.DeepEqual(cur.Labels, lbls) {
		return false, nil
	}
	s := cur.DeepCopy()
	s.Endpoints, s.Ports, s.Labels = eps, ports, lbls
	_, err := c.disc.EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
	return err == nil, err
}

// expect records the slices a sync of key wrote.
func (c *Controller) expect(key string, w *sliceWrites) {
	if len(w.created) == 0 && len(w.deleted) == 0 && len(w.updated) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pending[key] = w
}

// cacheCaughtUp says whether the slice cache shows every write of key's
// last sync, forgetting them once it does.
func (c *Controller) cacheCaughtUp(key string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.pending[key]
	if w == nil {
		return true
	}
	if time.Since(w.at) > pendingTimeout {
		delete(c.pending, key)
		return true
	}
	ns, _, _ := cache.SplitMetaNamespaceKey(key)
	idx := c.slices.GetIndexer()
	for name := range w.created {
		if _, ok, _ := idx.GetByKey(ns + "/" + name); !ok {
			return false
		}
	}
	for name := range w.deleted {
		if _, ok, _ := idx.GetByKey(ns + "/" + name); ok {
			return false
		}
	}
	for name, rv := range w.updated {
		if o, ok, _ := idx.GetByKey(ns + "/" + name); ok && o.(*discoveryv1.EndpointSlice).ResourceVersion == rv {
			return false
		}
	}
	delete(c.pending, key)
	return true
}
