package job

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
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
	"skiff.dev/skiff/internal/informers"
)

// Controller runs Jobs' pods.
type Controller struct {
	core  *client.Core
	batch *client.Group
	jobs  cache.SharedIndexInformer
	pods  cache.SharedIndexInformer
	queue workqueue.TypedRateLimitingInterface[string]
	exp   *replicaset.Expectations
	// backoff is the replacement backoff; tests shorten it.
	backoff Backoff
	now     func() time.Time
	// rec records Events; set by Run before any sync.
	rec record.EventRecorder

	// released holds the pods whose finalizer this controller removed
	// and whose update the cache has not shown yet: taken as released,
	// so a stale cache never counts a pod a second time.
	releasedMu sync.Mutex
	released   map[types.UID]bool
	// gone holds, per Job key, the UIDs of deleted Jobs of that name
	// whose pods may still hold the finalizer.
	gone map[string][]types.UID
}

// Option configures New.
type Option func(*Controller)

// WithInformers makes the controller read pods and Jobs from the given
// informers (a process's shared ones, indexed by namespace and by
// controller UID) instead of starting its own.
func WithInformers(pods, jobs cache.SharedIndexInformer) Option {
	return func(c *Controller) { c.pods, c.jobs = pods, jobs }
}

// New returns the Job controller over cfg.
func New(cfg *rest.Config, opts ...Option) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	b, err := client.NewGroup(cfg, batchv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{
		core: core, batch: b, queue: controller.NewQueue("job"), exp: replicaset.NewExpectations(),
		backoff: Backoff{Base: DefaultBackoff, Max: DefaultMaxBackoff}, now: time.Now,
		released: map[types.UID]bool{}, gone: map[string][]types.UID{},
	}
	for _, o := range opts {
		o(c)
	}
	indexers := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc}
	if c.jobs == nil {
		c.jobs = cache.NewSharedIndexInformer(client.ListWatch(b.Jobs(""), nil), &batchv1.Job{}, 0, indexers)
		if err := c.jobs.SetTransform(dropManagedFields); err != nil {
			return nil, err
		}
	}
	if c.pods == nil {
		c.pods = cache.NewSharedIndexInformer(client.ListWatch(core.Pods(""), nil), &corev1.Pod{}, 0, indexers)
		if err := c.pods.SetTransform(trimPod); err != nil {
			return nil, err
		}
	}
	if _, err := c.jobs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if j, ok := obj.(*batchv1.Job); ok {
				k := j.Namespace + "/" + j.Name
				c.exp.Delete(k)
				c.releasedMu.Lock()
				c.gone[k] = append(c.gone[k], j.UID)
				c.releasedMu.Unlock()
				c.queue.Add(k) // its pods' finalizers are released
			}
		},
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if k := ownerKey(obj); k != "" {
				c.exp.CreationObserved(k)
				c.queue.Add(k)
			}
		},
		UpdateFunc: func(_, cur any) {
			if p := cur.(*corev1.Pod); !HasTrackingFinalizer(p) {
				c.forgetReleased(p.UID)
			}
			if k := ownerKey(cur); k != "" {
				if p := cur.(*corev1.Pod); p.DeletionTimestamp != nil {
					c.exp.DeletionObserved(k, p.Namespace+"/"+p.Name)
				}
				c.queue.Add(k)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if p, ok := obj.(*corev1.Pod); ok {
				c.forgetReleased(p.UID)
			}
			if k := ownerKey(obj); k != "" {
				p := obj.(*corev1.Pod)
				c.exp.DeletionObserved(k, p.Namespace+"/"+p.Name)
				c.queue.Add(k)
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "job-controller")
	defer stop()
	c.rec = rec
	controller.Loop{Name: "job", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.jobs, c.pods}, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) enqueue(obj any) {
	if k, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(k)
	}
}

