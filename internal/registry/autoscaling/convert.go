package autoscaling

import (
	"encoding/json"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// autoscaling/v1 knows one metric, the average CPU utilization; upstream
// keeps what else a v2 HorizontalPodAutoscaler holds in annotations of the
// v1 object, so that a read-modify-write through v1 loses nothing. These
// are their keys; the values are JSON of the v1 metric types (the
// v2beta1 shapes) and, for the behavior, of a struct without JSON tags, as
// upstream marshals its internal type.
const (
	MetricSpecsAnnotation    = "autoscaling.alpha.kubernetes.io/metrics"
	MetricStatusesAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics"
	ConditionsAnnotation     = "autoscaling.alpha.kubernetes.io/conditions"
	BehaviorSpecsAnnotation  = "autoscaling.alpha.kubernetes.io/behavior"
)

var roundTripAnnotations = []string{MetricSpecsAnnotation, MetricStatusesAnnotation, ConditionsAnnotation, BehaviorSpecsAnnotation}

// ToV1 converts a stored autoscaling/v2 HorizontalPodAutoscaler to
// autoscaling/v1, as upstream: the CPU utilization metric becomes
// targetCPUUtilizationPercentage, every other metric, the current
// metrics, the conditions and the behavior go to annotations.
func ToV1(in *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv1.HorizontalPodAutoscaler {
	out := &autoscalingv1.HorizontalPodAutoscaler{
		TypeMeta:   in.TypeMeta,
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    copyPtr(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{
			ObservedGeneration: copyPtr(in.Status.ObservedGeneration),
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	out.APIVersion, out.Kind = "", ""
	out.Annotations = dropRoundTrip(out.Annotations)
	var others []autoscalingv1.MetricSpec
	for _, m := range in.Spec.Metrics {
		if isCPUUtilization(m) {
			if out.Spec.TargetCPUUtilizationPercentage == nil {
				out.Spec.TargetCPUUtilizationPercentage = copyPtr(m.Resource.Target.AverageUtilization)
			}
			continue
		}
		others = append(others, metricSpecToV1(m))
	}
	for _, m := range in.Status.CurrentMetrics {
		if m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil && m.Resource.Name == corev1.ResourceCPU && m.Resource.Current.AverageUtilization != nil {
			out.Status.CurrentCPUUtilizationPercentage = copyPtr(m.Resource.Current.AverageUtilization)
		}
	}
	set := func(key string, v any) {
		data, err := json.Marshal(v)
		if err != nil {
			return // the v1 view then lacks it; the stored object keeps it
		}
		if out.Annotations == nil {
			out.Annotations = map[string]string{}
		}
		out.Annotations[key] = string(data)
	}
	if len(others) > 0 {
		set(MetricSpecsAnnotation, others)
	}
	if len(in.Status.CurrentMetrics) > 0 {
		statuses := make([]autoscalingv1.MetricStatus, 0, len(in.Status.CurrentMetrics))
		for _, m := range in.Status.CurrentMetrics {
			statuses = append(statuses, metricStatusToV1(m))
		}
		set(MetricStatusesAnnotation, statuses)
	}
	if in.Spec.Behavior != nil {
		set(BehaviorSpecsAnnotation, behaviorToAnnotation(in.Spec.Behavior))
	}
	if len(in.Status.Conditions) > 0 {
		conds := make([]autoscalingv1.HorizontalPodAutoscalerCondition, 0, len(in.Status.Conditions))
		for _, c := range in.Status.Conditions {
			conds = append(conds, autoscalingv1.HorizontalPodAutoscalerCondition{
				Type: autoscalingv1.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
				LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
			})
		}
		set(ConditionsAnnotation, conds)
	}
	return out
}

// ToV2 converts an autoscaling/v1 HorizontalPodAutoscaler to v2, taking
// back what ToV1 put in annotations (malformed ones are ignored, as
// upstream) and dropping those annotations. With no metric at all the
// v2 object gets the 80% CPU target v1 always implied.
func ToV2(in *autoscalingv1.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	out := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: *in.ObjectMeta.DeepCopy(),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference(in.Spec.ScaleTargetRef),
			MinReplicas:    copyPtr(in.Spec.MinReplicas),
			MaxReplicas:    in.Spec.MaxReplicas,
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			ObservedGeneration: copyPtr(in.Status.ObservedGeneration),
			LastScaleTime:      in.Status.LastScaleTime.DeepCopy(),
			CurrentReplicas:    in.Status.CurrentReplicas,
			DesiredReplicas:    in.Status.DesiredReplicas,
		},
	}
	ann := in.Annotations
	var cpu []autoscalingv2.MetricSpec
	if p := in.Spec.TargetCPUUtilizationPercentage; p != nil {
		cpu = []autoscalingv2.MetricSpec{cpuUtilization(*p)}
	}
	out.Spec.Metrics = cpu
	if enc, ok := ann[MetricSpecsAnnotation]; ok {
		var others []autoscalingv1.MetricSpec
		if json.Unmarshal([]byte(enc), &others) == nil {
			out.Spec.Metrics = nil
			for _, m := range others {
				out.Spec.Metrics = append(out.Spec.Metrics, metricSpecToV2(m))
			}
			// The CPU target comes after the others, as upstream.
			out.Spec.Metrics = append(out.Spec.Metrics, cpu...)
		}
	}
	if enc, ok := ann[BehaviorSpecsAnnotation]; ok {
		var b behaviorAnnotation
		if json.Unmarshal([]byte(enc), &b) == nil && (b.ScaleUp != nil || b.ScaleDown != nil) {
			out.Spec.Behavior = b.toV2()
		}
	}
	if p := in.Status.CurrentCPUUtilizationPercentage; p != nil {
		out.Status.CurrentMetrics = []autoscalingv2.MetricStatus{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: copyPtr(p)},
			},
		}}
	}
	if enc, ok := ann[MetricStatusesAnnotation]; ok {
		var statuses []autoscalingv1.MetricStatus
		if json.Unmarshal([]byte(enc), &statuses) == nil {
			// They say more than currentCPUUtilizationPercentage does.
			out.Status.CurrentMetrics = make([]autoscalingv2.MetricStatus, 0, len(statuses))
			for _, m := range statuses {
				out.Status.CurrentMetrics = append(out.Status.CurrentMetrics, metricStatusToV2(m))
			}
		}
	}
	if len(out.Spec.Metrics) == 0 {
		out.Spec.Metrics = []autoscalingv2.MetricSpec{cpuUtilization(defaultCPUUtilization)}
	}
	if enc, ok := ann[ConditionsAnnotation]; ok {
		var conds []autoscalingv1.HorizontalPodAutoscalerCondition
		if json.Unmarshal([]byte(enc), &conds) == nil {
			out.Status.Conditions = make([]autoscalingv2.HorizontalPodAutoscalerCondition, 0, len(conds))
			for _, c := range conds {
				out.Status.Conditions = append(out.Status.Conditions, autoscalingv2.HorizontalPodAutoscalerCondition{
					Type: autoscalingv2.HorizontalPodAutoscalerConditionType(c.Type), Status: c.Status,
					LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
				})
			}
		}
	}
	out.Annotations = dropRoundTrip(out.Annotations)
	return out
}

