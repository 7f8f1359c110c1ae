package disruption

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func pod(name string, ready bool, mods ...func(*corev1.Pod)) *corev1.Pod {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func deleting(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0} }

func readyPods(n int) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range n {
		out = append(out, pod(string(rune('a'+i)), true))
	}
	return out
}

func TestCompute(t *testing.T) {
	intOr := func(v intstr.IntOrString) *intstr.IntOrString { return &v }
	tests := []struct {
		name          string
		spec          policyv1.PodDisruptionBudgetSpec
		disrupted     map[string]metav1.Time
		pods          []*corev1.Pod
		expectedScale int32
		want          policyv1.PodDisruptionBudgetStatus // conditions left out
		wantReason    string
		wantRecheck   time.Time
		wantErr       bool
	}{{
		name: "minAvailable 2 of 3 ready",
		spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromInt32(2))},
		pods: readyPods(3),
		want: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3, DisruptionsAllowed: 1},
		// Int minAvailable counts the pods there are, not the scale.
		expectedScale: 99, wantReason: policyv1.SufficientPodsReason,
	}, {
		name:       "unready and deleting pods are not healthy",
		spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromInt32(2))},
		pods:       []*corev1.Pod{pod("a", true), pod("b", false), pod("c", true, deleting)},
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 2, ExpectedPods: 3, DisruptionsAllowed: 0},
		wantReason: policyv1.InsufficientPodsReason,
	}, {
		name: "minAvailable percentage rounds up against the scale",
		spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromString("50%"))},
		pods: readyPods(4), expectedScale: 5,
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 4, DesiredHealthy: 3, ExpectedPods: 5, DisruptionsAllowed: 1},
		wantReason: policyv1.SufficientPodsReason,
	}, {
		name: "maxUnavailable int",
		spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOr(intstr.FromInt32(1))},
		pods: readyPods(3), expectedScale: 3,
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 3, DesiredHealthy: 2, ExpectedPods: 3, DisruptionsAllowed: 1},
		wantReason: policyv1.SufficientPodsReason,
	}, {
		name: "maxUnavailable percentage rounds up, desired never negative",
		spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOr(intstr.FromString("30%"))},
		pods: readyPods(2), expectedScale: 4,
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 2, DesiredHealthy: 2, ExpectedPods: 4, DisruptionsAllowed: 0},
		wantReason: policyv1.InsufficientPodsReason,
	}, {
		name: "maxUnavailable 100% of nothing expected allows nothing",
		spec: policyv1.PodDisruptionBudgetSpec{MaxUnavailable: intOr(intstr.FromString("100%"))},
		pods: readyPods(1), expectedScale: 0,
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 0, ExpectedPods: 0, DisruptionsAllowed: 0},
		wantReason: policyv1.InsufficientPodsReason,
	}, {
		name: "a disrupted pod does not count until it expires",
		spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromInt32(1))},
		disrupted: map[string]metav1.Time{
			"a": metav1.NewTime(t0.Add(-time.Minute)),     // waiting: not healthy
			"b": metav1.NewTime(t0.Add(-3 * time.Minute)), // expired: healthy again
			"z": metav1.NewTime(t0.Add(-time.Minute)),     // gone
		},
		pods: readyPods(3),
		want: policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 3, DisruptionsAllowed: 1,
			DisruptedPods: map[string]metav1.Time{"a": metav1.NewTime(t0.Add(-time.Minute))}},
		wantReason: policyv1.SufficientPodsReason, wantRecheck: t0.Add(time.Minute),
	}, {
		name:       "a deleted disrupted pod leaves the map",
		spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromInt32(1))},
		disrupted:  map[string]metav1.Time{"a": metav1.NewTime(t0)},
		pods:       []*corev1.Pod{pod("a", true, deleting), pod("b", true)},
		want:       policyv1.PodDisruptionBudgetStatus{CurrentHealthy: 1, DesiredHealthy: 1, ExpectedPods: 2, DisruptionsAllowed: 0},
		wantReason: policyv1.InsufficientPodsReason,
	}, {
		name:    "malformed percentage",
		spec:    policyv1.PodDisruptionBudgetSpec{MinAvailable: intOr(intstr.FromString("half"))},
		pods:    readyPods(1),
		wantErr: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "b", Generation: 3}, Spec: tt.spec,
				Status: policyv1.PodDisruptionBudgetStatus{DisruptedPods: tt.disrupted}}
			st, recheck, err := Compute(pdb, tt.pods, tt.expectedScale, t0)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(st.Conditions) != 1 || st.Conditions[0].Reason != tt.wantReason || st.Conditions[0].ObservedGeneration != 3 ||
				(st.Conditions[0].Status == metav1.ConditionTrue) != (st.DisruptionsAllowed > 0) {
				t.Errorf("conditions = %+v, want reason %s", st.Conditions, tt.wantReason)
			}
			st.Conditions = nil
			tt.want.ObservedGeneration = 3
			if !equalStatus(st, tt.want) {
				t.Errorf("status = %+v\nwant %+v", st, tt.want)
			}
			if !recheck.Equal(tt.wantRecheck) {
				t.Errorf("recheck = %v, want %v", recheck, tt.wantRecheck)
			}
		})
	}
}

func equalStatus(a, b policyv1.PodDisruptionBudgetStatus) bool {
	if len(a.DisruptedPods) != len(b.DisruptedPods) {
		return false
	}
	for k, v := range a.DisruptedPods {
		if w, ok := b.DisruptedPods[k]; !ok || !w.Equal(&v) {
			return false
		}
	}
	return a.ObservedGeneration == b.ObservedGeneration && a.CurrentHealthy == b.CurrentHealthy && a.DesiredHealthy == b.DesiredHealthy &&
		a.ExpectedPods == b.ExpectedPods && a.DisruptionsAllowed == b.DisruptionsAllowed
}

func TestFailedKeepsStatusButAllowsNothing(t *testing.T) {
	pdb := &policyv1.PodDisruptionBudget{Status: policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: 2, CurrentHealthy: 3, DesiredHealthy: 2, DisruptionsAllowed: 1, ExpectedPods: 3}}
	st := Failed(pdb, errNoController("web-1"), t0)
	if st.DisruptionsAllowed != 0 || st.CurrentHealthy != 3 || len(st.Conditions) != 1 {
		t.Fatalf("status = %+v", st)
	}
	c := st.Conditions[0]
	if c.Type != policyv1.DisruptionAllowedCondition || c.Status != metav1.ConditionFalse || c.Reason != policyv1.SyncFailedReason ||
		c.Message != `found no controllers for pod "web-1"` || c.ObservedGeneration != 2 {
		t.Errorf("condition = %+v", c)
	}
	if pdb.Status.DisruptionsAllowed != 1 {
		t.Error("Failed changed the budget it was given")
	}
}
