// Package namespace is the namespace controller: when a namespace is being
// deleted it deletes everything in it, every namespaced resource the server
// serves (custom ones included, found through discovery), reports progress
// in the namespace's status conditions, and then removes its
// "kubernetes" finalizer so the namespace itself goes.
//
// It is level-triggered: each pass re-reads the namespace and what is left
// in it; a pass that finds content left is retried with backoff.
//
// It reaches the server through skiff's small typed client
// (internal/client) and client-go's metadata client, never through
// k8s.io/client-go/kubernetes: see internal/client for why.
package namespace

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
)

// Controller finalizes deleted namespaces.
type Controller struct {
	core     *client.Core
	metadata metadata.Interface
	queue    workqueue.TypedRateLimitingInterface[string]
	informer cache.SharedIndexInformer
}

// New returns a controller that reaches the API server through cfg.
func New(cfg *rest.Config) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		core:     core,
		metadata: md,
		queue:    controller.NewQueue("namespace"),
		informer: cache.NewSharedIndexInformer(client.ListWatch(core.Namespaces(), nil), &corev1.Namespace{}, 0, cache.Indexers{}),
	}
	enqueue := func(obj any) {
		if ns, ok := obj.(*corev1.Namespace); ok && ns.DeletionTimestamp != nil {
			c.queue.Add(ns.Name)
		}
	}
	if _, err := c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run processes deleted namespaces until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controller.Loop{
		Name:      "namespace",
		Queue:     c.queue,
		Informers: []cache.SharedIndexInformer{c.informer},
		Sync:      c.sync,
	}.Run(ctx, workers)
}

var errContentRemaining = fmt.Errorf("namespace: content remaining: %w", controller.ErrRequeue)

// sync does one pass over a namespace being deleted.
func (c *Controller) sync(ctx context.Context, name string) error {
	obj, exists, err := c.informer.GetIndexer().GetByKey(name)
	if err != nil || !exists {
		return err
	}
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return fmt.Errorf("namespace: informer holds a %T", obj)
	}
	if ns.DeletionTimestamp == nil || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	resources, discoveryErr := c.core.NamespacedResources(ctx, "list", "delete")
	remaining, finalizers, deleteErrs := c.deleteContent(ctx, name, resources)
	conds := conditions(discoveryErr, deleteErrs, remaining, finalizers)
	if err := c.setConditions(ctx, ns, conds); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if discoveryErr != nil || len(deleteErrs) > 0 || len(remaining) > 0 {
		return errContentRemaining
	}
	return c.finalize(ctx, name)
}

// deleteContent deletes what is left in the namespace and reports, per
// resource, how many objects remain, and per finalizer, how many of them
// it holds.
func (c *Controller) deleteContent(ctx context.Context, ns string, resources []schema.GroupVersionResource) (remaining, finalizers map[string]int, errs []error) {
	remaining, finalizers = map[string]int{}, map[string]int{}
	background := metav1.DeletePropagationBackground
	for _, gvr := range resources {
		ri := c.metadata.Resource(gvr).Namespace(ns)
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			if !apierrors.IsNotFound(err) && !apierrors.IsMethodNotSupported(err) {
				errs = append(errs, fmt.Errorf("list %s: %w", gvr.Resource, err))
			}
			continue
		}
		if len(list.Items) == 0 {
			continue
		}
		if err := ri.DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &background}, metav1.ListOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete %s: %w", gvr.Resource, err))
		}
		if list, err = ri.List(ctx, metav1.ListOptions{}); err == nil && len(list.Items) > 0 {
			key := gvr.GroupResource().String()
			remaining[key] = len(list.Items)
			for _, item := range list.Items {
				for _, f := range item.Finalizers {
					finalizers[f]++
				}
			}
		}
	}
	return remaining, finalizers, errs
}

// conditions are the deletion status conditions, as upstream reports them.
func conditions(discoveryErr error, deleteErrs []error, remaining, finalizers map[string]int) []corev1.NamespaceCondition {
	cond := func(t corev1.NamespaceConditionType, bad bool, badReason, goodReason, msg string) corev1.NamespaceCondition {
		c := corev1.NamespaceCondition{Type: t, Status: corev1.ConditionFalse, Reason: goodReason, LastTransitionTime: metav1.Now()}
		if bad {
			c.Status, c.Reason, c.Message = corev1.ConditionTrue, badReason, msg
		}
		return c
	}
	var msgs []string
	for _, e := range deleteErrs {
		msgs = append(msgs, e.Error())
	}
	var left []string
	for r, n := range remaining {
		left = append(left, fmt.Sprintf("%s has %d resource instances", r, n))
	}
	sort.Strings(left)
	var held []string
	for f, n := range finalizers {
		held = append(held, fmt.Sprintf("%s in %d resource instances", f, n))
	}
	sort.Strings(held)
	discoveryMsg := ""
	if discoveryErr != nil {
		discoveryMsg = discoveryErr.Error()
	}
	return []corev1.NamespaceCondition{
		cond(corev1.NamespaceDeletionDiscoveryFailure, discoveryErr != nil, "DiscoveryFailed", "ResourcesDiscovered", discoveryMsg),
		cond(corev1.NamespaceDeletionGVParsingFailure, false, "", "ParsedGroupVersions", ""),
		cond(corev1.NamespaceDeletionContentFailure, len(deleteErrs) > 0, "ContentDeletionFailed", "ContentDeleted", strings.Join(msgs, "; ")),
		cond(corev1.NamespaceContentRemaining, len(remaining) > 0, "SomeResourcesRemain", "ContentRemoved", "Some resources are remaining: "+strings.Join(left, ", ")),
		cond(corev1.NamespaceFinalizersRemaining, len(finalizers) > 0, "SomeFinalizersRemain", "ContentHasNoFinalizers",
			"Some content in the namespace has finalizers remaining: "+strings.Join(held, ", ")),
	}
}

// setConditions writes the conditions if their status or reason changed.
func (c *Controller) setConditions(ctx context.Context, ns *corev1.Namespace, conds []corev1.NamespaceCondition) error {
	changed := false
	out := ns.DeepCopy()
	for _, want := range conds {
		i := slices.IndexFunc(out.Status.Conditions, func(c corev1.NamespaceCondition) bool { return c.Type == want.Type })
		if i < 0 {
			out.Status.Conditions = append(out.Status.Conditions, want)
			changed = true
			continue
		}
		have := &out.Status.Conditions[i]
		if have.Status != want.Status || have.Reason != want.Reason || have.Message != want.Message {
			*have = want
			changed = true
		}
	}
	if !changed {
		return nil
	}
	_, err := c.core.Namespaces().UpdateStatus(ctx, out, metav1.UpdateOptions{})
	return err
}

// finalize removes the controller's finalizer through /finalize; the
// server then deletes the namespace.
func (c *Controller) finalize(ctx context.Context, name string) error {
	ns, err := c.core.Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
	err = c.core.REST().Put().Resource("namespaces").Name(ns.Name).SubResource("finalize").Body(ns).Do(ctx).Error()
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
