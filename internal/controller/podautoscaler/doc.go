// Package podautoscaler is the horizontal pod autoscaler controller
// (kube-controller-manager's "horizontalpodautoscaling"): every sync
// period it reads each autoscaling/v2 HorizontalPodAutoscaler's target
// through the target's scale subresource (any kind with one, custom
// resources included), and sets the target's replicas.
//
// Bounds come first, as upstream: a target above maxReplicas or below
// minReplicas is scaled to the bound without consulting metrics; a target
// scaled to zero is left alone (ScalingActive=False, ScalingDisabled).
// Otherwise the metrics decide: resource and container-resource metrics
// are read from metrics.k8s.io/v1beta1 PodMetrics when the server serves
// that group. Until a metrics pipeline does, the HPA reports
// ScalingActive=False with upstream's reason (FailedGetResourceMetric)
// and message ("... the server could not find the requested resource
// (get pods.metrics.k8s.io)"), AbleToScale=True, and Events, and leaves
// the replica count alone. Pods, Object and External metrics, which need
// the custom and external metrics APIs, are reported the same way.
//
// The decisions are pure functions ready for the metrics: ResourceReplicas
// (usage ratio, tolerance, unready and missing pods) and Normalize
// (stabilization windows, scaling policies and their rates, or the legacy
// rules without spec.behavior) with the History one HPA's syncs keep in
// memory.
//
// Left out: the per-direction tolerance field of spec.behavior (the
// controller's tolerance applies).
package podautoscaler
