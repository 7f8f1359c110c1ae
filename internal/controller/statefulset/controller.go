package statefulset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/history"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

// Informers are what the controller watches; New starts its own for
// those left nil. Pods and Revisions must be indexed by namespace
// (cache.NamespaceIndex) and by controller (informers.ControllerUIDIndex),
// Sets and Claims by namespace. They may be shared with other controllers
// (a process's shared informers): cached objects are never modified, and
// only a pod's metadata, nodeName and status and a claim's metadata are
// read.
type Informers struct {
	Sets, Pods, Revisions, Claims cache.SharedIndexInformer
}

// fill makes the informers inf lacks.
func (inf *Informers) fill(core *client.Core, apps *client.Group) error {
	idx := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc}
	// Sets and revisions are written back whole (status, revision
	// numbers), so they keep their annotations; pods and claims are only
	// created, patched and deleted, so they keep only what is read.
	for _, m := range []struct {
		to        *cache.SharedIndexInformer
		lw        cache.ListerWatcher
		obj       runtime.Object
		transform cache.TransformFunc
	}{
		{&inf.Sets, client.ListWatch(apps.StatefulSets(""), nil), &appsv1.StatefulSet{}, informers.DropManagedFields},
		{&inf.Revisions, client.ListWatch(apps.ControllerRevisions(""), nil), &appsv1.ControllerRevision{}, informers.DropManagedFields},
		{&inf.Pods, client.ListWatch(core.Pods(""), nil), &corev1.Pod{}, trimPod},
		{&inf.Claims, client.ListWatch(core.PersistentVolumeClaims(""), nil), &corev1.PersistentVolumeClaim{}, trimMeta},
	} {
		if *m.to != nil {
			continue
		}
		*m.to = cache.NewSharedIndexInformer(m.lw, m.obj, 0, idx)
		if err := (*m.to).SetTransform(m.transform); err != nil {
			return err
		}
	}
	return nil
}

func trimMeta(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}

// trimPod keeps of a pod what the controller reads: metadata (less the
// managed fields and last-applied annotation), nodeName and status.
func trimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		client.TrimMetadata(p)
		p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName}
	}
	return obj, nil
}

// Controller runs StatefulSets' pods.
type Controller struct {
	core  *client.Core
	apps  *client.Group
	inf   Informers
	queue workqueue.TypedRateLimitingInterface[string]
	now   func() time.Time
	// rec records Events; set by Run before any sync.
	rec record.EventRecorder
}

// New returns the StatefulSet controller over cfg, reading inf and its
// own informers for what inf leaves nil.
func New(cfg *rest.Config, inf Informers) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	if err := inf.fill(core, apps); err != nil {
		return nil, err
	}
	c := &Controller{core: core, apps: apps, inf: inf, queue: controller.NewQueue("statefulset"), now: time.Now}
	enqueue := func(obj any) {
		if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(k)
		}
	}
	owned := func(obj any) { c.enqueueOwner(obj) }
	handlers := []struct {
		inf cache.SharedIndexInformer
		h   cache.ResourceEventHandler
	}{
		{inf.Sets, cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, cur any) { enqueue(cur) }, DeleteFunc: enqueue}},
		{inf.Pods, cache.ResourceEventHandlerFuncs{AddFunc: owned, UpdateFunc: func(old, cur any) { c.enqueueOwner(old); c.enqueueOwner(cur) }, DeleteFunc: owned}},
		{inf.Revisions, cache.ResourceEventHandlerFuncs{AddFunc: owned, UpdateFunc: func(_, cur any) { c.enqueueOwner(cur) }, DeleteFunc: owned}},
		// A new pod waits for the deletion of a claim an earlier pod of
		// its name left behind.
		{inf.Claims, cache.ResourceEventHandlerFuncs{DeleteFunc: c.enqueueNamespace}},
	}
	for _, h := range handlers {
		if _, err := h.inf.AddEventHandler(h.h); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "statefulset-controller")
	defer stop()
	c.rec = rec
	controller.Loop{
		Name: "statefulset", Queue: c.queue,
		Informers: []cache.SharedIndexInformer{c.inf.Sets, c.inf.Pods, c.inf.Revisions, c.inf.Claims},
		Sync:      c.sync,
	}.Run(ctx, workers)
}

