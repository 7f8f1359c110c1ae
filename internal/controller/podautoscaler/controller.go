package podautoscaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
)

// DefaultSyncPeriod is how often every HPA is reconciled
// (--horizontal-pod-autoscaler-sync-period).
const DefaultSyncPeriod = 15 * time.Second

// Options tune the controller; zero values are upstream's defaults.
type Options struct {
	SyncPeriod             time.Duration
	DownscaleStabilization time.Duration
	Tolerance              float64
}

// Controller scales HPAs' targets.
type Controller struct {
	core    *client.Core
	as      *client.Group
	scales  *client.Scales
	metrics *metricsClient
	hpas    cache.SharedIndexInformer
	queue   workqueue.TypedRateLimitingInterface[string]
	opts    Options
	now     func() time.Time
	rec     record.EventRecorder

	mu sync.Mutex
	// history is each HPA's recent recommendations and rescales, by key.
	history map[string]*History
}

// New returns the HPA controller over cfg.
func New(cfg *rest.Config, opts Options) (*Controller, error) {
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	as, err := client.NewGroup(cfg, autoscalingv2.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	scales, err := client.NewScales(cfg)
	if err != nil {
		return nil, err
	}
	if opts.SyncPeriod <= 0 {
		opts.SyncPeriod = DefaultSyncPeriod
	}
	if opts.DownscaleStabilization <= 0 {
		opts.DownscaleStabilization = DefaultDownscaleStabilization
	}
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	c := &Controller{
		core: core, as: as, scales: scales, metrics: &metricsClient{core: core, period: 30 * time.Second},
		queue: controller.NewQueue("horizontalpodautoscaling"), opts: opts, now: time.Now,
		history: map[string]*History{},
	}
	c.hpas = cache.NewSharedIndexInformer(client.ListWatch(as.HorizontalPodAutoscalers(""), nil), &autoscalingv2.HorizontalPodAutoscaler{}, 0, cache.Indexers{})
	if err := c.hpas.SetTransform(func(obj any) (any, error) {
		if m, ok := obj.(metav1.Object); ok {
			client.TrimMetadata(m)
		}
		return obj, nil
	}); err != nil {
		return nil, err
	}
	if _, err := c.hpas.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueue,
		UpdateFunc: func(old, cur any) {
			// Our own status writes come back here; the sync period
			// brings the HPA back anyway, so only a new spec is urgent.
			o, n := old.(*autoscalingv2.HorizontalPodAutoscaler), cur.(*autoscalingv2.HorizontalPodAutoscaler)
			if !apiequality.Semantic.DeepEqual(o.Spec, n.Spec) {
				c.enqueue(cur)
			}
		},
		DeleteFunc: func(obj any) {
			if k, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.mu.Lock()
				delete(c.history, k)
				c.mu.Unlock()
			}
		},
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// Run runs the controller until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	rec, stop := replicaset.StartEventRecorder(ctx, c.core, "horizontal-pod-autoscaler")
	defer stop()
	c.rec = rec
	controller.Loop{Name: "horizontalpodautoscaling", Queue: c.queue, Informers: []cache.SharedIndexInformer{c.hpas}, Sync: c.sync}.Run(ctx, workers)
}

func (c *Controller) enqueue(obj any) {
	if k, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(k)
	}
}

// sync reconciles one HPA and asks for the next look a sync period
// later, whatever happened: failures are reported in the HPA's
// conditions and Events, and retried at the same pace, as upstream.
func (c *Controller) sync(ctx context.Context, key string) error {
	obj, exists, err := c.hpas.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	c.queue.AddAfter(key, c.opts.SyncPeriod)
	hpa := obj.(*autoscalingv2.HorizontalPodAutoscaler).DeepCopy()
	orig := hpa.Status.DeepCopy()
	if err := c.reconcile(ctx, key, hpa); err != nil && ctx.Err() == nil {
		slog.Debug("horizontalpodautoscaling: not scaled", "hpa", key, "err", err)
	}
	if apiequality.Semantic.DeepEqual(*orig, hpa.Status) {
		return nil
	}
	_, err = c.as.HorizontalPodAutoscalers(hpa.Namespace).UpdateStatus(ctx, hpa, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil // the next sync starts from the newer HPA
	}
	return err
}

