package crd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/kube-openapi/pkg/common"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/apiextensions"
)

// API is what the controller needs of the API server.
type API interface {
	// Register serves r; Unregister stops serving a resource.
	Register(r *registry.Resource) (*registry.Store, error)
	Unregister(gvr schema.GroupVersionResource)
	// Served lists every served resource, built-in and custom.
	Served() []*registry.Resource
	// SetOpenAPIDefinitions sets (nil: removes) the extra OpenAPI
	// definitions published under key; PublishOpenAPI republishes.
	SetOpenAPIDefinitions(key string, defs common.GetOpenAPIDefinitions)
	PublishOpenAPI() error
}

// Controller serves the custom resources of every CRD in the CRD store.
type Controller struct {
	api   API
	crds  *registry.Store
	queue workqueue.TypedRateLimitingInterface[string]

	mu      sync.Mutex
	serving map[string]*entry // by CRD name; guarded by mu

	synced     chan struct{} // closed once every CRD listed at start is handled
	syncedOnce sync.Once
}

// entry is what one CRD currently serves.
type entry struct {
	uid         string
	fingerprint string
	gvrs        []schema.GroupVersionResource
	stores      []*registry.Store
	terminating *atomic.Bool
}

// NewController returns a controller over crds, the store of
// apiextensions.k8s.io/v1 customresourcedefinitions.
func NewController(api API, crds *registry.Store) *Controller {
	return &Controller{
		api:     api,
		crds:    crds,
		queue:   workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 5*time.Second), workqueue.TypedRateLimitingQueueConfig[string]{Name: "crd"}),
		serving: map[string]*entry{},
		synced:  make(chan struct{}),
	}
}

// Synced is closed once the CRDs present at start are served, so a
// restarted server answers for them from its first request.
func (c *Controller) Synced() <-chan struct{} { return c.synced }

// Run serves CRDs until ctx ends.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.queue.ShutDown()
	wg.Go(func() {
		for c.processNext(ctx) {
		}
	})
	for ctx.Err() == nil {
		if err := c.listAndWatch(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("crd: watch ended; listing again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *Controller) listAndWatch(ctx context.Context) error {
	list, err := c.crds.List(ctx, "", registry.ListOptions{})
	if err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	lm, _ := meta.ListAccessor(list)
	names := map[string]bool{}
	for _, item := range items {
		m, _ := meta.Accessor(item)
		names[m.GetName()] = true
	}
	// What is served but no longer listed was deleted while not watching.
	c.mu.Lock()
	for name := range c.serving {
		if !names[name] {
			c.queue.Add(name)
		}
	}
	c.mu.Unlock()
	var initial []string
	for name := range names {
		initial = append(initial, name)
	}
	if err := c.syncInitial(ctx, initial); err != nil {
		return err
	}
	w, err := c.crds.Watch(ctx, "", registry.WatchOptions{ListOptions: registry.ListOptions{ResourceVersion: lm.GetResourceVersion()}})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return errors.New("crd watch closed")
			}
			if ev.Type == watch.Error {
				return apierrors.FromObject(ev.Object)
			}
			obj := ev.Object
			if co, ok := obj.(runtime.CacheableObject); ok {
				obj = co.GetObject()
			}
			if m, err := meta.Accessor(obj); err == nil {
				c.queue.Add(m.GetName())
			}
		}
	}
}

// syncInitial serves the listed CRDs before Synced closes, the first time.
func (c *Controller) syncInitial(ctx context.Context, names []string) error {
	select {
	case <-c.synced:
		for _, n := range names {
			c.queue.Add(n)
		}
		return nil
	default:
	}
	for _, n := range names {
		if err := c.sync(ctx, n); err != nil {
			slog.Warn("crd: sync failed", "crd", n, "err", err)
			c.queue.AddRateLimited(n)
		}
	}
	c.syncedOnce.Do(func() { close(c.synced) })
	return nil
}

