package nodelifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
)

// Defaults are kube-controller-manager's.
const (
	DefaultMonitorPeriod          = 5 * time.Second
	DefaultMonitorGracePeriod     = 40 * time.Second
	DefaultStartupGracePeriod     = time.Minute
	DefaultEvictionRate           = 0.1
	DefaultSecondaryEvictionRate  = 0.01
	DefaultUnhealthyZoneThreshold = 0.55
	DefaultLargeClusterThreshold  = 50
)

// Options are the node lifecycle settings; zero fields take the defaults.
type Options struct {
	// MonitorPeriod is how often node health is checked
	// (--node-monitor-period).
	MonitorPeriod time.Duration
	Timeouts
	Rates
	// Lifecycle runs the node lifecycle controller ("nodelifecycle"):
	// health, conditions, TaintNodesByCondition and NoExecute taints.
	Lifecycle bool
	// Eviction runs the taint eviction controller
	// ("taint-eviction-controller"): pods leave nodes whose NoExecute
	// taints they do not tolerate.
	Eviction bool
	// Clock drives the monitor and the eviction timers; default real.
	Clock clock.WithTickerAndDelayedExecution
}

func (o Options) withDefaults() Options {
	if o.MonitorPeriod <= 0 {
		o.MonitorPeriod = DefaultMonitorPeriod
	}
	if o.MonitorGracePeriod <= 0 {
		o.MonitorGracePeriod = DefaultMonitorGracePeriod
	}
	if o.StartupGracePeriod <= 0 {
		o.StartupGracePeriod = DefaultStartupGracePeriod
	}
	if o.EvictionRate == 0 {
		o.EvictionRate = DefaultEvictionRate
	}
	if o.UnhealthyZoneThreshold == 0 {
		o.UnhealthyZoneThreshold = DefaultUnhealthyZoneThreshold
	}
	if o.LargeClusterThreshold == 0 {
		o.LargeClusterThreshold = DefaultLargeClusterThreshold
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

const nodeNameIndex = "spec.nodeName"

// Controller is the node lifecycle and taint eviction controllers over
// one set of informers.
type Controller struct {
	opts   Options
	core   *client.Core
	nodes  cache.SharedIndexInformer
	leases cache.SharedIndexInformer
	pods   cache.SharedIndexInformer

	// taintQueue holds nodes whose TaintNodesByCondition taints to check.
	taintQueue workqueue.TypedRateLimitingInterface[string]
	nodeRec    record.EventRecorder // set by Run

	// The monitor's state, owned by the monitor goroutine.
	health map[string]*health
	known  map[string]bool
	retry  map[string]bool // nodes whose pods still need marking not Ready
	// judged is each node's Ready status as the last pass decided it, and
	// the version of the node it decided on.
	judged     map[string]judgement
	zoneStates map[string]zoneState
	zones      map[string]*zoneTainter

	ev *evictor
}

// zoneTainter is one zone's rate-limited queue of nodes to give a
// NoExecute taint.
type zoneTainter struct {
	limiter limiter
	queue   []string
}

// judgement is a node's Ready status as a monitor pass decided it, on the
// node at resourceVersion.
type judgement struct {
	resourceVersion string
	ready           corev1.ConditionStatus
}

func (z *zoneTainter) add(name string) {
	if !slices.Contains(z.queue, name) {
		z.queue = append(z.queue, name)
	}
}

func (z *zoneTainter) remove(name string) {
	z.queue = slices.DeleteFunc(z.queue, func(n string) bool { return n == name })
}

// Informers are shared informers the controllers may read instead of
// watching for themselves (a process's informer factory): every pod and
// every node. Nil ones are made here, slimmed to what the controllers
// read. The controllers never change the objects they hold.
type Informers struct {
	Pods, Nodes cache.SharedIndexInformer
}

// New returns the controllers over cfg; opts says which run.
func New(cfg *rest.Config, opts Options, shared Informers) (*Controller, error) {
	opts = opts.withDefaults()
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	coord, err := client.NewGroup(cfg, coordinationv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		opts: opts, core: core,
		taintQueue: controller.NewQueue("node-lifecycle-taints"),
		health:     map[string]*health{}, known: map[string]bool{}, retry: map[string]bool{}, judged: map[string]judgement{},
		zoneStates: map[string]zoneState{}, zones: map[string]*zoneTainter{},
	}
	if c.nodes = shared.Nodes; c.nodes == nil {
		c.nodes = cache.NewSharedIndexInformer(client.ListWatch(core.Nodes(), nil), &corev1.Node{}, 0, cache.Indexers{})
		if err := c.nodes.SetTransform(slimNode); err != nil {
			return nil, err
		}
	}
	if c.pods = shared.Pods; c.pods == nil {
		c.pods = cache.NewSharedIndexInformer(client.ListWatch(core.Pods(""), func(o *metav1.ListOptions) {
			o.FieldSelector = "spec.nodeName!="
		}), &corev1.Pod{}, 0, cache.Indexers{nodeNameIndex: podNodeName})
		if err := c.pods.SetTransform(slimPod); err != nil {
			return nil, err
		}
	}
	if opts.Lifecycle {
		c.leases = cache.NewSharedIndexInformer(client.ListWatch(coord.Leases(corev1.NamespaceNodeLease), nil), &coordinationv1.Lease{}, 0, cache.Indexers{})
		if err := c.leases.SetTransform(slimLease); err != nil {
			return nil, err
		}
		enqueue := func(obj any) {
			if n, ok := obj.(*corev1.Node); ok {
				c.taintQueue.Add(n.Name)
			}
		}
		if _, err := c.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: enqueue, UpdateFunc: func(_, obj any) { enqueue(obj) },
		}); err != nil {
			return nil, err
		}
	}
	if opts.Eviction {
		c.ev = newEvictor(core, c.nodes, c.pods, opts.Clock)
		if err := c.ev.addHandlers(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func podNodeName(obj any) ([]string, error) {
	if p, ok := obj.(*corev1.Pod); ok && p.Spec.NodeName != "" {
		return []string{p.Spec.NodeName}, nil
	}
	return nil, nil
}

// podsOn lists the pods bound to node: from the node name index of the
// controller's own informer, or by a scan of a shared one (only on a
// node's transition, so rarely).
func podsOn(pods cache.SharedIndexInformer, node string) []*corev1.Pod {
	var out []*corev1.Pod
	if _, indexed := pods.GetIndexer().GetIndexers()[nodeNameIndex]; indexed {
		objs, _ := pods.GetIndexer().ByIndex(nodeNameIndex, node)
		for _, o := range objs {
			out = append(out, o.(*corev1.Pod))
		}
		return out
	}
	for _, o := range pods.GetStore().List() {
		if p, ok := o.(*corev1.Pod); ok && p.Spec.NodeName == node {
			out = append(out, p)
		}
	}
	return out
}

// slimNode keeps what the controllers read. Writes are merge patches
// with the node's resourceVersion, never this copy.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion, Labels: n.Labels,
			CreationTimestamp: n.CreationTimestamp},
		Spec:   corev1.NodeSpec{Taints: n.Spec.Taints, Unschedulable: n.Spec.Unschedulable},
		Status: corev1.NodeStatus{Conditions: n.Status.Conditions},
	}, nil
}

