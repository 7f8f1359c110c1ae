package deployment

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strconv"
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
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

// DeploymentKind is the kind of the owner references it sets.
var DeploymentKind = appsv1.SchemeGroupVersion.WithKind("Deployment")

const component = "deployment-controller"

// Controller rolls Deployments out.
type Controller struct {
	api   appsAPI
	core  *client.Core
	queue workqueue.TypedRateLimitingInterface[string]
	clock clock.Clock

	deployments, replicaSets, pods cache.SharedIndexInformer

	recorder record.EventRecorder
}

// New returns the Deployment controller over the workload informers
// shared with the ReplicaSet controller.
func New(cfg *rest.Config, inf *informers.Factory) (*Controller, error) {
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		api: apiServer{apps: apps}, core: core, queue: controller.NewQueue("deployment"), clock: clock.RealClock{},
		deployments: inf.For(&appsv1.Deployment{}, func() cache.ListerWatcher { return client.ListWatch(apps.Deployments(""), nil) }),
		replicaSets: inf.ReplicaSets(),
		pods:        inf.Pods(),
		recorder:    &record.FakeRecorder{}, // replaced in Run
	}
	if _, err := c.deployments.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, err
	}
	if _, err := c.replicaSets.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.addReplicaSet,
		UpdateFunc: c.updateReplicaSet,
		DeleteFunc: c.deleteReplicaSet,
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{DeleteFunc: c.deletePod}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run rolls Deployments out until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, component)
	defer stop()
	c.recorder = rec
	controller.Loop{
		Name:      "deployment",
		Queue:     c.queue,
		Informers: []cache.SharedIndexInformer{c.deployments, c.replicaSets, c.pods},
		Sync:      c.sync,
	}.Run(ctx, workers)
}

func key(m metav1.Object) string { return m.GetNamespace() + "/" + m.GetName() }

func (c *Controller) enqueue(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	if m, ok := obj.(*appsv1.Deployment); ok {
		c.queue.Add(key(m))
	}
}

// resolve returns the Deployment ref names if it exists with that UID.
func (c *Controller) resolve(ns string, ref *metav1.OwnerReference) *appsv1.Deployment {
	if ref == nil || ref.Kind != DeploymentKind.Kind {
		return nil
	}
	obj, ok, err := c.deployments.GetIndexer().GetByKey(ns + "/" + ref.Name)
	if err != nil || !ok {
		return nil
	}
	if d := obj.(*appsv1.Deployment); d.UID == ref.UID {
		return d
	}
	return nil
}

// selecting are the Deployments whose selector matches rs: candidates to
// adopt an orphan.
func (c *Controller) selecting(rs *appsv1.ReplicaSet) []*appsv1.Deployment {
	objs, _ := c.deployments.GetIndexer().ByIndex(cache.NamespaceIndex, rs.Namespace)
	var out []*appsv1.Deployment
	for _, o := range objs {
		d := o.(*appsv1.Deployment)
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(rs.Labels)) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func (c *Controller) addReplicaSet(obj any) {
	rs, ok := obj.(*appsv1.ReplicaSet)
	if !ok {
		return
	}
	if rs.DeletionTimestamp != nil {
		c.deleteReplicaSet(rs)
		return
	}
	if ref := metav1.GetControllerOfNoCopy(rs); ref != nil {
		if d := c.resolve(rs.Namespace, ref); d != nil {
			c.queue.Add(key(d))
		}
		return
	}
	for _, d := range c.selecting(rs) {
		c.queue.Add(key(d))
	}
}

func (c *Controller) updateReplicaSet(old, cur any) {
	oldRS, ok1 := old.(*appsv1.ReplicaSet)
	curRS, ok2 := cur.(*appsv1.ReplicaSet)
	if !ok1 || !ok2 || curRS.ResourceVersion == oldRS.ResourceVersion {
		return
	}
	curRef, oldRef := metav1.GetControllerOfNoCopy(curRS), metav1.GetControllerOfNoCopy(oldRS)
	refChanged := !reflect.DeepEqual(curRef, oldRef)
	if refChanged && oldRef != nil {
		if d := c.resolve(oldRS.Namespace, oldRef); d != nil {
			c.queue.Add(key(d))
		}
	}
	if curRef != nil {
		if d := c.resolve(curRS.Namespace, curRef); d != nil {
			c.queue.Add(key(d))
		}
		return
	}
	if refChanged || !reflect.DeepEqual(curRS.Labels, oldRS.Labels) {
		for _, d := range c.selecting(curRS) {
			c.queue.Add(key(d))
		}
	}
}

func (c *Controller) deleteReplicaSet(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		if d := c.resolve(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil {
			c.queue.Add(key(d))
		}
	}
}

// deletePod wakes a Recreate Deployment, which waits for its old pods
// to be gone before scaling up.
func (c *Controller) deletePod(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != replicaset.ReplicaSetKind.Kind {
		return
	}
	rsObj, ok, _ := c.replicaSets.GetIndexer().GetByKey(pod.Namespace + "/" + ref.Name)
	if !ok {
		return
	}
	rs := rsObj.(*appsv1.ReplicaSet)
	if d := c.resolve(rs.Namespace, metav1.GetControllerOfNoCopy(rs)); d != nil && d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		c.queue.Add(key(d))
	}
}

