package replicaset

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// pod builds a test pod; opts adjust it.
func pod(name string, opts ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"},
		CreationTimestamp: metav1.NewTime(now.Add(-time.Hour)),
	}}
	p.Spec.NodeName = "n1"
	p.Status.Phase = corev1.PodRunning
	for _, o := range opts {
		o(p)
	}
	return p
}

func ready(since time.Duration) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-since)),
		})
	}
}
func phase(ph corev1.PodPhase) func(*corev1.Pod) { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func node(n string) func(*corev1.Pod)            { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
func created(ago time.Duration) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(now.Add(-ago)) }
}
func restarts(n int32) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: n}} }
}
func cost(v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Annotations = map[string]string{PodDeletionCostAnnotation: v} }
}
func deleting(p *corev1.Pod) { t := metav1.NewTime(now); p.DeletionTimestamp = &t }
func ownedBy(uid types.UID) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		yes := true
		p.OwnerReferences = []metav1.OwnerReference{{Kind: "ReplicaSet", Name: "o", UID: uid, Controller: &yes}}
	}
}

func names(ps []*corev1.Pod) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.Name)
	}
	return strings.Join(s, ",")
}

func TestDeletionRanking(t *testing.T) {
	for _, tc := range []struct {
		name    string
		first   *corev1.Pod // deleted before second
		second  *corev1.Pod
		related []*corev1.Pod
	}{
		{"unassigned before assigned", pod("a", node("")), pod("b", ready(time.Hour)), nil},
		{"pending before unknown", pod("a", phase(corev1.PodPending)), pod("b", phase(corev1.PodUnknown)), nil},
		{"unknown before running", pod("a", phase(corev1.PodUnknown)), pod("b"), nil},
		{"not ready before ready", pod("a"), pod("b", ready(time.Hour)), nil},
		{"lower deletion cost first", pod("a", ready(time.Minute), cost("-5")), pod("b", ready(time.Hour)), nil},
		{"invalid cost counts as zero", pod("a", cost("x")), pod("b", cost("1")), nil},
		{"doubled up first", pod("a", node("n1")), pod("b", node("n2")),
			[]*corev1.Pod{pod("x", node("n1")), pod("y", node("n1")), pod("z", node("n2"))}},
		{"ready for less time first", pod("a", ready(time.Minute)), pod("b", ready(time.Hour)), nil},
		{"more restarts first", pod("a", restarts(3)), pod("b", restarts(1)), nil},
		{"newer first", pod("a", created(time.Minute)), pod("b", created(time.Hour)), nil},
		{"same log2 age: by uid", pod("a", created(61*time.Minute)), pod("b", created(62*time.Minute)), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]*corev1.Pod{{tc.first, tc.second}, {tc.second, tc.first}} {
				got := PodsToDelete(order, tc.related, 1, now)
				if got[0] != tc.first {
					t.Errorf("from %s deleted %s, want %s", names(order), names(got), tc.first.Name)
				}
			}
		})
	}
}

func TestPlanReplicas(t *testing.T) {
	three := []*corev1.Pod{pod("a", ready(time.Hour)), pod("b", node("")), pod("c", ready(time.Minute))}
	for _, tc := range []struct {
		name       string
		replicas   int32
		pods       []*corev1.Pod
		burst      int
		wantCreate int
		wantDelete string
	}{
		{"in line", 3, three, 500, 0, ""},
		{"too few", 5, three, 500, 2, ""},
		{"too few, burst caps", 1000, three, 500, 500, ""},
		{"too many: unscheduled, then newest ready", 1, three, 500, 0, "b,c"},
		{"too many, burst caps", 0, three, 2, 0, "b,c"},
		{"delete all", 0, three, 500, 0, "a,b,c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PlanReplicas(tc.replicas, tc.pods, nil, tc.burst, now)
			if got.Create != tc.wantCreate || names(got.Delete) != tc.wantDelete {
				t.Errorf("got create %d delete %q, want %d %q", got.Create, names(got.Delete), tc.wantCreate, tc.wantDelete)
			}
		})
	}
}

func TestSlowStartBatch(t *testing.T) {
	for _, tc := range []struct {
		name              string
		count, failAt     int // failAt: the call (1-based) that fails; 0 never
		wantCalls, wantOK int
		wantErr           bool
	}{
		{"all succeed", 10, 0, 10, 10, false},
		{"none", 0, 0, 0, 0, false},
		{"first fails: one call only", 500, 1, 1, 0, true},
		{"fails in the third batch (1+2+4)", 500, 5, 7, 6, true},
		{"last batch is the remainder", 5, 0, 5, 5, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			ok, err := slowStartBatch(tc.count, 1, func() error {
				if n := calls.Add(1); int(n) == tc.failAt {
					return errors.New("quota")
				}
				return nil
			})
			if int(calls.Load()) != tc.wantCalls || ok != tc.wantOK || (err != nil) != tc.wantErr {
				t.Errorf("calls %d ok %d err %v, want %d %d %v", calls.Load(), ok, err, tc.wantCalls, tc.wantOK, tc.wantErr)
			}
		})
	}
}

