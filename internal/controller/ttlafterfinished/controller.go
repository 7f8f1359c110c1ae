package ttlafterfinished

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
)

// Expiry is when a Job is to be deleted. ok is false for a Job that has no
// TTL, is not finished, or is already being deleted; err reports a
// finished Job whose condition has no transition time.
func Expiry(j *batchv1.Job) (at time.Time, ok bool, err error) {
	if j.Spec.TTLSecondsAfterFinished == nil || j.DeletionTimestamp != nil {
		return time.Time{}, false, nil
	}
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			if c.LastTransitionTime.IsZero() {
				return time.Time{}, false, fmt.Errorf("unable to find the time when the Job %s/%s finished", j.Namespace, j.Name)
			}
			return c.LastTransitionTime.Add(time.Duration(*j.Spec.TTLSecondsAfterFinished) * time.Second), true, nil
		}
	}
	return time.Time{}, false, nil
}

// Controller deletes finished Jobs whose TTL has passed.
type Controller struct {
	batch *client.Group
	jobs  cache.SharedIndexInformer
	queue workqueue.TypedRateLimitingInterface[string]
	now   func() time.Time
}

// Option configures New.
type Option func(*Controller)

// WithJobInformer makes the controller read Jobs from the given informer
// (a process's shared one) instead of its own.
func WithJobInformer(jobs cache.SharedIndexInformer) Option {
	return func(c *Controller) { c.jobs = jobs }
}

// New returns the controller over cfg.
func New(cfg *rest.Config, opts ...Option) (*Controller, error) {
	b, err := client.NewGroup(cfg, batchv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	c := &Controller{batch: b, queue: controller.NewQueue("ttl-after-finished"), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.jobs == nil {
		c.jobs = cache.NewSharedIndexInformer(client.ListWatch(b.Jobs(""), nil), &batchv1.Job{}, 0, cache.Indexers{})
		// Only Expiry's inputs are kept: Jobs are deleted, never written back.
		if err := c.jobs.SetTransform(trim); err != nil {
			return nil, err
		}
	}
	if _, err := c.jobs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func trim(obj any) (any, error) {
	if j, ok := obj.(*batchv1.Job); ok {
		client.TrimMetadata(j)
		j.Annotations, j.Labels, j.OwnerReferences = nil, nil, nil
		j.Spec = batchv1.JobSpec{TTLSecondsAfterFinished: j.Spec.TTLSecondsAfterFinished}
		j.Status = batchv1.JobStatus{Conditions: j.Status.Conditions}
	}
	return obj, nil
}

func (c *Controller) enqueue(obj any) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	if _, ok, _ := Expiry(j); ok {
		if k, err := cache.MetaNamespaceKeyFunc(j); err == nil {
			c.queue.Add(k)
		}
	}
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	controller.Loop{Name: "ttl-after-finished", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.jobs}, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.jobs.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	j := obj.(*batchv1.Job)
	if wait, err := c.wait(j); err != nil || wait != 0 {
		return err
	}
	// The cache may be behind: decide on the Job as it is now.
	fresh, err := c.batch.Jobs(j.Namespace).Get(ctx, j.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if wait, err := c.wait(fresh); err != nil || wait != 0 {
		return err
	}
	bg := metav1.DeletePropagationBackground
	err = c.batch.Jobs(j.Namespace).Delete(ctx, j.Name, metav1.DeleteOptions{
		PropagationPolicy: &bg, Preconditions: &metav1.Preconditions{UID: &fresh.UID, ResourceVersion: &fresh.ResourceVersion}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // gone, or changed: its update brings it back
	}
	return err
}

// wait is how long until j expires, requeueing it for then; 0 when it
// has expired, -1 when it never will.
func (c *Controller) wait(j *batchv1.Job) (time.Duration, error) {
	at, ok, err := Expiry(j)
	if err != nil || !ok {
		return -1, err
	}
	if left := at.Sub(c.now()); left > 0 {
		c.queue.AddAfter(j.Namespace+"/"+j.Name, left)
		return left, nil
	}
	return 0, nil
}
