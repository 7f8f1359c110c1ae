package disruption

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
)

// Controller keeps PodDisruptionBudgets' status.
type Controller struct {
	core   *client.Core
	policy *client.Group
	apps   *client.Group
	scales *client.Scales
	pods   cache.SharedIndexInformer
	pdbs   cache.SharedIndexInformer
	rss    cache.SharedIndexInformer // nil: read from the API
	queue  workqueue.TypedRateLimitingInterface[string]
	now    func() time.Time
	rec    record.EventRecorder
}

// Informers are the informers the controller reads: every pod and every
// PodDisruptionBudget, indexed by namespace (cache.NamespaceIndex). They
// may be shared with other controllers: the controller never changes
// their objects. For those left nil the controller runs its own (pods
// trimmed to what budgets read).
type Informers struct {
	Pods, PDBs cache.SharedIndexInformer
	// ReplicaSets, when set, is read to find the Deployment of a pod's
	// ReplicaSet; without it the ReplicaSet is read from the API.
	ReplicaSets cache.SharedIndexInformer
}

// New returns the disruption controller over cfg, reading inf.
func New(cfg *rest.Config, inf Informers) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	p, err := client.NewGroup(cfg, policyv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	nsIndex := cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}
	if inf.Pods == nil {
		inf.Pods = cache.NewSharedIndexInformer(client.ListWatch(core.Pods(""), nil), &corev1.Pod{}, 0, nsIndex)
		if err := inf.Pods.SetTransform(slimPod); err != nil {
			return nil, err
		}
	}
	if inf.PDBs == nil {
		inf.PDBs = cache.NewSharedIndexInformer(client.ListWatch(p.PodDisruptionBudgets(""), nil), &policyv1.PodDisruptionBudget{}, 0, nsIndex)
	}
	apps, err := client.NewGroup(cfg, appsv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	scales, err := client.NewScales(cfg)
	if err != nil {
		return nil, err
	}
	c := &Controller{core: core, policy: p, apps: apps, scales: scales, pods: inf.Pods, pdbs: inf.PDBs, rss: inf.ReplicaSets,
		queue: controller.NewQueue("disruption"), now: time.Now}
	if _, err := c.pdbs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, cur any) { c.enqueue(cur) },
		DeleteFunc: c.enqueue,
	}); err != nil {
		return nil, err
	}
	if _, err := c.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueueBudgetsOf,
		UpdateFunc: func(old, cur any) {
			o, n := old.(*corev1.Pod), cur.(*corev1.Pod)
			if o.ResourceVersion == n.ResourceVersion {
				return
			}
			if !labels.Equals(o.Labels, n.Labels) {
				c.enqueueBudgetsOf(old)
			}
			c.enqueueBudgetsOf(cur)
		},
		DeleteFunc: c.enqueueBudgetsOf,
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "controllermanager")
	defer stop()
	c.rec = rec
	informers := []cache.SharedIndexInformer{c.pods, c.pdbs}
	if c.rss != nil {
		informers = append(informers, c.rss)
	}
	controller.Loop{Name: "disruption", Queue: c.queue, Informers: informers, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) enqueue(obj any) {
	if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(k)
	}
}

// enqueueBudgetsOf queues the budgets whose selector matches pod obj.
func (c *Controller) enqueueBudgetsOf(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	objs, _ := c.pdbs.GetIndexer().ByIndex(cache.NamespaceIndex, pod.Namespace)
	for _, o := range objs {
		pdb := o.(*policyv1.PodDisruptionBudget)
		// policy/v1: an empty selector matches every pod of the
		// namespace; a nil or invalid one, none.
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && sel.Matches(labels.Set(pod.Labels)) {
			c.enqueue(pdb)
		}
	}
}