// ownerKey is the key of the Job controlling pod obj, or "".
func ownerKey(obj any) string {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return ""
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.Kind != "Job" || ref.APIVersion != batchv1.SchemeGroupVersion.String() {
		return ""
	}
	return p.Namespace + "/" + ref.Name
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.jobs.GetIndexer().GetByKey(key)
	if err != nil {
		return err
	}
	ns, name, _ := strings.Cut(key, "/")
	if !exists {
		c.exp.Delete(key)
		return c.releaseOrphans(ctx, ns, name, nil)
	}
	job := obj.(*batchv1.Job)
	if job.DeletionTimestamp != nil {
		// Being deleted: its pods' ends will never be counted.
		return c.releaseOrphans(ctx, ns, name, job)
	}
	now := c.now()
	if !c.exp.Satisfied(key, now) {
		return nil // a pod event brings the key back
	}
	objs, err := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(job.UID))
	if err != nil {
		return err
	}
	var pods []*corev1.Pod
	for _, o := range objs {
		if p := o.(*corev1.Pod); p.Namespace == job.Namespace {
			pods = append(pods, c.asReleased(p))
		}
	}
	// Pods of earlier Jobs of this name, deleted since.
	orphans, goneUIDs := c.podsOfGone(key)
	d := Reconcile(job, pods, now, c.backoff)

	// The count is written before finalizers go and pods are deleted, so
	// a failed write loses nothing: the next sync decides again.
	if !apiequality.Semantic.DeepEqual(job.Status, d.Status) {
		j := job.DeepCopy()
		j.Status = d.Status
		if _, err := c.batch.Jobs(j.Namespace).UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return err
		}
		c.conditionEvents(job, &d.Status)
	}
	var errs []error
	kept := map[types.UID]bool{} // finalizer still on: not deleted yet
	for _, p := range d.RemoveFinalizers {
		if err := c.release(ctx, p); err != nil {
			kept[p.UID] = true
			errs = append(errs, err)
		}
	}
	if err := c.releaseAll(ctx, orphans); err != nil {
		c.releasedMu.Lock()
		c.gone[key] = append(c.gone[key], goneUIDs...) // retried with the key
		c.releasedMu.Unlock()
		errs = append(errs, err)
	}
	if len(d.Delete) > 0 {
		var del []*corev1.Pod
		for _, p := range d.Delete {
			if !kept[p.UID] {
				del = append(del, p)
			}
		}
		keys := make([]string, len(del))
		for i, p := range del {
			keys[i] = p.Namespace + "/" + p.Name
		}
		c.exp.ExpectDeletions(key, keys, now)
		for i, p := range del {
			err := c.core.Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &p.UID}})
			if err == nil {
				c.event(job, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: "+p.Name)
			}
			if err != nil {
				c.exp.DeletionObserved(key, keys[i])
				if !apierrors.IsNotFound(err) {
					errs = append(errs, err)
				}
			}
		}
	} else if len(d.Create) > 0 {
		c.exp.ExpectCreations(key, len(d.Create), now)
		for _, idx := range d.Create {
			pod := NewPod(job, idx)
			if n, ok := d.IndexFailures[idx]; ok {
				pod.Annotations[batchv1.JobIndexFailureCountAnnotation] = strconv.Itoa(n)
			}
			p, err := c.core.Pods(job.Namespace).Create(ctx, pod, metav1.CreateOptions{})
			if err != nil {
				c.exp.CreationObserved(key)
				errs = append(errs, err)
				c.event(job, corev1.EventTypeWarning, "FailedCreate", "Error creating: "+err.Error())
				continue
			}
			c.event(job, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: "+p.Name)
		}
	}
	if d.RequeueAfter > 0 {
		c.queue.AddAfter(key, d.RequeueAfter)
	}
	return errors.Join(errs...)
}

