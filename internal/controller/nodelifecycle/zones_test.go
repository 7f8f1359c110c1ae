package nodelifecycle

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// statuses reads "TTF?" as True, True, False, Unknown.
func statuses(s string) []corev1.ConditionStatus {
	var out []corev1.ConditionStatus
	for _, c := range s {
		out = append(out, map[rune]corev1.ConditionStatus{'T': corev1.ConditionTrue, 'F': corev1.ConditionFalse, '?': corev1.ConditionUnknown}[c])
	}
	return out
}

var rates = Rates{EvictionRate: 0.1, SecondaryEvictionRate: 0.01, UnhealthyZoneThreshold: 0.55, LargeClusterThreshold: 50}

func TestComputeZoneState(t *testing.T) {
	for _, tc := range []struct {
		ready string
		want  zoneState
	}{
		{"T", stateNormal},
		{"?", stateFullDisruption},
		{"F?", stateFullDisruption},
		{"T?", stateNormal},
		{"TT??", stateNormal},             // two not ready: never partial
		{"TT???", statePartialDisruption}, // 3/5 >= 0.55
		{"TTT???", stateNormal},           // 3/6 < 0.55
	} {
		if got := computeZoneState(statuses(tc.ready), 0.55); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.ready, got, tc.want)
		}
	}
}

func TestHandleDisruption(t *testing.T) {
	large := "TT" + strings.Repeat("?", 50)
	for _, tc := range []struct {
		name        string
		zones       map[string]string
		prev        map[string]zoneState
		wantRates   map[string]float64
		enter, exit bool
	}{
		{name: "healthy", zones: map[string]string{"a": "TT"}, wantRates: map[string]float64{"a": 0.1}},
		{name: "one node down of two", zones: map[string]string{"a": "T?"}, prev: map[string]zoneState{"a": stateNormal},
			wantRates: map[string]float64{"a": 0.1}},
		{name: "small zone partially disrupted: no taints", zones: map[string]string{"a": "T???", "b": "T"},
			wantRates: map[string]float64{"a": 0, "b": 0.1}},
		{name: "large zone partially disrupted: secondary rate", zones: map[string]string{"a": large},
			wantRates: map[string]float64{"a": 0.01}},
		{name: "one zone fully disrupted, another healthy: normal rate there", zones: map[string]string{"a": "??", "b": "T"},
			wantRates: map[string]float64{"a": 0.1, "b": 0.1}},
		{name: "every zone fully disrupted: stop", zones: map[string]string{"a": "??", "b": "F"},
			prev: map[string]zoneState{"a": stateNormal, "b": stateNormal}, wantRates: map[string]float64{"a": 0, "b": 0}, enter: true},
		{name: "still fully disrupted", zones: map[string]string{"a": "??"},
			prev: map[string]zoneState{"a": stateFullDisruption}, wantRates: map[string]float64{"a": 0}},
		{name: "a node is back", zones: map[string]string{"a": "T?"},
			prev: map[string]zoneState{"a": stateFullDisruption}, wantRates: map[string]float64{"a": 0.1}, exit: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zones := map[string][]corev1.ConditionStatus{}
			for z, s := range tc.zones {
				zones[z] = statuses(s)
			}
			d := handleDisruption(zones, tc.prev, rates)
			if d.enter != tc.enter || d.exit != tc.exit {
				t.Errorf("enter %v exit %v, want %v %v", d.enter, d.exit, tc.enter, tc.exit)
			}
			for z, want := range tc.wantRates {
				if d.rates[z] != want {
					t.Errorf("rate %s = %v, want %v (state %s)", z, d.rates[z], want, d.states[z])
				}
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	l := limiter{qps: 0.1}
	if ok, _ := l.take(at(0)); !ok {
		t.Fatal("first take refused: the bucket starts full")
	}
	if ok, wait := l.take(at(3)); ok || wait != 7*time.Second {
		t.Fatalf("take at 3s: ok %v wait %v, want refused for 7s", ok, wait)
	}
	if ok, _ := l.take(at(10)); !ok {
		t.Fatal("take at 10s refused")
	}
	l.setRate(0)
	if ok, wait := l.take(at(100)); ok || wait != 0 {
		t.Fatalf("rate 0: ok %v wait %v", ok, wait)
	}
	l.setRate(1)
	if ok, _ := l.take(at(100)); !ok {
		t.Fatal("new rate: the bucket starts full")
	}
}