func isCPUUtilization(m autoscalingv2.MetricSpec) bool {
	return m.Type == autoscalingv2.ResourceMetricSourceType && m.Resource != nil &&
		m.Resource.Name == corev1.ResourceCPU && m.Resource.Target.AverageUtilization != nil
}

func cpuUtilization(percent int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{
		Type: autoscalingv2.ResourceMetricSourceType,
		Resource: &autoscalingv2.ResourceMetricSource{
			Name:   corev1.ResourceCPU,
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &percent},
		},
	}
}

// dropRoundTrip returns the annotations without the conversion's own,
// nil when none remain. The map given is not changed.
func dropRoundTrip(ann map[string]string) map[string]string {
	found := false
	for _, k := range roundTripAnnotations {
		if _, ok := ann[k]; ok {
			found = true
		}
	}
	if !found {
		return ann
	}
	out := make(map[string]string, len(ann))
	for k, v := range ann {
		if !isRoundTrip(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func isRoundTrip(k string) bool {
	for _, r := range roundTripAnnotations {
		if k == r {
			return true
		}
	}
	return false
}

func copyPtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copyQuantity(q *resource.Quantity) *resource.Quantity {
	if q == nil {
		return nil
	}
	c := q.DeepCopy()
	return &c
}

func valueOf(q *resource.Quantity) resource.Quantity {
	if q == nil {
		return resource.Quantity{}
	}
	return q.DeepCopy()
}

func ref1(r autoscalingv2.CrossVersionObjectReference) autoscalingv1.CrossVersionObjectReference {
	return autoscalingv1.CrossVersionObjectReference(r)
}

func ref2(r autoscalingv1.CrossVersionObjectReference) autoscalingv2.CrossVersionObjectReference {
	return autoscalingv2.CrossVersionObjectReference(r)
}

func metricSpecToV1(m autoscalingv2.MetricSpec) autoscalingv1.MetricSpec {
	out := autoscalingv1.MetricSpec{Type: autoscalingv1.MetricSourceType(m.Type)}
	switch {
	case m.Object != nil:
		out.Object = &autoscalingv1.ObjectMetricSource{
			Target: ref1(m.Object.DescribedObject), MetricName: m.Object.Metric.Name, Selector: m.Object.Metric.Selector,
			TargetValue: valueOf(m.Object.Target.Value), AverageValue: copyQuantity(m.Object.Target.AverageValue),
		}
	case m.Pods != nil:
		out.Pods = &autoscalingv1.PodsMetricSource{
			MetricName: m.Pods.Metric.Name, Selector: m.Pods.Metric.Selector, TargetAverageValue: valueOf(m.Pods.Target.AverageValue),
		}
	case m.Resource != nil:
		out.Resource = &autoscalingv1.ResourceMetricSource{
			Name: m.Resource.Name, TargetAverageUtilization: copyPtr(m.Resource.Target.AverageUtilization),
			TargetAverageValue: copyQuantity(m.Resource.Target.AverageValue),
		}
	case m.ContainerResource != nil:
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricSource{
			Name: m.ContainerResource.Name, Container: m.ContainerResource.Container,
			TargetAverageUtilization: copyPtr(m.ContainerResource.Target.AverageUtilization),
			TargetAverageValue:       copyQuantity(m.ContainerResource.Target.AverageValue),
		}
	case m.External != nil:
		out.External = &autoscalingv1.ExternalMetricSource{
			MetricName: m.External.Metric.Name, MetricSelector: m.External.Metric.Selector,
			TargetValue: copyQuantity(m.External.Target.Value), TargetAverageValue: copyQuantity(m.External.Target.AverageValue),
		}
	}
	return out
}

// metricSpecToV2 infers each target's type from what is set, as upstream.
func metricSpecToV2(m autoscalingv1.MetricSpec) autoscalingv2.MetricSpec {
	out := autoscalingv2.MetricSpec{Type: autoscalingv2.MetricSourceType(m.Type)}
	resourceTarget := func(util *int32, avg *resource.Quantity) autoscalingv2.MetricTarget {
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageUtilization: copyPtr(util), AverageValue: copyQuantity(avg)}
		if util != nil {
			t.Type = autoscalingv2.UtilizationMetricType
		}
		return t
	}
	switch {
	case m.Object != nil:
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: copyQuantity(&m.Object.TargetValue), AverageValue: copyQuantity(m.Object.AverageValue)}
		if m.Object.AverageValue != nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.Object = &autoscalingv2.ObjectMetricSource{
			DescribedObject: ref2(m.Object.Target), Target: t,
			Metric: autoscalingv2.MetricIdentifier{Name: m.Object.MetricName, Selector: m.Object.Selector},
		}
	case m.Pods != nil:
		out.Pods = &autoscalingv2.PodsMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: m.Pods.MetricName, Selector: m.Pods.Selector},
			Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: copyQuantity(&m.Pods.TargetAverageValue)},
		}
	case m.Resource != nil:
		out.Resource = &autoscalingv2.ResourceMetricSource{
			Name: m.Resource.Name, Target: resourceTarget(m.Resource.TargetAverageUtilization, m.Resource.TargetAverageValue),
		}
	case m.ContainerResource != nil:
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricSource{
			Name: m.ContainerResource.Name, Container: m.ContainerResource.Container,
			Target: resourceTarget(m.ContainerResource.TargetAverageUtilization, m.ContainerResource.TargetAverageValue),
		}
	case m.External != nil:
		t := autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: copyQuantity(m.External.TargetValue), AverageValue: copyQuantity(m.External.TargetAverageValue)}
		if m.External.TargetValue == nil {
			t.Type = autoscalingv2.AverageValueMetricType
		}
		out.External = &autoscalingv2.ExternalMetricSource{
			Metric: autoscalingv2.MetricIdentifier{Name: m.External.MetricName, Selector: m.External.MetricSelector}, Target: t,
		}
	}
	return out
}