// releaseFinalizerPatch removes the job-tracking finalizer and nothing
// else, whatever other finalizers the pod has.
var releaseFinalizerPatch = []byte(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["` + batchv1.JobTrackingFinalizer + `"]}}`)

// release removes p's job-tracking finalizer.
func (c *Controller) release(ctx context.Context, p *corev1.Pod) error {
	_, err := c.core.Pods(p.Namespace).Patch(ctx, p.Name, types.StrategicMergePatchType, releaseFinalizerPatch, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err == nil {
		c.releasedMu.Lock()
		c.released[p.UID] = true
		c.releasedMu.Unlock()
	}
	return err
}

func (c *Controller) forgetReleased(uid types.UID) {
	c.releasedMu.Lock()
	delete(c.released, uid)
	c.releasedMu.Unlock()
}

// asReleased is p as Reconcile must see it: without the finalizer if
// this controller removed it already.
func (c *Controller) asReleased(p *corev1.Pod) *corev1.Pod {
	if !HasTrackingFinalizer(p) {
		return p
	}
	c.releasedMu.Lock()
	gone := c.released[p.UID]
	c.releasedMu.Unlock()
	if !gone {
		return p
	}
	cp := *p
	cp.Finalizers = slices.DeleteFunc(slices.Clone(p.Finalizers), func(f string) bool { return f == batchv1.JobTrackingFinalizer })
	return &cp
}

func isJobRef(ref *metav1.OwnerReference) bool {
	return ref.Kind == "Job" && ref.APIVersion == batchv1.SchemeGroupVersion.String()
}

// releaseOrphans removes the finalizer from the pods of Job ns/name that
// is gone (job nil) or being deleted: nothing will count them, and the
// finalizer would keep them forever.
func (c *Controller) releaseOrphans(ctx context.Context, ns, name string, job *batchv1.Job) error {
	objs, err := c.pods.GetIndexer().ByIndex(cache.NamespaceIndex, ns)
	if err != nil {
		return err
	}
	var held []*corev1.Pod
	for _, o := range objs {
		p := o.(*corev1.Pod)
		if ref := metav1.GetControllerOf(p); ref != nil && isJobRef(ref) && ref.Name == name && HasTrackingFinalizer(p) &&
			(job == nil || ref.UID == job.UID) {
			held = append(held, p)
		}
	}
	if len(held) == 0 {
		return nil
	}
	if job == nil {
		// The cache may not have seen a new Job yet: ask.
		cur, err := c.batch.Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		switch {
		case err == nil:
			held = slices.DeleteFunc(held, func(p *corev1.Pod) bool { return metav1.GetControllerOf(p).UID == cur.UID })
		case !apierrors.IsNotFound(err):
			return err
		}
	}
	return c.releaseAll(ctx, held)
}

func (c *Controller) releaseAll(ctx context.Context, pods []*corev1.Pod) error {
	var errs []error
	for _, p := range pods {
		errs = append(errs, c.release(ctx, p))
	}
	return errors.Join(errs...)
}

// podsOfGone takes the UIDs of key's deleted Jobs and returns their pods
// that still hold the finalizer.
func (c *Controller) podsOfGone(key string) ([]*corev1.Pod, []types.UID) {
	c.releasedMu.Lock()
	uids := c.gone[key]
	delete(c.gone, key)
	c.releasedMu.Unlock()
	var out []*corev1.Pod
	for _, uid := range uids {
		objs, _ := c.pods.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(uid))
		for _, o := range objs {
			if p := o.(*corev1.Pod); HasTrackingFinalizer(p) {
				out = append(out, p)
			}
		}
	}
	return out, uids
}

// trimPod keeps of a pod what Reconcile reads: metadata, status and the
// node it is on. Pods are created, patched and deleted, never written
// back from the cache, so nothing dropped is lost.
func trimPod(obj any) (any, error) {
	if p, ok := obj.(*corev1.Pod); ok {
		client.TrimMetadata(p)
		p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName}
	}
	return obj, nil
}

// dropManagedFields drops what no controller reads; a status update
// without managed fields keeps the stored ones.
func dropManagedFields(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		m.SetManagedFields(nil)
	}
	return obj, nil
}

func (c *Controller) event(job *batchv1.Job, typ, reason, msg string) {
	if c.rec != nil {
		c.rec.Event(job, typ, reason, msg)
	}
}

// conditionEvents records the Events upstream records when a Job is
// suspended, resumed, completes or fails.
func (c *Controller) conditionEvents(job *batchv1.Job, st *batchv1.JobStatus) {
	became := func(t batchv1.JobConditionType, status corev1.ConditionStatus) *batchv1.JobCondition {
		n := condition(st, t)
		if n == nil || n.Status != status {
			return nil
		}
		if o := condition(&job.Status, t); o != nil && o.Status == status {
			return nil
		}
		return n
	}
	if became(batchv1.JobComplete, corev1.ConditionTrue) != nil {
		c.event(job, corev1.EventTypeNormal, "Completed", "Job completed")
	}
	if f := became(batchv1.JobFailed, corev1.ConditionTrue); f != nil {
		c.event(job, corev1.EventTypeWarning, f.Reason, f.Message)
	}
	if became(batchv1.JobSuspended, corev1.ConditionTrue) != nil {
		c.event(job, corev1.EventTypeNormal, "Suspended", "Job suspended")
	}
	if became(batchv1.JobSuspended, corev1.ConditionFalse) != nil {
		c.event(job, corev1.EventTypeNormal, "Resumed", "Job resumed")
	}
}
