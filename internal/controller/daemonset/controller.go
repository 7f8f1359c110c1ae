package daemonset

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

const (
	// BurstReplicas caps the pods one pass creates or deletes, as
	// upstream's: a DaemonSet appearing on thousands of nodes must not
	// flood the API server.
	BurstReplicas = 250
	// slowStartInitialBatch is the first batch of a pass's creations;
	// batches double while they succeed.
	slowStartInitialBatch = 1
	// Failed daemon pods are replaced after a backoff per node that
	// starts at 1 s and doubles to 15 min, as kube-controller-manager's.
	failedBackoffInitial = time.Second
	failedBackoffMax     = 15 * time.Minute
	backoffGCInterval    = time.Minute
)

// Event reasons, as upstream's DaemonSet controller records them.
const (
	reasonSelectingAll    = "SelectingAll"
	reasonFailedDaemonPod = "FailedDaemonPod"
	reasonSucceededPod    = "SucceededDaemonPod"
)

// Controller runs DaemonSets' pods.
type Controller struct {
	core    *client.Core
	apps    *client.Group
	dsets   cache.SharedIndexInformer
	pods    cache.SharedIndexInformer
	nodes   cache.SharedIndexInformer
	revs    cache.SharedIndexInformer
	queue   workqueue.TypedRateLimitingInterface[string]
	exp     *expectations
	backoff *flowcontrol.Backoff
	now     func() time.Time
	// rec records Events; set by Run before any sync.
	rec record.EventRecorder
}

// Option configures New.
type Option func(*Controller)

// WithInformers makes the controller read pods and nodes from the given
// informers (a process's shared ones, pods indexed by namespace and by
// controller UID) instead of starting its own, so a cluster's pods and
// nodes are held once.
func WithInformers(pods, nodes cache.SharedIndexInformer) Option {
	return func(c *Controller) { c.pods, c.nodes = pods, nodes }
}

// SharedInformers makes the controller read pods, nodes, DaemonSets and
// ControllerRevisions from the process's shared informers, so each is
// watched and held once for every controller that reads it (the
// StatefulSet controller's revisions, the garbage collector's owners).
func SharedInformers(f *informers.Factory) Option {
	return func(c *Controller) {
		apps := f.Group(appsv1.SchemeGroupVersion)
		c.pods, c.nodes = f.Pods(), f.Nodes()
		c.dsets = f.For(&appsv1.DaemonSet{}, func() cache.ListerWatcher { return client.ListWatch(apps.DaemonSets(""), nil) })
		c.revs = f.For(&appsv1.ControllerRevision{}, func() cache.ListerWatcher {
			return client.ListWatch(apps.ControllerRevisions(""), nil)
		})
	}
}

// New returns the DaemonSet controller over cfg.
func New(cfg *rest.Config, opts ...Option) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		core: core, apps: apps, queue: controller.NewQueue("daemonset"), exp: newExpectations(),
		backoff: flowcontrol.NewBackOff(failedBackoffInitial, failedBackoffMax), now: time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc}
	own := map[cache.SharedIndexInformer]cache.TransformFunc{}
	if c.pods == nil {
		c.pods = cache.NewSharedIndexInformer(client.ListWatch(core.Pods(""), nil), &corev1.Pod{}, 0, indexers)
		own[c.pods] = trimPod
	}
	if c.nodes == nil {
		c.nodes = cache.NewSharedIndexInformer(client.ListWatch(core.Nodes(), nil), &corev1.Node{}, 0, cache.Indexers{})
		own[c.nodes] = trimNode
	}
	if c.dsets == nil {
		c.dsets = cache.NewSharedIndexInformer(client.ListWatch(apps.DaemonSets(""), nil), &appsv1.DaemonSet{}, 0,
			cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
		own[c.dsets] = trimObject
	}
	if c.revs == nil {
		c.revs = cache.NewSharedIndexInformer(client.ListWatch(apps.ControllerRevisions(""), nil), &appsv1.ControllerRevision{}, 0, indexers)
		own[c.revs] = informers.DropManagedFields
	}
	for inf, transform := range own {
		if err := inf.SetTransform(transform); err != nil {
			return nil, err
		}
	}
	if _, err := c.dsets.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(old, cur any) {
			if o, n := old.(*appsv1.DaemonSet), cur.(*appsv1.DaemonSet); o.UID != n.UID {
				c.exp.Delete(key(o))
			}
			c.enqueue(cur)
		},
		DeleteFunc: func(obj any) {
			if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.exp.Delete(k)
			}
		},
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.podEvent(nil, obj.(*corev1.Pod), false) },
		UpdateFunc: func(old, cur any) { c.podEvent(old.(*corev1.Pod), cur.(*corev1.Pod), false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				c.podEvent(nil, p, true)
			}
		},
	}); err != nil {
		return nil, err
	}
	if _, err := c.nodes.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.nodeEvent(nil, obj.(*corev1.Node)) },
		UpdateFunc: func(old, cur any) { c.nodeEvent(old.(*corev1.Node), cur.(*corev1.Node)) },
		// A deleted node's pods are deleted (Decide) and it leaves the
		// counts: every DaemonSet with a pod there looks again.
		DeleteFunc: func(any) { c.enqueueAll() },
	}); err != nil {
		return nil, err
	}
	if _, err := c.revs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.revisionEvent,
		UpdateFunc: func(_, cur any) { c.revisionEvent(cur) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			c.revisionEvent(obj)
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// trimObject drops managed fields and the last-applied annotation from
// a cached DaemonSet: status writes leave the stored metadata as it is.
func trimObject(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "daemonset-controller")
	defer stop()
	c.rec = rec
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		t := time.NewTicker(backoffGCInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				c.backoff.GC()
			}
		}
	})
	controller.Loop{Name: "daemonset", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.dsets, c.pods, c.nodes, c.revs}, Sync: c.sync}.Run(ctx, workers)
}

