package podautoscaler

import (
	"math"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// DefaultDownscaleStabilization is how long a lower recommendation must
// hold before an HPA without spec.behavior scales down
// (--horizontal-pod-autoscaler-downscale-stabilization).
const DefaultDownscaleStabilization = 5 * time.Minute

// History is what one HPA's past syncs leave for the next: recent
// recommendations (for stabilization windows) and recent scale changes
// (for rate policies). The controller keeps one per HPA in memory, as
// upstream does, so a restart forgets it.
type History struct {
	Recommendations []Recommendation
	ScaleUps        []ScaleEvent
	ScaleDowns      []ScaleEvent
}

// Recommendation is a replica count a sync computed from metrics.
type Recommendation struct {
	At       time.Time
	Replicas int32
}

// ScaleEvent is a change of the target's replicas made by the HPA.
type ScaleEvent struct {
	At     time.Time
	Change int32
}

// Begin records the target's replica count as the first recommendation
// of an HPA seen for the first time, as upstream does: a new HPA does not
// scale a target down before the stabilization window has passed.
func (h *History) Begin(current int32, now time.Time) {
	if h.Recommendations == nil {
		h.Recommendations = []Recommendation{{At: now, Replicas: current}}
	}
}

// Limited is a normalization's outcome for the HPA's conditions:
// AbleToScale's reason and message (stabilized or ready for a new scale)
// and ScalingLimited's (limited when Desired differs from what the
// stabilized recommendation asked).
type Limited struct {
	Desired                       int32
	AbleReason, AbleMessage       string
	Limited                       bool
	LimitedReason, LimitedMessage string
}

// Normalize turns the metrics' recommendation into the replica count to
// scale to: stabilized against recent recommendations, then bounded by
// min/max replicas and the scaling policies' rates, as upstream does
// with spec.behavior and, without it, with the legacy rules (a
// downscale stabilization window, scale-up to at most max(2×current, 4)).
// It records the recommendation in h.
func Normalize(h *History, b *autoscalingv2.HorizontalPodAutoscalerBehavior, current, recommended, minReplicas, maxReplicas int32, downscaleWindow time.Duration, now time.Time) Limited {
	var out Limited
	if b == nil {
		stabilized := stabilize(h, recommended, current, 0, downscaleWindow, now)
		out.AbleReason, out.AbleMessage = "ReadyForNewScale", "recommended size matches current size"
		if stabilized != recommended {
			out.AbleReason, out.AbleMessage = "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
		}
		out.Desired, out.LimitedReason, out.LimitedMessage = legacyLimits(current, stabilized, minReplicas, maxReplicas)
		out.Limited = out.Desired != stabilized
		return out
	}
	up, down := rulesOrDefault(b.ScaleUp, 0), rulesOrDefault(b.ScaleDown, int32(downscaleWindow/time.Second))
	stabilized := stabilize(h, recommended, current, time.Duration(*up.StabilizationWindowSeconds)*time.Second,
		time.Duration(*down.StabilizationWindowSeconds)*time.Second, now)
	out.AbleReason, out.AbleMessage = "ReadyForNewScale", "recommended size matches current size"
	if stabilized != recommended {
		if recommended >= current {
			out.AbleReason, out.AbleMessage = "ScaleUpStabilized", "recent recommendations were lower than current one, applying the lowest recent recommendation"
		} else {
			out.AbleReason, out.AbleMessage = "ScaleDownStabilized", "recent recommendations were higher than current one, applying the highest recent recommendation"
		}
	}
	out.Desired, out.LimitedReason, out.LimitedMessage = rateLimits(h, up, down, current, stabilized, minReplicas, maxReplicas, now)
	out.Limited = out.Desired != stabilized
	return out
}

// stabilize is the recommendation after the window of its direction:
// scaling up, the lowest of the recent ones and this; scaling down, the
// highest. This one is recorded, replacing one older than both windows.
func stabilize(h *History, recommended, current int32, upWindow, downWindow time.Duration, now time.Time) int32 {
	out := recommended
	window, better := upWindow, func(a, b int32) int32 { return min(a, b) }
	if recommended < current {
		window, better = downWindow, func(a, b int32) int32 { return max(a, b) }
	}
	cutoff := now.Add(-window)
	obsolete := now.Add(-max(upWindow, downWindow))
	replace := -1
	for i, r := range h.Recommendations {
		if r.At.After(cutoff) {
			out = better(out, r.Replicas)
		}
		if r.At.Before(obsolete) {
			replace = i
		}
	}
	rec := Recommendation{At: now, Replicas: recommended}
	if replace >= 0 {
		h.Recommendations[replace] = rec
	} else {
		h.Recommendations = append(h.Recommendations, rec)
	}
	return out
}

func legacyLimits(current, desired, minReplicas, maxReplicas int32) (int32, string, string) {
	upLimit := int32(math.Max(2*float64(current), 4))
	maxAllowed, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
	if maxReplicas > upLimit {
		maxAllowed, reason, msg = upLimit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
	}
	switch {
	case desired < minReplicas:
		return minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
	case desired > maxAllowed:
		return maxAllowed, reason, msg
	}
	return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
}

func rateLimits(h *History, up, down *autoscalingv2.HPAScalingRules, current, desired, minReplicas, maxReplicas int32, now time.Time) (int32, string, string) {
	switch {
	case desired > current:
		limit := max(scaleUpLimit(h, up, current, now), current)
		maxAllowed, reason, msg := maxReplicas, "TooManyReplicas", "the desired replica count is more than the maximum replica count"
		if maxReplicas > limit {
			maxAllowed, reason, msg = limit, "ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate"
		}
		if desired > maxAllowed {
			return maxAllowed, reason, msg
		}
	case desired < current:
		limit := min(scaleDownLimit(h, down, current, now), current)
		minAllowed, reason, msg := minReplicas, "TooFewReplicas", "the desired replica count is less than the minimum replica count"
		if minReplicas < limit {
			minAllowed, reason, msg = limit, "ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate"
		}
		if desired < minAllowed {
			return minAllowed, reason, msg
		}
	}
	return desired, "DesiredWithinRange", "the desired count is within the acceptable range"
}

// scaleUpLimit is the most replicas the policies allow now: each policy
// adds to the count at the start of its period (undoing the changes made
// within it); Max selects the most permissive, Min the least.
func scaleUpLimit(h *History, r *autoscalingv2.HPAScalingRules, current int32, now time.Time) int32 {
	if *r.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pick, out := func(a, b int32) int32 { return max(a, b) }, int32(math.MinInt32)
	if *r.SelectPolicy == autoscalingv2.MinChangePolicySelect {
		pick, out = func(a, b int32) int32 { return min(a, b) }, math.MaxInt32
	}
	for _, p := range r.Policies {
		start := current - changeWithin(h.ScaleUps, p.PeriodSeconds, now) + changeWithin(h.ScaleDowns, p.PeriodSeconds, now)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start + p.Value
		} else {
			proposed = int32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		out = pick(out, proposed)
	}
	return out
}

// scaleDownLimit is the fewest replicas the policies allow now.
func scaleDownLimit(h *History, r *autoscalingv2.HPAScalingRules, current int32, now time.Time) int32 {
	if *r.SelectPolicy == autoscalingv2.DisabledPolicySelect {
		return current
	}
	pick, out := func(a, b int32) int32 { return min(a, b) }, int32(math.MaxInt32)
	if *r.SelectPolicy == autoscalingv2.MinChangePolicySelect {
		pick, out = func(a, b int32) int32 { return max(a, b) }, math.MinInt32
	}
	for _, p := range r.Policies {
		start := current - changeWithin(h.ScaleUps, p.PeriodSeconds, now) + changeWithin(h.ScaleDowns, p.PeriodSeconds, now)
		var proposed int32
		if p.Type == autoscalingv2.PodsScalingPolicy {
			proposed = start - p.Value
		} else {
			proposed = int32(float64(start) * (1 - float64(p.Value)/100))
		}
		out = pick(out, proposed)
	}
	return out
}

// changeWithin sums the changes of events within the last period seconds.
func changeWithin(events []ScaleEvent, periodSeconds int32, now time.Time) int32 {
	cutoff := now.Add(-time.Duration(periodSeconds) * time.Second)
	var sum int32
	for _, e := range events {
		if e.At.After(cutoff) {
			sum += e.Change
		}
	}
	return sum
}

// Record notes a rescale from one count to another, dropping events
// older than the longest policy period of their direction.
func (h *History) Record(b *autoscalingv2.HorizontalPodAutoscalerBehavior, from, to int32, now time.Time) {
	if b == nil || from == to {
		return
	}
	events, rules := &h.ScaleUps, b.ScaleUp
	change := to - from
	if to < from {
		events, rules, change = &h.ScaleDowns, b.ScaleDown, from-to
	}
	var longest int32
	if rules != nil {
		for _, p := range rules.Policies {
			longest = max(longest, p.PeriodSeconds)
		}
	}
	cutoff := now.Add(-time.Duration(longest) * time.Second)
	kept := (*events)[:0]
	for _, e := range *events {
		if e.At.After(cutoff) {
			kept = append(kept, e)
		}
	}
	*events = append(kept, ScaleEvent{At: now, Change: change})
}

// rulesOrDefault fills what the API server's defaulting left unset: a
// scale-down window from the controller's flag.
func rulesOrDefault(r *autoscalingv2.HPAScalingRules, window int32) *autoscalingv2.HPAScalingRules {
	out := &autoscalingv2.HPAScalingRules{}
	if r != nil {
		out = r.DeepCopy()
	}
	if out.StabilizationWindowSeconds == nil {
		out.StabilizationWindowSeconds = &window
	}
	if out.SelectPolicy == nil {
		p := autoscalingv2.MaxChangePolicySelect
		out.SelectPolicy = &p
	}
	return out
}