// slimPod keeps of a pod its identity, node, tolerations, deletion and
// Ready condition: status writes are strategic merge patches keyed by
// condition type, so the other conditions need not be held.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	s := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			DeletionTimestamp: p.DeletionTimestamp},
		Spec:   corev1.PodSpec{NodeName: p.Spec.NodeName, Tolerations: p.Spec.Tolerations},
		Status: corev1.PodStatus{Phase: p.Status.Phase},
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			s.Status.Conditions = []corev1.PodCondition{c}
		}
	}
	return s, nil
}

func slimLease(obj any) (any, error) {
	l, ok := obj.(*coordinationv1.Lease)
	if !ok {
		return obj, nil
	}
	return &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: l.Name, Namespace: l.Namespace, ResourceVersion: l.ResourceVersion},
		Spec:       coordinationv1.LeaseSpec{RenewTime: l.Spec.RenewTime},
	}, nil
}

// Run runs the enabled controllers until ctx ends; it returns once every
// goroutine it started has stopped.
func (c *Controller) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.taintQueue.ShutDown()
	informers := []cache.SharedIndexInformer{c.nodes, c.pods}
	if c.leases != nil {
		informers = append(informers, c.leases)
	}
	synced := make([]cache.InformerSynced, len(informers))
	for i, inf := range informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
		synced[i] = inf.HasSynced
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	if c.opts.Lifecycle {
		rec, stop := replicaset.StartEventRecorder(ctx, c.core, "node-controller")
		defer stop()
		c.nodeRec = rec
		wg.Go(func() {
			controller.Loop{Name: "node-lifecycle-taints", Queue: c.taintQueue, Sync: c.syncNoSchedule}.Run(ctx, 2)
		})
		wg.Go(func() { c.monitorLoop(ctx) })
	}
	if c.ev != nil {
		rec, stop := replicaset.StartEventRecorder(ctx, c.core, "taint-eviction-controller")
		defer stop()
		wg.Go(func() { c.ev.run(ctx, rec, 4) })
	}
	<-ctx.Done()
}