// sync does one pass for a Deployment. A conflict means the informer's
// copy was stale (often this controller's own last write not yet seen):
// the pass is retried without a warning.
func (c *Controller) sync(ctx context.Context, k string) error {
	err := c.syncDeployment(ctx, k)
	if apierrors.IsConflict(err) {
		return fmt.Errorf("%w: %v", controller.ErrRequeue, err)
	}
	return err
}

// syncDeployment does one pass, in upstream's order: deleted, paused,
// scaling event, then the strategy's rollout.
func (c *Controller) syncDeployment(ctx context.Context, k string) error {
	obj, exists, err := c.deployments.GetIndexer().GetByKey(k)
	if err != nil || !exists {
		return err
	}
	d := obj.(*appsv1.Deployment).DeepCopy()
	now := c.clock.Now()
	if d.Spec.Selector == nil || reflect.DeepEqual(d.Spec.Selector, &metav1.LabelSelector{}) {
		c.recorder.Eventf(d, corev1.EventTypeWarning, "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.")
		if d.Status.ObservedGeneration < d.Generation {
			d.Status.ObservedGeneration = d.Generation
			_, err := c.api.updateStatus(ctx, d)
			return err
		}
		return nil
	}
	rsList, err := c.claimReplicaSets(ctx, d)
	if err != nil {
		return err
	}
	if d.DeletionTimestamp != nil {
		newRS, oldRSs, err := c.replicaSetsAndSyncRevision(ctx, d, rsList, false, now)
		if err != nil {
			return err
		}
		return c.syncStatus(ctx, d, append(oldRSs, newRS), newRS, now)
	}
	if cond := PausedCondition(d, now); cond != nil {
		setCondition(&d.Status, *cond)
		if err := c.updateStatus(ctx, d); err != nil {
			return err
		}
	}
	if d.Spec.Paused {
		return c.syncScale(ctx, d, rsList, now)
	}
	newRS, oldRSs, err := c.replicaSetsAndSyncRevision(ctx, d, rsList, false, now)
	if err != nil {
		return err
	}
	if IsScalingEvent(d, append(oldRSs, newRS)) {
		return c.syncScale(ctx, d, rsList, now)
	}
	switch d.Spec.Strategy.Type {
	case appsv1.RecreateDeploymentStrategyType:
		return c.rolloutRecreate(ctx, d, rsList, now)
	case appsv1.RollingUpdateDeploymentStrategyType:
		return c.rolloutRolling(ctx, d, rsList, now)
	}
	return fmt.Errorf("unexpected deployment strategy type: %s", d.Spec.Strategy.Type)
}

