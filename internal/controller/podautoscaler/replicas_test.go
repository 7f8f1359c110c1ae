package podautoscaler

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// rpod is a pod requesting cpuMilli of cpu that started ten minutes ago
// and has been ready since.
func rpod(name string, cpuMilli int64, mods ...func(*corev1.Pod)) *corev1.Pod {
	start := metav1.NewTime(now.Add(-10 * time.Minute))
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(cpuMilli, resource.DecimalSI)}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &start, Conditions: []corev1.PodCondition{{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(start.Add(5 * time.Second))}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

func pending(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }

// justStarted: started a minute ago, not ready yet.
func justStarted(p *corev1.Pod) {
	start := metav1.NewTime(now.Add(-time.Minute))
	p.Status.StartTime = &start
	p.Status.Conditions[0].Status = corev1.ConditionFalse
	p.Status.Conditions[0].LastTransitionTime = start
}

func sample(v int64) PodMetric { return PodMetric{Timestamp: now, Window: 30 * time.Second, Value: v} }

func TestResourceReplicas(t *testing.T) {
	fifty := int32(50)
	avg := int64(200)
	tests := []struct {
		name        string
		current     int32
		pods        []*corev1.Pod
		metrics     map[string]PodMetric
		utilization *int32
		average     *int64
		want        int32
		wantUtil    int32
		wantErr     string
	}{{
		name: "double the target doubles the pods", current: 2, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100)},
		metrics: map[string]PodMetric{"a": sample(100), "b": sample(100)},
		want:    4, wantUtil: 100,
	}, {
		name: "within tolerance no change", current: 3, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100), rpod("c", 100)},
		metrics: map[string]PodMetric{"a": sample(54), "b": sample(54), "c": sample(54)},
		want:    3, wantUtil: 54,
	}, {
		name: "scale down rounds up", current: 4, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100), rpod("c", 100), rpod("d", 100)},
		metrics: map[string]PodMetric{"a": sample(10), "b": sample(10), "c": sample(10), "d": sample(10)},
		want:    1, wantUtil: 10,
	}, {
		name: "missing pods held at the target stop a scale down", current: 4, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100), rpod("c", 100), rpod("d", 100)},
		metrics: map[string]PodMetric{"a": sample(30)},
		// 30 + 3×100 over 400 requested: 82% > 50%, reverses: no change.
		want: 4, wantUtil: 30,
	}, {
		name: "missing pods count as zero on a scale up", current: 2, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100)},
		metrics: map[string]PodMetric{"a": sample(200)},
		// 200 + 0 over 200: 100% → ceil(2 × 2) = 4.
		want: 4, wantUtil: 200,
	}, {
		name: "unready pods count as zero on a scale up", current: 3, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100), rpod("c", 100, justStarted)},
		metrics: map[string]PodMetric{"a": sample(100), "b": sample(100), "c": sample(100)},
		// 200 over 300: 66% → ratio 1.33 → ceil(1.33 × 3) = 4.
		want: 4, wantUtil: 100,
	}, {
		name: "pending pods are unready", current: 2, utilization: &fifty,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100, pending)},
		metrics: map[string]PodMetric{"a": sample(60)},
		// 60% alone would scale up; with b at 0, 30%: reversed, no change.
		want: 2, wantUtil: 60,
	}, {
		name: "average value target", current: 2, average: &avg,
		pods:    []*corev1.Pod{rpod("a", 100), rpod("b", 100)},
		metrics: map[string]PodMetric{"a": sample(600), "b": sample(600)},
		want:    6,
	}, {
		name: "no pods", current: 1, utilization: &fifty,
		wantErr: "no pods returned by selector while calculating replica count",
	}, {
		name: "no metrics", current: 1, utilization: &fifty, pods: []*corev1.Pod{rpod("a", 100)},
		wantErr: "did not receive metrics for targeted pods (pods might be unready)",
	}, {
		name: "missing request", current: 1, utilization: &fifty, pods: []*corev1.Pod{rpod("a", 100, func(p *corev1.Pod) { p.Spec.Containers[0].Resources = corev1.ResourceRequirements{} })},
		metrics: map[string]PodMetric{"a": sample(100)},
		wantErr: "missing request for cpu in container app of Pod a",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResourceReplicas(ResourceInput{Resource: corev1.ResourceCPU, Current: tt.current, Pods: tt.pods, Metrics: tt.metrics,
				TargetUtilization: tt.utilization, TargetAverage: tt.average, Tolerance: DefaultTolerance, Now: now})
			if fmt.Sprint(err) != tt.wantErr && !(err == nil && tt.wantErr == "") {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Replicas != tt.want || got.Utilization != tt.wantUtil {
				t.Errorf("got %d replicas at %d%%, want %d at %d%%", got.Replicas, got.Utilization, tt.want, tt.wantUtil)
			}
		})
	}
}
