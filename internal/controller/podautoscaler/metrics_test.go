package podautoscaler

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/client"
)

// metricsServer serves metrics.k8s.io/v1beta1 PodMetrics (when served)
// as a metrics pipeline would.
func metricsServer(t *testing.T, served bool) *metricsClient {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case !served:
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		case r.URL.Path == "/apis/metrics.k8s.io/v1beta1":
			fmt.Fprint(w, `{"kind":"APIResourceList","groupVersion":"metrics.k8s.io/v1beta1","resources":[{"name":"pods","namespaced":true,"kind":"PodMetrics","verbs":["get","list"]}]}`)
		case r.URL.Path == "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods" && r.URL.Query().Get("labelSelector") == "app=web":
			fmt.Fprint(w, `{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
				{"metadata":{"name":"a"},"timestamp":"2026-01-01T12:00:00Z","window":"30s","containers":[
					{"name":"app","usage":{"cpu":"250m","memory":"64Mi"}},{"name":"side","usage":{"cpu":"50m"}}]},
				{"metadata":{"name":"b"},"timestamp":"2026-01-01T12:00:00Z","window":"30s","containers":[
					{"name":"side","usage":{"memory":"1Mi"}}]}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	core, err := client.NewCore(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return &metricsClient{core: core, period: DefaultSyncPeriod}
}

func TestPodMetrics(t *testing.T) {
	ctx := context.Background()
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	m := metricsServer(t, true)
	got, err := m.podMetrics(ctx, corev1.ResourceCPU, "ns", sel, "", now)
	if err != nil {
		t.Fatal(err)
	}
	// b reports no cpu: it is missing, not zero.
	if len(got) != 1 || got["a"].Value != 300 || got["a"].Window.Seconds() != 30 {
		t.Errorf("cpu metrics = %+v", got)
	}
	got, err = m.podMetrics(ctx, corev1.ResourceCPU, "ns", sel, "app", now)
	if err != nil || got["a"].Value != 250 {
		t.Errorf("container app's cpu = %+v, %v", got, err)
	}

	_, err = metricsServer(t, false).podMetrics(ctx, corev1.ResourceCPU, "ns", sel, "", now)
	want := "unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
	if err == nil || err.Error() != want {
		t.Errorf("without a metrics API: %v, want %q", err, want)
	}
}