// reconcile decides and applies hpa's scale, leaving its new status in
// hpa.Status.
func (c *Controller) reconcile(ctx context.Context, key string, hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	now := c.now()
	ref := hpa.Spec.ScaleTargetRef
	scale, err := c.scales.Get(ctx, ref.APIVersion, ref.Kind, hpa.Namespace, ref.Name)
	if err != nil {
		c.rec.Event(hpa, corev1.EventTypeWarning, "FailedGetScale", err.Error())
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedGetScale", "the HPA controller was unable to get the target's current scale: %v", err)
		return err
	}
	setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededGetScale", "the HPA controller was able to get the target's current scale")
	current := scale.Spec.Replicas
	minReplicas := int32(1)
	if hpa.Spec.MinReplicas != nil {
		minReplicas = *hpa.Spec.MinReplicas
	}
	h := c.historyOf(key)
	h.Begin(current, now)

	var desired int32
	var reason string
	var statuses []autoscalingv2.MetricStatus
	rescale := true
	switch {
	case current == 0 && minReplicas != 0:
		desired, rescale = 0, false
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero")
	case current > hpa.Spec.MaxReplicas:
		desired, reason = hpa.Spec.MaxReplicas, "Current number of replicas above Spec.MaxReplicas"
	case current < minReplicas:
		desired, reason = minReplicas, "Current number of replicas below Spec.MinReplicas"
	default:
		var metricName string
		var recommended int32
		recommended, metricName, statuses, err = c.replicasForMetrics(ctx, hpa, scale, now)
		if err != nil && recommended == -1 {
			setStatus(hpa, current, hpa.Status.DesiredReplicas, statuses, false, now)
			c.rec.Event(hpa, corev1.EventTypeWarning, "FailedComputeMetricsReplicas", err.Error())
			return err
		}
		l := Normalize(h, hpa.Spec.Behavior, current, recommended, minReplicas, hpa.Spec.MaxReplicas, c.opts.DownscaleStabilization, now)
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, l.AbleReason, "%s", l.AbleMessage)
		limited := corev1.ConditionFalse
		if l.Limited {
			limited = corev1.ConditionTrue
		}
		setCondition(hpa, autoscalingv2.ScalingLimited, limited, l.LimitedReason, "%s", l.LimitedMessage)
		desired = l.Desired
		rescale = desired != current
		if desired > current {
			reason = fmt.Sprintf("%s above target", metricName)
		} else {
			reason = "All metrics below target"
		}
	}
	if rescale {
		scale.Spec.Replicas = desired
		if _, err := c.scales.Update(ctx, ref.APIVersion, ref.Kind, scale); err != nil {
			c.rec.Eventf(hpa, corev1.EventTypeWarning, "FailedRescale", "New size: %d; reason: %s; error: %v", desired, reason, err)
			setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionFalse, "FailedUpdateScale", "the HPA controller was unable to update the target scale: %v", err)
			setStatus(hpa, current, hpa.Status.DesiredReplicas, statuses, false, now)
			return err
		}
		setCondition(hpa, autoscalingv2.AbleToScale, corev1.ConditionTrue, "SucceededRescale", "the HPA controller was able to update the target scale to %d", desired)
		c.rec.Eventf(hpa, corev1.EventTypeNormal, "SuccessfulRescale", "New size: %d; reason: %s", desired, reason)
		h.Record(hpa.Spec.Behavior, current, desired, now)
	} else {
		desired = current
	}
	setStatus(hpa, current, desired, statuses, rescale, now)
	return nil
}

func (c *Controller) historyOf(key string) *History {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.history[key]
	if h == nil {
		h = &History{}
		c.history[key] = h
	}
	return h
}

// replicasForMetrics is the largest replica count the metrics ask for,
// the name of the metric that asks it and the metrics' statuses; -1 and
// an error when too few metrics could be read, as upstream: all of them
// invalid, or some invalid while the valid ones would scale down.
func (c *Controller) replicasForMetrics(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale, now time.Time) (int32, string, []autoscalingv2.MetricStatus, error) {
	if scale.Status.Selector == "" {
		c.rec.Event(hpa, corev1.EventTypeWarning, "SelectorRequired", "selector is required")
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "the HPA target's scale is missing a selector")
		return -1, "", nil, errors.New("selector is required")
	}
	selector, err := labels.Parse(scale.Status.Selector)
	if err != nil {
		msg := fmt.Sprintf("couldn't convert selector into a corresponding internal selector object: %v", err)
		c.rec.Event(hpa, corev1.EventTypeWarning, "InvalidSelector", msg)
		setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionFalse, "InvalidSelector", "%s", msg)
		return -1, "", nil, errors.New(msg)
	}
	specs := hpa.Spec.Metrics
	statuses := make([]autoscalingv2.MetricStatus, len(specs))
	replicas, name := int32(0), ""
	invalid := 0
	var firstErr error
	var invalidCond *autoscalingv2.HorizontalPodAutoscalerCondition
	for i, spec := range specs {
		n, st, proposal, err := c.replicasForMetric(ctx, hpa, scale, selector, spec, now)
		if err != nil {
			if invalid == 0 {
				firstErr = fmt.Errorf("failed to get %s metric value: %w", metricName(spec), err.err)
				invalidCond = &err.cond
			}
			invalid++
			continue
		}
		statuses[i] = st
		if replicas == 0 || n > replicas {
			replicas, name = n, proposal
		}
	}
	if invalid > 0 && (invalid >= len(specs) || replicas < scale.Spec.Replicas) {
		setCondition(hpa, invalidCond.Type, invalidCond.Status, invalidCond.Reason, "%s", invalidCond.Message)
		return -1, "", statuses, fmt.Errorf("invalid metrics (%v invalid out of %v), first error is: %w", invalid, len(specs), firstErr)
	}
	setCondition(hpa, autoscalingv2.ScalingActive, corev1.ConditionTrue, "ValidMetricFound", "the HPA was able to successfully calculate a replica count from %s", name)
	return replicas, name, statuses, nil
}