// PausedCondition is the Progressing condition pausing or resuming sets,
// so a resumed Deployment is not timed out for the time it was paused;
// nil when nothing changes.
func PausedCondition(d *appsv1.Deployment, now time.Time) *appsv1.DeploymentCondition {
	if !HasProgressDeadline(d) {
		return nil
	}
	cur := GetCondition(d.Status, appsv1.DeploymentProgressing)
	if cur != nil && cur.Reason == ReasonTimedOut {
		return nil
	}
	paused := cur != nil && cur.Reason == ReasonPaused
	var c appsv1.DeploymentCondition
	switch {
	case d.Spec.Paused && !paused:
		c = newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonPaused, "Deployment is paused", now)
	case !d.Spec.Paused && paused:
		c = newCondition(appsv1.DeploymentProgressing, corev1.ConditionUnknown, ReasonResumed, "Deployment is resumed", now)
	default:
		return nil
	}
	return &c
}

// claimReplicaSets adopts matching orphan ReplicaSets and releases owned
// ones that stopped matching; it returns those d now controls.
func (c *Controller) claimReplicaSets(ctx context.Context, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %s/%s has invalid label selector: %w", d.Namespace, d.Name, err)
	}
	var owned []*appsv1.ReplicaSet
	var errs []error
	var canAdopt error
	checked := false
	for _, k := range []string{string(d.UID), informers.OrphanIndexKey(d.Namespace)} {
		objs, err := c.replicaSets.GetIndexer().ByIndex(informers.ControllerUIDIndex, k)
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			rs := o.(*appsv1.ReplicaSet)
			if rs.Namespace != d.Namespace {
				continue
			}
			switch replicaset.Claim(d, selector.Matches(labels.Set(rs.Labels)), rs) {
			case replicaset.ClaimOwned:
				owned = append(owned, rs)
			case replicaset.ClaimAdopt:
				if !checked {
					checked = true
					canAdopt = c.recheck(ctx, d)
				}
				if canAdopt != nil {
					errs = append(errs, fmt.Errorf("can't adopt ReplicaSet %s/%s (%s): %w", rs.Namespace, rs.Name, rs.UID, canAdopt))
					continue
				}
				patch := replicaset.AdoptPatch(replicaset.NewControllerRef(d, DeploymentKind), rs.UID)
				adopted, err := c.api.patchRS(ctx, rs.Namespace, rs.Name, patch)
				switch {
				case err == nil:
					owned = append(owned, adopted)
				case !apierrors.IsNotFound(err):
					errs = append(errs, err)
				}
			case replicaset.ClaimRelease:
				patch := replicaset.ReleasePatch(d.UID, rs.UID)
				_, err := c.api.patchRS(ctx, rs.Namespace, rs.Name, patch)
				if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsInvalid(err) {
					errs = append(errs, err)
				}
			}
		}
	}
	return owned, errors.Join(errs...)
}

func (c *Controller) recheck(ctx context.Context, d *appsv1.Deployment) error {
	fresh, err := c.api.getDeployment(ctx, d.Namespace, d.Name)
	return controller.CheckOwner("Deployment", d, fresh, err)
}

// updateStatus writes d's status and takes the server's copy, so later
// writes in the pass carry the current resourceVersion.
func (c *Controller) updateStatus(ctx context.Context, d *appsv1.Deployment) error {
	updated, err := c.api.updateStatus(ctx, d)
	if err != nil {
		return err
	}
	*d = *updated
	return nil
}

// replicaSetsAndSyncRevision splits d's ReplicaSets into the new one
// (created if create and missing) and the old ones, bringing the new
// one's annotations and d's revision up to date.
func (c *Controller) replicaSetsAndSyncRevision(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, create bool, now time.Time) (*appsv1.ReplicaSet, []*appsv1.ReplicaSet, error) {
	oldRSs := FindOldReplicaSets(d, rsList)
	newRS, err := c.newReplicaSet(ctx, d, rsList, oldRSs, create, now)
	return newRS, oldRSs, err
}

