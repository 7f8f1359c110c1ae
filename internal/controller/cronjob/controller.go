package cronjob

import (
	"context"
	"errors"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

// Controller runs CronJobs.
type Controller struct {
	core     *client.Core
	batch    *client.Group
	cronJobs cache.SharedIndexInformer
	jobs     cache.SharedIndexInformer
	queue    workqueue.TypedRateLimitingInterface[string]
	now      func() time.Time
	// rec records Events; set by Run before any sync.
	rec record.EventRecorder
}

// Option configures New.
type Option func(*Controller)

// WithJobInformer makes the controller read Jobs from the given informer
// (a process's shared one, indexed by controller UID) instead of its own.
func WithJobInformer(jobs cache.SharedIndexInformer) Option {
	return func(c *Controller) { c.jobs = jobs }
}

// New returns the CronJob controller over cfg.
func New(cfg *rest.Config, opts ...Option) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	b, err := client.NewGroup(cfg, batchv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{core: core, batch: b, queue: controller.NewQueue("cronjob"), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	c.cronJobs = cache.NewSharedIndexInformer(client.ListWatch(b.CronJobs(""), nil), &batchv1.CronJob{}, 0, cache.Indexers{})
	// Status writes go through the status subresource, which keeps the
	// stored metadata: what is trimmed here is never lost.
	if err := c.cronJobs.SetTransform(trimMeta); err != nil {
		return nil, err
	}
	if c.jobs == nil {
		c.jobs = cache.NewSharedIndexInformer(client.ListWatch(b.Jobs(""), nil), &batchv1.Job{}, 0,
			cache.Indexers{informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc})
		if err := c.jobs.SetTransform(trimJob); err != nil {
			return nil, err
		}
	}
	if _, err := c.cronJobs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
	}); err != nil {
		return nil, err
	}
	onJob := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		j, ok := obj.(*batchv1.Job)
		if !ok {
			return
		}
		if ref := metav1.GetControllerOf(j); ref != nil && ref.Kind == "CronJob" && ref.APIVersion == batchv1.SchemeGroupVersion.String() {
			c.queue.Add(j.Namespace + "/" + ref.Name)
		}
	}
	if _, err := c.jobs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: onJob, UpdateFunc: func(_, cur any) { onJob(cur) }, DeleteFunc: onJob,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func trimMeta(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		client.TrimMetadata(m)
	}
	return obj, nil
}

// trimJob keeps of a Job what Plan reads: its metadata and status. Jobs
// are only deleted from this cache, never written back.
func trimJob(obj any) (any, error) {
	if j, ok := obj.(*batchv1.Job); ok {
		client.TrimMetadata(j)
		j.Spec = batchv1.JobSpec{}
		j.Status.UncountedTerminatedPods = nil
	}
	return obj, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "cronjob-controller")
	defer stop()
	c.rec = rec
	controller.Loop{Name: "cronjob", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.cronJobs, c.jobs}, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) enqueue(obj any) {
	if k, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(k)
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.cronJobs.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	cj := obj.(*batchv1.CronJob)
	jobs, err := c.jobsOf(ctx, cj)
	if err != nil {
		return err
	}
	now := c.now()
	d := Plan(cj, jobs, now)
	if hasEvent(d.Events, "UnexpectedJob") {
		// The cache may not have our own last status write yet: read the
		// CronJob itself before calling a Job unexpected, as upstream.
		fresh, err := c.batch.CronJobs(cj.Namespace).Get(ctx, cj.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		cj = fresh
		d = Plan(cj, jobs, now)
	}
	for _, e := range d.Events {
		c.rec.Event(cj, e.Type, e.Reason, e.Message)
	}

	var errs []error
	for _, j := range d.Delete {
		bg := metav1.DeletePropagationBackground
		err := c.batch.Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &j.UID}})
		switch {
		case err == nil:
			c.rec.Event(cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job "+j.Name)
		case apierrors.IsNotFound(err):
		default:
			c.rec.Event(cj, corev1.EventTypeWarning, "FailedDelete", fmt.Sprintf("Deleted job: %v", err))
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// A Job to replace still runs: neither start its successor nor
		// write a status that no longer lists it.
		return errors.Join(errs...)
	}
	if d.Create != nil {
		if err := c.create(ctx, cj, &d); err != nil {
			errs = append(errs, err)
			d.Status.LastScheduleTime = cj.Status.LastScheduleTime // the time stays owed
		}
	}
	if !apiequality.Semantic.DeepEqual(cj.Status, d.Status) {
		u := cj.DeepCopy()
		u.Status = d.Status
		if _, err := c.batch.CronJobs(u.Namespace).UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if d.RequeueAfter > 0 {
		c.queue.AddAfter(key, d.RequeueAfter)
	}
	return nil
}

// create creates d.Create and lists it in d.Status.Active. A Job of that
// name already there and controlled by cj is the same schedule time run
// by an earlier sync whose status write was lost.
func (c *Controller) create(ctx context.Context, cj *batchv1.CronJob, d *Decision) error {
	j, err := c.batch.Jobs(cj.Namespace).Create(ctx, d.Create, metav1.CreateOptions{})
	switch {
	case err == nil:
		c.rec.Event(cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job "+j.Name)
	case apierrors.IsAlreadyExists(err):
		j, err = c.batch.Jobs(cj.Namespace).Get(ctx, d.Create.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !metav1.IsControlledBy(j, cj) {
			return fmt.Errorf("cronjob %s/%s: job %s exists and is not controlled by it", cj.Namespace, cj.Name, j.Name)
		}
	default:
		c.rec.Event(cj, corev1.EventTypeWarning, "FailedCreate", fmt.Sprintf("Error creating job: %v", err))
		return err
	}
	if finished(j) == "" {
		d.Status.Active = append(d.Status.Active, JobRef(j))
	}
	return nil
}

// jobsOf are the Jobs cj controls, from the cache, plus those its status
// lists as active that the cache does not hold yet (read from the API,
// as upstream, so a slow watch does not make a new Job look missing).
func (c *Controller) jobsOf(ctx context.Context, cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	objs, err := c.jobs.GetIndexer().ByIndex(informers.ControllerUIDIndex, string(cj.UID))
	if err != nil {
		return nil, err
	}
	jobs := make([]*batchv1.Job, 0, len(objs))
	have := map[string]bool{}
	for _, o := range objs {
		if j := o.(*batchv1.Job); j.Namespace == cj.Namespace {
			jobs = append(jobs, j)
			have[string(j.UID)] = true
		}
	}
	for _, r := range cj.Status.Active {
		if have[string(r.UID)] {
			continue
		}
		j, err := c.batch.Jobs(cj.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return nil, err
		case j.UID == r.UID:
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

func hasEvent(es []Event, reason string) bool {
	for _, e := range es {
		if e.Reason == reason {
			return true
		}
	}
	return false
}
