package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// The horizontal pod autoscaler without a metrics pipeline: it says so in
// ScalingActive, and still holds its target within min/maxReplicas.

func hpaCondition(h *autoscalingv2.HorizontalPodAutoscaler, ct autoscalingv2.HorizontalPodAutoscalerConditionType) *autoscalingv2.HorizontalPodAutoscalerCondition {
	for i := range h.Status.Conditions {
		if h.Status.Conditions[i].Type == ct {
			return &h.Status.Conditions[i]
		}
	}
	return nil
}

func TestHorizontalPodAutoscaler(t *testing.T) {
	t.Parallel()
	// A short sync period, so that the sync after a rescale comes soon.
	s := startSkiff(t, "--horizontal-pod-autoscaler-sync-period=1s")
	applyStdin(t, s, deploymentManifest("steady", 1, rollingOneOne, "registry.example/web:1"))
	applyStdin(t, s, deploymentManifest("small", 1, rollingOneOne, "registry.example/web:1"))
	applyStdin(t, s, `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: steady}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: steady}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 50}
`)
	// kubectl autoscale writes the HPA as kubectl does for users.
	s.MustKubectl("autoscale", "deployment", "small", "--min=3", "--max=5", "--cpu-percent=60")

	const wantMsg = "the HPA was unable to compute the replica count: failed to get cpu utilization: unable to get metrics for resource cpu: " +
		"unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)"
	eventually(t, "hpa steady reports that no metrics can be read", func() (bool, string) {
		var h autoscalingv2.HorizontalPodAutoscaler
		getJSON(t, s, &h, "hpa.v2.autoscaling", "steady")
		active, able := hpaCondition(&h, autoscalingv2.ScalingActive), hpaCondition(&h, autoscalingv2.AbleToScale)
		b, _ := json.Marshal(h.Status)
		return active != nil && active.Status == corev1.ConditionFalse && active.Reason == "FailedGetResourceMetric" && active.Message == wantMsg &&
			able != nil && able.Status == corev1.ConditionTrue && able.Reason == "SucceededGetScale" && h.Status.CurrentReplicas == 1, string(b)
	})
	// The replica count is left alone without metrics.
	var d appsv1.Deployment
	getJSON(t, s, &d, "deployment", "steady")
	if *d.Spec.Replicas != 1 {
		t.Errorf("deployment steady scaled to %d without metrics", *d.Spec.Replicas)
	}
	events := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=steady,involvedObject.kind=HorizontalPodAutoscaler",
		"-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}")
	reasons := strings.Split(events, "\n")
	if !slices.Contains(reasons, "FailedGetResourceMetric") || !slices.Contains(reasons, "FailedComputeMetricsReplicas") {
		t.Errorf("events of hpa steady:\n%s", events)
	}

	eventually(t, "deployment small is scaled up to minReplicas", func() (bool, string) {
		var d appsv1.Deployment
		getJSON(t, s, &d, "deployment", "small")
		var h autoscalingv1.HorizontalPodAutoscaler
		getJSON(t, s, &h, "hpa.v1.autoscaling", "small")
		return *d.Spec.Replicas == 3 && h.Status.DesiredReplicas == 3 && h.Status.LastScaleTime != nil,
			fmt.Sprintf("deployment %d replicas, hpa status %+v", *d.Spec.Replicas, h.Status)
	})
	eventually(t, "the deployment's three pods run", func() (bool, string) {
		n := len(readyPodNames(t, s, "small"))
		return n == 3, fmt.Sprintf("%d ready", n)
	})
	// Within bounds now, the next syncs need metrics, and say so.
	eventually(t, "hpa small then reports that no metrics can be read", func() (bool, string) {
		var h autoscalingv2.HorizontalPodAutoscaler
		getJSON(t, s, &h, "hpa.v2.autoscaling", "small")
		active := hpaCondition(&h, autoscalingv2.ScalingActive)
		b, _ := json.Marshal(h.Status)
		return active != nil && active.Status == corev1.ConditionFalse && active.Reason == "FailedGetResourceMetric" &&
			h.Status.CurrentReplicas == 3 && h.Status.DesiredReplicas == 3, string(b)
	})
	getJSON(t, s, &d, "deployment", "small")
	if *d.Spec.Replicas != 3 {
		t.Errorf("deployment small at %d replicas after syncs without metrics, want 3", *d.Spec.Replicas)
	}
}
