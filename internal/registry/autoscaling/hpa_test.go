package autoscaling_test

import (
	"context"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/autoscaling"
	"skiff.dev/skiff/internal/registry/registrytest"
)

type fe = registrytest.FieldErr

var (
	ctx       = context.Background()
	checkErrs = registrytest.CheckErrors
	required  = registrytest.Required
	invalid   = registrytest.Invalid
	forbidden = registrytest.Forbidden
	notSupp   = registrytest.NotSupported
)

func ptr[T any](v T) *T { return &v }

func hpas(t *testing.T) *registry.Resource {
	t.Helper()
	rs := autoscaling.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources, want 1", len(rs))
	}
	return rs[0]
}

func TestResource(t *testing.T) {
	r := hpas(t)
	if r.GVR != autoscalingv2.SchemeGroupVersion.WithResource("horizontalpodautoscalers") || r.Kind != "HorizontalPodAutoscaler" ||
		r.ListKind != "HorizontalPodAutoscalerList" || !r.Namespaced || !r.HasSubresource("status") ||
		len(r.ShortNames) != 1 || r.ShortNames[0] != "hpa" {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*autoscalingv2.HorizontalPodAutoscaler); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*autoscalingv2.HorizontalPodAutoscalerList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func newHPA() *autoscalingv2.HorizontalPodAutoscaler {
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
		},
	}
}

func created(s registry.Strategy, h *autoscalingv2.HorizontalPodAutoscaler) *autoscalingv2.HorizontalPodAutoscaler {
	s.Default(h)
	s.PrepareForCreate(ctx, h)
	return h
}

func TestDefaults(t *testing.T) {
	s := hpas(t).Strategy
	h := created(s, newHPA())
	want := newHPA().Spec
	want.MinReplicas = ptr[int32](1)
	want.Metrics = []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](80)}}}}
	if !apiequality.Semantic.DeepEqual(h.Spec, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", h.Spec, want)
	}
	if h.Generation != 0 {
		t.Errorf("generation = %d, want none", h.Generation)
	}
	checkErrs(t, s.Validate(ctx, h))

	// A behavior gets upstream's rules for what it leaves out.
	b := newHPA()
	b.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](60)},
	}
	b = created(s, b)
	maxPolicy := ptr(autoscalingv2.MaxChangePolicySelect)
	wantBehavior := &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](0), SelectPolicy: maxPolicy,
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 4, PeriodSeconds: 15},
				{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](60), SelectPolicy: maxPolicy,
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}},
	}
	if !apiequality.Semantic.DeepEqual(b.Spec.Behavior, wantBehavior) {
		t.Errorf("behavior:\n got  %+v\n want %+v", b.Spec.Behavior, wantBehavior)
	}
	checkErrs(t, s.Validate(ctx, b))

	// An empty behavior leaves the scale-down window to the controller.
	e := created(s, func() *autoscalingv2.HorizontalPodAutoscaler {
		h := newHPA()
		h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{}
		return h
	}())
	if e.Spec.Behavior.ScaleDown.StabilizationWindowSeconds != nil || *e.Spec.Behavior.ScaleUp.StabilizationWindowSeconds != 0 {
		t.Errorf("empty behavior defaulted to %+v", e.Spec.Behavior)
	}
}

func metric(m autoscalingv2.MetricSpec) func(*autoscalingv2.HorizontalPodAutoscaler) {
	return func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.Metrics = []autoscalingv2.MetricSpec{m} }
}

