package replicaset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/informers"
)

// Controller keeps the pods of every ReplicaSet (or every
// ReplicationController) in line with its spec.
type Controller struct {
	name      string // queue and event component
	src       source
	core      *client.Core
	podCtl    podControl
	pods      cache.SharedIndexInformer
	queue     workqueue.TypedRateLimitingInterface[string]
	exp       *Expectations
	clock     clock.Clock
	burst     int
	trackTerm bool // the kind's status has terminatingReplicas

	recorder record.EventRecorder
}

// NewReplicaSets returns the ReplicaSet controller over the shared
// informers.
func NewReplicaSets(cfg *rest.Config, inf *informers.Factory) (*Controller, error) {
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	return newController(cfg, "replicaset-controller", replicaSets{apps: apps, inf: inf.ReplicaSets()}, inf.Pods(), true)
}

// NewReplicationControllers returns the ReplicationController controller
// over the shared informers.
func NewReplicationControllers(cfg *rest.Config, inf *informers.Factory) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	rcs := inf.For(&corev1.ReplicationController{}, func() cache.ListerWatcher {
		return client.ListWatch(core.ReplicationControllers(""), nil)
	})
	return newController(cfg, "replication-controller", replicationControllers{core: core, inf: rcs}, inf.Pods(), false)
}

func newController(cfg *rest.Config, name string, src source, pods cache.SharedIndexInformer, trackTerm bool) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		name: name, src: src, core: core, podCtl: apiPods{core: core}, pods: pods,
		queue: controller.NewQueue(name), exp: NewExpectations(), clock: clock.RealClock{},
		burst: BurstReplicas, trackTerm: trackTerm,
		recorder: &record.FakeRecorder{}, // replaced in Run
	}
	if _, err := src.informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueObj,
		UpdateFunc: func(old, cur any) {
			if o, n := c.src.peek(old), c.src.peek(cur); o != nil && n != nil && o.UID != n.UID {
				c.deleteOwner(cache.DeletedFinalStateUnknown{Key: key(o), Obj: old})
			}
			c.enqueueObj(cur)
		},
		DeleteFunc: c.deleteOwner,
	}); err != nil {
		return nil, err
	}
	if _, err := pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addPod,
		UpdateFunc: c.updatePod,
		DeleteFunc: c.deletePod,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run manages replicas until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := StartEventRecorder(ctx, c.core, c.name)
	defer stop()
	c.recorder = rec
	controller.Loop{
		Name:      c.name,
		Queue:     c.queue,
		Informers: []cache.SharedIndexInformer{c.src.informer(), c.pods},
		Sync:      c.sync,
	}.Run(ctx, workers)
}

func key(m metav1.Object) string { return m.GetNamespace() + "/" + m.GetName() }

func (c *Controller) enqueueObj(obj any) {
	if rs := c.src.peek(obj); rs != nil {
		c.queue.Add(key(rs))
	}
}

func (c *Controller) deleteOwner(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if rs := c.src.peek(obj); rs != nil {
		// A new object of the same name starts with clean expectations.
		c.exp.Delete(key(rs))
		c.queue.Add(key(rs))
	}
}

// resolve returns the owner ref names, if it is one of ours that still
// exists with that UID; the result is read-only (see source.peek).
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.ReplicaSet {
	if ref == nil || ref.Kind != c.src.gvk().Kind {
		return nil
	}
	obj, ok, err := c.src.informer().GetIndexer().GetByKey(ns + "/" + ref.Name)
	if err != nil || !ok {
		return nil
	}
	rs := c.src.peek(obj)
	if rs == nil || rs.UID != ref.UID {
		return nil
	}
	return rs
}

// selecting returns the objects in pod's namespace whose selector matches
// it: the candidates to adopt an orphan.
func (c *Controller) selecting(pod *corev1.Pod) []*appsv1.ReplicaSet {
	objs, err := c.src.informer().GetIndexer().ByIndex(cache.NamespaceIndex, pod.Namespace)
	if err != nil {
		return nil
	}
	var out []*appsv1.ReplicaSet
	for _, o := range objs {
		rs := c.src.peek(o)
		if rs == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, rs)
	}
	return out
}

