package podautoscaler

import (
	"fmt"
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// DefaultTolerance is how far from 1 the usage ratio must be before the
// replica count changes (--horizontal-pod-autoscaler-tolerance).
const DefaultTolerance = 0.1

// Upstream's readiness windows for cpu
// (--horizontal-pod-autoscaler-cpu-initialization-period and
// --horizontal-pod-autoscaler-initial-readiness-delay).
const (
	CPUInitializationPeriod = 5 * time.Minute
	InitialReadinessDelay   = 30 * time.Second
)

// PodMetric is one pod's usage of a resource, as metrics.k8s.io reports
// it: the sum over the pod's (or one container's) usage, in milli-units.
type PodMetric struct {
	Timestamp time.Time
	Window    time.Duration
	Value     int64
}

// ResourceInput is what the replica count of one resource metric is
// computed from.
type ResourceInput struct {
	Resource corev1.ResourceName
	// Container, when set, is the only container counted.
	Container string
	// Current is the target's replica count.
	Current int32
	// Pods are the pods the target's selector matches.
	Pods []*corev1.Pod
	// Metrics are by pod name; pods without one are "missing".
	Metrics map[string]PodMetric
	// TargetUtilization (percent of requests) or TargetAverage
	// (milli-units per pod): exactly one is set.
	TargetUtilization *int32
	TargetAverage     *int64
	Tolerance         float64
	Now               time.Time
}

// ResourceResult is a resource metric's proposal.
type ResourceResult struct {
	Replicas int32
	// Utilization is the ready pods' usage in percent of their requests
	// (utilization targets only); Average is their mean usage in
	// milli-units.
	Utilization int32
	Average     int64
}

// ResourceReplicas is the replica count one resource metric asks for, as
// upstream's replica calculator computes it: the ratio of usage to target
// over the ready pods with metrics, within tolerance no change, and, when
// pods are unready or missing metrics, a second look that assumes the
// missing ones at the target (scale down) or at zero (scale up) and the
// unready ones at zero, never reversing the direction.
func ResourceReplicas(in ResourceInput) (ResourceResult, error) {
	if len(in.Pods) == 0 {
		return ResourceResult{}, fmt.Errorf("no pods returned by selector while calculating replica count")
	}
	metrics := make(map[string]int64, len(in.Metrics))
	ready, unready, missing := 0, map[string]bool{}, map[string]bool{}
	byName := map[string]*corev1.Pod{}
	for _, p := range in.Pods {
		byName[p.Name] = p
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodFailed {
			continue // ignored
		}
		if p.Status.Phase == corev1.PodPending {
			unready[p.Name] = true
			continue
		}
		m, ok := in.Metrics[p.Name]
		if !ok {
			missing[p.Name] = true
			continue
		}
		if in.Resource == corev1.ResourceCPU && cpuUnready(p, m, in.Now) {
			unready[p.Name] = true
			continue
		}
		metrics[p.Name] = m.Value
		ready++
	}
	requests := map[string]int64{}
	if in.TargetUtilization != nil {
		for _, p := range in.Pods {
			r, err := podRequest(p, in.Resource, in.Container)
			if err != nil {
				return ResourceResult{}, err
			}
			requests[p.Name] = r
		}
	}
	if len(metrics) == 0 {
		return ResourceResult{}, fmt.Errorf("did not receive metrics for targeted pods (pods might be unready)")
	}
	ratio, res, err := in.ratio(metrics, requests)
	if err != nil {
		return ResourceResult{}, err
	}
	res.Replicas = in.Current
	scaleUpWithUnready := len(unready) > 0 && ratio > 1.0
	if !scaleUpWithUnready && len(missing) == 0 {
		if math.Abs(1.0-ratio) <= in.Tolerance {
			return res, nil
		}
		res.Replicas = int32(math.Ceil(ratio * float64(ready)))
		return res, nil
	}
	for name := range missing {
		switch {
		case ratio < 1.0:
			// Assume a missing pod uses what it asks (at least the
			// target), so it holds back a scale down.
			if in.TargetUtilization != nil {
				metrics[name] = requests[name] * int64(max(*in.TargetUtilization, 100)) / 100
			} else {
				metrics[name] = *in.TargetAverage
			}
		case ratio > 1.0:
			metrics[name] = 0
		}
	}
	if scaleUpWithUnready {
		for name := range unready {
			metrics[name] = 0
		}
	}
	newRatio, _, err := in.ratio(metrics, requests)
	if err != nil {
		return ResourceResult{}, err
	}
	if math.Abs(1.0-newRatio) <= in.Tolerance || ratio < 1.0 && newRatio > 1.0 || ratio > 1.0 && newRatio < 1.0 {
		return res, nil
	}
	n := int32(math.Ceil(newRatio * float64(len(metrics))))
	if newRatio < 1.0 && n > in.Current || newRatio > 1.0 && n < in.Current {
		return res, nil
	}
	res.Replicas = n
	return res, nil
}

// ratio is usage over target for the pods of metrics.
func (in ResourceInput) ratio(metrics, requests map[string]int64) (float64, ResourceResult, error) {
	var total, requested int64
	for name, v := range metrics {
		total += v
		requested += requests[name]
	}
	res := ResourceResult{Average: total / int64(len(metrics))}
	if in.TargetAverage != nil {
		return float64(total) / float64(*in.TargetAverage*int64(len(metrics))), res, nil
	}
	if requested == 0 {
		return 0, res, fmt.Errorf("no metrics returned matched known pods")
	}
	res.Utilization = int32(total * 100 / requested)
	return float64(res.Utilization) / float64(*in.TargetUtilization), res, nil
}

// cpuUnready: a pod's cpu sample should not be trusted yet, as upstream
// judges it: it has not started, or within its first five minutes it is
// not ready or the sample predates its readiness, or after them it has
// never been ready.
func cpuUnready(p *corev1.Pod, m PodMetric, now time.Time) bool {
	var cond *corev1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			cond = &p.Status.Conditions[i]
		}
	}
	if cond == nil || p.Status.StartTime == nil {
		return true
	}
	ready := cond.Status == corev1.ConditionTrue
	start := p.Status.StartTime.Time
	if start.Add(CPUInitializationPeriod).After(now) {
		return !ready || m.Timestamp.Before(cond.LastTransitionTime.Add(m.Window))
	}
	return !ready && start.Add(InitialReadinessDelay).After(cond.LastTransitionTime.Time)
}

// podRequest is what pod requests of resource, over all its containers
// or only container, in milli-units; a container that requests none is
// an error.
func podRequest(p *corev1.Pod, resource corev1.ResourceName, container string) (int64, error) {
	var sum int64
	for _, c := range p.Spec.Containers {
		if container != "" && c.Name != container {
			continue
		}
		q, ok := c.Resources.Requests[resource]
		if !ok {
			return 0, fmt.Errorf("missing request for %s in container %s of Pod %s", resource, c.Name, p.Name)
		}
		sum += q.MilliValue()
	}
	return sum, nil
}
