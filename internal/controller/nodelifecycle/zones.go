package nodelifecycle

import (
	"time"

	corev1 "k8s.io/api/core/v1"
)

// zoneState is a zone's health, as upstream names the states.
type zoneState string

const (
	stateInitial           zoneState = "Initial"
	stateNormal            zoneState = "Normal"
	stateFullDisruption    zoneState = "FullDisruption"
	statePartialDisruption zoneState = "PartialDisruption"
)

// Rates are kube-controller-manager's eviction rate settings.
type Rates struct {
	// EvictionRate is how many nodes a second get NoExecute taints in a
	// healthy zone (--node-eviction-rate).
	EvictionRate float64
	// SecondaryEvictionRate replaces it in a partially disrupted zone
	// larger than LargeClusterThreshold; a smaller such zone gets none
	// (--secondary-node-eviction-rate).
	SecondaryEvictionRate float64
	// UnhealthyZoneThreshold: a zone with more than two nodes and at
	// least this fraction not Ready is partially disrupted.
	UnhealthyZoneThreshold float64
	// LargeClusterThreshold: see SecondaryEvictionRate.
	LargeClusterThreshold int
}

// labelExcludeDisruption keeps a node out of the zone health count.
const labelExcludeDisruption = "node.kubernetes.io/exclude-disruption"

// zoneKey is the zone a node counts in: region and zone, as upstream's
// GetZoneKey joins them; "" for a node with neither.
func zoneKey(n *corev1.Node) string {
	region, zone := n.Labels[corev1.LabelTopologyRegion], n.Labels[corev1.LabelTopologyZone]
	if region == "" {
		region = n.Labels[corev1.LabelFailureDomainBetaRegion]
	}
	if zone == "" {
		zone = n.Labels[corev1.LabelFailureDomainBetaZone]
	}
	if region == "" && zone == "" {
		return ""
	}
	return region + ":\x00:" + zone
}

// computeZoneState is a zone's state from its nodes' Ready statuses.
func computeZoneState(ready []corev1.ConditionStatus, threshold float64) zoneState {
	readyNodes, notReady := 0, 0
	for _, s := range ready {
		if s == corev1.ConditionTrue {
			readyNodes++
		} else {
			notReady++
		}
	}
	switch {
	case readyNodes == 0 && notReady > 0:
		return stateFullDisruption
	case notReady > 2 && float64(notReady)/float64(notReady+readyNodes) >= threshold:
		return statePartialDisruption
	}
	return stateNormal
}

// zoneRate is how many nodes a second may be tainted in a zone of size
// nodes in state s, when not every zone is fully disrupted.
func zoneRate(s zoneState, size int, r Rates) float64 {
	if s == statePartialDisruption {
		if size > r.LargeClusterThreshold {
			return r.SecondaryEvictionRate
		}
		return 0
	}
	return r.EvictionRate
}

// disruption is the cluster-wide outcome of handleDisruption.
type disruption struct {
	states map[string]zoneState
	rates  map[string]float64
	// enter: every zone just became fully disrupted: the control plane
	// is the likelier one cut off, so taints are lifted and evictions
	// stop. exit: some node is Ready again after that: every node's
	// probe time restarts, so none is judged on the silence just ended.
	enter, exit bool
}

// handleDisruption is upstream's zone decision: given each zone's nodes'
// Ready statuses now and each zone's previous state, the new states and
// taint rates. Zones that have no nodes left are forgotten.
func handleDisruption(zones map[string][]corev1.ConditionStatus, prev map[string]zoneState, r Rates) disruption {
	d := disruption{states: map[string]zoneState{}, rates: map[string]float64{}}
	allNow := len(zones) > 0
	for z, ready := range zones {
		d.states[z] = computeZoneState(ready, r.UnhealthyZoneThreshold)
		if d.states[z] != stateFullDisruption {
			allNow = false
		}
	}
	allBefore := true
	for z := range zones {
		if prev[z] != stateFullDisruption {
			allBefore = false
		}
	}
	switch {
	case allNow && allBefore:
		// Still cut off: nothing changes.
		for z := range zones {
			d.rates[z] = 0
		}
	case allNow:
		d.enter = true
		for z := range zones {
			d.rates[z] = 0
		}
	default:
		d.exit = allBefore && len(prev) > 0
		for z, ready := range zones {
			d.rates[z] = zoneRate(d.states[z], len(ready), r)
		}
	}
	return d
}

// limiter is a token bucket of burst 1: one taint at once, then one
// every 1/qps. qps 0 allows none.
type limiter struct {
	qps  float64
	next time.Time // when the next token is available
}

// take reports whether an action may happen at now; if not, wait is how
// long until it may (0 when never, at qps 0).
func (l *limiter) take(now time.Time) (ok bool, wait time.Duration) {
	if l.qps <= 0 {
		return false, 0
	}
	if now.Before(l.next) {
		return false, l.next.Sub(now)
	}
	l.next = now.Add(time.Duration(float64(time.Second) / l.qps))
	return true, 0
}

// setRate changes the rate; a bucket whose rate changes starts full, as
// upstream swaps in a new limiter.
func (l *limiter) setRate(qps float64) {
	if l.qps != qps {
		l.qps, l.next = qps, time.Time{}
	}
}
