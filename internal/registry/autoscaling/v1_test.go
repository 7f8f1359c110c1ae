package autoscaling_test

import (
	"encoding/json"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/autoscaling"
)

func v1HPAs(t *testing.T) (v2, v1 *registry.Resource) {
	t.Helper()
	r2 := hpas(t)
	rs := autoscaling.V1Resources(r2)
	if len(rs) != 1 {
		t.Fatalf("%d v1 resources, want 1", len(rs))
	}
	return r2, rs[0]
}

func TestV1Resource(t *testing.T) {
	r2, r1 := v1HPAs(t)
	if r1.GVR != autoscalingv1.SchemeGroupVersion.WithResource("horizontalpodautoscalers") || r1.Kind != "HorizontalPodAutoscaler" ||
		!r1.Namespaced || !r1.HasSubresource("status") || len(r1.ShortNames) != 1 || r1.ShortNames[0] != "hpa" {
		t.Errorf("resource = %+v", r1)
	}
	if r1.StoredAs == nil || r1.StoredAs.Resource != r2 {
		t.Fatalf("StoredAs = %+v, want the v2 resource", r1.StoredAs)
	}
	if _, ok := r1.Strategy.New().(*autoscalingv1.HorizontalPodAutoscaler); !ok {
		t.Errorf("New() = %T", r1.Strategy.New())
	}
}

// v1's one metric is the CPU target; without one, v2 gets the 80% that
// v1 always implied.
func TestV1ToV2CPU(t *testing.T) {
	h := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Annotations: map[string]string{"keep": "me"}},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr[int32](2), MaxReplicas: 5, TargetCPUUtilizationPercentage: ptr[int32](50),
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 3, CurrentCPUUtilizationPercentage: ptr[int32](70)},
	}
	v2 := autoscaling.ToV2(h)
	wantMetrics := []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](50)}}}}
	if !apiequality.Semantic.DeepEqual(v2.Spec.Metrics, wantMetrics) || *v2.Spec.MinReplicas != 2 || v2.Spec.MaxReplicas != 5 ||
		v2.Spec.ScaleTargetRef.Name != "web" || v2.Annotations["keep"] != "me" {
		t.Errorf("v2 spec = %+v", v2.Spec)
	}
	if len(v2.Status.CurrentMetrics) != 1 || *v2.Status.CurrentMetrics[0].Resource.Current.AverageUtilization != 70 || v2.Status.DesiredReplicas != 3 {
		t.Errorf("v2 status = %+v", v2.Status)
	}
	back := autoscaling.ToV1(v2)
	if !apiequality.Semantic.DeepEqual(back.Spec, h.Spec) || *back.Status.CurrentCPUUtilizationPercentage != 70 {
		t.Errorf("round trip: spec %+v status %+v", back.Spec, back.Status)
	}

	h.Spec.TargetCPUUtilizationPercentage = nil
	v2 = autoscaling.ToV2(h)
	if len(v2.Spec.Metrics) != 1 || *v2.Spec.Metrics[0].Resource.Target.AverageUtilization != 80 {
		t.Errorf("no target: v2 metrics %+v, want an 80%% CPU target", v2.Spec.Metrics)
	}
}

// What v1 cannot say goes to annotations and comes back intact.
func TestV2RoundTripsThroughV1(t *testing.T) {
	q := resource.MustParse
	v2 := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", Annotations: map[string]string{"team": "a"}},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MinReplicas:    ptr[int32](1), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(q("200Mi"))}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "rps"},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(q("10"))}}},
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{
					Metric: autoscalingv2.MetricIdentifier{Name: "queue", Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"q": "jobs"}}},
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(q("30"))}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](60)}}},
			},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleDown: &autoscalingv2.HPAScalingRules{
				StabilizationWindowSeconds: ptr[int32](120), SelectPolicy: ptr(autoscalingv2.MinChangePolicySelect),
				Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}},
			}},
		},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{
			CurrentReplicas: 3, DesiredReplicas: 3,
			CurrentMetrics: []autoscalingv2.MetricStatus{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{
				Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr[int32](42), AverageValue: ptr(q("120m"))}}}},
			Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{{Type: autoscalingv2.AbleToScale, Status: corev1.ConditionTrue, Reason: "ReadyForNewScale"}},
		},
	}
	v1 := autoscaling.ToV1(v2)
	if *v1.Spec.TargetCPUUtilizationPercentage != 60 || *v1.Status.CurrentCPUUtilizationPercentage != 42 || v1.Annotations["team"] != "a" {
		t.Errorf("v1 = %+v", v1)
	}
	var others []autoscalingv1.MetricSpec
	if err := json.Unmarshal([]byte(v1.Annotations[autoscaling.MetricSpecsAnnotation]), &others); err != nil || len(others) != 3 ||
		others[0].Resource == nil || others[0].Resource.TargetAverageValue.String() != "200Mi" || others[1].Pods.MetricName != "rps" ||
		others[2].External.TargetValue.String() != "30" {
		t.Errorf("metrics annotation %s (%v)", v1.Annotations[autoscaling.MetricSpecsAnnotation], err)
	}
	for _, k := range []string{autoscaling.MetricStatusesAnnotation, autoscaling.ConditionsAnnotation} {
		if v1.Annotations[k] == "" {
			t.Errorf("no %s annotation", k)
		}
	}
	// Upstream writes the behavior with its internal type's Go field names.
	var behavior map[string]any
	if err := json.Unmarshal([]byte(v1.Annotations[autoscaling.BehaviorSpecsAnnotation]), &behavior); err != nil || behavior["ScaleDown"] == nil {
		t.Errorf("behavior annotation %s (%v)", v1.Annotations[autoscaling.BehaviorSpecsAnnotation], err)
	}

	back := autoscaling.ToV2(v1)
	// The CPU target moves after the others, as upstream orders it.
	want := v2.DeepCopy()
	want.Spec.Metrics = append(want.Spec.Metrics[:3:3], want.Spec.Metrics[3])
	if !apiequality.Semantic.DeepEqual(back, want) {
		t.Errorf("round trip:\n got  %+v\n want %+v", back, want)
	}
}

func TestV1StrategyWorksOnV2Form(t *testing.T) {
	_, r1 := v1HPAs(t)
	s := r1.Strategy
	h := &autoscalingv1.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    5,
		},
		Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 9},
	}
	s.Default(h)
	s.PrepareForCreate(ctx, h)
	if *h.Spec.MinReplicas != 1 || *h.Spec.TargetCPUUtilizationPercentage != 80 || h.Status.CurrentReplicas != 0 {
		t.Errorf("created: spec %+v status %+v", h.Spec, h.Status)
	}
	checkErrs(t, s.Validate(ctx, h))
	bad := h.DeepCopy()
	bad.Spec.TargetCPUUtilizationPercentage = ptr[int32](0)
	bad.Spec.MaxReplicas = 0
	checkErrs(t, s.Validate(ctx, bad), invalid("spec.maxReplicas"), invalid("spec.maxReplicas"), invalid("spec.metrics[0].resource.target.averageUtilization"))
}