func rs(replicas int32, minReady int32, conds ...appsv1.ReplicaSetCondition) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "rs-uid", Generation: 2},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas, MinReadySeconds: minReady,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "fe"}}},
		},
		Status: appsv1.ReplicaSetStatus{Conditions: conds},
	}
}

func TestCalculateStatus(t *testing.T) {
	full := func(p *corev1.Pod) { p.Labels = map[string]string{"app": "web", "tier": "fe"} }
	failure := appsv1.ReplicaSetCondition{Type: appsv1.ReplicaSetReplicaFailure, Status: corev1.ConditionTrue, Reason: ReasonFailedCreate, Message: "old"}
	for _, tc := range []struct {
		name                          string
		rs                            *appsv1.ReplicaSet
		pods, terminating             []*corev1.Pod
		err                           error
		replicas, fully, ready, avail int32
		wantFailure                   string // reason, or "" for none
	}{
		{"counts", rs(3, 0), []*corev1.Pod{pod("a", full, ready(time.Hour)), pod("b", ready(time.Second)), pod("c", full)}, []*corev1.Pod{pod("d")},
			nil, 3, 2, 2, 2, ""},
		{"minReadySeconds holds back availability", rs(3, 10), []*corev1.Pod{pod("a", ready(time.Hour)), pod("b", ready(5*time.Second)), pod("c", ready(10*time.Second))}, nil,
			nil, 3, 0, 3, 1, ""},
		{"create error", rs(3, 0), []*corev1.Pod{pod("a")}, nil, errors.New("quota exceeded"), 1, 0, 0, 0, ReasonFailedCreate},
		{"delete error", rs(0, 0), []*corev1.Pod{pod("a")}, nil, errors.New("forbidden"), 1, 0, 0, 0, ReasonFailedDelete},
		{"an existing failure is kept", rs(3, 0, failure), nil, nil, errors.New("new"), 0, 0, 0, 0, ReasonFailedCreate},
		{"success clears the failure", rs(3, 0, failure), nil, nil, nil, 0, 0, 0, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := CalculateStatus(tc.rs, tc.pods, tc.terminating, tc.err, now)
			if st.Replicas != tc.replicas || st.FullyLabeledReplicas != tc.fully || st.ReadyReplicas != tc.ready || st.AvailableReplicas != tc.avail {
				t.Errorf("got %d/%d/%d/%d, want %d/%d/%d/%d", st.Replicas, st.FullyLabeledReplicas, st.ReadyReplicas, st.AvailableReplicas,
					tc.replicas, tc.fully, tc.ready, tc.avail)
			}
			if st.TerminatingReplicas == nil || int(*st.TerminatingReplicas) != len(tc.terminating) {
				t.Errorf("terminatingReplicas %v, want %d", st.TerminatingReplicas, len(tc.terminating))
			}
			c := rsCondition(st, appsv1.ReplicaSetReplicaFailure)
			switch {
			case tc.wantFailure == "" && c != nil:
				t.Errorf("unexpected failure condition %+v", c)
			case tc.wantFailure != "" && (c == nil || c.Reason != tc.wantFailure):
				t.Errorf("failure condition %+v, want reason %s", c, tc.wantFailure)
			}
			if tc.name == "an existing failure is kept" && c.Message != "old" {
				t.Errorf("condition message %q: an existing condition must not churn", c.Message)
			}
		})
	}
}

func TestStatusUnchanged(t *testing.T) {
	r := rs(1, 0)
	r.Status.ObservedGeneration = 2
	st := CalculateStatus(r, nil, nil, nil, now)
	if statusUnchanged(r, st) {
		t.Error("terminatingReplicas appearing is a change")
	}
	r.Status = st
	if !statusUnchanged(r, CalculateStatus(r, nil, nil, nil, now)) {
		t.Error("recomputing the same status is no change")
	}
	r.Generation = 3
	if statusUnchanged(r, CalculateStatus(r, nil, nil, nil, now)) {
		t.Error("an unobserved generation must be written")
	}
}

