package deployment

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func i32(v int32) *int32 { return &v }

func deploy(replicas int32, surge, unavailable string) *appsv1.Deployment {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "d-uid", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}}},
			},
			Strategy:                appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
			ProgressDeadlineSeconds: i32(600),
			RevisionHistoryLimit:    i32(10),
		},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1},
	}
	if surge != "" {
		s, u := intstr.Parse(surge), intstr.Parse(unavailable)
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
			RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &s, MaxUnavailable: &u}}
	}
	return d
}

// rs is a ReplicaSet of spec size, available pods, created age ago, with
// desired/max annotations when given (>= 0).
func rs(name string, size, available int32, age time.Duration, desired, maxR int32) *appsv1.ReplicaSet {
	r := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), CreationTimestamp: metav1.NewTime(now.Add(-age)),
			Annotations: map[string]string{}},
		Spec:   appsv1.ReplicaSetSpec{Replicas: i32(size)},
		Status: appsv1.ReplicaSetStatus{Replicas: size, ReadyReplicas: available, AvailableReplicas: available},
	}
	if desired >= 0 {
		r.Annotations[DesiredReplicasAnnotation] = fmt.Sprint(desired)
	}
	if maxR >= 0 {
		r.Annotations[MaxReplicasAnnotation] = fmt.Sprint(maxR)
	}
	return r
}

func scales(ss []Scale) string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%s=%d", s.RS.Name, s.To))
	}
	return strings.Join(out, ",")
}

func TestResolveFenceposts(t *testing.T) {
	for _, tc := range []struct {
		surge, unavailable string
		desired            int32
		wantS, wantU       int32
	}{
		{"25%", "25%", 10, 3, 2}, // surge rounds up, unavailable down
		{"25%", "25%", 1, 1, 0},
		{"0", "0", 5, 0, 1}, // both zero: one unavailable
		{"1%", "0%", 2, 1, 0},
		{"0%", "1%", 2, 0, 1}, // 1% of 2 floors to 0
		{"3", "2", 10, 3, 2},
		{"100%", "0", 3, 3, 0},
	} {
		s, u := intstr.Parse(tc.surge), intstr.Parse(tc.unavailable)
		gotS, gotU, err := ResolveFenceposts(&s, &u, tc.desired)
		if err != nil || gotS != tc.wantS || gotU != tc.wantU {
			t.Errorf("%s/%s of %d: got %d/%d %v, want %d/%d", tc.surge, tc.unavailable, tc.desired, gotS, gotU, err, tc.wantS, tc.wantU)
		}
	}
	if got := MaxUnavailable(deploy(2, "0", "5")); got != 2 {
		t.Errorf("maxUnavailable is capped at replicas: %d", got)
	}
	if got := MaxSurge(deploy(2, "", "")); got != 0 {
		t.Errorf("Recreate has no surge: %d", got)
	}
}