// enqueueOwner enqueues the StatefulSet controlling obj (a pod or a
// revision) or, for an orphan, every set in its namespace whose selector
// matches it: one of them may adopt it.
func (c *Controller) enqueueOwner(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		if ref.Kind == Kind.Kind && ref.APIVersion == appsv1.SchemeGroupVersion.String() {
			c.queue.Add(m.GetNamespace() + "/" + ref.Name)
		}
		return
	}
	sets, _ := c.inf.Sets.GetIndexer().ByIndex(cache.NamespaceIndex, m.GetNamespace())
	for _, o := range sets {
		set := o.(*appsv1.StatefulSet)
		if sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector); err == nil && !sel.Empty() && sel.Matches(labels.Set(m.GetLabels())) {
			c.queue.Add(set.Namespace + "/" + set.Name)
		}
	}
}

func (c *Controller) enqueueNamespace(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, ok := obj.(metav1.Object)
	if !ok {
		return
	}
	sets, _ := c.inf.Sets.GetIndexer().ByIndex(cache.NamespaceIndex, m.GetNamespace())
	for _, o := range sets {
		set := o.(*appsv1.StatefulSet)
		c.queue.Add(set.Namespace + "/" + set.Name)
	}
}

// sync treats a conflict (a stale cached copy) as work not yet done.
func (c *Controller) sync(ctx context.Context, key string) error {
	err := c.syncSet(ctx, key)
	if apierrors.IsConflict(err) || apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("%w: %v", controller.ErrRequeue, err)
	}
	return err
}

func (c *Controller) syncSet(ctx context.Context, key string) error {
	obj, exists, err := c.inf.Sets.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	set := obj.(*appsv1.StatefulSet)
	sel, err := metav1.LabelSelectorAsSelector(set.Spec.Selector)
	if err != nil || sel.Empty() {
		// Validation forbids both; nothing sensible can be done.
		c.event(set, corev1.EventTypeWarning, "InvalidSelector", fmt.Sprintf("invalid selector: %v", err))
		return nil
	}
	pods, err := c.claimPods(ctx, set, sel)
	if err != nil {
		return err
	}
	revisions, err := c.claimRevisions(ctx, set, sel)
	if err != nil {
		return err
	}
	history.Sort(revisions)
	rp, err := PlanRevisions(set, revisions)
	if err != nil {
		return err
	}
	collisions := int32(0)
	if set.Status.CollisionCount != nil {
		collisions = *set.Status.CollisionCount
	}
	revs := c.apps.ControllerRevisions(set.Namespace)
	update := rp.Update
	switch {
	case rp.Create:
		update, err = history.Create(ctx, revs, rp.Update, &collisions)
		if err != nil {
			// A changed collision count must reach status, or the next
			// pass collides again.
			if collisions != ptrOr(set.Status.CollisionCount) {
				c.writeCollisionCount(ctx, set, collisions)
			}
			return err
		}
		revisions = append(revisions, update)
	case rp.Renumber != 0:
		if update, err = history.SetRevision(ctx, revs, rp.Update, rp.Renumber); err != nil {
			return err
		}
	}
	current := rp.Current
	if current == nil {
		current = update
	}
	in := Input{
		Set: set, Current: current, Update: update, CollisionCount: collisions, Pods: pods, Now: c.now(),
		Claims: func(name string) (*corev1.PersistentVolumeClaim, bool) {
			o, ok, _ := c.inf.Claims.GetIndexer().GetByKey(set.Namespace + "/" + name)
			if !ok {
				return nil, false
			}
			return o.(*corev1.PersistentVolumeClaim), true
		},
	}
	if current.Name != update.Name {
		if in.CurrentTemplate, err = TemplateOf(current); err != nil {
			return err
		}
	}
	plan := Reconcile(in)
	errs := []error{c.apply(ctx, set, plan)}
	if err := c.writeStatus(ctx, set, plan.Status); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.truncate(ctx, set, pods, revisions, current, update))
	if plan.RequeueAfter > 0 {
		c.queue.AddAfter(key, plan.RequeueAfter)
	}
	return errors.Join(errs...)
}