func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.pdbs.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	pdb := obj.(*policyv1.PodDisruptionBudget)
	now := c.now()
	pods, err := c.podsOf(pdb)
	if err != nil {
		return c.write(ctx, pdb, Failed(pdb, err, now))
	}
	if len(pods) == 0 {
		c.rec.Event(pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	var expected int32
	if NeedsScale(pdb) {
		var unmanaged []string
		expected, unmanaged, err = c.expectedScale(ctx, pods)
		if err != nil {
			c.rec.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: %v", err)
			if werr := c.write(ctx, pdb, Failed(pdb, err, now)); werr != nil {
				return werr
			}
			return err
		}
		if len(unmanaged) > 0 {
			c.rec.Eventf(pdb, corev1.EventTypeWarning, "UnmanagedPods", "Pods selected by this PodDisruptionBudget (selector: %v) were found "+
				"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
				"To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.", pdb.Spec.Selector)
		}
	}
	st, recheck, err := Compute(pdb, pods, expected, now)
	if err != nil {
		return c.write(ctx, pdb, Failed(pdb, err, now))
	}
	if !recheck.IsZero() {
		c.queue.AddAfter(key, recheck.Sub(now))
	}
	return c.write(ctx, pdb, st)
}

// write stores st as pdb's status unless it already is.
func (c *Controller) write(ctx context.Context, pdb *policyv1.PodDisruptionBudget, st policyv1.PodDisruptionBudgetStatus) error {
	if apiequality.Semantic.DeepEqual(pdb.Status, st) {
		return nil
	}
	out := pdb.DeepCopy()
	out.Status = st
	_, err := c.policy.PodDisruptionBudgets(pdb.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if apierrors.IsConflict(err) {
		// The eviction subresource took a disruption meanwhile; the
		// newer budget comes back through the informer.
		return fmt.Errorf("%w: %w", controller.ErrRequeue, err)
	}
	return err
}

// podsOf are the pods pdb's selector matches.
func (c *Controller) podsOf(pdb *policyv1.PodDisruptionBudget) ([]*corev1.Pod, error) {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil, err
	}
	objs, err := c.pods.GetIndexer().ByIndex(cache.NamespaceIndex, pdb.Namespace)
	if err != nil {
		return nil, err
	}
	var out []*corev1.Pod
	for _, o := range objs {
		if p := o.(*corev1.Pod); sel.Matches(labels.Set(p.Labels)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// expectedScale is the sum of the scale of the pods' distinct
// controllers; unmanaged are the pods without one, left out.
func (c *Controller) expectedScale(ctx context.Context, pods []*corev1.Pod) (int32, []string, error) {
	byUID := map[types.UID]int32{}
	seen := map[types.UID]types.UID{} // pod controller UID -> counted controller UID
	var unmanaged []string
	for _, p := range pods {
		ref := metav1.GetControllerOf(p)
		if ref == nil {
			unmanaged = append(unmanaged, p.Name)
			continue
		}
		if _, ok := seen[ref.UID]; ok {
			continue
		}
		uid, n, found, err := c.controllerScale(ctx, p.Namespace, ref)
		if err != nil {
			return 0, nil, err
		}
		if !found {
			return 0, nil, errNoController(p.Name)
		}
		seen[ref.UID] = uid
		byUID[uid] = n
	}
	var sum int32
	for _, n := range byUID {
		sum += n
	}
	return sum, unmanaged, nil
}

// controllerScale is the UID and scale of what ref names, or of the
// Deployment that controls it when it is a ReplicaSet, as upstream
// counts. found is false when it is gone, is another object by now, or
// has no scale.
func (c *Controller) controllerScale(ctx context.Context, ns string, ref *metav1.OwnerReference) (uid types.UID, replicas int32, found bool, err error) {
	if ref.Kind == "ReplicaSet" && ref.APIVersion == appsv1.SchemeGroupVersion.String() {
		rs, err := c.replicaSet(ctx, ns, ref.Name)
		if apierrors.IsNotFound(err) {
			return "", 0, false, nil
		}
		if err != nil {
			return "", 0, false, err
		}
		if rs.UID != ref.UID {
			return "", 0, false, nil
		}
		if d := metav1.GetControllerOf(rs); d != nil && d.Kind == "Deployment" && d.APIVersion == appsv1.SchemeGroupVersion.String() {
			ref = d
		} else {
			n := int32(1)
			if rs.Spec.Replicas != nil {
				n = *rs.Spec.Replicas
			}
			return rs.UID, n, true, nil
		}
	}
	scale, err := c.scales.Get(ctx, ref.APIVersion, ref.Kind, ns, ref.Name)
	if apierrors.IsNotFound(err) || errors.Is(err, client.ErrNotScalable) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	if scale.UID != ref.UID {
		return "", 0, false, nil
	}
	return scale.UID, scale.Spec.Replicas, true, nil
}

// replicaSet reads ReplicaSet ns/name from the informer when there is
// one (a NotFound error when it is not there), else from the API.
func (c *Controller) replicaSet(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	if c.rss == nil {
		return c.apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
	}
	obj, ok, err := c.rss.GetIndexer().GetByKey(ns + "/" + name)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, apierrors.NewNotFound(appsv1.Resource("replicasets"), name)
	}
	return obj.(*appsv1.ReplicaSet), nil
}

// slimPod keeps of a pod what budgets are computed from: identity,
// labels, controller, deletion and readiness.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	var ready []corev1.PodCondition
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			ready = append(ready, c)
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			Labels: p.Labels, OwnerReferences: p.OwnerReferences, DeletionTimestamp: p.DeletionTimestamp,
		},
		Status: corev1.PodStatus{Phase: p.Status.Phase, Conditions: ready},
	}, nil
}