func (c *Controller) processNext(ctx context.Context) bool {
	name, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(name)
	err := c.sync(ctx, name)
	switch {
	case errors.Is(err, errRequeue):
		c.queue.AddRateLimited(name)
	case err != nil:
		if ctx.Err() == nil {
			slog.Warn("crd: sync failed", "crd", name, "err", err)
		}
		c.queue.AddRateLimited(name)
	default:
		c.queue.Forget(name)
	}
	return true
}

// errRequeue asks for another sync later without logging: deletion of a
// terminating CRD's objects is still under way.
var errRequeue = errors.New("crd: requeue")

func (c *Controller) sync(ctx context.Context, name string) error {
	obj, err := c.crds.Get(ctx, "", name)
	if apierrors.IsNotFound(err) {
		c.unserve(name)
		return nil
	}
	if err != nil {
		return err
	}
	crd := obj.(*apiextensionsv1.CustomResourceDefinition)
	if crd.DeletionTimestamp != nil {
		return c.finalize(ctx, crd)
	}
	names, accepted, reason, msg := c.acceptNames(ctx, crd)
	status := *crd.Status.DeepCopy()
	status.AcceptedNames = names
	if !accepted {
		apiextensions.SetCondition(&status, apiextensionsv1.CustomResourceDefinitionCondition{
			Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionFalse, Reason: reason, Message: msg,
		})
		if !apiextensions.IsTrue(&status, apiextensionsv1.Established) {
			apiextensions.SetCondition(&status, apiextensionsv1.CustomResourceDefinitionCondition{
				Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionFalse, Reason: "NotAccepted", Message: "not all names are accepted",
			})
		}
		return c.writeStatus(ctx, crd, status)
	}
	withNames := crd.DeepCopy()
	withNames.Status.AcceptedNames = status.AcceptedNames
	if err := c.serve(ctx, withNames); err != nil {
		return err
	}
	apiextensions.SetCondition(&status, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: apiextensionsv1.NamesAccepted, Status: apiextensionsv1.ConditionTrue, Reason: "NoConflicts", Message: "no conflicts found",
	})
	apiextensions.SetCondition(&status, apiextensionsv1.CustomResourceDefinitionCondition{
		Type: apiextensionsv1.Established, Status: apiextensionsv1.ConditionTrue, Reason: "InitialNamesAccepted", Message: "the initial names have been accepted",
	})
	return c.writeStatus(ctx, crd, status)
}

// writeStatus writes status when it differs from crd's, ignoring
// transition times that SetCondition kept.
func (c *Controller) writeStatus(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition, status apiextensionsv1.CustomResourceDefinitionStatus) error {
	if apiequality.Semantic.DeepEqual(crd.Status, status) {
		return nil
	}
	_, _, err := c.crds.Update(ctx, "", crd.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		cur := old.(*apiextensionsv1.CustomResourceDefinition).DeepCopy()
		if cur.UID != crd.UID {
			return nil, apierrors.NewConflict(apiextensionsv1.Resource("customresourcedefinitions"), crd.Name, errors.New("the CRD was replaced"))
		}
		stored := cur.Status.StoredVersions
		cur.Status = *status.DeepCopy()
		cur.Status.StoredVersions = stored
		return cur, nil
	}, false, registry.WriteOptions{Subresource: "status"})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return errRequeue
	}
	return err
}