func ptrOr(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

// apply carries out plan; creations stop at the first failure, as the
// next pass decides again from what exists.
func (c *Controller) apply(ctx context.Context, set *appsv1.StatefulSet, plan Plan) error {
	pvcs := c.core.PersistentVolumeClaims(set.Namespace)
	created := map[string]bool{}
	for _, claim := range plan.CreateClaims {
		_, err := pvcs.Create(ctx, claim, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			c.event(set, corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("create Claim %s for StatefulSet %s failed error: %v", claim.Name, set.Name, err))
			return err
		}
		created[claim.Name] = err == nil
	}
	for _, pod := range plan.CreatePods {
		for _, v := range pod.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && created[v.PersistentVolumeClaim.ClaimName] {
				c.event(set, corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("create Claim %s Pod %s in StatefulSet %s success", v.PersistentVolumeClaim.ClaimName, pod.Name, set.Name))
			}
		}
		_, err := c.core.Pods(set.Namespace).Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			continue // the informer has not shown it yet
		}
		if err != nil {
			c.event(set, corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("create Pod %s in StatefulSet %s failed error: %v", pod.Name, set.Name, err))
			return err
		}
		c.event(set, corev1.EventTypeNormal, "SuccessfulCreate", fmt.Sprintf("create Pod %s in StatefulSet %s successful", pod.Name, set.Name))
	}
	var errs []error
	for _, pod := range plan.Relabel {
		_, ord := parentAndOrdinal(pod.Name)
		patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": pod.UID, "labels": map[string]string{
			appsv1.StatefulSetPodNameLabel: pod.Name, appsv1.PodIndexLabel: strconv.Itoa(ord),
		}}})
		if err == nil {
			_, err = c.core.Pods(pod.Namespace).Patch(ctx, pod.Name, types.MergePatchType, patch, metav1.PatchOptions{})
		}
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	for _, co := range plan.ClaimOwners {
		errs = append(errs, c.setClaimOwners(ctx, co))
	}
	for _, d := range plan.Delete {
		uid := d.Pod.UID
		err := c.core.Pods(set.Namespace).Delete(ctx, d.Pod.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		switch {
		case err == nil:
			c.event(set, corev1.EventTypeNormal, "SuccessfulDelete", fmt.Sprintf("delete Pod %s in StatefulSet %s successful", d.Pod.Name, set.Name))
		case apierrors.IsNotFound(err) || apierrors.IsConflict(err):
		default:
			c.event(set, corev1.EventTypeWarning, "FailedDelete", fmt.Sprintf("delete Pod %s in StatefulSet %s failed error: %v", d.Pod.Name, set.Name, err))
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// setClaimOwners replaces a claim's owner references, on the version the
// decision was made from.
func (c *Controller) setClaimOwners(ctx context.Context, co ClaimOwners) error {
	owners := co.Owners
	if owners == nil {
		owners = []metav1.OwnerReference{}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{
		"ownerReferences": owners, "resourceVersion": co.Claim.ResourceVersion, "uid": co.Claim.UID,
	}})
	if err != nil {
		return err
	}
	_, err = c.core.PersistentVolumeClaims(co.Claim.Namespace).Patch(ctx, co.Claim.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// writeStatus writes status if it differs from what the set shows.
func (c *Controller) writeStatus(ctx context.Context, set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) error {
	if apiequality.Semantic.DeepEqual(set.Status, st) {
		return nil
	}
	s := set.DeepCopy()
	s.Status = st
	_, err := c.apps.StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

func (c *Controller) writeCollisionCount(ctx context.Context, set *appsv1.StatefulSet, n int32) {
	s := set.DeepCopy()
	s.Status.CollisionCount = &n
	if _, err := c.apps.StatefulSets(s.Namespace).UpdateStatus(ctx, s, metav1.UpdateOptions{}); err != nil && ctx.Err() == nil {
		slog.Warn("statefulset: recording collision count", "set", set.Namespace+"/"+set.Name, "err", err)
	}
}

// truncate deletes the revisions beyond revisionHistoryLimit that no pod
// and neither the current nor the update revision uses.
func (c *Controller) truncate(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revisions []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if len(revisions) <= limit+2 {
		return nil
	}
	live := map[string]bool{current.Name: true, update.Name: true}
	for _, p := range pods {
		live[revisionOf(p)] = true
	}
	history.Sort(revisions)
	var errs []error
	for _, r := range history.Truncate(revisions, live, limit) {
		errs = append(errs, history.Delete(ctx, c.apps.ControllerRevisions(set.Namespace), r))
	}
	return errors.Join(errs...)
}

// candidates are the objects of inf controlled by set and the orphans of
// its namespace.
func candidates[T any](inf cache.SharedIndexInformer, set *appsv1.StatefulSet) []T {
	var out []T
	for _, k := range []string{string(set.UID), informers.OrphanIndexKey(set.Namespace)} {
		objs, _ := inf.GetIndexer().ByIndex(informers.ControllerUIDIndex, k)
		for _, o := range objs {
			if t, ok := o.(T); ok {
				out = append(out, t)
			}
		}
	}
	return out
}

// claimPods adopts orphan pods that match the selector and are named as
// the set's members, releases its pods that no longer do, and returns the
// pods it then controls. Before the first adoption the set is read live:
// a set being deleted must not take pods.
func (c *Controller) claimPods(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*corev1.Pod, error) {
	var owned []*corev1.Pod
	var errs []error
	var canAdopt error
	checked := false
	for _, p := range candidates[*corev1.Pod](c.inf.Pods, set) {
		if p.Namespace != set.Namespace {
			continue
		}
		match := sel.Matches(labels.Set(p.Labels)) && ordinalOf(set, p) >= 0
		switch replicaset.Claim(set, match, p) {
		case replicaset.ClaimOwned:
			owned = append(owned, p)
		case replicaset.ClaimAdopt:
			if !checked {
				checked, canAdopt = true, c.recheck(ctx, set)
			}
			if canAdopt != nil {
				errs = append(errs, canAdopt)
				continue
			}
			_, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType,
				replicaset.AdoptPatch(replicaset.NewControllerRef(set, Kind), p.UID), metav1.PatchOptions{})
			switch {
			case err == nil:
				owned = append(owned, p)
			case !apierrors.IsNotFound(err):
				errs = append(errs, err)
			}
		case replicaset.ClaimRelease:
			_, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType,
				replicaset.ReleasePatch(set.UID, p.UID), metav1.PatchOptions{})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
				errs = append(errs, err)
			}
		}
	}
	return owned, errors.Join(errs...)
}

// claimRevisions does for revisions what claimPods does for pods.
func (c *Controller) claimRevisions(ctx context.Context, set *appsv1.StatefulSet, sel labels.Selector) ([]*appsv1.ControllerRevision, error) {
	var mine []*appsv1.ControllerRevision
	for _, r := range candidates[*appsv1.ControllerRevision](c.inf.Revisions, set) {
		if r.Namespace == set.Namespace {
			mine = append(mine, r)
		}
	}
	owned, adopt, release := history.Claim(mine, set, sel)
	// owned aliases the informer's slice contents only; appending below
	// must not write into a shared backing array.
	owned = append([]*appsv1.ControllerRevision(nil), owned...)
	revs := c.apps.ControllerRevisions(set.Namespace)
	var errs []error
	if len(adopt) > 0 {
		if err := c.recheck(ctx, set); err != nil {
			return nil, err
		}
	}
	for _, r := range adopt {
		got, err := history.Adopt(ctx, revs, set, Kind, r)
		switch {
		case err == nil:
			owned = append(owned, got)
		case !apierrors.IsNotFound(err):
			errs = append(errs, err)
		}
	}
	for _, r := range release {
		errs = append(errs, history.Release(ctx, revs, set, r))
	}
	return owned, errors.Join(errs...)
}

func (c *Controller) recheck(ctx context.Context, set *appsv1.StatefulSet) error {
	fresh, err := c.apps.StatefulSets(set.Namespace).Get(ctx, set.Name, metav1.GetOptions{})
	return controller.CheckOwner("StatefulSet", set, fresh, err)
}

func (c *Controller) event(set *appsv1.StatefulSet, typ, reason, msg string) {
	if c.rec != nil {
		c.rec.Event(set, typ, reason, msg)
	}
}