func key(ds *appsv1.DaemonSet) string { return ds.Namespace + "/" + ds.Name }

func (c *Controller) enqueue(obj any) {
	if k, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(k)
	}
}

func (c *Controller) enqueueAll() {
	for _, o := range c.dsets.GetStore().List() {
		c.enqueue(o)
	}
}

// owner resolves a controller reference to a cached DaemonSet.
func (c *Controller) owner(ns string, ref *metav1.OwnerReference) *appsv1.DaemonSet {
	o, ok, err := c.dsets.GetIndexer().GetByKey(ns + "/" + ref.Name)
	if err != nil || !ok {
		return nil
	}
	ds := o.(*appsv1.DaemonSet)
	if ds.UID != ref.UID {
		return nil
	}
	return ds
}

// selecting enqueues the DaemonSets of ns whose selector matches lbls:
// those that might adopt an orphan.
func (c *Controller) selecting(ns string, lbls map[string]string) {
	objs, _ := c.dsets.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	for _, o := range objs {
		ds := o.(*appsv1.DaemonSet)
		sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labels.Set(lbls)) {
			c.queue.Add(key(ds))
		}
	}
}

// podEvent feeds expectations and wakes the DaemonSets a pod change
// concerns: its controller, old and new, or, for an orphan, those that
// select it.
func (c *Controller) podEvent(old, cur *corev1.Pod, deleted bool) {
	podKey := cur.Namespace + "/" + cur.Name
	if old != nil {
		if name, ref := daemonSetOf(old); name != "" {
			if nameNow, refNow := daemonSetOf(cur); nameNow == "" || refNow.UID != ref.UID {
				if ds := c.owner(old.Namespace, ref); ds != nil {
					c.queue.Add(key(ds))
				}
			}
		}
	}
	name, ref := daemonSetOf(cur)
	if name == "" {
		if ref == nil && !deleted && (old == nil || !apiequality.Semantic.DeepEqual(old.Labels, cur.Labels) || metav1.GetControllerOfNoCopy(old) != nil) {
			c.selecting(cur.Namespace, cur.Labels)
		}
		return
	}
	ds := c.owner(cur.Namespace, ref)
	if ds == nil {
		return
	}
	k := key(ds)
	switch {
	case deleted:
		c.exp.DeletionObserved(k, podKey)
	case old == nil && cur.DeletionTimestamp == nil:
		c.exp.CreationObserved(k)
	case cur.DeletionTimestamp != nil:
		// A graceful deletion shows first as an update; a pod that
		// appears already being deleted (a relist) counts as deleted too.
		c.exp.DeletionObserved(k, podKey)
	}
	c.queue.Add(k)
	// A pod that just became ready becomes available minReadySeconds
	// later, with no event to say so.
	if old != nil && ds.Spec.MinReadySeconds > 0 && !replicaset.IsPodReady(old) && replicaset.IsPodReady(cur) {
		c.queue.AddAfter(k, time.Duration(ds.Spec.MinReadySeconds)*time.Second+time.Second)
	}
}