func (c *Controller) addPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if pod.DeletionTimestamp != nil {
		// Seen already being deleted (after a restart): that is not a
		// creation this controller waits for.
		c.deletePod(pod)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if rs := c.resolve(pod.Namespace, ref); rs != nil {
			c.exp.CreationObserved(key(rs))
			c.queue.Add(key(rs))
		}
		return
	}
	for _, rs := range c.selecting(pod) {
		c.queue.Add(key(rs))
	}
}

func (c *Controller) updatePod(old, cur any) {
	oldPod, ok1 := old.(*corev1.Pod)
	curPod, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 || curPod.ResourceVersion == oldPod.ResourceVersion {
		return
	}
	labelChanged := !reflect.DeepEqual(curPod.Labels, oldPod.Labels)
	if curPod.DeletionTimestamp != nil {
		// A graceful deletion began: replace the pod now, not when the
		// node agent finishes it.
		c.deletePod(curPod)
		if labelChanged {
			c.deletePod(oldPod)
		}
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curPod), metav1.GetControllerOfNoCopy(oldPod)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if rs := c.resolve(oldPod.Namespace, oldRef); rs != nil {
			c.queue.Add(key(rs))
		}
	}
	if curRef != nil {
		rs := c.resolve(curPod.Namespace, curRef)
		if rs == nil {
			return
		}
		c.queue.Add(key(rs))
		// Availability after minReadySeconds produces no event of its
		// own: look again once it may have passed (a second more to be
		// past it despite rounding).
		if !IsPodReady(oldPod) && IsPodReady(curPod) && rs.Spec.MinReadySeconds > 0 {
			c.queue.AddAfter(key(rs), time.Duration(rs.Spec.MinReadySeconds)*time.Second+time.Second)
		}
		return
	}
	if labelChanged || refChanged {
		for _, rs := range c.selecting(curPod) {
			c.queue.Add(key(rs))
		}
	}
}

func (c *Controller) deletePod(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if rs := c.resolve(pod.Namespace, metav1.GetControllerOfNoCopy(pod)); rs != nil {
		c.exp.DeletionObserved(key(rs), key(pod))
		c.queue.Add(key(rs))
	}
}

// sync reconciles one object; a conflict (a stale informer copy) is
// retried without a warning.
func (c *Controller) sync(ctx context.Context, k string) error {
	err := c.syncReplicaSet(ctx, k)
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w: %v", controller.ErrRequeue, err)
	}
	return err
}

func (c *Controller) syncReplicaSet(ctx context.Context, k string) error {
	now := c.clock.Now()
	obj, exists, err := c.src.informer().GetIndexer().GetByKey(k)
	if err != nil {
		return err
	}
	if !exists {
		c.exp.Delete(k)
		return nil
	}
	rs := c.src.toRS(obj)
	if rs == nil {
		return nil
	}
	needsSync := c.exp.Satisfied(k, now)
	selector, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		// Validation forbids it; such an object selects nothing.
		return nil
	}
	candidates, err := c.candidatePods(rs)
	if err != nil {
		return err
	}
	var active, terminating []*corev1.Pod
	for _, p := range candidates {
		if IsPodActive(p) {
			active = append(active, p)
		} else if IsPodTerminating(p) && Claim(rs, selector.Matches(labels.Set(p.Labels)), p) == ClaimOwned {
			terminating = append(terminating, p)
		}
	}
	claimed, err := c.claimPods(ctx, rs, selector, active)
	if err != nil {
		return err
	}
	var manageErr error
	if needsSync && rs.DeletionTimestamp == nil {
		manageErr = c.manageReplicas(ctx, k, rs, claimed, now)
	}
	st := CalculateStatus(rs, claimed, terminating, manageErr, now)
	if !c.trackTerm {
		st.TerminatingReplicas = nil
	}
	updated, err := c.writeStatus(ctx, rs, st)
	if err != nil {
		return err
	}
	// The last line of defence for availability: look again after
	// minReadySeconds if pods are ready but not yet available.
	if manageErr == nil && updated.Spec.MinReadySeconds > 0 &&
		updated.Status.ReadyReplicas == replicasOf(updated) && updated.Status.AvailableReplicas != replicasOf(updated) {
		c.queue.AddAfter(k, time.Duration(updated.Spec.MinReadySeconds)*time.Second)
	}
	return manageErr
}

