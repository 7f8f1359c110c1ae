package nodeipam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
)

// Defaults, as k3s configures kube-controller-manager.
const (
	DefaultClusterCIDR  = "10.42.0.0/16"
	DefaultNodeMaskSize = 24
)

// Options are kube-controller-manager's --cluster-cidr and
// --node-cidr-mask-size.
type Options struct {
	ClusterCIDR  string
	NodeMaskSize int
}

// Controller allocates nodes' pod CIDRs.
type Controller struct {
	core  *client.Core
	nodes cache.SharedIndexInformer
	queue workqueue.TypedRateLimitingInterface[string]
	rec   record.EventRecorder
	// handler reports when every node known at start reached nodeChanged.
	handler cache.ResourceEventHandlerRegistration

	mu  sync.Mutex
	set *cidrSet // guarded by mu
	// waiting holds nodes that found the cluster CIDR full: they are
	// looked at again when a CIDR is released, not on a timer. Guarded
	// by mu.
	waiting map[string]bool
}

// New returns the node IPAM controller over cfg. nodes, when not nil, is
// a shared informer of every node to read instead of watching them
// itself; the controller never changes the nodes it holds.
func New(cfg *rest.Config, opts Options, nodes cache.SharedIndexInformer) (*Controller, error) {
	if opts.ClusterCIDR == "" {
		opts.ClusterCIDR = DefaultClusterCIDR
	}
	if opts.NodeMaskSize == 0 {
		opts.NodeMaskSize = DefaultNodeMaskSize
	}
	cluster, err := netip.ParsePrefix(opts.ClusterCIDR)
	if err != nil {
		return nil, fmt.Errorf("--cluster-cidr %q: %w", opts.ClusterCIDR, err)
	}
	set, err := newCIDRSet(cluster, opts.NodeMaskSize)
	if err != nil {
		return nil, err
	}
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{core: core, queue: controller.NewQueue("nodeipam"), set: set, waiting: map[string]bool{}}
	if c.nodes = nodes; c.nodes == nil {
		c.nodes = cache.NewSharedIndexInformer(client.ListWatch(core.Nodes(), nil), &corev1.Node{}, 0, cache.Indexers{})
		if err := c.nodes.SetTransform(slimNode); err != nil {
			return nil, err
		}
	}
	if c.handler, err = c.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.nodeChanged,
		UpdateFunc: func(_, obj any) { c.nodeChanged(obj) },
		DeleteFunc: c.nodeDeleted,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// slimNode keeps what allocation reads: identity and pod CIDRs. The
// controller writes nodes with a merge patch only, never from this copy.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion},
		Spec:       corev1.NodeSpec{PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs},
	}, nil
}

// Run allocates until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "node-ipam-controller")
	defer stop()
	c.rec = rec
	controller.Loop{Name: "nodeipam", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.nodes}, Sync: c.sync}.Run(ctx, workers)
}

// nodeChanged marks a node's CIDRs used as soon as the informer shows
// them, so that the initial list rebuilds the whole allocation before a
// worker hands out anything: a handler added before the informer starts
// gets every listed node before the informer reports synced, and workers
// start only after that. (A handler added to a shared informer already
// running gets the cached nodes replayed later: sync waits for that.)
func (c *Controller) nodeChanged(obj any) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	if len(n.Spec.PodCIDRs) == 0 {
		c.queue.Add(n.Name)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiting, n.Name)
	c.occupyLocked(n)
}

func (c *Controller) occupyLocked(n *corev1.Node) {
	for _, s := range n.Spec.PodCIDRs {
		p, err := netip.ParsePrefix(s)
		if err == nil {
			err = c.set.occupy(p)
		}
		if err != nil {
			slog.Debug("nodeipam: pod CIDR not ours; left alone", "node", n.Name, "cidr", s, "err", err)
		}
	}
}

func (c *Controller) nodeDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.waiting, n.Name)
	released := false
	for _, s := range n.Spec.PodCIDRs {
		if p, err := netip.ParsePrefix(s); err == nil {
			released = c.set.release(p) == nil || released
		}
	}
	if released {
		for name := range c.waiting {
			c.queue.Add(name)
		}
		clear(c.waiting)
	}
}

func (c *Controller) sync(ctx context.Context, name string) error {
	if !c.handler.HasSynced() {
		return fmt.Errorf("nodeipam: waiting for the existing nodes' CIDRs: %w", controller.ErrRequeue)
	}
	obj, exists, err := c.nodes.GetIndexer().GetByKey(name)
	if err != nil || !exists {
		return err
	}
	n := obj.(*corev1.Node)
	if len(n.Spec.PodCIDRs) > 0 {
		return nil
	}
	c.mu.Lock()
	cidr, err := c.set.allocate()
	first, firstFull := false, false
	if errors.Is(err, ErrCIDRSetFull) {
		first, firstFull = !c.waiting[n.Name], len(c.waiting) == 0
		c.waiting[n.Name] = true
	}
	c.mu.Unlock()
	if errors.Is(err, ErrCIDRSetFull) {
		if first {
			c.rec.Eventf(nodeRef(n), corev1.EventTypeNormal, "CIDRNotAvailable", "Node %s status is now: CIDRNotAvailable", n.Name)
		}
		if firstFull {
			slog.Warn("nodeipam: the cluster CIDR is full; nodes without a pod CIDR wait for one to be released (see --cluster-cidr, --node-cidr-mask-size)", "node", n.Name)
		}
		return nil
	}
	if err != nil {
		return err
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": n.ResourceVersion},
		"spec":     map[string]any{"podCIDR": cidr.String(), "podCIDRs": []string{cidr.String()}},
	})
	_, err = c.core.Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		c.mu.Lock()
		_ = c.set.release(cidr)
		c.mu.Unlock()
		if apierrors.IsNotFound(err) {
			return nil
		}
		if apierrors.IsConflict(err) {
			// The node changed: its next event brings it back.
			return nil
		}
		return fmt.Errorf("nodeipam: setting pod CIDR %s on node %s: %w", cidr, n.Name, err)
	}
	slog.Debug("nodeipam: allocated pod CIDR", "node", n.Name, "cidr", cidr)
	return nil
}

func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID, APIVersion: "v1"}
}