// metricError is a metric that could not be read, with the ScalingActive
// condition that reports it.
type metricError struct {
	err  error
	cond autoscalingv2.HorizontalPodAutoscalerCondition
}

func (c *Controller) unable(hpa *autoscalingv2.HorizontalPodAutoscaler, reason string, err error) *metricError {
	c.rec.Event(hpa, corev1.EventTypeWarning, reason, err.Error())
	return &metricError{err: err, cond: autoscalingv2.HorizontalPodAutoscalerCondition{
		Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: reason,
		Message: fmt.Sprintf("the HPA was unable to compute the replica count: %v", err),
	}}
}

// replicasForMetric is the replica count one metric asks for, its status
// and its name as upstream's events give it ("cpu resource utilization
// (percentage of request)").
func (c *Controller) replicasForMetric(ctx context.Context, hpa *autoscalingv2.HorizontalPodAutoscaler, scale *autoscalingv1.Scale, selector labels.Selector, spec autoscalingv2.MetricSpec, now time.Time) (int32, autoscalingv2.MetricStatus, string, *metricError) {
	var (
		res       corev1.ResourceName
		container string
		target    autoscalingv2.MetricTarget
		reason    = "FailedGetResourceMetric"
	)
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource == nil {
			return 0, autoscalingv2.MetricStatus{}, "", c.unable(hpa, reason, errors.New("metric spec resource is nil"))
		}
		res, target = spec.Resource.Name, spec.Resource.Target
	case autoscalingv2.ContainerResourceMetricSourceType:
		reason = "FailedGetContainerResourceMetric"
		if spec.ContainerResource == nil {
			return 0, autoscalingv2.MetricStatus{}, "", c.unable(hpa, reason, errors.New("metric spec container resource is nil"))
		}
		res, container, target = spec.ContainerResource.Name, spec.ContainerResource.Container, spec.ContainerResource.Target
	default:
		// Pods, Object and External metrics need the custom and
		// external metrics APIs, which nothing serves yet.
		r := map[autoscalingv2.MetricSourceType]string{
			autoscalingv2.PodsMetricSourceType: "FailedGetPodsMetric", autoscalingv2.ObjectMetricSourceType: "FailedGetObjectMetric",
			autoscalingv2.ExternalMetricSourceType: "FailedGetExternalMetric",
		}[spec.Type]
		if r == "" {
			r = "InvalidMetricSourceType"
		}
		return 0, autoscalingv2.MetricStatus{}, "", c.unable(hpa, r, fmt.Errorf("unable to get metric %s: no custom or external metrics API is served", metricName(spec)))
	}
	fail := func(err error) *metricError {
		return c.unable(hpa, reason, fmt.Errorf("failed to get %s utilization: %w", res, err))
	}
	metrics, err := c.metrics.podMetrics(ctx, res, hpa.Namespace, selector, container, now)
	if err != nil {
		return 0, autoscalingv2.MetricStatus{}, "", fail(fmt.Errorf("unable to get metrics for resource %s: %w", res, err))
	}
	pods, err := c.core.Pods(hpa.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return 0, autoscalingv2.MetricStatus{}, "", fail(err)
	}
	in := ResourceInput{Resource: res, Container: container, Current: scale.Spec.Replicas, Metrics: metrics,
		Tolerance: c.opts.Tolerance, Now: now}
	for i := range pods.Items {
		in.Pods = append(in.Pods, &pods.Items[i])
	}
	switch {
	case target.AverageUtilization != nil:
		in.TargetUtilization = target.AverageUtilization
	case target.AverageValue != nil:
		v := target.AverageValue.MilliValue()
		in.TargetAverage = &v
	default:
		return 0, autoscalingv2.MetricStatus{}, "", fail(errors.New("invalid resource metric source: neither an average utilization target nor an average value target was set"))
	}
	out, err := ResourceReplicas(in)
	if err != nil {
		return 0, autoscalingv2.MetricStatus{}, "", fail(err)
	}
	current := autoscalingv2.MetricValueStatus{AverageValue: resourceQuantity(res, out.Average)}
	if in.TargetUtilization != nil {
		current.AverageUtilization = &out.Utilization
	}
	st := autoscalingv2.MetricStatus{Type: spec.Type}
	name := fmt.Sprintf("%s resource", res)
	if spec.Type == autoscalingv2.ResourceMetricSourceType {
		st.Resource = &autoscalingv2.ResourceMetricStatus{Name: res, Current: current}
	} else {
		st.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{Name: res, Container: container, Current: current}
		name = fmt.Sprintf("%s container resource", res)
	}
	if in.TargetUtilization != nil {
		name += " utilization (percentage of request)"
	}
	return out.Replicas, st, name, nil
}