// candidatePods are the pods rs controls and the orphans in its
// namespace: every pod it might claim.
func (c *Controller) candidatePods(rs *appsv1.ReplicaSet) ([]*corev1.Pod, error) {
	var out []*corev1.Pod
	for _, k := range []string{string(rs.UID), informers.OrphanIndexKey(rs.Namespace)} {
		objs, err := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, k)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			if p, ok := o.(*corev1.Pod); ok && p.Namespace == rs.Namespace {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// claimPods adopts and releases as Claim decides and returns the pods rs
// now controls. Before the first adoption the owner is read live: an
// owner being deleted must not take pods (upstream issue 42639).
func (c *Controller) claimPods(ctx context.Context, rs *appsv1.ReplicaSet, selector labels.Selector, pods []*corev1.Pod) ([]*corev1.Pod, error) {
	var claimed []*corev1.Pod
	var errs []error
	var canAdopt error
	checked := false
	for _, p := range pods {
		switch Claim(rs, selector.Matches(labels.Set(p.Labels)), p) {
		case ClaimOwned:
			claimed = append(claimed, p)
		case ClaimAdopt:
			if !checked {
				checked = true
				canAdopt = c.recheckOwner(ctx, rs)
			}
			if canAdopt != nil {
				errs = append(errs, fmt.Errorf("can't adopt Pod %s/%s (%s): %w", p.Namespace, p.Name, p.UID, canAdopt))
				continue
			}
			err := c.patchPod(ctx, p, AdoptPatch(NewControllerRef(rs, c.src.gvk()), p.UID))
			switch {
			case err == nil:
				claimed = append(claimed, p)
			case !apierrors.IsNotFound(err):
				errs = append(errs, err)
			}
		case ClaimRelease:
			err := c.patchPod(ctx, p, ReleasePatch(rs.UID, p.UID))
			// NotFound: gone; Invalid: no such reference any more, or
			// a new pod of that name.
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, err)
			}
		}
	}
	return claimed, errors.Join(errs...)
}

func (c *Controller) recheckOwner(ctx context.Context, rs *appsv1.ReplicaSet) error {
	fresh, err := c.src.get(ctx, rs.Namespace, rs.Name)
	return controller.CheckOwner(c.src.gvk().Kind, rs, fresh, err)
}

func (c *Controller) patchPod(ctx context.Context, p *corev1.Pod, patch []byte) error {
	return c.podCtl.patch(ctx, p.Namespace, p.Name, patch)
}

// podControl is what the controller does to pods: the API server's pods,
// or in tests a record of the requests.
type podControl interface {
	create(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error)
	delete(ctx context.Context, ns, name string) error
	patch(ctx context.Context, ns, name string, patch []byte) error
}

type apiPods struct{ core *client.Core }

func (a apiPods) create(ctx context.Context, pod *corev1.Pod) (*corev1.Pod, error) {
	return a.core.Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{})
}

func (a apiPods) delete(ctx context.Context, ns, name string) error {
	return a.core.Pods(ns).Delete(ctx, name, metav1.DeleteOptions{})
}

func (a apiPods) patch(ctx context.Context, ns, name string, patch []byte) error {
	_, err := a.core.Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

// AdoptPatch is the strategic merge patch that adds ref to an object,
// conditional on the object's uid (a recreated namesake is not adopted).
func AdoptPatch(ref metav1.OwnerReference, uid types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{"ownerReferences": []metav1.OwnerReference{ref}, "uid": uid}})
	return b
}