// syncNoSchedule is TaintNodesByCondition for one node.
func (c *Controller) syncNoSchedule(ctx context.Context, name string) error {
	obj, exists, err := c.nodes.GetIndexer().GetByKey(name)
	if err != nil || !exists {
		return err
	}
	n := obj.(*corev1.Node)
	taints, changed := noScheduleTaints(n)
	if !changed {
		return nil
	}
	err = c.patchTaints(ctx, n, taints)
	if apierrors.IsConflict(err) {
		return nil // the newer node's event brings it back
	}
	return err
}

// patchTaints writes a node's taints, conditional on the version read.
func (c *Controller) patchTaints(ctx context.Context, n *corev1.Node, taints []corev1.Taint) error {
	if taints == nil {
		taints = []corev1.Taint{}
	}
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": n.ResourceVersion},
		"spec":     map[string]any{"taints": taints},
	})
	_, err := c.core.Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case apierrors.IsConflict(err):
		return err
	case err != nil:
		return fmt.Errorf("nodelifecycle: tainting node %s: %w", n.Name, err)
	}
	return nil
}

// monitorLoop checks node health every MonitorPeriod, and taints the
// queued nodes of each zone as its rate allows.
func (c *Controller) monitorLoop(ctx context.Context) {
	ticker := c.opts.Clock.NewTicker(c.opts.MonitorPeriod)
	defer ticker.Stop()
	timer := c.opts.Clock.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			c.monitor(ctx)
		case <-timer.C():
		}
		// A pass's patches take time: when the next taint is due by the
		// time it ends, it runs now rather than on a timer.
		for {
			due := c.taintPass(ctx)
			if due.IsZero() {
				break
			}
			if wait := due.Sub(c.opts.Clock.Now()); wait > 0 {
				timer.Reset(wait)
				break
			}
		}
	}
}

func (c *Controller) nodeList() []*corev1.Node {
	objs := c.nodes.GetStore().List()
	out := make([]*corev1.Node, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*corev1.Node))
	}
	return out
}

func (c *Controller) lease(name string) *coordinationv1.Lease {
	obj, ok, _ := c.leases.GetIndexer().GetByKey(corev1.NamespaceNodeLease + "/" + name)
	if !ok {
		return nil
	}
	return obj.(*coordinationv1.Lease)
}

func (c *Controller) zone(key string) *zoneTainter {
	z := c.zones[key]
	if z == nil {
		z = &zoneTainter{limiter: limiter{qps: c.opts.EvictionRate}}
		c.zones[key] = z
	}
	return z
}

