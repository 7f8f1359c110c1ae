package podautoscaler

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"
)

// apiServer is the part of an API server one HPA's reconcile talks to: a
// Deployment's scale subresource, its pods and their metrics.
type apiServer struct {
	mu       sync.Mutex
	replicas int32
	cpuMilli int64 // each pod's usage; its request is 100m
}

func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/apis/apps/v1/namespaces/ns/deployments/web/scale":
		if r.Method == http.MethodPut {
			var s autoscalingv1.Scale
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &s)
			a.replicas = s.Spec.Replicas
		}
		_ = json.NewEncoder(w).Encode(autoscalingv1.Scale{
			TypeMeta:   metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "d1"},
			Spec:       autoscalingv1.ScaleSpec{Replicas: a.replicas},
			Status:     autoscalingv1.ScaleStatus{Replicas: a.replicas, Selector: "app=web"},
		})
	case "/apis/metrics.k8s.io/v1beta1":
		fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"metrics.k8s.io/v1beta1","resources":[{"name":"pods","namespaced":true,"kind":"PodMetrics","verbs":["list"]}]}`)
	case "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods":
		items := []string{}
		for i := range a.replicas {
			items = append(items, fmt.Sprintf(`{"metadata":{"name":"p%d"},"timestamp":%q,"window":"30s","containers":[{"name":"app","usage":{"cpu":"%dm"}}]}`,
				i, now.Format(time.RFC3339), a.cpuMilli))
		}
		fmt.Fprintf(w, `{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[%s]}`, strings.Join(items, ","))
	case "/api/v1/namespaces/ns/pods":
		list := corev1.PodList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodList"}}
		for i := range a.replicas {
			list.Items = append(list.Items, *rpod(fmt.Sprintf("p%d", i), 100))
		}
		_ = json.NewEncoder(w).Encode(list)
	default:
		http.NotFound(w, r)
	}
}

func TestReconcileScalesOnMetrics(t *testing.T) {
	api := &apiServer{replicas: 2, cpuMilli: 100}
	srv := httptest.NewServer(api)
	defer srv.Close()
	c, err := New(&rest.Config{Host: srv.URL}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return now }
	rec := record.NewFakeRecorder(20)
	c.rec = rec
	fifty := int32(50)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"},
			MaxReplicas:    10,
			Metrics: []autoscalingv2.MetricSpec{{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
				Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &fifty},
			}}},
		},
	}
	// 100% of requests against a 50% target: twice the pods.
	if err := c.reconcile(context.Background(), "ns/web", hpa); err != nil {
		t.Fatal(err)
	}
	if api.replicas != 4 || hpa.Status.DesiredReplicas != 4 || hpa.Status.CurrentReplicas != 2 || hpa.Status.LastScaleTime == nil {
		t.Fatalf("replicas %d, status %+v", api.replicas, hpa.Status)
	}
	active := condition(hpa, autoscalingv2.ScalingActive)
	if active == nil || active.Status != corev1.ConditionTrue || active.Reason != "ValidMetricFound" {
		t.Errorf("ScalingActive = %+v", active)
	}
	if m := hpa.Status.CurrentMetrics; len(m) != 1 || m[0].Resource == nil || *m[0].Resource.Current.AverageUtilization != 100 {
		t.Errorf("currentMetrics = %+v", m)
	}
	if e := <-rec.Events; e != "Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target" {
		t.Errorf("event %q", e)
	}

	// Usage falls to 10%: the default 5-minute window holds the count.
	api.cpuMilli = 10
	if err := c.reconcile(context.Background(), "ns/web", hpa); err != nil {
		t.Fatal(err)
	}
	able := condition(hpa, autoscalingv2.AbleToScale)
	if api.replicas != 4 || able == nil || able.Reason != "ScaleDownStabilized" {
		t.Errorf("replicas %d, AbleToScale %+v", api.replicas, able)
	}
}

func condition(h *autoscalingv2.HorizontalPodAutoscaler, t autoscalingv2.HorizontalPodAutoscalerConditionType) *autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range h.Status.Conditions {
		if h.Status.Conditions[i].Type == t {
			return &h.Status.Conditions[i]
		}
	}
	return nil
}