func TestValidate(t *testing.T) {
	s := hpas(t).Strategy
	q := resource.MustParse
	neg := q("-1")
	util := autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](50)}
	avg := autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(q("100m"))}
	rules := func(r autoscalingv2.HPAScalingRules) func(*autoscalingv2.HorizontalPodAutoscaler) {
		return func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.Behavior = &autoscalingv2.HorizontalPodAutoscalerBehavior{ScaleUp: &r}
		}
	}
	pods := []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PodsScalingPolicy, Value: 1, PeriodSeconds: 60}}
	tests := []struct {
		name   string
		mutate func(*autoscalingv2.HorizontalPodAutoscaler)
		want   []fe
	}{
		{"valid", func(*autoscalingv2.HorizontalPodAutoscaler) {}, nil},
		{"minReplicas 0", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr[int32](0) }, []fe{invalid("spec.minReplicas")}},
		{"maxReplicas 0", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MaxReplicas = 0 },
			[]fe{invalid("spec.maxReplicas"), invalid("spec.maxReplicas")}},
		{"min above max", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.MinReplicas = ptr[int32](11) }, []fe{invalid("spec.maxReplicas")}},
		{"no target", func(h *autoscalingv2.HorizontalPodAutoscaler) {
			h.Spec.ScaleTargetRef = autoscalingv2.CrossVersionObjectReference{}
		},
			[]fe{required("spec.scaleTargetRef.kind"), required("spec.scaleTargetRef.name")}},
		{"bad target name", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.Name = "a/b" },
			[]fe{invalid("spec.scaleTargetRef.name")}},
		{"bad apiVersion", func(h *autoscalingv2.HorizontalPodAutoscaler) { h.Spec.ScaleTargetRef.APIVersion = "a/b/c" },
			[]fe{invalid("spec.scaleTargetRef.apiVersion")}},
		{"no metric type", metric(autoscalingv2.MetricSpec{}), []fe{required("spec.metrics[0].type")}},
		{"unknown metric type", metric(autoscalingv2.MetricSpec{Type: "Queue"}), []fe{notSupp("spec.metrics[0].type")}},
		{"source missing", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType}), []fe{required("spec.metrics[0].pods")}},
		{"other source set", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: util},
			Pods:     &autoscalingv2.PodsMetricSource{}}), []fe{forbidden("spec.metrics[0].pods")}},
		{"resource memory value", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory, Target: avg}}), nil},
		{"resource without target", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{}}),
			[]fe{required("spec.metrics[0].resource.name"), required("spec.metrics[0].resource.target.type"),
				required("spec.metrics[0].resource.target.averageUtilization")}},
		{"resource both targets", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr[int32](0), AverageValue: &neg}}}),
			[]fe{invalid("spec.metrics[0].resource.target.averageUtilization"), invalid("spec.metrics[0].resource.target.averageValue"),
				forbidden("spec.metrics[0].resource.target.averageValue")}},
		{"bad target type", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{
				Type: "Percent", AverageUtilization: ptr[int32](50)}}}),
			[]fe{invalid("spec.metrics[0].resource.target.type")}},
		{"container resource", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceCPU, Container: "app", Target: util}}), nil},
		{"container resource without container", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ContainerResourceMetricSourceType,
			ContainerResource: &autoscalingv2.ContainerResourceMetricSource{Name: corev1.ResourceCPU, Target: util}}),
			[]fe{required("spec.metrics[0].containerResource.container")}},
		{"pods", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
			Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: "requests_per_second"}, Target: avg}}), nil},
		{"pods without averageValue", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
			Pods: &autoscalingv2.PodsMetricSource{Target: util}}),
			[]fe{required("spec.metrics[0].pods.metric.name"), required("spec.metrics[0].pods.target.averageValue")}},
		{"object", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType,
			Object: &autoscalingv2.ObjectMetricSource{
				DescribedObject: autoscalingv2.CrossVersionObjectReference{APIVersion: "networking.k8s.io/v1", Kind: "Ingress", Name: "main"},
				Metric:          autoscalingv2.MetricIdentifier{Name: "hits"},
				Target:          autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(q("10k"))}}}), nil},
		{"object without anything", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ObjectMetricSourceType,
			Object: &autoscalingv2.ObjectMetricSource{Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType}}}),
			[]fe{required("spec.metrics[0].object.describedObject.kind"), required("spec.metrics[0].object.describedObject.name"),
				required("spec.metrics[0].object.metric.name"), required("spec.metrics[0].object.target.averageValue")}},
		{"external with both targets", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth",
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"queue": "jobs"}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: ptr(q("30")), AverageValue: ptr(q("3"))}}}),
			[]fe{forbidden("spec.metrics[0].external.target.value")}},
		{"external bad selector, no target", metric(autoscalingv2.MetricSpec{Type: autoscalingv2.ExternalMetricSourceType,
			External: &autoscalingv2.ExternalMetricSource{
				Metric: autoscalingv2.MetricIdentifier{Name: "queue_depth",
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}},
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.ValueMetricType, Value: &neg}}}),
			[]fe{invalid("spec.metrics[0].external.metric.selector.matchLabels"), invalid("spec.metrics[0].external.target.value")}},
		{"behavior valid", rules(autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](3600),
			SelectPolicy: ptr(autoscalingv2.DisabledPolicySelect), Policies: pods}), nil},
		{"behavior window", rules(autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](3601), Policies: pods}),
			[]fe{invalid("spec.behavior.scaleUp.stabilizationWindowSeconds")}},
		{"behavior negative window", rules(autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr[int32](-1), Policies: pods}),
			[]fe{invalid("spec.behavior.scaleUp.stabilizationWindowSeconds")}},
		{"behavior selectPolicy", rules(autoscalingv2.HPAScalingRules{SelectPolicy: ptr(autoscalingv2.ScalingPolicySelect("Avg")), Policies: pods}),
			[]fe{notSupp("spec.behavior.scaleUp.selectPolicy")}},
		{"behavior empty policies", rules(autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{}}),
			[]fe{required("spec.behavior.scaleUp.policies")}},
		{"behavior bad policy", rules(autoscalingv2.HPAScalingRules{Policies: []autoscalingv2.HPAScalingPolicy{{Type: "Nodes", Value: 0, PeriodSeconds: 1801}}}),
			[]fe{notSupp("spec.behavior.scaleUp.policies[0].type"), invalid("spec.behavior.scaleUp.policies[0].value"),
				invalid("spec.behavior.scaleUp.policies[0].periodSeconds")}},
		{"behavior negative tolerance", rules(autoscalingv2.HPAScalingRules{Policies: pods, Tolerance: &neg}),
			[]fe{invalid("spec.behavior.scaleUp.tolerance")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHPA()
			tt.mutate(h)
			h = created(s, h)
			checkErrs(t, s.Validate(ctx, h), tt.want...)
			checkErrs(t, s.ValidateUpdate(ctx, h, h.DeepCopy()), tt.want...)
		})
	}
}

func TestUpdate(t *testing.T) {
	s := hpas(t).Strategy
	old := created(s, newHPA())
	old.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 2, DesiredReplicas: 3}

	h := old.DeepCopy()
	h.Spec.MaxReplicas = 20
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{}
	s.PrepareForUpdate(ctx, h, old, "")
	if h.Status.DesiredReplicas != 3 || h.Spec.MaxReplicas != 20 || h.Generation != 0 {
		t.Errorf("main write: %+v", h)
	}

	h = old.DeepCopy()
	h.Spec.MaxReplicas = 20
	h.Labels = map[string]string{"a": "b"}
	h.Status = autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: -1, DesiredReplicas: 5}
	s.PrepareForUpdate(ctx, h, old, "status")
	if h.Spec.MaxReplicas != 10 || h.Labels != nil || h.Status.DesiredReplicas != 5 {
		t.Errorf("status write: %+v", h)
	}
	checkErrs(t, s.ValidateUpdate(ctx, h, old), invalid("status.currentReplicas"))

	c := created(s, newHPA())
	c.Status.DesiredReplicas = 4
	if created(s, c).Status.DesiredReplicas != 0 {
		t.Errorf("create kept status")
	}
}