// acceptNames checks crd's requested names against every other CRD of its
// group and the built-in resources of that group, as upstream's naming
// controller does: each free name (or one already accepted) is accepted,
// a taken one keeps its previously accepted value, categories are always
// accepted. ok is false when any name was refused; reason and msg name the
// last conflict found.
func (c *Controller) acceptNames(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) (names apiextensionsv1.CustomResourceDefinitionNames, ok bool, reason, msg string) {
	req, prev := crd.Spec.Names, crd.Status.AcceptedNames
	taken := map[string]bool{}
	takenKinds := map[string]bool{}
	list, err := c.crds.List(ctx, "", registry.ListOptions{})
	if err == nil {
		items, _ := meta.ExtractList(list)
		for _, item := range items {
			other := item.(*apiextensionsv1.CustomResourceDefinition)
			if other.Name == crd.Name || other.Spec.Group != crd.Spec.Group {
				continue
			}
			an := other.Status.AcceptedNames
			for _, s := range append([]string{an.Plural, an.Singular}, an.ShortNames...) {
				if s != "" {
					taken[s] = true
				}
			}
			takenKinds[an.Kind], takenKinds[an.ListKind] = an.Kind != "", an.ListKind != ""
		}
	}
	c.mu.Lock()
	own := c.serving[crd.Name]
	c.mu.Unlock()
	for _, r := range c.api.Served() {
		if r.GVR.Group != crd.Spec.Group {
			continue
		}
		if own != nil && slices.Contains(own.gvrs, r.GVR) {
			continue
		}
		if _, custom := r.Strategy.(*strategy); custom {
			continue // other CRDs were checked by their accepted names
		}
		for _, s := range append([]string{r.GVR.Resource, r.SingularName}, r.ShortNames...) {
			taken[s] = true
		}
		takenKinds[r.Kind], takenKinds[r.ListKind] = true, true
	}
	names, ok = prev, true
	conflict := func(r, name string) {
		ok, reason, msg = false, r, fmt.Sprintf("%q is already in use", name)
	}
	free := func(requested, accepted string, inUse map[string]bool) bool {
		return requested == accepted || !inUse[requested]
	}
	if free(req.Plural, prev.Plural, taken) {
		names.Plural = req.Plural
	} else {
		conflict("PluralConflict", req.Plural)
	}
	if free(req.Singular, prev.Singular, taken) {
		names.Singular = req.Singular
	} else {
		conflict("SingularConflict", req.Singular)
	}
	shortFree := true
	for _, sn := range req.ShortNames {
		if !slices.Contains(prev.ShortNames, sn) && taken[sn] {
			shortFree = false
			conflict("ShortNamesConflict", sn)
			break
		}
	}
	if shortFree {
		names.ShortNames = req.ShortNames
	}
	if free(req.Kind, prev.Kind, takenKinds) {
		names.Kind = req.Kind
	} else {
		conflict("KindConflict", req.Kind)
	}
	if free(req.ListKind, prev.ListKind, takenKinds) {
		names.ListKind = req.ListKind
	} else {
		conflict("ListKindConflict", req.ListKind)
	}
	names.Categories = req.Categories
	return names, ok, reason, msg
}

// serve registers crd's resources unless what it serves is unchanged.
func (c *Controller) serve(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	fp, err := fingerprint(crd)
	if err != nil {
		return err
	}
	c.mu.Lock()
	cur := c.serving[crd.Name]
	c.mu.Unlock()
	if cur != nil && cur.uid == string(crd.UID) && cur.fingerprint == fp {
		return nil
	}
	conv, err := newConverter(crd)
	if err != nil {
		return err
	}
	terminating := &atomic.Bool{}
	s, err := build(crd, conv, terminating.Load)
	if err != nil {
		return err
	}
	// Registering replaces what a GVR served before in one step, so a CRD
	// update never makes its resources disappear for a moment; only the
	// versions no longer served are unregistered after.
	e := &entry{uid: string(crd.UID), fingerprint: fp, terminating: terminating}
	for _, r := range s.resources {
		st, err := c.api.Register(r)
		if err != nil {
			c.unregister(e)
			return err
		}
		e.gvrs = append(e.gvrs, r.GVR)
		e.stores = append(e.stores, st)
	}
	if cur != nil {
		for _, gvr := range cur.gvrs {
			if !slices.Contains(e.gvrs, gvr) {
				c.api.Unregister(gvr)
			}
		}
	}
	for _, st := range e.stores {
		if err := st.WaitReady(ctx); err != nil {
			return err
		}
	}
	c.api.SetOpenAPIDefinitions(crd.Name, definitions(crd))
	if err := c.api.PublishOpenAPI(); err != nil {
		slog.Warn("crd: publishing OpenAPI failed", "crd", crd.Name, "err", err)
		c.api.SetOpenAPIDefinitions(crd.Name, nil)
	}
	c.mu.Lock()
	c.serving[crd.Name] = e
	c.mu.Unlock()
	return nil
}

