package podautoscaler

import (
	"fmt"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// setCondition sets a condition of hpa's status; its transition time
// moves only when its status changes.
func setCondition(hpa *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType, st corev1.ConditionStatus, reason, format string, args ...any) {
	c := autoscalingv2.HorizontalPodAutoscalerCondition{Type: t, Status: st, Reason: reason, Message: fmt.Sprintf(format, args...),
		LastTransitionTime: metav1.Now()}
	for i := range hpa.Status.Conditions {
		old := &hpa.Status.Conditions[i]
		if old.Type != t {
			continue
		}
		if old.Status == st {
			c.LastTransitionTime = old.LastTransitionTime
		}
		*old = c
		return
	}
	hpa.Status.Conditions = append(hpa.Status.Conditions, c)
}

// setStatus records what a sync saw and did, keeping the conditions set
// so far; rescale stamps lastScaleTime.
func setStatus(hpa *autoscalingv2.HorizontalPodAutoscaler, current, desired int32, metrics []autoscalingv2.MetricStatus, rescale bool, now time.Time) {
	hpa.Status = autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: current,
		DesiredReplicas: desired,
		LastScaleTime:   hpa.Status.LastScaleTime,
		CurrentMetrics:  metrics,
		Conditions:      hpa.Status.Conditions,
	}
	if rescale {
		t := metav1.NewTime(now)
		hpa.Status.LastScaleTime = &t
	}
}

// metricName names a metric as upstream's events and conditions do.
func metricName(spec autoscalingv2.MetricSpec) string {
	switch spec.Type {
	case autoscalingv2.ResourceMetricSourceType:
		if spec.Resource != nil {
			return fmt.Sprintf("%s resource", spec.Resource.Name)
		}
	case autoscalingv2.ContainerResourceMetricSourceType:
		if spec.ContainerResource != nil {
			return fmt.Sprintf("%s container resource", spec.ContainerResource.Name)
		}
	case autoscalingv2.PodsMetricSourceType:
		if spec.Pods != nil {
			return fmt.Sprintf("pods metric %s", spec.Pods.Metric.Name)
		}
	case autoscalingv2.ObjectMetricSourceType:
		if spec.Object != nil {
			return fmt.Sprintf("%s metric %s", spec.Object.DescribedObject.Kind, spec.Object.Metric.Name)
		}
	case autoscalingv2.ExternalMetricSourceType:
		if spec.External != nil {
			return fmt.Sprintf("external metric %s", spec.External.Metric.Name)
		}
	}
	return string(spec.Type)
}

func resourceQuantity(_ corev1.ResourceName, milli int64) *resource.Quantity {
	return resource.NewMilliQuantity(milli, resource.DecimalSI)
}