// nodeEvent wakes the DaemonSets whose view of a node changed: for a new
// node those that should run there; for an update, those for which
// shouldRun or shouldContinueRunning changed.
func (c *Controller) nodeEvent(old, cur *corev1.Node) {
	if old != nil && apiequality.Semantic.DeepEqual(old.Labels, cur.Labels) && apiequality.Semantic.DeepEqual(old.Spec, cur.Spec) {
		return
	}
	for _, o := range c.dsets.GetStore().List() {
		ds := o.(*appsv1.DaemonSet)
		e := NewEligibility(ds)
		run, cont := e.ShouldRun(cur)
		if old == nil {
			if run {
				c.queue.Add(key(ds))
			}
			continue
		}
		if oRun, oCont := e.ShouldRun(old); oRun != run || oCont != cont {
			c.queue.Add(key(ds))
		}
	}
}

// revisionEvent wakes a revision's DaemonSet (a deleted current revision
// is re-created), or, for an orphan, those that select it.
func (c *Controller) revisionEvent(obj any) {
	r, ok := obj.(*appsv1.ControllerRevision)
	if !ok {
		return
	}
	name, ref := daemonSetOf(r)
	switch {
	case name != "":
		if ds := c.owner(r.Namespace, ref); ds != nil {
			c.queue.Add(key(ds))
		}
	case ref == nil:
		c.selecting(r.Namespace, r.Labels)
	}
}

func (c *Controller) event(ds *appsv1.DaemonSet, typ, reason, msg string) {
	if c.rec != nil {
		c.rec.Event(ds, typ, reason, msg)
	}
}

func (c *Controller) sync(ctx context.Context, k string) error {
	obj, exists, err := c.dsets.GetIndexer().GetByKey(k)
	if err != nil {
		return err
	}
	if !exists {
		c.exp.Delete(k)
		return nil
	}
	ds := obj.(*appsv1.DaemonSet)
	// Being deleted, its revisions and pods may be going in any order:
	// nothing it would write is trustworthy, as upstream.
	if ds.DeletionTimestamp != nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil // invalid: the API server rejects such a selector
	}
	if sel.Empty() {
		c.event(ds, corev1.EventTypeWarning, reasonSelectingAll, "This daemon set is selecting all pods. A non-empty selector is required.")
		return nil
	}
	now := c.now()
	collisions := int32(0)
	if ds.Status.CollisionCount != nil {
		collisions = *ds.Status.CollisionCount
	}
	cur, old, err := c.constructHistory(ctx, ds, sel, &collisions)
	if err != nil {
		if collisions != ptrValue(ds.Status.CollisionCount) {
			// Keep the count that named nothing yet, as upstream.
			return errors.Join(err, c.writeCollisions(ctx, ds, collisions))
		}
		return fmt.Errorf("constructing revisions of DaemonSet %s: %w", k, err)
	}
	rev := RevisionOf(ds, revisionHash(cur))
	pods, err := c.claimPods(ctx, ds, sel)
	if err != nil {
		return err
	}
	nodes := c.nodePods(ds, pods, now)

	var errs []error
	satisfied := c.exp.Satisfied(k, now)
	var requeue time.Duration
	if satisfied {
		plan, err := Decide(ds, nodes, rev, now)
		if err != nil {
			return err
		}
		requeue = plan.RequeueAfter
		errs = append(errs, c.carryOut(ctx, k, ds, rev, &plan, now)...)
		if len(errs) == 0 {
			errs = append(errs, c.truncateHistory(ctx, ds, old, pods))
		}
	}

	st := Status(nodes, rev, ds.Spec.MinReadySeconds, now)
	st.ObservedGeneration = ds.Status.ObservedGeneration
	if satisfied {
		st.ObservedGeneration = ds.Generation
	}
	st.CollisionCount = ds.Status.CollisionCount
	if collisions != ptrValue(ds.Status.CollisionCount) {
		st.CollisionCount = &collisions
	}
	st.Conditions = ds.Status.Conditions
	if !apiequality.Semantic.DeepEqual(ds.Status, st) {
		u := ds.DeepCopy()
		u.Status = st
		_, err := c.apps.DaemonSets(ds.Namespace).UpdateStatus(ctx, u, metav1.UpdateOptions{})
		switch {
		case err == nil, apierrors.IsNotFound(err):
		case apierrors.IsConflict(err) && errors.Join(errs...) == nil:
			// The DaemonSet changed since the cache showed it (its update
			// brings the key back); look again without a warning.
			errs = append(errs, fmt.Errorf("status of DaemonSet %s: %w", k, controller.ErrRequeue))
		default:
			errs = append(errs, fmt.Errorf("storing status of DaemonSet %s: %w", k, err))
		}
	}
	if ds.Spec.MinReadySeconds > 0 && st.NumberReady != st.NumberAvailable {
		requeue = minPositive(requeue, time.Duration(ds.Spec.MinReadySeconds)*time.Second)
	}
	if requeue > 0 {
		c.queue.AddAfter(k, requeue)
	}
	return errors.Join(errs...)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func minPositive(a, b time.Duration) time.Duration {
	if a <= 0 || b < a {
		return b
	}
	return a
}