// fingerprint is what serving depends on: spec and accepted names.
func fingerprint(crd *apiextensionsv1.CustomResourceDefinition) (string, error) {
	b, err := json.Marshal([]any{crd.Spec, crd.Status.AcceptedNames})
	return string(b), err
}

// unserve stops serving the CRD name.
func (c *Controller) unserve(name string) {
	c.mu.Lock()
	e := c.serving[name]
	delete(c.serving, name)
	c.mu.Unlock()
	if e == nil {
		return
	}
	c.unregister(e)
	c.api.SetOpenAPIDefinitions(name, nil)
	if err := c.api.PublishOpenAPI(); err != nil {
		slog.Warn("crd: publishing OpenAPI failed", "crd", name, "err", err)
	}
}

func (c *Controller) unregister(e *entry) {
	for _, gvr := range e.gvrs {
		c.api.Unregister(gvr)
	}
}

// finalize deletes a terminating CRD's objects, then lifts its cleanup
// finalizer so the CRD goes.
func (c *Controller) finalize(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	if !slices.Contains(crd.Finalizers, apiextensions.CleanupFinalizer) {
		return nil
	}
	c.mu.Lock()
	e := c.serving[crd.Name]
	c.mu.Unlock()
	remaining := 0
	if e != nil {
		e.terminating.Store(true)
		if len(e.stores) > 0 {
			n, err := deleteAll(ctx, e.stores[0])
			if err != nil {
				return err
			}
			remaining = n
			if remaining == 0 {
				// The finalizer goes only once the watch cache has seen
				// every delete, so watchers get them before the resource
				// stops being served.
				left, err := cached(ctx, e.stores[0])
				if err != nil {
					return err
				}
				if left > 0 {
					return errRequeue
				}
			}
		}
	}
	status := *crd.Status.DeepCopy()
	if remaining > 0 {
		apiextensions.SetCondition(&status, apiextensionsv1.CustomResourceDefinitionCondition{
			Type: apiextensionsv1.Terminating, Status: apiextensionsv1.ConditionTrue,
			Reason: "InstanceDeletionInProgress", Message: "CustomResource deletion is in progress",
		})
		if err := c.writeStatus(ctx, crd, status); err != nil && !errors.Is(err, errRequeue) {
			return err
		}
		return errRequeue
	}
	_, _, err := c.crds.Update(ctx, "", crd.Name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		cur := old.(*apiextensionsv1.CustomResourceDefinition).DeepCopy()
		if cur.UID != crd.UID {
			return nil, apierrors.NewConflict(apiextensionsv1.Resource("customresourcedefinitions"), crd.Name, errors.New("the CRD was replaced"))
		}
		cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == apiextensions.CleanupFinalizer })
		return cur, nil
	}, false, registry.WriteOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return errRequeue
	}
	return err
}

// deleteAll deletes every object in st and returns how many remain (held
// by finalizers of their own).
func deleteAll(ctx context.Context, st *registry.Store) (int, error) {
	list, err := st.List(ctx, "", registry.ListOptions{})
	if err != nil {
		return 0, err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return 0, err
	}
	remaining := 0
	for _, item := range items {
		m, _ := meta.Accessor(item)
		_, gone, err := st.Delete(ctx, m.GetNamespace(), m.GetName(), &metav1.DeleteOptions{}, registry.WriteOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return 0, err
		case !gone:
			remaining++
		}
	}
	return remaining, nil
}

// cached counts the objects st's watch cache holds.
func cached(ctx context.Context, st *registry.Store) (int, error) {
	list, err := st.List(ctx, "", registry.ListOptions{})
	if err != nil {
		return 0, err
	}
	return meta.LenList(list), nil
}