func metricStatusToV1(m autoscalingv2.MetricStatus) autoscalingv1.MetricStatus {
	out := autoscalingv1.MetricStatus{Type: autoscalingv1.MetricSourceType(m.Type)}
	switch {
	case m.Object != nil:
		out.Object = &autoscalingv1.ObjectMetricStatus{
			Target: ref1(m.Object.DescribedObject), MetricName: m.Object.Metric.Name, Selector: m.Object.Metric.Selector,
			CurrentValue: valueOf(m.Object.Current.Value), AverageValue: copyQuantity(m.Object.Current.AverageValue),
		}
	case m.Pods != nil:
		out.Pods = &autoscalingv1.PodsMetricStatus{
			MetricName: m.Pods.Metric.Name, Selector: m.Pods.Metric.Selector, CurrentAverageValue: valueOf(m.Pods.Current.AverageValue),
		}
	case m.Resource != nil:
		out.Resource = &autoscalingv1.ResourceMetricStatus{
			Name: m.Resource.Name, CurrentAverageUtilization: copyPtr(m.Resource.Current.AverageUtilization),
			CurrentAverageValue: valueOf(m.Resource.Current.AverageValue),
		}
	case m.ContainerResource != nil:
		out.ContainerResource = &autoscalingv1.ContainerResourceMetricStatus{
			Name: m.ContainerResource.Name, Container: m.ContainerResource.Container,
			CurrentAverageUtilization: copyPtr(m.ContainerResource.Current.AverageUtilization),
			CurrentAverageValue:       valueOf(m.ContainerResource.Current.AverageValue),
		}
	case m.External != nil:
		out.External = &autoscalingv1.ExternalMetricStatus{
			MetricName: m.External.Metric.Name, MetricSelector: m.External.Metric.Selector,
			CurrentValue: valueOf(m.External.Current.Value), CurrentAverageValue: copyQuantity(m.External.Current.AverageValue),
		}
	}
	return out
}

