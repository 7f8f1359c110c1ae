package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
)

// DefaultPeriod is how often resources are rediscovered, as upstream.
const DefaultPeriod = 30 * time.Second

// component names the garbage collector in the Events it records.
const component = "garbage-collector-controller"

// errOwnerUnobserved: an owner exists but its deletion could not be
// observed yet (its resource is not watched, or not yet), so the object
// is looked at again until it is.
var errOwnerUnobserved = fmt.Errorf("garbagecollector: owner not yet observed: %w", controller.ErrRequeue)

// Controller is the garbage collector.
type Controller struct {
	core     *client.Core
	metadata metadata.Interface
	queue    workqueue.TypedRateLimitingInterface[string]
	period   time.Duration

	// rediscover asks for a discovery pass before the period ends.
	rediscover chan struct{}
	// wg holds the monitors' goroutines.
	wg sync.WaitGroup

	// mu guards the graph, the catalog and the monitors. Held only for
	// in-memory work, never across a request.
	mu      sync.Mutex
	graph   *graph
	catalog *catalog
	// retired are the kinds a discovery found no longer served (a deleted
	// CustomResourceDefinition's), until one serves them again.
	retired  map[schema.GroupKind]struct{}
	absent   *absentCache
	monitors map[schema.GroupVersionResource]*monitor
	// shared gives the process's informer of a resource, when it has one.
	shared func(schema.GroupVersionResource) (cache.SharedIndexInformer, bool)
}

// New returns a garbage collector that reaches the API server through
// cfg and rediscovers resources every period (DefaultPeriod when zero).
//
// shared, when not nil, gives the process's shared informer of a resource,
// if it has one: the collector then watches through it instead of a
// metadata informer of its own, and that resource's objects are decoded
// and held once.
func New(cfg *rest.Config, period time.Duration, shared func(schema.GroupVersionResource) (cache.SharedIndexInformer, bool)) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	if period <= 0 {
		period = DefaultPeriod
	}
	return &Controller{
		core:       core,
		metadata:   md,
		queue:      controller.NewQueue("garbagecollector"),
		period:     period,
		rediscover: make(chan struct{}, 1),
		graph:      newGraph(),
		absent:     newAbsentCache(500),
		monitors:   map[schema.GroupVersionResource]*monitor{},
		shared:     shared,
	}, nil
}

