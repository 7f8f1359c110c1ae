package podautoscaler

import (
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

func rules(window int32, sel autoscalingv2.ScalingPolicySelect, policies ...autoscalingv2.HPAScalingPolicy) *autoscalingv2.HPAScalingRules {
	return &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: &window, SelectPolicy: &sel, Policies: policies}
}

func pods(v, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PodsScalingPolicy, Value: v, PeriodSeconds: period}
}

func percent(v, period int32) autoscalingv2.HPAScalingPolicy {
	return autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: v, PeriodSeconds: period}
}

// upstreamDefault is the behavior the API server fills in (scale-down
// window 300 s from the flag).
var upstreamDefault = &autoscalingv2.HorizontalPodAutoscalerBehavior{
	ScaleUp:   rules(0, autoscalingv2.MaxChangePolicySelect, pods(4, 15), percent(100, 15)),
	ScaleDown: rules(300, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
}

func TestNormalize(t *testing.T) {
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	tests := []struct {
		name                  string
		behavior              *autoscalingv2.HorizontalPodAutoscalerBehavior
		history               History
		current, recommended  int32
		min, max              int32
		want                  int32
		wantAble, wantLimited string
	}{{
		name: "default behavior: scale up by max(4 pods, 100%)", behavior: upstreamDefault,
		current: 3, recommended: 20, min: 1, max: 50, want: 7,
		wantAble: "ReadyForNewScale", wantLimited: "ScaleUpLimit",
	}, {
		name: "maxReplicas bounds", behavior: upstreamDefault,
		current: 10, recommended: 20, min: 1, max: 12, want: 12,
		wantAble: "ReadyForNewScale", wantLimited: "TooManyReplicas",
	}, {
		name: "scale-down window keeps the highest recent recommendation", behavior: upstreamDefault,
		history: History{Recommendations: []Recommendation{{At: ago(time.Minute), Replicas: 8}, {At: ago(10 * time.Minute), Replicas: 9}}},
		current: 10, recommended: 2, min: 1, max: 20, want: 8,
		wantAble: "ScaleDownStabilized", wantLimited: "DesiredWithinRange",
	}, {
		name: "scale-up window keeps the lowest recent recommendation",
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp:   rules(60, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
			ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
		},
		history: History{Recommendations: []Recommendation{{At: ago(30 * time.Second), Replicas: 4}}},
		current: 3, recommended: 6, min: 1, max: 20, want: 4,
		wantAble: "ScaleUpStabilized", wantLimited: "DesiredWithinRange",
	}, {
		name: "rate counts the scale-ups already made in the period",
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp:   rules(0, autoscalingv2.MaxChangePolicySelect, pods(2, 60)),
			ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
		},
		history: History{ScaleUps: []ScaleEvent{{At: ago(30 * time.Second), Change: 2}}},
		current: 5, recommended: 10, min: 1, max: 20, want: 5,
		wantAble: "ReadyForNewScale", wantLimited: "ScaleUpLimit",
	}, {
		name: "Min select picks the least change down",
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp:   rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
			ScaleDown: rules(0, autoscalingv2.MinChangePolicySelect, pods(1, 60), percent(50, 60)),
		},
		current: 10, recommended: 2, min: 1, max: 20, want: 9,
		wantAble: "ReadyForNewScale", wantLimited: "ScaleDownLimit",
	}, {
		name: "scale down disabled",
		behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp:   rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
			ScaleDown: rules(0, autoscalingv2.DisabledPolicySelect, percent(100, 15)),
		},
		current: 10, recommended: 2, min: 1, max: 20, want: 10,
		wantAble: "ReadyForNewScale", wantLimited: "ScaleDownLimit",
	}, {
		name: "minReplicas bounds a scale down", behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
			ScaleUp:   rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
			ScaleDown: rules(0, autoscalingv2.MaxChangePolicySelect, percent(100, 15)),
		},
		current: 10, recommended: 1, min: 3, max: 20, want: 3,
		wantAble: "ReadyForNewScale", wantLimited: "TooFewReplicas",
	}, {
		name:    "legacy: scale up to at most max(2x, 4)",
		current: 3, recommended: 20, min: 1, max: 50, want: 6,
		wantAble: "ReadyForNewScale", wantLimited: "ScaleUpLimit",
	}, {
		name:    "legacy: downscale stabilization",
		history: History{Recommendations: []Recommendation{{At: ago(time.Minute), Replicas: 7}}},
		current: 10, recommended: 2, min: 1, max: 20, want: 7,
		wantAble: "ScaleDownStabilized", wantLimited: "DesiredWithinRange",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.history
			got := Normalize(&h, tt.behavior, tt.current, tt.recommended, tt.min, tt.max, DefaultDownscaleStabilization, now)
			if got.Desired != tt.want || got.AbleReason != tt.wantAble || got.LimitedReason != tt.wantLimited {
				t.Errorf("got %+v, want %d %s %s", got, tt.want, tt.wantAble, tt.wantLimited)
			}
			if last := h.Recommendations[len(h.Recommendations)-1]; last.Replicas != tt.recommended || !last.At.Equal(now) {
				t.Errorf("recommendation not recorded: %+v", h.Recommendations)
			}
		})
	}
}

func TestNewHPADoesNotScaleDownWithinTheWindow(t *testing.T) {
	var h History
	h.Begin(10, now.Add(-time.Minute))
	h.Begin(3, now) // not the first sync: ignored
	got := Normalize(&h, upstreamDefault, 10, 2, 1, 20, DefaultDownscaleStabilization, now)
	if got.Desired != 10 || got.AbleReason != "ScaleDownStabilized" {
		t.Errorf("got %+v, want 10 held by the first recommendation", got)
	}
}

func TestRecordKeepsEventsOfTheLongestPeriod(t *testing.T) {
	h := History{ScaleUps: []ScaleEvent{{At: now.Add(-2 * time.Minute), Change: 3}, {At: now.Add(-10 * time.Second), Change: 1}}}
	h.Record(upstreamDefault, 4, 6, now)
	if len(h.ScaleUps) != 2 || h.ScaleUps[1].Change != 2 || h.ScaleUps[0].Change != 1 {
		t.Errorf("scale ups = %+v", h.ScaleUps)
	}
	h.Record(upstreamDefault, 6, 2, now)
	if len(h.ScaleDowns) != 1 || h.ScaleDowns[0].Change != 4 {
		t.Errorf("scale downs = %+v", h.ScaleDowns)
	}
	var none History
	none.Record(nil, 1, 5, now)
	if len(none.ScaleUps) != 0 {
		t.Error("legacy HPAs keep no scale events")
	}
}