// monitor is one health pass over every node.
func (c *Controller) monitor(ctx context.Context) {
	nodes := c.nodeList()
	now := c.opts.Clock.Now()
	zoneReady := map[string][]corev1.ConditionStatus{}
	present := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		present[n.Name] = true
		if !c.known[n.Name] {
			c.known[n.Name] = true
			c.nodeRec.Eventf(nodeRef(n), corev1.EventTypeNormal, "RegisteredNode", "Registered Node %s in Controller", n.Name)
			c.markReachable(ctx, n)
		}
		a := assess(c.health[n.Name], n, c.lease(n.Name), now, c.opts.Timeouts)
		if a.conditions != nil {
			if err := c.patchConditions(ctx, n, a.conditions); err != nil {
				slog.Info("nodelifecycle: marking node Unknown; retried next pass", "node", n.Name, "err", err)
				a.after = a.before
			} else {
				slog.Info("nodelifecycle: node stopped posting status", "node", n.Name, "silentFor", now.Sub(a.next.probe).Round(time.Millisecond))
			}
		}
		c.health[n.Name] = &a.next
		c.judged[n.Name] = judgement{resourceVersion: n.ResourceVersion, ready: a.after}
		if _, excluded := n.Labels[labelExcludeDisruption]; !excluded {
			zoneReady[zoneKey(n)] = append(zoneReady[zoneKey(n)], a.after)
		}
		if !a.hasReady {
			continue // as upstream: nothing to decide until it has a Ready condition
		}
		c.taintBasedEviction(ctx, n, a.after)
		switch {
		case a.after != corev1.ConditionTrue && a.before == corev1.ConditionTrue:
			c.nodeRec.Eventf(nodeRef(n), corev1.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady", n.Name)
			fallthrough
		case c.retry[n.Name] && a.after != corev1.ConditionTrue:
			c.retry[n.Name] = !c.markPodsNotReady(ctx, n.Name)
		default:
			delete(c.retry, n.Name)
		}
	}
	for name := range c.known {
		if !present[name] {
			c.nodeRec.Eventf(&corev1.ObjectReference{Kind: "Node", Name: name, APIVersion: "v1"}, corev1.EventTypeNormal, "RemovingNode", "Removing Node %s from Controller", name)
			delete(c.known, name)
			delete(c.health, name)
			delete(c.judged, name)
			delete(c.retry, name)
			for _, z := range c.zones {
				z.remove(name)
			}
		}
	}
	d := handleDisruption(zoneReady, c.zoneStates, c.opts.Rates)
	if d.enter {
		slog.Warn("nodelifecycle: every node is not Ready; entering master disruption mode: no taints, no evictions")
		for _, n := range nodes {
			c.markReachable(ctx, n)
		}
	}
	if d.exit {
		slog.Info("nodelifecycle: some nodes are Ready; exiting master disruption mode")
		for _, h := range c.health {
			h.probe = now
		}
	}
	for z, rate := range d.rates {
		c.zone(z).limiter.setRate(rate)
	}
	for z := range c.zones {
		if _, ok := d.states[z]; !ok && len(c.zones[z].queue) == 0 {
			delete(c.zones, z)
		}
	}
	c.zoneStates = d.states
}

// taintBasedEviction queues a not-Ready node for its NoExecute taint, or
// swaps not-ready for unreachable (and back) at once, or lifts both from
// a Ready node.
func (c *Controller) taintBasedEviction(ctx context.Context, n *corev1.Node, ready corev1.ConditionStatus) {
	if ready == corev1.ConditionTrue {
		c.markReachable(ctx, n)
		return
	}
	has := func(key string) bool {
		return slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool {
			return t.Key == key && t.Effect == corev1.TaintEffectNoExecute
		})
	}
	want := noExecuteKeys[ready]
	switch {
	case has(want):
		c.zone(zoneKey(n)).remove(n.Name)
	case has(corev1.TaintNodeNotReady) || has(corev1.TaintNodeUnreachable):
		// Already tainted for the other state: swapping is no new
		// eviction, so it does not wait for the rate limiter.
		c.writeNoExecute(ctx, n, ready)
	default:
		c.zone(zoneKey(n)).add(n.Name)
	}
}