// Run discovers resources, watches them, and collects garbage with
// workers until ctx ends; it returns once every goroutine it started has
// stopped.
func (c *Controller) Run(ctx context.Context, workers int) {
	defer c.wg.Wait()
	c.resync(ctx)
	c.wg.Go(func() { c.runDiscovery(ctx) })
	// Work waits for the first lists, so decisions start from a full
	// graph; only a cap keeps one broken resource from stopping the
	// collector, and every deletion is verified live anyway.
	waitCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	for !c.synced() && waitCtx.Err() == nil {
		select {
		case <-waitCtx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	cancel()
	if ctx.Err() != nil {
		c.queue.ShutDown()
		return
	}
	if u := c.unsynced(); len(u) > 0 {
		slog.Warn("garbagecollector: starting before every resource was listed", "unsynced", u)
	}
	controller.Loop{Name: "garbagecollector", Queue: c.queue, Sync: c.sync}.Run(ctx, workers)
}

// sync makes one pass over the object with UID key. A write that lost a
// race (a conflict on the resourceVersion it read) is retried quietly:
// the object changed and is judged again.
func (c *Controller) sync(ctx context.Context, key string) error {
	err := c.syncOnce(ctx, types.UID(key))
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w: %w", controller.ErrRequeue, err)
	}
	return err
}

func (c *Controller) syncOnce(ctx context.Context, uid types.UID) error {
	c.mu.Lock()
	n, ok := c.graph.get(uid)
	solid := c.graph.ownedBySolid(uid)
	c.mu.Unlock()
	if !ok || solid {
		// Gone, or owned by objects the graph has seen alive (as most are
		// when a restart lists dependents before their owners): nothing
		// to ask the server.
		return nil
	}
	if n.deleting && !n.deletingDependents && !n.orphaning {
		return nil // on its way out; its dependents get a look when it is gone
	}
	latest, err := c.get(ctx, n.identity)
	if err != nil {
		return err
	}
	if latest == nil {
		// Gone, though no event said so (e.g. its resource stopped being
		// served): take it out of the graph.
		c.forget(uid)
		return nil
	}
	c.mu.Lock()
	deps := c.graph.dependentsOf(uid)
	c.mu.Unlock()

	if latest.DeletionTimestamp != nil {
		return c.syncDeleting(ctx, n.identity, latest, deps)
	}
	if len(latest.OwnerReferences) == 0 {
		return nil
	}
	refs, unobserved, err := c.classify(ctx, n.identity, latest.OwnerReferences)
	if err != nil {
		return err
	}
	p := planOwned(refs, latest.Finalizers, deps)
	slog.Debug("garbagecollector: plan", "object", n.identity, "refs", refs, "plan", p)
	switch p.Kind {
	case actRemoveRefs:
		_, err := c.editOwnerRefs(ctx, n.identity, func(rs []metav1.OwnerReference) []metav1.OwnerReference {
			return slices.DeleteFunc(rs, func(r metav1.OwnerReference) bool { return slices.Contains(p.Refs, r.UID) })
		})
		return err
	case actDelete:
		rv := latest.ResourceVersion
		if p.Unblock {
			obj, err := c.editOwnerRefs(ctx, n.identity, func(rs []metav1.OwnerReference) []metav1.OwnerReference {
				for i := range rs {
					if isBlocking(rs[i]) {
						rs[i].BlockOwnerDeletion = new(false)
					}
				}
				return rs
			})
			if err != nil || obj == nil {
				return err
			}
			rv = obj.ResourceVersion
		}
		return c.delete(ctx, n.identity, rv, p.Policy)
	case actNone:
		if unobserved {
			return errOwnerUnobserved
		}
	}
	return nil
}

// syncDeleting carries out the propagation policy of an object being
// deleted.
func (c *Controller) syncDeleting(ctx context.Context, id identity, latest *metav1.PartialObjectMetadata, deps []dependent) error {
	// The dependents are those the graph knows: Run started work only
	// once every resource was listed (or 30 s passed), so a resource that
	// never lists cannot hold every foreground and orphan deletion.
	p := planDeleting(latest.Finalizers, deps)
	switch p.Kind {
	case actOrphan:
		var errs []error
		for _, d := range deps {
			_, err := c.editOwnerRefs(ctx, d.identity, func(rs []metav1.OwnerReference) []metav1.OwnerReference {
				return slices.DeleteFunc(rs, func(r metav1.OwnerReference) bool { return r.UID == id.UID })
			})
			errs = append(errs, err)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if err := c.removeFinalizer(ctx, id, metav1.FinalizerOrphanDependents); err != nil {
			return err
		}
		// Another finalizer of ours may remain (a later foreground delete).
		c.queue.Add(string(id.UID))
	case actRemoveFinalizer:
		return c.removeFinalizer(ctx, id, metav1.FinalizerDeleteDependents)
	case actWait:
		// Each blocking dependent's deletion brings the owner back here.
		c.enqueue(p.Dependents)
	}
	return nil
}

// classify looks up each owner reference live. unobserved reports an
// owner that exists but is not in the graph, whose deletion would go
// unnoticed.
func (c *Controller) classify(ctx context.Context, item identity, refs []metav1.OwnerReference) (out []classifiedRef, unobserved bool, err error) {
	for _, ref := range refs {
		ri, err := c.resourceFor(ref.APIVersion, ref.Kind)
		if err != nil && c.isRetired(ref.APIVersion, ref.Kind) {
			// The kind is no longer served: its objects went with it (a
			// CRD's deletion deletes them first), so the owner is absent.
			// The dependent's monitor may well have outlived the owner's,
			// which stopped before it saw the owner go.
			out = append(out, classifiedRef{Ref: ref, State: ownerAbsent})
			continue
		}
		if err != nil {
			c.askRediscovery()
			return nil, false, err
		}
		if item.Namespace == "" && ri.Namespaced {
			c.reportInvalid(ctx, item, ref)
			out = append(out, classifiedRef{Ref: ref, State: ownerInvalid})
			continue
		}
		ns := ""
		if ri.Namespaced {
			ns = item.Namespace
		}
		c.mu.Lock()
		o, seen := c.graph.get(ref.UID)
		c.mu.Unlock()
		if seen && o.Namespace != "" && o.Namespace != item.Namespace {
			// The UID is an object in another namespace: not an owner.
			c.reportInvalid(ctx, item, ref)
		}
		key := absentKey{Resource: ri.GVR.GroupResource(), Namespace: ns, Name: ref.Name, UID: ref.UID}
		if c.absent.has(key) {
			out = append(out, classifiedRef{Ref: ref, State: ownerAbsent})
			continue
		}
		owner, err := c.metadata.Resource(ri.GVR).Namespace(ns).Get(ctx, ref.Name, metav1.GetOptions{})
		switch {
		case err != nil && !apierrors.IsNotFound(err):
			return nil, false, err
		case err != nil || owner.UID != ref.UID:
			c.absent.add(key)
			out = append(out, classifiedRef{Ref: ref, State: ownerAbsent})
		case owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, metav1.FinalizerDeleteDependents):
			out = append(out, classifiedRef{Ref: ref, State: ownerWaiting})
		default:
			out = append(out, classifiedRef{Ref: ref, State: ownerSolid})
			unobserved = unobserved || !seen
		}
	}
	return out, unobserved, nil
}

// get reads an object's metadata live; nil when it is gone or the name
// now holds another object.
func (c *Controller) get(ctx context.Context, id identity) (*metav1.PartialObjectMetadata, error) {
	obj, err := c.metadata.Resource(id.Resource).Namespace(id.Namespace).Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if obj.UID != id.UID {
		return nil, nil
	}
	return obj, nil
}

// editOwnerRefs rewrites an object's ownerReferences with edit, guarded by
// the resourceVersion it read (a conflict is retried by the queue). It
// returns the object as written, or nil when the object is gone.
func (c *Controller) editOwnerRefs(ctx context.Context, id identity, edit func([]metav1.OwnerReference) []metav1.OwnerReference) (*metav1.PartialObjectMetadata, error) {
	obj, err := c.get(ctx, id)
	if err != nil || obj == nil {
		return nil, err
	}
	before := slices.Clone(obj.OwnerReferences)
	after := edit(slices.Clone(obj.OwnerReferences))
	if slices.EqualFunc(before, after, equalRef) {
		return obj, nil
	}
	var refs any = after
	if len(after) == 0 {
		refs = nil // merge patch null: remove the field
	}
	return c.patchMeta(ctx, id, map[string]any{"ownerReferences": refs, "resourceVersion": obj.ResourceVersion})
}

// removeFinalizer removes one finalizer, guarded by the resourceVersion it
// read.
func (c *Controller) removeFinalizer(ctx context.Context, id identity, f string) error {
	obj, err := c.get(ctx, id)
	if err != nil || obj == nil || !slices.Contains(obj.Finalizers, f) {
		return err
	}
	var fins any = slices.DeleteFunc(slices.Clone(obj.Finalizers), func(s string) bool { return s == f })
	if len(obj.Finalizers) == 1 {
		fins = nil
	}
	_, err = c.patchMeta(ctx, id, map[string]any{"finalizers": fins, "resourceVersion": obj.ResourceVersion})
	return err
}

func (c *Controller) patchMeta(ctx context.Context, id identity, meta map[string]any) (*metav1.PartialObjectMetadata, error) {
	body, err := json.Marshal(map[string]any{"metadata": meta})
	if err != nil {
		return nil, err
	}
	obj, err := c.metadata.Resource(id.Resource).Namespace(id.Namespace).Patch(ctx, id.Name, types.MergePatchType, body, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// delete deletes an object as judged: same UID, same resourceVersion.
func (c *Controller) delete(ctx context.Context, id identity, rv string, policy metav1.DeletionPropagation) error {
	uid := id.UID
	err := c.metadata.Resource(id.Resource).Namespace(id.Namespace).Delete(ctx, id.Name, metav1.DeleteOptions{
		PropagationPolicy: &policy,
		Preconditions:     &metav1.Preconditions{UID: &uid, ResourceVersion: &rv},
	})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		slog.Debug("garbagecollector: deleted", "resource", id.Resource.String(), "namespace", id.Namespace, "name", id.Name, "propagation", policy)
	}
	return err
}

// reportInvalid records the Warning Event upstream records for an owner
// reference that crosses namespaces.
func (c *Controller) reportInvalid(ctx context.Context, item identity, ref metav1.OwnerReference) {
	ns := item.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", item.Name, now.UnixNano()), Namespace: ns},
		InvolvedObject: corev1.ObjectReference{Kind: item.Kind, APIVersion: item.APIVersion,
			Namespace: item.Namespace, Name: item.Name, UID: item.UID},
		Reason: "OwnerRefInvalidNamespace",
		Message: fmt.Sprintf("ownerRef [%s/%s, namespace: %s, name: %s, uid: %s] does not exist in namespace %q",
			ref.APIVersion, ref.Kind, item.Namespace, ref.Name, ref.UID, item.Namespace),
		Type:                corev1.EventTypeWarning,
		Source:              corev1.EventSource{Component: component},
		ReportingController: component,
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
	}
	if _, err := c.core.Events(ns).Create(ctx, ev, metav1.CreateOptions{}); err != nil && ctx.Err() == nil {
		slog.Info("garbagecollector: recording event", "err", err)
	}
}