func TestClaim(t *testing.T) {
	owner := rs(1, 0)
	gone := rs(1, 0)
	ts := metav1.NewTime(now)
	gone.DeletionTimestamp = &ts
	other := func(p *corev1.Pod) { p.Namespace = "other" }
	for _, tc := range []struct {
		name    string
		owner   *appsv1.ReplicaSet
		pod     *corev1.Pod
		matches bool
		want    ClaimAction
	}{
		{"owned and matching", owner, pod("a", ownedBy("rs-uid")), true, ClaimOwned},
		{"owned, no longer matching", owner, pod("a", ownedBy("rs-uid")), false, ClaimRelease},
		{"owned, not matching, owner being deleted", gone, pod("a", ownedBy("rs-uid")), false, ClaimIgnore},
		{"someone else's", owner, pod("a", ownedBy("x")), true, ClaimIgnore},
		{"matching orphan", owner, pod("a"), true, ClaimAdopt},
		{"orphan not matching", owner, pod("a"), false, ClaimIgnore},
		{"orphan being deleted", owner, pod("a", deleting), true, ClaimIgnore},
		{"orphan, owner being deleted", gone, pod("a"), true, ClaimIgnore},
		{"orphan in another namespace", owner, pod("a", other), true, ClaimIgnore},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Claim(tc.owner, tc.matches, tc.pod); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExpectations(t *testing.T) {
	e := NewExpectations()
	if !e.Satisfied("k", now) {
		t.Fatal("nothing recorded must be satisfied")
	}
	e.ExpectCreations("k", 2, now)
	e.CreationObserved("k")
	if e.Satisfied("k", now) {
		t.Fatal("one creation outstanding")
	}
	e.CreationObserved("k")
	e.CreationObserved("k") // an extra observation does not go negative
	if !e.Satisfied("k", now) {
		t.Fatal("all creations observed")
	}
	e.ExpectDeletions("k", []string{"ns/a", "ns/b"}, now)
	e.DeletionObserved("k", "ns/a")
	e.DeletionObserved("k", "ns/a") // seen twice (update, then delete): counted once
	if e.Satisfied("k", now) {
		t.Fatal("ns/b outstanding")
	}
	if !e.Satisfied("k", now.Add(ExpectationsTimeout+time.Second)) {
		t.Fatal("expectations must expire")
	}
	e.DeletionObserved("k", "ns/b")
	if !e.Satisfied("k", now) {
		t.Fatal("all deletions observed")
	}
	e.ExpectCreations("k", 1, now)
	e.Delete("k")
	if !e.Satisfied("k", now) {
		t.Fatal("deleted expectations are satisfied")
	}
}

func TestPodFromTemplate(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}, Annotations: map[string]string{"a": "b"}, Finalizers: []string{"f"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
	ref := NewControllerRef(rs(1, 0), ReplicaSetKind)
	p, err := PodFromTemplate(tmpl, "web", ref)
	if err != nil {
		t.Fatal(err)
	}
	if p.GenerateName != "web-" || p.Labels["app"] != "web" || p.Annotations["a"] != "b" || p.Finalizers[0] != "f" || p.Spec.Containers[0].Image != "nginx" {
		t.Errorf("pod %+v", p.ObjectMeta)
	}
	want := metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web", UID: "rs-uid", Controller: ptr(true), BlockOwnerDeletion: ptr(true)}
	if !apiequality.Semantic.DeepEqual(p.OwnerReferences, []metav1.OwnerReference{want}) {
		t.Errorf("ownerReferences %+v", p.OwnerReferences)
	}
	p.Labels["x"] = "y"
	if tmpl.Labels["x"] != "" {
		t.Error("the pod shares the template's labels")
	}
	if p, _ := PodFromTemplate(tmpl, strings.Repeat("a", 253), ref); p.GenerateName != strings.Repeat("a", 253) {
		t.Errorf("a name too long for a dash keeps none: %q", p.GenerateName)
	}
	if _, err := PodFromTemplate(&corev1.PodTemplateSpec{}, "web", ref); err == nil {
		t.Error("a template without labels must be refused")
	}
}

func ptr[T any](v T) *T { return &v }

func TestPatches(t *testing.T) {
	ref := NewControllerRef(rs(1, 0), ReplicaSetKind)
	if got, want := string(AdoptPatch(ref, "pod-uid")), `{"metadata":{"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web","uid":"rs-uid","controller":true,"blockOwnerDeletion":true}],"uid":"pod-uid"}}`; got != want {
		t.Errorf("adopt patch\n got %s\nwant %s", got, want)
	}
	if got, want := string(ReleasePatch("rs-uid", "pod-uid")), `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"rs-uid"}],"uid":"pod-uid"}}`; got != want {
		t.Errorf("release patch\n got %s\nwant %s", got, want)
	}
}

func TestReplicationControllerConversion(t *testing.T) {
	two := int32(2)
	rc := &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "rc", Namespace: "ns", UID: "u", Generation: 4},
		Spec: corev1.ReplicationControllerSpec{
			Replicas: &two, MinReadySeconds: 5, Selector: map[string]string{"app": "web"},
			Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}},
		},
		Status: corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 1, ObservedGeneration: 3,
			Conditions: []corev1.ReplicationControllerCondition{{Type: corev1.ReplicationControllerReplicaFailure, Status: corev1.ConditionTrue, Reason: "FailedCreate"}}},
	}
	r := rcToRS(rc)
	if r.Spec.Selector.MatchLabels["app"] != "web" || *r.Spec.Replicas != 2 || r.Spec.MinReadySeconds != 5 || r.Status.Conditions[0].Reason != "FailedCreate" {
		t.Errorf("converted %+v", r)
	}
	back := rsToRC(r)
	back.TypeMeta = rc.TypeMeta
	if !apiequality.Semantic.DeepEqual(back, rc) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, rc)
	}
}