// markReachable lifts the NoExecute taints of a node and drops it from
// its zone's queue.
func (c *Controller) markReachable(ctx context.Context, n *corev1.Node) {
	for _, z := range c.zones {
		z.remove(n.Name)
	}
	c.writeNoExecute(ctx, n, corev1.ConditionTrue)
}

// writeNoExecute makes the node's NoExecute taints say ready. The
// cached node may lag a write of this very pass (its conditions): on a
// conflict it reads the node afresh and tries again, as upstream's
// SwapNodeControllerTaint, so a rate-limiter token is not spent on
// nothing.
func (c *Controller) writeNoExecute(ctx context.Context, n *corev1.Node, ready corev1.ConditionStatus) bool {
	for attempt := 0; ; attempt++ {
		taints, changed := noExecuteTaints(n.Spec.Taints, ready, metav1.NewTime(c.opts.Clock.Now()))
		if !changed {
			return true
		}
		err := c.patchTaints(ctx, n, taints)
		if err == nil {
			return true
		}
		if apierrors.IsConflict(err) && attempt < 3 {
			fresh, gerr := c.core.Nodes().Get(ctx, n.Name, metav1.GetOptions{})
			if gerr == nil {
				n = fresh
				continue
			}
			err = gerr
		}
		slog.Info("nodelifecycle: NoExecute taints; retried next pass", "node", n.Name, "err", err)
		return false
	}
}

// taintPass taints the queued nodes each zone's rate allows now; it
// returns when the next one may be tainted (zero: nothing waits).
func (c *Controller) taintPass(ctx context.Context) time.Time {
	now := c.opts.Clock.Now()
	var next time.Duration
	for _, z := range c.zones {
		for len(z.queue) > 0 {
			ok, wait := z.limiter.take(now)
			if !ok {
				if wait > 0 && (next == 0 || wait < next) {
					next = wait
				}
				break
			}
			name := z.queue[0]
			z.queue = z.queue[1:]
			obj, exists, _ := c.nodes.GetIndexer().GetByKey(name)
			if !exists {
				continue
			}
			n := obj.(*corev1.Node)
			ready := readyStatus(n)
			if j, ok := c.judged[name]; ok && j.resourceVersion == n.ResourceVersion {
				// The cache has not caught up with the pass's own write of
				// the node's conditions (or nothing changed): the pass's
				// judgement stands.
				ready = j.ready
			}
			if ready == corev1.ConditionTrue {
				continue // Ready again meanwhile
			}
			if !c.writeNoExecute(ctx, n, ready) {
				z.add(name)
			}
		}
	}
	if next == 0 {
		return time.Time{}
	}
	return now.Add(next)
}

// patchConditions writes a node's status conditions, conditional on the
// version read: a heartbeat that arrived meanwhile wins.
func (c *Controller) patchConditions(ctx context.Context, n *corev1.Node, conds []corev1.NodeCondition) error {
	patch, _ := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": n.ResourceVersion},
		"status":   map[string]any{"conditions": conds},
	})
	_, err := c.core.Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	return err
}

// markPodsNotReady sets the Ready condition of the node's pods to False,
// as no kubelet will; it reports whether every pod was written.
func (c *Controller) markPodsNotReady(ctx context.Context, node string) bool {
	ok := true
	now := metav1.NewTime(c.opts.Clock.Now())
	for _, p := range podsOn(c.pods, node) {
		i := slices.IndexFunc(p.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.PodReady })
		if i < 0 || p.Status.Conditions[i].Status == corev1.ConditionFalse {
			continue
		}
		patch, _ := json.Marshal(map[string]any{"status": map[string]any{"conditions": []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now,
		}}}})
		_, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			slog.Info("nodelifecycle: marking pod not Ready; retried next pass", "pod", p.Namespace+"/"+p.Name, "err", err)
			ok = false
		default:
			c.nodeRec.Event(podRef(p), corev1.EventTypeWarning, "NodeNotReady", "Node is not ready")
		}
	}
	return ok
}

func nodeRef(n *corev1.Node) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Node", Name: n.Name, UID: n.UID, APIVersion: "v1"}
}

func podRef(p *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID, APIVersion: "v1"}
}