func setDeploymentRevision(d *appsv1.Deployment, revision string) bool {
	if d.Annotations[RevisionAnnotation] == revision {
		return false
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[RevisionAnnotation] = revision
	return true
}

// NewReplicaSet is the ReplicaSet a Deployment's current template gets:
// named and labelled by the template's hash, owned by d, sized for the
// rollout's first step.
func NewReplicaSet(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet, revision int64) *appsv1.ReplicaSet {
	template := *d.Spec.Template.DeepCopy()
	hash := ComputeHash(&template, d.Status.CollisionCount)
	template.Labels = maps.Clone(d.Spec.Template.Labels)
	if template.Labels == nil {
		template.Labels = map[string]string{}
	}
	template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	selector := d.Spec.Selector.DeepCopy()
	if selector.MatchLabels == nil {
		selector.MatchLabels = map[string]string{}
	}
	selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] = hash
	zero := int32(0)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            d.Name + "-" + hash,
			Namespace:       d.Namespace,
			OwnerReferences: []metav1.OwnerReference{replicaset.NewControllerRef(d, DeploymentKind)},
			Labels:          template.Labels,
		},
		Spec: appsv1.ReplicaSetSpec{Replicas: &zero, MinReadySeconds: d.Spec.MinReadySeconds, Selector: selector, Template: template},
	}
	n := NewRSNewReplicas(d, append(append([]*appsv1.ReplicaSet{}, oldRSs...), rs), rs)
	rs.Spec.Replicas = &n
	setNewReplicaSetAnnotations(d, rs, revision, false)
	return rs
}

func (c *Controller) newReplicaSet(ctx context.Context, d *appsv1.Deployment, rsList, oldRSs []*appsv1.ReplicaSet, create bool, now time.Time) (*appsv1.ReplicaSet, error) {
	existing := FindNewReplicaSet(d, rsList)
	revision := MaxRevision(oldRSs) + 1
	if existing != nil {
		rs := existing.DeepCopy()
		annotated := setNewReplicaSetAnnotations(d, rs, revision, true)
		if annotated || rs.Spec.MinReadySeconds != d.Spec.MinReadySeconds {
			rs.Spec.MinReadySeconds = d.Spec.MinReadySeconds
			return c.api.updateRS(ctx, rs)
		}
		needsUpdate := setDeploymentRevision(d, rs.Annotations[RevisionAnnotation])
		if HasProgressDeadline(d) && GetCondition(d.Status, appsv1.DeploymentProgressing) == nil {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonFoundNewRS,
				fmt.Sprintf("Found new replica set %q", rs.Name), now))
			needsUpdate = true
		}
		if needsUpdate {
			if err := c.updateStatus(ctx, d); err != nil {
				return nil, err
			}
		}
		return rs, nil
	}
	if !create {
		return nil, nil
	}
	want := NewReplicaSet(d, oldRSs, revision)
	created, err := c.api.createRS(ctx, want)
	alreadyExists := false
	switch {
	case apierrors.IsAlreadyExists(err):
		// A slow cache, or a hash collision with a ReplicaSet that is
		// not this template's.
		alreadyExists = true
		obj, ok, gerr := c.replicaSets.GetIndexer().GetByKey(key(want))
		if gerr != nil || !ok {
			// Ours, created by the last pass: look again once the
			// informer has it.
			return nil, fmt.Errorf("replica set %s exists but is not yet in the cache: %w", want.Name, controller.ErrRequeue)
		}
		rs := obj.(*appsv1.ReplicaSet)
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID && EqualIgnoreHash(&d.Spec.Template, &rs.Spec.Template) {
			created, err = rs, nil
			break
		}
		if d.Status.CollisionCount == nil {
			d.Status.CollisionCount = new(int32)
		}
		*d.Status.CollisionCount++
		if uerr := c.updateStatus(ctx, d); uerr != nil {
			return nil, uerr
		}
		return nil, err
	case apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return nil, err
	case err != nil:
		msg := fmt.Sprintf("Failed to create new replica set %q: %v", want.Name, err)
		if HasProgressDeadline(d) {
			setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonFailedRSCreate, msg, now))
			_ = c.updateStatus(ctx, d) // the create's error is the one to report
		}
		c.recorder.Event(d, corev1.EventTypeWarning, ReasonFailedRSCreate, msg)
		return nil, err
	}
	if !alreadyExists && rsReplicas(created) > 0 {
		c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s from 0 to %d", created.Name, rsReplicas(created))
	}
	needsUpdate := setDeploymentRevision(d, strconv.FormatInt(revision, 10))
	if !alreadyExists && HasProgressDeadline(d) {
		setCondition(&d.Status, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewReplicaSet,
			fmt.Sprintf("Created new replica set %q", created.Name), now))
		needsUpdate = true
	}
	if needsUpdate {
		if err := c.updateStatus(ctx, d); err != nil {
			return created, err
		}
	}
	return created, nil
}

