package podgc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/informers"
)

// Upstream's defaults.
const (
	DefaultThreshold  = 12500
	DefaultPeriod     = 20 * time.Second
	DefaultQuarantine = 40 * time.Second
)

// Controller is the pod garbage collector. Set its exported fields, if at
// all, before Run.
type Controller struct {
	// Threshold is how many terminated pods may exist; zero or less
	// disables their collection.
	Threshold int
	// Period is how often every pod is looked at.
	Period time.Duration
	// Quarantine is how long a node must be missing from the informer
	// before a live GET decides it is gone: it covers an informer that
	// lags, or a node that registers after its pods were bound.
	Quarantine time.Duration

	core  *client.Core
	pods  cache.SharedIndexInformer
	nodes cache.SharedIndexInformer
	// missing holds names of nodes pods are bound to but that were not
	// seen, each due when its quarantine ends.
	missing workqueue.TypedDelayingInterface[string]
}

// New returns a pod garbage collector with upstream's defaults that
// reaches the API server through cfg and reads it through inf.
func New(cfg *rest.Config, inf *informers.Factory) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		Threshold:  DefaultThreshold,
		Period:     DefaultPeriod,
		Quarantine: DefaultQuarantine,
		core:       core,
		pods:       inf.Pods(),
		nodes:      inf.Nodes(),
		missing:    workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Name: "podgc_missing_nodes"}),
	}
	podSeen := func(obj any) {
		if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" && !c.nodeKnown(p.Spec.NodeName) {
			c.missing.AddAfter(p.Spec.NodeName, c.Quarantine)
		}
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    podSeen,
		UpdateFunc: func(_, obj any) { podSeen(obj) },
	}); err != nil {
		return nil, err
	}
	if _, err := c.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if n, ok := obj.(*corev1.Node); ok {
				c.missing.AddAfter(n.Name, c.Quarantine)
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run collects pods until ctx ends; it returns once every goroutine it
// started has stopped.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.missing.ShutDown()
	wg.Go(func() { c.pods.RunWithContext(ctx) })
	wg.Go(func() { c.nodes.RunWithContext(ctx) })
	if !cache.WaitForCacheSync(ctx.Done(), c.pods.HasSynced, c.nodes.HasSynced) {
		return
	}
	wg.Go(func() { wait.UntilWithContext(ctx, c.gc, c.Period) })
	wg.Go(func() {
		for c.processMissing(ctx) {
		}
	})
	<-ctx.Done()
}

func (c *Controller) nodeKnown(name string) bool {
	_, ok, _ := c.nodes.GetIndexer().GetByKey(name)
	return ok
}

func (c *Controller) lists() ([]*corev1.Pod, []*corev1.Node) {
	var pods []*corev1.Pod
	for _, o := range c.pods.GetStore().List() {
		if p, ok := o.(*corev1.Pod); ok {
			pods = append(pods, p)
		}
	}
	var nodes []*corev1.Node
	for _, o := range c.nodes.GetStore().List() {
		if n, ok := o.(*corev1.Node); ok {
			nodes = append(nodes, n)
		}
	}
	return pods, nodes
}

// gc is one periodic pass.
func (c *Controller) gc(ctx context.Context) {
	pods, nodes := c.lists()
	for _, p := range excessTerminated(pods, c.Threshold) {
		c.logErr(ctx, c.forceDelete(ctx, p, nil, "terminated pods over threshold"))
	}
	for _, p := range terminatingOutOfService(pods, nodes) {
		c.logErr(ctx, c.forceDelete(ctx, p, nil, "terminating on an out-of-service node"))
	}
	for _, name := range missingNodes(pods, nodes) {
		c.missing.AddAfter(name, c.Quarantine)
	}
	for _, p := range terminatingUnscheduled(pods) {
		c.logErr(ctx, c.forceDelete(ctx, p, nil, "terminating and never scheduled"))
	}
}

// processMissing handles one node whose quarantine ended: if it is still
// missing and a live GET agrees, its pods go.
func (c *Controller) processMissing(ctx context.Context) bool {
	name, quit := c.missing.Get()
	if quit {
		return false
	}
	defer c.missing.Done(name)
	if c.nodeKnown(name) {
		return true
	}
	_, err := c.core.Nodes().Get(ctx, name, metav1.GetOptions{})
	switch {
	case err == nil:
		return true // the informer lags; it will catch up
	case !apierrors.IsNotFound(err):
		if ctx.Err() == nil {
			slog.Warn("podgc: getting node", "node", name, "err", err)
			c.missing.AddAfter(name, time.Second)
		}
		return true
	}
	pods, _ := c.lists()
	cond := &corev1.PodCondition{
		Type:               corev1.DisruptionTarget,
		Status:             corev1.ConditionTrue,
		Reason:             "DeletionByPodGC",
		Message:            "PodGC: node no longer exists",
		LastTransitionTime: metav1.Now(),
	}
	failed := false
	for _, p := range orphanedOn(pods, map[string]bool{name: true}) {
		if err := c.forceDelete(ctx, p, cond, "node "+name+" no longer exists"); err != nil {
			c.logErr(ctx, err)
			failed = true
		}
	}
	if failed {
		c.missing.AddAfter(name, time.Second)
	}
	return true
}

func (c *Controller) logErr(ctx context.Context, err error) {
	if err != nil && ctx.Err() == nil {
		slog.Info("podgc: pass incomplete; retried later", "err", err)
	}
}

// forceDelete marks a pod Failed (with cond) unless its phase is final,
// since no kubelet will, and deletes it with grace period 0.
func (c *Controller) forceDelete(ctx context.Context, p *corev1.Pod, cond *corev1.PodCondition, why string) error {
	pods := c.core.Pods(p.Namespace)
	if st, changed := failedStatus(p, cond); changed {
		patch, err := json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": p.ResourceVersion},
			"status":   map[string]any{"phase": st.Phase, "conditions": st.Conditions},
		})
		if err == nil {
			_, err = pods.Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
		}
		if err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("podgc: marking %s/%s failed: %w", p.Namespace, p.Name, err)
		}
	}
	uid := p.UID
	err := pods.Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: new(int64(0)), Preconditions: &metav1.Preconditions{UID: &uid}})
	switch {
	case err == nil:
		slog.Info("podgc: force-deleted pod", "pod", p.Namespace+"/"+p.Name, "why", why)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("podgc: deleting %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}