func (c *Controller) writeCollisions(ctx context.Context, ds *appsv1.DaemonSet, n int32) error {
	u := ds.DeepCopy()
	u.Status.CollisionCount = &n
	_, err := c.apps.DaemonSets(ds.Namespace).UpdateStatus(ctx, u, metav1.UpdateOptions{})
	return err
}

// claimPods adopts matching orphans and releases its pods that no longer
// match, as upstream's ControllerRefManager, and returns the pods ds
// controls. An orphan is adopted only after a live read shows ds is not
// being deleted.
func (c *Controller) claimPods(ctx context.Context, ds *appsv1.DaemonSet, sel labels.Selector) ([]*corev1.Pod, error) {
	owned, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(ds.UID))
	orphans, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, informers.OrphanIndexKey(ds.Namespace))
	var pods []*corev1.Pod
	var errs []error
	var canAdopt error
	checked := false
	for _, o := range slices.Concat(owned, orphans) {
		p := o.(*corev1.Pod)
		switch replicaset.Claim(ds, sel.Matches(labels.Set(p.Labels)), p) {
		case replicaset.ClaimOwned:
			pods = append(pods, p)
		case replicaset.ClaimAdopt:
			if !checked {
				checked, canAdopt = true, c.recheck(ctx, ds)
			}
			if canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s: %w", p.Namespace, p.Name, canAdopt))
				continue
			}
			err := c.patchPod(ctx, p, replicaset.AdoptPatch(replicaset.NewControllerRef(ds, controllerKind), p.UID))
			if err == nil {
				pods = append(pods, p)
			} else if !apierrors.IsNotFound(err) {
				errs = append(errs, err)
			}
		case replicaset.ClaimRelease:
			if err := c.patchPod(ctx, p, replicaset.ReleasePatch(ds.UID, p.UID)); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, err)
			}
		}
	}
	return pods, errors.Join(errs...)
}

func (c *Controller) patchPod(ctx context.Context, p *corev1.Pod, patch []byte) error {
	_, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// recheck reads ds live: nil if it is still the same object and not
// being deleted, so it may adopt.
func (c *Controller) recheck(ctx context.Context, ds *appsv1.DaemonSet) error {
	fresh, err := c.apps.DaemonSets(ds.Namespace).Get(ctx, ds.Name, metav1.GetOptions{})
	return controller.CheckOwner("DaemonSet", ds, fresh, err)
}

// nodePods groups ds's pods by the node they are for, beside every node
// the informer holds, sorted by node name. Deleted pods that already
// finished are left out, as upstream. A failed pod on a node whose
// backoff is running carries the delay.
func (c *Controller) nodePods(ds *appsv1.DaemonSet, pods []*corev1.Pod, now time.Time) []NodePods {
	byNode := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.DeletionTimestamp != nil && (p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded) {
			continue
		}
		if n := TargetNode(p); n != "" {
			byNode[n] = append(byNode[n], p)
		}
	}
	e := NewEligibility(ds)
	all := c.nodes.GetStore().List()
	out := make([]NodePods, 0, len(all)+1)
	for _, o := range all {
		node := o.(*corev1.Node)
		run, cont := e.ShouldRun(node)
		np := NodePods{Name: node.Name, Exists: true, ShouldRun: run, ShouldContinueRunning: cont, Pods: byNode[node.Name]}
		delete(byNode, node.Name)
		if slices.ContainsFunc(np.Pods, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed }) {
			if bk := backoffKey(ds, node.Name); c.backoff.IsInBackOffSinceUpdate(bk, now) {
				np.FailedBackoff = c.backoff.Get(bk)
			}
		}
		out = append(out, np)
	}
	for name, ps := range byNode {
		out = append(out, NodePods{Name: name, Pods: ps})
	}
	slices.SortFunc(out, func(a, b NodePods) int { return compareStrings(a.Name, b.Name) })
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// backoffKey keys a node's failed-pod backoff by DaemonSet and observed
// generation, as upstream: a new template starts afresh.
func backoffKey(ds *appsv1.DaemonSet, node string) string {
	return fmt.Sprintf("%s/%d/%s", ds.UID, ds.Status.ObservedGeneration, node)
}