func metricStatusToV2(m autoscalingv1.MetricStatus) autoscalingv2.MetricStatus {
	out := autoscalingv2.MetricStatus{Type: autoscalingv2.MetricSourceType(m.Type)}
	switch {
	case m.Object != nil:
		out.Object = &autoscalingv2.ObjectMetricStatus{
			DescribedObject: ref2(m.Object.Target),
			Metric:          autoscalingv2.MetricIdentifier{Name: m.Object.MetricName, Selector: m.Object.Selector},
			Current:         autoscalingv2.MetricValueStatus{Value: copyQuantity(&m.Object.CurrentValue), AverageValue: copyQuantity(m.Object.AverageValue)},
		}
	case m.Pods != nil:
		out.Pods = &autoscalingv2.PodsMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: m.Pods.MetricName, Selector: m.Pods.Selector},
			Current: autoscalingv2.MetricValueStatus{AverageValue: copyQuantity(&m.Pods.CurrentAverageValue)},
		}
	case m.Resource != nil:
		out.Resource = &autoscalingv2.ResourceMetricStatus{
			Name: m.Resource.Name,
			Current: autoscalingv2.MetricValueStatus{
				AverageValue: copyQuantity(&m.Resource.CurrentAverageValue), AverageUtilization: copyPtr(m.Resource.CurrentAverageUtilization),
			},
		}
	case m.ContainerResource != nil:
		out.ContainerResource = &autoscalingv2.ContainerResourceMetricStatus{
			Name: m.ContainerResource.Name, Container: m.ContainerResource.Container,
			Current: autoscalingv2.MetricValueStatus{
				AverageValue: copyQuantity(&m.ContainerResource.CurrentAverageValue), AverageUtilization: copyPtr(m.ContainerResource.CurrentAverageUtilization),
			},
		}
	case m.External != nil:
		out.External = &autoscalingv2.ExternalMetricStatus{
			Metric:  autoscalingv2.MetricIdentifier{Name: m.External.MetricName, Selector: m.External.MetricSelector},
			Current: autoscalingv2.MetricValueStatus{Value: copyQuantity(&m.External.CurrentValue), AverageValue: copyQuantity(m.External.CurrentAverageValue)},
		}
	}
	return out
}