// appsAPI is the writes the controller makes: the API server, or in
// tests a store of its own.
type appsAPI interface {
	getDeployment(ctx context.Context, ns, name string) (*appsv1.Deployment, error)
	updateStatus(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error)
	createRS(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	updateRS(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	patchRS(ctx context.Context, ns, name string, patch []byte) (*appsv1.ReplicaSet, error)
	deleteRS(ctx context.Context, ns, name string) error
}

type apiServer struct{ apps *client.Group }

func (a apiServer) getDeployment(ctx context.Context, ns, name string) (*appsv1.Deployment, error) {
	return a.apps.Deployments(ns).Get(ctx, name, metav1.GetOptions{})
}

func (a apiServer) updateStatus(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	return a.apps.Deployments(d.Namespace).UpdateStatus(ctx, d, metav1.UpdateOptions{})
}

func (a apiServer) createRS(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return a.apps.ReplicaSets(rs.Namespace).Create(ctx, rs, metav1.CreateOptions{})
}

func (a apiServer) updateRS(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return a.apps.ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{})
}

func (a apiServer) patchRS(ctx context.Context, ns, name string, patch []byte) (*appsv1.ReplicaSet, error) {
	return a.apps.ReplicaSets(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
}

func (a apiServer) deleteRS(ctx context.Context, ns, name string) error {
	return a.apps.ReplicaSets(ns).Delete(ctx, name, metav1.DeleteOptions{})
}

// scale applies one Scale: the size, and the replicas annotations from
// d's current size. It reports whether the size changed.
func (c *Controller) scale(ctx context.Context, d *appsv1.Deployment, s Scale) (bool, *appsv1.ReplicaSet, error) {
	from := rsReplicas(s.RS)
	if from == s.To && !s.Always {
		return false, s.RS, nil
	}
	rs := s.RS.DeepCopy()
	annotated := setReplicasAnnotations(rs, replicas(d), replicas(d)+MaxSurge(d))
	if from == s.To && !annotated {
		return false, s.RS, nil
	}
	rs.Spec.Replicas = &s.To
	updated, err := c.api.updateRS(ctx, rs)
	if err != nil {
		return false, nil, err
	}
	if from == s.To {
		return false, updated, nil
	}
	op := "up"
	if s.To < from {
		op = "down"
	}
	c.recorder.Eventf(d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", op, rs.Name, from, s.To)
	return true, updated, nil
}

func (c *Controller) applyScales(ctx context.Context, d *appsv1.Deployment, scales []Scale) (bool, error) {
	scaledAny := false
	for _, s := range scales {
		scaled, _, err := c.scale(ctx, d, s)
		if err != nil {
			return scaledAny, err
		}
		scaledAny = scaledAny || scaled
	}
	return scaledAny, nil
}

// syncScale handles a paused Deployment or a scaling event.
func (c *Controller) syncScale(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, now time.Time) error {
	newRS, oldRSs, err := c.replicaSetsAndSyncRevision(ctx, d, rsList, false, now)
	if err != nil {
		return err
	}
	if _, err := c.applyScales(ctx, d, PlanScale(d, newRS, oldRSs)); err != nil {
		return err
	}
	if d.Spec.Paused {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return c.syncStatus(ctx, d, append(oldRSs, newRS), newRS, now)
}

func (c *Controller) rolloutRolling(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, now time.Time) error {
	newRS, oldRSs, err := c.replicaSetsAndSyncRevision(ctx, d, rsList, true, now)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)
	if s, ok := PlanNewReplicaSet(d, allRSs, newRS); ok {
		scaled, _, err := c.scale(ctx, d, s)
		if err != nil {
			return err
		}
		if scaled {
			return c.syncRolloutStatus(ctx, d, allRSs, newRS, now)
		}
	}
	scaled, err := c.applyScales(ctx, d, PlanOldReplicaSets(d, allRSs, activeRSs(oldRSs), newRS))
	if err != nil {
		return err
	}
	if scaled {
		return c.syncRolloutStatus(ctx, d, allRSs, newRS, now)
	}
	if DeploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, allRSs, newRS, now)
}

func (c *Controller) rolloutRecreate(ctx context.Context, d *appsv1.Deployment, rsList []*appsv1.ReplicaSet, now time.Time) error {
	// No new ReplicaSet yet: it must not scale up before the old ones
	// are down.
	newRS, oldRSs, err := c.replicaSetsAndSyncRevision(ctx, d, rsList, false, now)
	if err != nil {
		return err
	}
	allRSs := append(oldRSs, newRS)
	var down []Scale
	for _, rs := range activeRSs(oldRSs) {
		down = append(down, Scale{RS: rs, To: 0})
	}
	scaled, err := c.applyScales(ctx, d, down)
	if err != nil {
		return err
	}
	if scaled || OldPodsRunning(newRS, oldRSs, c.podsByReplicaSet(rsList)) {
		return c.syncRolloutStatus(ctx, d, allRSs, newRS, now)
	}
	if newRS == nil {
		if newRS, oldRSs, err = c.replicaSetsAndSyncRevision(ctx, d, rsList, true, now); err != nil {
			return err
		}
		allRSs = append(oldRSs, newRS)
	}
	if _, _, err := c.scale(ctx, d, Scale{RS: newRS, To: replicas(d)}); err != nil {
		return err
	}
	if DeploymentComplete(d, &d.Status) {
		if err := c.cleanup(ctx, d, oldRSs); err != nil {
			return err
		}
	}
	return c.syncRolloutStatus(ctx, d, allRSs, newRS, now)
}

// podsByReplicaSet are the pods each of rsList controls.
func (c *Controller) podsByReplicaSet(rsList []*appsv1.ReplicaSet) map[types.UID][]*corev1.Pod {
	out := make(map[types.UID][]*corev1.Pod, len(rsList))
	for _, rs := range rsList {
		objs, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(rs.UID))
		for _, o := range objs {
			out[rs.UID] = append(out[rs.UID], o.(*corev1.Pod))
		}
	}
	return out
}

func (c *Controller) cleanup(ctx context.Context, d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) error {
	for _, rs := range ReplicaSetsToCleanUp(d, oldRSs) {
		if err := c.api.deleteRS(ctx, rs.Namespace, rs.Name); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// syncStatus writes CalculateStatus's status if it changed.
func (c *Controller) syncStatus(ctx context.Context, d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) error {
	st := CalculateStatus(d, allRSs, newRS, now)
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		return nil
	}
	d.Status = st
	return c.updateStatus(ctx, d)
}

// syncRolloutStatus writes RolloutStatus's status if it changed, and
// otherwise schedules the check of the progress deadline.
func (c *Controller) syncRolloutStatus(ctx context.Context, d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) error {
	st := RolloutStatus(d, allRSs, newRS, now)
	if apiequality.Semantic.DeepEqual(d.Status, st) {
		if after, ok := ProgressCheckAfter(d, st, now); ok {
			if after < time.Second {
				c.queue.AddRateLimited(key(d))
			} else {
				// A second more, to be past the deadline despite skew.
				c.queue.AddAfter(key(d), after+time.Second)
			}
		}
		return nil
	}
	d.Status = st
	return c.updateStatus(ctx, d)
}