// carryOut creates and deletes what plan says, at most BurstReplicas of
// each, recording expectations first so the informer's echo of every
// write is awaited before the next decision.
func (c *Controller) carryOut(ctx context.Context, k string, ds *appsv1.DaemonSet, rev Revision, plan *Plan, now time.Time) []error {
	for _, p := range plan.Failed {
		c.event(ds, corev1.EventTypeWarning, reasonFailedDaemonPod,
			fmt.Sprintf("Found failed daemon pod %s/%s on node %s, will try to kill it", p.Namespace, p.Name, TargetNode(p)))
	}
	for _, p := range plan.Succeeded {
		c.event(ds, corev1.EventTypeNormal, reasonSucceededPod,
			fmt.Sprintf("Found succeeded daemon pod %s/%s on node %s, will try to delete it", p.Namespace, p.Name, TargetNode(p)))
	}
	for _, n := range plan.Backoff {
		c.backoff.Next(backoffKey(ds, n), now)
	}
	orphaned := c.confirmGone(ctx, plan.Orphaned)
	create := plan.Create[:min(len(plan.Create), BurstReplicas)]
	del := slices.Concat(plan.Delete, orphaned)
	del = del[:min(len(del), BurstReplicas)]
	if len(create) == 0 && len(del) == 0 {
		return nil
	}
	delKeys := make([]string, len(del))
	for i, p := range del {
		delKeys[i] = p.Namespace + "/" + p.Name
	}
	c.exp.Expect(k, len(create), delKeys, now)

	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	tmpl := podTemplate(ds, rev)
	for pos, batch := 0, min(slowStartInitialBatch, len(create)); pos < len(create); pos, batch = pos+batch, min(2*batch, len(create)-pos-batch) {
		failed := false
		var wg sync.WaitGroup
		for _, node := range create[pos : pos+batch] {
			wg.Go(func() {
				if err := c.createPod(ctx, ds, tmpl, node); err != nil {
					c.exp.CreationObserved(k)
					if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
						return
					}
					mu.Lock()
					failed = true
					mu.Unlock()
					fail(err)
				}
			})
		}
		wg.Wait()
		if failed {
			// The rest are not attempted: they would likely fail alike.
			for range len(create) - pos - batch {
				c.exp.CreationObserved(k)
			}
			break
		}
	}

	isOrphan := make(map[types.UID]bool, len(orphaned))
	for _, p := range orphaned {
		isOrphan[p.UID] = true
	}
	var wg sync.WaitGroup
	for i, p := range del {
		wg.Go(func() {
			opts := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}}
			if isOrphan[p.UID] {
				opts.GracePeriodSeconds = new(int64)
			}
			err := c.core.Pods(p.Namespace).Delete(ctx, p.Name, opts)
			switch {
			case err == nil:
				c.event(ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
			case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
				c.exp.DeletionObserved(k, delKeys[i])
			default:
				c.exp.DeletionObserved(k, delKeys[i])
				c.event(ds, corev1.EventTypeWarning, "FailedDelete", fmt.Sprintf("Error deleting: %v", err))
				fail(err)
			}
		})
	}
	wg.Wait()
	return errs
}

func (c *Controller) createPod(ctx context.Context, ds *appsv1.DaemonSet, tmpl *corev1.PodTemplateSpec, node string) error {
	pod, err := NewPod(ds, tmpl, node)
	if err != nil {
		return err
	}
	got, err := c.core.Pods(ds.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.event(ds, corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating: %v", err))
		}
		return err
	}
	c.event(ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+got.Name)
	return nil
}

// confirmGone keeps the pods whose node a live read says does not exist:
// the node informer may lag behind a node that was just created.
func (c *Controller) confirmGone(ctx context.Context, pods []*corev1.Pod) []*corev1.Pod {
	gone := map[string]bool{}
	var out []*corev1.Pod
	for _, p := range pods {
		n := p.Spec.NodeName
		g, seen := gone[n]
		if !seen {
			_, err := c.core.Nodes().Get(ctx, n, metav1.GetOptions{})
			g = apierrors.IsNotFound(err)
			gone[n] = g
		}
		if g {
			out = append(out, p)
		}
	}
	return out
}