// ReleasePatch is the strategic merge patch that removes the reference to
// owner from an object, conditional on the object's uid.
func ReleasePatch(owner, uid types.UID) []byte {
	b, _ := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": owner}}, "uid": uid,
	}})
	return b
}

// manageReplicas creates or deletes pods as PlanReplicas decides,
// recording expectations first so the informer's echo of each write is
// accounted for.
func (c *Controller) manageReplicas(ctx context.Context, k string, rs *appsv1.ReplicaSet, pods []*corev1.Pod, now time.Time) error {
	var related []*corev1.Pod
	if len(pods) > int(replicasOf(rs)) {
		// Only a deletion ranks by siblings' placement.
		related = c.relatedPods(rs)
	}
	plan := PlanReplicas(replicasOf(rs), pods, related, c.burst, now)
	switch {
	case plan.Create > 0:
		c.exp.ExpectCreations(k, plan.Create, now)
		ref := NewControllerRef(rs, c.src.gvk())
		obj := c.src.object(rs)
		created, err := slowStartBatch(plan.Create, slowStartInitialBatch, func() error {
			err := c.createPod(ctx, rs, obj, ref)
			if err != nil && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
				// Every create will fail until the namespace is gone;
				// nothing to report.
				return nil
			}
			return err
		})
		// Creations never issued, or failed, will never be observed.
		for range plan.Create - created {
			c.exp.CreationObserved(k)
		}
		return err
	case len(plan.Delete) > 0:
		keys := make([]string, len(plan.Delete))
		for i, p := range plan.Delete {
			keys[i] = key(p)
		}
		c.exp.ExpectDeletions(k, keys, now)
		obj := c.src.object(rs)
		var mu sync.Mutex
		var first error
		var wg sync.WaitGroup
		for _, p := range plan.Delete {
			wg.Go(func() {
				err := c.podCtl.delete(ctx, p.Namespace, p.Name)
				if err == nil {
					c.recorder.Eventf(obj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
					return
				}
				c.exp.DeletionObserved(k, key(p))
				if apierrors.IsNotFound(err) {
					return
				}
				c.recorder.Eventf(obj, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		return first
	}
	return nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet, obj runtime.Object, ref metav1.OwnerReference) error {
	pod, err := PodFromTemplate(&rs.Spec.Template, rs.Name, ref)
	if err != nil {
		return err
	}
	pod.Namespace = rs.Namespace
	created, err := c.podCtl.create(ctx, pod)
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.recorder.Eventf(obj, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		}
		return err
	}
	c.recorder.Eventf(obj, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

// relatedPods are the active pods of every object sharing rs's
// controller; nil when rs has none.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet) []*corev1.Pod {
	ref := metav1.GetControllerOfNoCopy(rs)
	if ref == nil {
		return nil
	}
	siblings, err := c.src.informer().GetIndexer().ByIndex(informers.ControllerUIDIndex, string(ref.UID))
	if err != nil {
		return nil
	}
	var out []*corev1.Pod
	for _, s := range siblings {
		m, ok := s.(metav1.Object)
		if !ok {
			continue
		}
		owned, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(m.GetUID()))
		for _, o := range owned {
			if p, ok := o.(*corev1.Pod); ok && IsPodActive(p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// writeStatus writes st if it differs, with upstream's one retry after a
// fresh read on failure.
func (c *Controller) writeStatus(ctx context.Context, rs *appsv1.ReplicaSet, st appsv1.ReplicaSetStatus) (*appsv1.ReplicaSet, error) {
	if statusUnchanged(rs, st) {
		return rs, nil
	}
	st.ObservedGeneration = rs.Generation
	for attempt := 0; ; attempt++ {
		rs.Status = st
		updated, err := c.src.updateStatus(ctx, rs)
		if err == nil || attempt >= 1 {
			return updated, err
		}
		if rs, err = c.src.get(ctx, rs.Namespace, rs.Name); err != nil {
			return nil, err
		}
	}
}
