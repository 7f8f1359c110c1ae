package podautoscaler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/client"
)

// metricsGV is the resource metrics API a metrics pipeline serves.
var metricsGV = schema.GroupVersion{Group: "metrics.k8s.io", Version: "v1beta1"}

// podMetricsList is the part of metrics.k8s.io/v1beta1 PodMetricsList the
// autoscaler reads (decoded here rather than linking k8s.io/metrics).
type podMetricsList struct {
	Items []struct {
		Metadata   metav1.ObjectMeta `json:"metadata"`
		Timestamp  metav1.Time       `json:"timestamp"`
		Window     metav1.Duration   `json:"window"`
		Containers []struct {
			Name  string              `json:"name"`
			Usage corev1.ResourceList `json:"usage"`
		} `json:"containers"`
	} `json:"items"`
}

// metricsClient reads PodMetrics from metrics.k8s.io when the server
// serves it. Whether it does is looked up at most once per period.
type metricsClient struct {
	core   *client.Core
	period time.Duration

	mu        sync.Mutex
	checked   time.Time
	available bool
}

// errNoMetricsAPI is the error upstream's REST client reports for a
// metrics API that is not served.
var errNoMetricsAPI = apierrors.NewGenericServerResponse(404, "get", schema.GroupResource{Group: metricsGV.Group, Resource: "pods"}, "", "", 0, true)

func (m *metricsClient) served(ctx context.Context, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.checked.IsZero() && now.Sub(m.checked) < m.period {
		return m.available, nil
	}
	_, err := m.core.APIResources(ctx, metricsGV)
	switch {
	case err == nil:
		m.available = true
	case apierrors.IsNotFound(err):
		m.available = false
	default:
		return false, err
	}
	m.checked = now
	return m.available, nil
}

// podMetrics are the usage of resource by the pods of ns that selector
// matches, by pod name: summed over containers, or of container only.
func (m *metricsClient) podMetrics(ctx context.Context, resourceName corev1.ResourceName, ns string, selector labels.Selector, container string, now time.Time) (map[string]PodMetric, error) {
	ok, err := m.served(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", errNoMetricsAPI)
	}
	raw, err := m.core.REST().Get().AbsPath("/apis", metricsGV.Group, metricsGV.Version, "namespaces", ns, "pods").
		Param("labelSelector", selector.String()).SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	var list podMetricsList
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("unable to fetch metrics from resource metrics API: %w", err)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no metrics returned from resource metrics API")
	}
	out := make(map[string]PodMetric, len(list.Items))
	for _, it := range list.Items {
		var sum resource.Quantity
		found := false
		for _, c := range it.Containers {
			if container != "" && c.Name != container {
				continue
			}
			if u, ok := c.Usage[resourceName]; ok {
				sum.Add(u)
				found = true
			}
		}
		if !found {
			continue // upstream leaves such a pod out: it is "missing"
		}
		out[it.Metadata.Name] = PodMetric{Timestamp: it.Timestamp.Time, Window: it.Window.Duration, Value: sum.MilliValue()}
	}
	return out, nil
}