func TestNewRSNewReplicas(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		old  int32
		new  int32
		want int32
	}{
		{"surge room", deploy(3, "1", "0"), 3, 0, 1},
		{"no room", deploy(3, "1", "0"), 3, 1, 1},
		{"never past replicas", deploy(3, "100%", "0"), 0, 2, 3},
		{"room from scaled-down olds", deploy(10, "25%", "25%"), 4, 6, 9},
		{"recreate takes all", deploy(4, "", ""), 4, 0, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, n := rs("old", tc.old, tc.old, time.Hour, -1, -1), rs("new", tc.new, 0, time.Minute, -1, -1)
			if got := NewRSNewReplicas(tc.d, []*appsv1.ReplicaSet{o, n}, n); got != tc.want {
				t.Errorf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestPlanScale(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		new  *appsv1.ReplicaSet
		old  []*appsv1.ReplicaSet
		want string
	}{
		{"only active takes all", deploy(5, "1", "1"), rs("new", 3, 3, time.Minute, 3, 4), []*appsv1.ReplicaSet{rs("old", 0, 0, time.Hour, 3, 4)}, "new=5"},
		{"only active at size: nothing", deploy(3, "1", "1"), rs("new", 3, 3, time.Minute, 3, 4), nil, ""},
		{"no active: the newest", deploy(2, "1", "1"), nil, []*appsv1.ReplicaSet{rs("older", 0, 0, 2*time.Hour, 1, 2), rs("newer", 0, 0, time.Hour, 1, 2)}, "newer=2"},
		{"saturated new ends the olds", deploy(3, "1", "1"), rs("new", 3, 3, time.Minute, 3, 4), []*appsv1.ReplicaSet{rs("old", 1, 1, time.Hour, 3, 4)}, "old=0"},
		// 10 -> 20 with surge 3: 23 allowed, 13 held; new 8*23/13 = 14.15 -> +6, old 5*23/13 = 8.85 -> +4.
		{"proportional up", deploy(20, "3", "2"), rs("new", 8, 0, time.Minute, 10, 13), []*appsv1.ReplicaSet{rs("old", 5, 5, time.Hour, 10, 13)}, "new=14,old=9"},
		// 10 -> 5 with surge 3: 8 allowed, 13 held; new 8*8/13 = 4.92 -> -3, old 5*8/13 = 3.08 -> -2.
		{"proportional down", deploy(5, "3", "2"), rs("new", 8, 0, time.Minute, 10, 13), []*appsv1.ReplicaSet{rs("old", 5, 5, time.Hour, 10, 13)}, "new=5,old=3"},
		{"down to zero", deploy(0, "3", "2"), rs("new", 8, 0, time.Minute, 10, 13), []*appsv1.ReplicaSet{rs("old", 5, 5, time.Hour, 10, 13)}, "new=0,old=0"},
		// Equal sizes: scaling up favours the newer, the leftover goes to the first.
		{"leftover to the first", deploy(3, "0", "1"), rs("new", 1, 0, time.Minute, 2, 2), []*appsv1.ReplicaSet{rs("old", 1, 1, time.Hour, 2, 2)}, "new=2,old=1"},
		{"recreate does not spread", deploy(6, "", ""), rs("new", 2, 0, time.Minute, 4, 4), []*appsv1.ReplicaSet{rs("old", 2, 2, time.Hour, 4, 4)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scales(PlanScale(tc.d, tc.new, tc.old)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPlanOldReplicaSets(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    *appsv1.Deployment
		new  *appsv1.ReplicaSet
		old  []*appsv1.ReplicaSet
		want string
	}{
		{"surge pod available: one old goes", deploy(3, "1", "0"), rs("new", 1, 1, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 3, 3, time.Hour, -1, -1)}, "old=2"},
		{"surge pod not available: nothing", deploy(3, "1", "0"), rs("new", 1, 0, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 3, 3, time.Hour, -1, -1)}, ""},
		{"maxUnavailable lets olds go first", deploy(4, "0", "2"), rs("new", 0, 0, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 4, 4, time.Hour, -1, -1)}, "old=2"},
		// Upstream's example: 10 replicas, maxUnavailable 2, surge 3; the new
		// pods crashloop: 13 - 8 - 5 = 0, old pods are kept.
		{"crashlooping new pods keep the olds", deploy(10, "3", "2"), rs("new", 5, 0, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 8, 7, time.Hour, -1, -1)}, ""},
		{"unhealthy olds go first, at no cost", deploy(4, "1", "1"), rs("new", 1, 0, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 4, 1, time.Hour, -1, -1)}, "old=3"},
		{"oldest first", deploy(4, "0", "2"), rs("new", 0, 0, time.Minute, -1, -1),
			[]*appsv1.ReplicaSet{rs("b", 2, 2, time.Hour, -1, -1), rs("a", 2, 2, 2*time.Hour, -1, -1)}, "a=0"},
		{"no olds left", deploy(4, "0", "2"), rs("new", 4, 4, time.Minute, -1, -1), []*appsv1.ReplicaSet{rs("old", 0, 0, time.Hour, -1, -1)}, ""},
		// The old ReplicaSet was just scaled 5 -> 4; its status still
		// counts the pod it is deleting. 4 old + 1 new are available: one
		// more old may go, not two.
		{"a stale status counts no pod beyond the spec", deploy(5, "1", "1"), rs("new", 2, 1, time.Minute, -1, -1),
			[]*appsv1.ReplicaSet{rs("old", 4, 5, time.Hour, -1, -1)}, "old=3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := append([]*appsv1.ReplicaSet{tc.new}, tc.old...)
			if got := scales(PlanOldReplicaSets(tc.d, all, activeRSs(tc.old), tc.new)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsScalingEvent(t *testing.T) {
	d := deploy(5, "1", "1")
	for _, tc := range []struct {
		name string
		rss  []*appsv1.ReplicaSet
		want bool
	}{
		{"desired differs", []*appsv1.ReplicaSet{rs("a", 3, 3, time.Hour, 3, 4)}, true},
		{"desired same", []*appsv1.ReplicaSet{rs("a", 3, 3, time.Hour, 5, 6)}, false},
		{"inactive ones do not count", []*appsv1.ReplicaSet{rs("a", 0, 0, time.Hour, 3, 4)}, false},
		{"no annotation", []*appsv1.ReplicaSet{rs("a", 3, 3, time.Hour, -1, -1)}, false},
		{"nil new", []*appsv1.ReplicaSet{nil}, false},
	} {
		if got := IsScalingEvent(d, tc.rss); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func TestOldPodsRunning(t *testing.T) {
	newRS, old := rs("new", 0, 0, time.Minute, -1, -1), rs("old", 0, 0, time.Hour, -1, -1)
	podIn := func(ph corev1.PodPhase) *corev1.Pod { return &corev1.Pod{Status: corev1.PodStatus{Phase: ph}} }
	for _, tc := range []struct {
		name string
		old  *appsv1.ReplicaSet
		pods map[types.UID][]*corev1.Pod
		want bool
	}{
		{"none", old, nil, false},
		{"old status replicas", rs("old", 0, 0, time.Hour, -1, -1), nil, false},
		{"an old pod running", old, map[types.UID][]*corev1.Pod{"old": {podIn(corev1.PodRunning)}}, true},
		{"an old pod unknown counts", old, map[types.UID][]*corev1.Pod{"old": {podIn(corev1.PodUnknown)}}, true},
		{"finished old pods do not", old, map[types.UID][]*corev1.Pod{"old": {podIn(corev1.PodSucceeded), podIn(corev1.PodFailed)}}, false},
		{"new pods do not", old, map[types.UID][]*corev1.Pod{"new": {podIn(corev1.PodRunning)}}, false},
	} {
		if got := OldPodsRunning(newRS, []*appsv1.ReplicaSet{tc.old}, tc.pods); got != tc.want {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
	counting := rs("old", 0, 0, time.Hour, -1, -1)
	counting.Status.Replicas = 1
	if !OldPodsRunning(newRS, []*appsv1.ReplicaSet{counting}, nil) {
		t.Error("an old ReplicaSet that still counts a replica is running")
	}
}

func TestReplicaSetsToCleanUp(t *testing.T) {
	withRev := func(r *appsv1.ReplicaSet, rev string) *appsv1.ReplicaSet {
		r.Annotations[RevisionAnnotation] = rev
		return r
	}
	d := deploy(1, "", "")
	d.Spec.RevisionHistoryLimit = i32(1)
	old := []*appsv1.ReplicaSet{
		withRev(rs("r3", 0, 0, time.Hour, -1, -1), "3"),
		withRev(rs("r1", 0, 0, 3*time.Hour, -1, -1), "1"),
		withRev(rs("r2", 1, 1, 2*time.Hour, -1, -1), "2"), // still has a pod: kept
	}
	got := ReplicaSetsToCleanUp(d, old)
	if len(got) != 1 || got[0].Name != "r1" {
		t.Errorf("got %v, want r1", got)
	}
	d.Spec.RevisionHistoryLimit = i32(math.MaxInt32)
	if got := ReplicaSetsToCleanUp(d, old); got != nil {
		t.Errorf("MaxInt32 keeps all: %v", got)
	}
}

func TestRolloutStatus(t *testing.T) {
	progressing := func(reason string, status corev1.ConditionStatus, updated time.Time) appsv1.DeploymentCondition {
		return appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing, Status: status, Reason: reason,
			LastUpdateTime: metav1.NewTime(updated), LastTransitionTime: metav1.NewTime(updated.Add(-time.Hour))}
	}
	for _, tc := range []struct {
		name       string
		cond       *appsv1.DeploymentCondition
		oldStatus  appsv1.DeploymentStatus
		new        *appsv1.ReplicaSet
		wantReason string
		wantAvail  string
	}{
		{"complete", ptr(progressing(ReasonReplicaSetUpdated, corev1.ConditionTrue, now)), appsv1.DeploymentStatus{},
			rs("new", 3, 3, time.Minute, -1, -1), ReasonNewRSAvailable, ReasonMinimumAvailable},
		{"progress", ptr(progressing(ReasonNewReplicaSet, corev1.ConditionTrue, now.Add(-time.Minute))), appsv1.DeploymentStatus{},
			rs("new", 3, 1, time.Minute, -1, -1), ReasonReplicaSetUpdated, ReasonMinimumUnavailable},
		{"no progress past the deadline", ptr(progressing(ReasonReplicaSetUpdated, corev1.ConditionTrue, now.Add(-11*time.Minute))),
			appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 1, AvailableReplicas: 1},
			rs("new", 3, 1, time.Minute, -1, -1), ReasonTimedOut, ReasonMinimumUnavailable},
		{"no progress within the deadline", ptr(progressing(ReasonReplicaSetUpdated, corev1.ConditionTrue, now.Add(-9*time.Minute))),
			appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 1, AvailableReplicas: 1},
			rs("new", 3, 1, time.Minute, -1, -1), ReasonReplicaSetUpdated, ReasonMinimumUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := deploy(3, "1", "1")
			d.Status = tc.oldStatus
			d.Status.ObservedGeneration = 1
			d.Status.Conditions = []appsv1.DeploymentCondition{*tc.cond}
			st := RolloutStatus(d, []*appsv1.ReplicaSet{tc.new}, tc.new, now)
			c := GetCondition(st, appsv1.DeploymentProgressing)
			if c == nil || c.Reason != tc.wantReason {
				t.Fatalf("progressing %+v, want %s", c, tc.wantReason)
			}
			if a := GetCondition(st, appsv1.DeploymentAvailable); a == nil || a.Reason != tc.wantAvail {
				t.Errorf("available %+v, want %s", a, tc.wantAvail)
			}
			if tc.wantReason == ReasonReplicaSetUpdated && tc.name == "progress" {
				if !c.LastUpdateTime.Time.Equal(now) || !c.LastTransitionTime.Equal(&tc.cond.LastTransitionTime) {
					t.Errorf("progress refreshes lastUpdateTime only: %+v", c)
				}
				if c.Message != `ReplicaSet "new" is progressing.` {
					t.Errorf("message %q", c.Message)
				}
			}
		})
	}
	// No deadline: no Progressing condition at all.
	d := deploy(3, "1", "1")
	d.Spec.ProgressDeadlineSeconds = i32(math.MaxInt32)
	d.Status.Conditions = []appsv1.DeploymentCondition{progressing(ReasonReplicaSetUpdated, corev1.ConditionTrue, now)}
	if c := GetCondition(RolloutStatus(d, nil, nil, now), appsv1.DeploymentProgressing); c != nil {
		t.Errorf("progressing without a deadline: %+v", c)
	}
}

func TestProgressCheckAfter(t *testing.T) {
	d := deploy(3, "1", "1")
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue,
		Reason: ReasonReplicaSetUpdated, LastUpdateTime: metav1.NewTime(now.Add(-4 * time.Minute))}}
	if after, ok := ProgressCheckAfter(d, d.Status, now); !ok || after != 6*time.Minute {
		t.Errorf("got %v %v, want 6m", after, ok)
	}
	done := appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, AvailableReplicas: 3, ObservedGeneration: 1}
	if _, ok := ProgressCheckAfter(d, done, now); ok {
		t.Error("a complete rollout needs no check")
	}
}

func TestPausedCondition(t *testing.T) {
	d := deploy(1, "1", "1")
	d.Spec.Paused = true
	c := PausedCondition(d, now)
	if c == nil || c.Reason != ReasonPaused || c.Status != corev1.ConditionUnknown {
		t.Fatalf("paused: %+v", c)
	}
	d.Status.Conditions = []appsv1.DeploymentCondition{*c}
	if PausedCondition(d, now) != nil {
		t.Error("already paused")
	}
	d.Spec.Paused = false
	if c := PausedCondition(d, now); c == nil || c.Reason != ReasonResumed {
		t.Errorf("resumed: %+v", c)
	}
	d.Status.Conditions = []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: ReasonTimedOut}}
	d.Spec.Paused = true
	if PausedCondition(d, now) != nil {
		t.Error("a timeout is not overwritten")
	}
}

func ptr[T any](v T) *T { return &v }