// behaviorAnnotation is the behavior as upstream writes it to the v1
// annotation: its internal type, which has no JSON tags, so the keys are
// the Go field names ("ScaleUp", "StabilizationWindowSeconds"...).
// Reading is case-insensitive, so the v2 JSON form is accepted too.
type behaviorAnnotation struct {
	ScaleUp   *scalingRulesAnnotation
	ScaleDown *scalingRulesAnnotation
}

type scalingRulesAnnotation struct {
	StabilizationWindowSeconds *int32
	SelectPolicy               *autoscalingv2.ScalingPolicySelect
	Policies                   []scalingPolicyAnnotation
	Tolerance                  *resource.Quantity
}

type scalingPolicyAnnotation struct {
	Type          autoscalingv2.HPAScalingPolicyType
	Value         int32
	PeriodSeconds int32
}

func behaviorToAnnotation(b *autoscalingv2.HorizontalPodAutoscalerBehavior) behaviorAnnotation {
	rules := func(r *autoscalingv2.HPAScalingRules) *scalingRulesAnnotation {
		if r == nil {
			return nil
		}
		out := &scalingRulesAnnotation{
			StabilizationWindowSeconds: copyPtr(r.StabilizationWindowSeconds), SelectPolicy: copyPtr(r.SelectPolicy),
			Tolerance: copyQuantity(r.Tolerance),
		}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, scalingPolicyAnnotation(p))
		}
		return out
	}
	return behaviorAnnotation{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}

func (b behaviorAnnotation) toV2() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	rules := func(r *scalingRulesAnnotation) *autoscalingv2.HPAScalingRules {
		if r == nil {
			return nil
		}
		out := &autoscalingv2.HPAScalingRules{
			StabilizationWindowSeconds: copyPtr(r.StabilizationWindowSeconds), SelectPolicy: copyPtr(r.SelectPolicy),
			Tolerance: copyQuantity(r.Tolerance),
		}
		for _, p := range r.Policies {
			out.Policies = append(out.Policies, autoscalingv2.HPAScalingPolicy(p))
		}
		return out
	}
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: rules(b.ScaleUp), ScaleDown: rules(b.ScaleDown)}
}
