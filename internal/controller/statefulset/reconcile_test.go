package statefulset

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

type setOpt func(*appsv1.StatefulSet)

func parallel(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }
func onDelete(s *appsv1.StatefulSet) {
	s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
}
func partition(n int32) setOpt {
	return func(s *appsv1.StatefulSet) { s.Spec.UpdateStrategy.RollingUpdate.Partition = &n }
}
func maxUnavailable(n int) setOpt {
	return func(s *appsv1.StatefulSet) {
		s.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = ptr(intstr.FromInt(n))
	}
}
func start(n int32) setOpt {
	return func(s *appsv1.StatefulSet) { s.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: n} }
}
func minReady(n int32) setOpt { return func(s *appsv1.StatefulSet) { s.Spec.MinReadySeconds = n } }
func withClaims(s *appsv1.StatefulSet) {
	s.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{
		ObjectMeta: metav1.ObjectMeta{Name: "data"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}},
	}}
}
func retain(deleted, scaled appsv1.PersistentVolumeClaimRetentionPolicyType) setOpt {
	return func(s *appsv1.StatefulSet) {
		s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: deleted, WhenScaled: scaled}
	}
}
func deleting(s *appsv1.StatefulSet) { s.DeletionTimestamp = &metav1.Time{Time: now} }

func mkSet(replicas int32, opts ...setOpt) *appsv1.StatefulSet {
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "set-uid", Generation: 3},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			Selector:    &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			ServiceName: "web-svc",
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "img:2"}}},
			},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: ptr(int32(0))}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// pod states
const (
	pending = "pending"
	ready   = "ready"
	running = "running" // running, not ready
	failed  = "failed"
	gone    = "terminating"
)

// mkPod is set web's pod ordinal in state at revision rev ("A" or "B").
func mkPod(ord int, state, rev string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: fmt.Sprintf("web-%d", ord), Namespace: "ns", UID: types.UID(fmt.Sprintf("pod-uid-%d", ord)),
		Labels: map[string]string{"app": "web", appsv1.StatefulSetRevisionLabel: "web-" + rev,
			appsv1.StatefulSetPodNameLabel: fmt.Sprintf("web-%d", ord), appsv1.PodIndexLabel: fmt.Sprint(ord)},
	}}
	switch state {
	case pending:
		p.Status.Phase = corev1.PodPending
	case failed:
		p.Status.Phase = corev1.PodFailed
	case running:
		p.Status.Phase = corev1.PodRunning
	case ready, gone:
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(now.Add(-time.Minute))}}
	}
	if state == gone {
		p.DeletionTimestamp = &metav1.Time{Time: now}
	}
	return p
}

func readySince(p *corev1.Pod, d time.Duration) *corev1.Pod {
	p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(now.Add(-d))
	return p
}

func rev(name string) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "web-" + name}}
}

// summary renders a plan as "create web-0[B],claim data-web-0 delete web-2(update) ..." for comparison.
func summary(p Plan) string {
	var s []string
	for _, c := range p.CreateClaims {
		s = append(s, "claim "+c.Name)
	}
	for _, pod := range p.CreatePods {
		s = append(s, fmt.Sprintf("create %s[%s]", pod.Name, strings.TrimPrefix(pod.Labels[appsv1.StatefulSetRevisionLabel], "web-")))
	}
	for _, pod := range p.Relabel {
		s = append(s, "relabel "+pod.Name)
	}
	for _, co := range p.ClaimOwners {
		var o []string
		for _, r := range co.Owners {
			o = append(o, r.Kind+"/"+r.Name)
		}
		s = append(s, fmt.Sprintf("own %s by %s", co.Claim.Name, strings.Join(o, "+")))
	}
	for _, d := range p.Delete {
		s = append(s, fmt.Sprintf("delete %s(%s)", d.Pod.Name, d.Reason))
	}
	return strings.Join(s, ", ")
}

func TestReconcile(t *testing.T) {
	A, B := rev("A"), rev("B")
	claim := func(name string, owners ...metav1.OwnerReference) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", OwnerReferences: owners}}
	}
	podRef := func(ord int) metav1.OwnerReference {
		return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: fmt.Sprintf("web-%d", ord), UID: types.UID(fmt.Sprintf("pod-uid-%d", ord)), Controller: ptr(true)}
	}
	for _, tc := range []struct {
		name    string
		set     *appsv1.StatefulSet
		current *appsv1.ControllerRevision // default: B (no update under way)
		pods    []*corev1.Pod
		claims  []*corev1.PersistentVolumeClaim
		want    string
	}{
		{name: "ordered: an empty set creates only its first pod, claims first",
			set: mkSet(3, withClaims), want: "claim data-web-0, create web-0[B]"},
		{name: "ordered: waits for a pending pod",
			set: mkSet(3), pods: []*corev1.Pod{mkPod(0, pending, "B")}, want: ""},
		{name: "ordered: waits for a running pod to be ready",
			set: mkSet(3), pods: []*corev1.Pod{mkPod(0, running, "B")}, want: ""},
		{name: "ordered: the next pod once the lower ones are ready",
			set: mkSet(3), pods: []*corev1.Pod{mkPod(0, ready, "B")}, want: "create web-1[B]"},
		{name: "ordered: a gap below is filled before anything above",
			set: mkSet(3), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(2, ready, "B")}, want: "create web-1[B]"},
		{name: "ordered: waits for minReadySeconds before the next pod",
			set: mkSet(3, minReady(30)), pods: []*corev1.Pod{readySince(mkPod(0, ready, "B"), 10*time.Second)}, want: ""},
		{name: "ordered: an existing claim is not made again",
			set: mkSet(2, withClaims), pods: []*corev1.Pod{mkPod(0, ready, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0"), claim("data-web-1")}, want: "create web-1[B]"},
		{name: "ordinals.start numbers the pods",
			set: mkSet(2, start(5)), pods: []*corev1.Pod{mkPod(5, ready, "B")}, want: "create web-6[B]"},
		{name: "ordinals.start: pods below it are condemned",
			set: mkSet(1, start(1)), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B")}, want: "delete web-0(scale down)"},
		{name: "parallel: every missing pod at once",
			set: mkSet(3, parallel, withClaims), pods: []*corev1.Pod{mkPod(1, pending, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-1")},
			want:   "claim data-web-0, claim data-web-2, create web-0[B], create web-2[B]"},
		{name: "ordered: scale down takes the highest ordinal only",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B"), mkPod(2, ready, "B")},
			want: "delete web-2(scale down)"},
		{name: "ordered: scale down waits for a terminating pod",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B"), mkPod(2, gone, "B")}, want: ""},
		{name: "ordered: scale down waits for unhealthy replicas",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, running, "B"), mkPod(1, ready, "B")}, want: ""},
		{name: "ordered: the first unhealthy condemned pod may go",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B"), mkPod(2, running, "B")},
			want: "delete web-2(scale down)"},
		{name: "ordered: an unhealthy condemned pod above the first unhealthy one blocks",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, running, "B"), mkPod(2, running, "B")}, want: ""},
		{name: "ordered: a healthy condemned pod goes despite an unhealthy one below",
			set: mkSet(1), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, running, "B"), mkPod(2, ready, "B")}, want: "delete web-2(scale down)"},
		{name: "parallel: scale down deletes all condemned at once",
			set: mkSet(1, parallel), pods: []*corev1.Pod{mkPod(0, running, "B"), mkPod(1, ready, "B"), mkPod(2, gone, "B"), mkPod(3, pending, "B")},
			want: "delete web-3(scale down), delete web-1(scale down)"},
		{name: "a failed pod is deleted; a later pass recreates it",
			set: mkSet(2), pods: []*corev1.Pod{mkPod(0, failed, "B"), mkPod(1, ready, "B")}, want: "delete web-0(finished)"},
		{name: "a failed pod already being deleted is waited for",
			set: mkSet(2), pods: []*corev1.Pod{func() *corev1.Pod {
				p := mkPod(0, failed, "B")
				p.DeletionTimestamp = &metav1.Time{Time: now}
				return p
			}()}, want: ""},
		{name: "an adopted pod without the identity labels gets them",
			set: mkSet(2), pods: []*corev1.Pod{func() *corev1.Pod { p := mkPod(0, ready, "B"); delete(p.Labels, appsv1.PodIndexLabel); return p }()},
			want: "create web-1[B], relabel web-0"},
		{name: "parallel: an adopted pod without the identity labels gets them",
			set: mkSet(1, parallel), pods: []*corev1.Pod{func() *corev1.Pod {
				p := mkPod(0, ready, "B")
				delete(p.Labels, appsv1.StatefulSetPodNameLabel)
				return p
			}()},
			want: "relabel web-0"},
		{name: "a set being deleted does nothing",
			set: mkSet(3, deleting), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(5, ready, "B")}, want: ""},
		{name: "rolling update: the highest ordinal first, one at a time",
			set: mkSet(3), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, ready, "A")},
			want: "delete web-2(update)"},
		{name: "rolling update: the next once the updated pod is ready",
			set: mkSet(3), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, ready, "B")},
			want: "delete web-1(update)"},
		{name: "rolling update: a recreated pod is at the update revision",
			set: mkSet(3), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A")},
			want: "create web-2[B]"},
		{name: "rolling update: waits while a pod is unavailable",
			set: mkSet(3), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, gone, "A")}, want: ""},
		{name: "rolling update: partition keeps lower ordinals",
			set: mkSet(3, partition(2)), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, ready, "B")}, want: ""},
		{name: "rolling update: a pod below the partition is recreated at the current revision",
			set: mkSet(3, partition(2)), current: A, pods: []*corev1.Pod{mkPod(1, ready, "A"), mkPod(2, ready, "B")}, want: "create web-0[A]"},
		{name: "rolling update: maxUnavailable 2 replaces two at once",
			set: mkSet(3, maxUnavailable(2)), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, ready, "A")},
			want: "delete web-2(update), delete web-1(update)"},
		{name: "rolling update: maxUnavailable counts pods already down",
			set: mkSet(3, maxUnavailable(2), parallel), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A"), mkPod(2, pending, "B")},
			want: "delete web-1(update)"},
		{name: "OnDelete leaves old pods alone",
			set: mkSet(2, onDelete), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A")}, want: ""},
		{name: "OnDelete recreates a deleted pod at the update revision",
			set: mkSet(2, onDelete), current: A, pods: []*corev1.Pod{mkPod(0, ready, "A")}, want: "create web-1[B]"},
		{name: "whenDeleted=Delete: the set owns its replicas' claims",
			set: mkSet(1, withClaims, retain("Delete", "Retain")), pods: []*corev1.Pod{mkPod(0, ready, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0")}, want: "own data-web-0 by StatefulSet/web"},
		{name: "whenScaled=Delete: a condemned pod owns its claims before it goes",
			set: mkSet(1, withClaims, retain("Retain", "Delete")), pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0"), claim("data-web-1")},
			want:   "own data-web-1 by Pod/web-1, delete web-1(scale down)"},
		{name: "Retain: references to the set or pod are removed",
			set: mkSet(1, withClaims), pods: []*corev1.Pod{mkPod(0, ready, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0", podRef(0))}, want: "own data-web-0 by "},
		{name: "a claim another controller owns is left alone",
			set: mkSet(1, withClaims, retain("Delete", "Delete")), pods: []*corev1.Pod{mkPod(0, ready, "B")},
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0", metav1.OwnerReference{Kind: "Thing", Name: "x", UID: "x", Controller: ptr(true)})}, want: ""},
		{name: "a claim an earlier pod of the name still owns holds the new pod back",
			set:    mkSet(1, withClaims, retain("Retain", "Delete")),
			claims: []*corev1.PersistentVolumeClaim{claim("data-web-0", podRef(0))}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			current := tc.current
			if current == nil {
				current = B
			}
			cl := map[string]*corev1.PersistentVolumeClaim{}
			for _, c := range tc.claims {
				cl[c.Name] = c
			}
			in := Input{Set: tc.set, Current: current, Update: B, Pods: tc.pods, Now: now,
				Claims: func(n string) (*corev1.PersistentVolumeClaim, bool) { c, ok := cl[n]; return c, ok }}
			if got := summary(Reconcile(in)); got != tc.want {
				t.Errorf("plan\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestReconcileStatus(t *testing.T) {
	A, B := rev("A"), rev("B")
	for _, tc := range []struct {
		name    string
		set     *appsv1.StatefulSet
		current *appsv1.ControllerRevision
		pods    []*corev1.Pod
		want    appsv1.StatefulSetStatus
	}{
		{name: "mid-update counts",
			set: mkSet(3), current: A,
			pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, running, "A"), mkPod(2, ready, "B")},
			want: appsv1.StatefulSetStatus{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2, CurrentReplicas: 2, UpdatedReplicas: 1,
				CurrentRevision: "web-A", UpdateRevision: "web-B"}},
		{name: "a deletion for the update is no longer current",
			set: mkSet(2), current: A,
			pods: []*corev1.Pod{mkPod(0, ready, "A"), mkPod(1, ready, "A")},
			want: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2, CurrentReplicas: 1,
				CurrentRevision: "web-A", UpdateRevision: "web-B"}},
		{name: "all updated and ready completes the update",
			set: mkSet(2), current: A,
			pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, ready, "B")},
			want: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2, CurrentReplicas: 2, UpdatedReplicas: 2,
				CurrentRevision: "web-B", UpdateRevision: "web-B"}},
		{name: "terminating pods count as replicas, not as current or updated",
			set: mkSet(1), current: B,
			pods: []*corev1.Pod{mkPod(0, ready, "B"), mkPod(1, gone, "B")},
			want: appsv1.StatefulSetStatus{Replicas: 2, ReadyReplicas: 2, AvailableReplicas: 2, CurrentReplicas: 1, UpdatedReplicas: 1,
				CurrentRevision: "web-B", UpdateRevision: "web-B"}},
		{name: "minReadySeconds: ready but not yet available",
			set: mkSet(1, minReady(30)), current: B,
			pods: []*corev1.Pod{readySince(mkPod(0, ready, "B"), 10*time.Second)},
			want: appsv1.StatefulSetStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 0, CurrentReplicas: 1, UpdatedReplicas: 1,
				CurrentRevision: "web-B", UpdateRevision: "web-B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Reconcile(Input{Set: tc.set, Current: tc.current, Update: B, Pods: tc.pods, Now: now, CollisionCount: 2,
				Claims: func(string) (*corev1.PersistentVolumeClaim, bool) { return nil, false }})
			tc.want.ObservedGeneration = 3
			tc.want.CollisionCount = ptr(int32(2))
			got := p.Status
			if got.ObservedGeneration != tc.want.ObservedGeneration || *got.CollisionCount != 2 ||
				fmt.Sprint(got.Replicas, got.ReadyReplicas, got.AvailableReplicas, got.CurrentReplicas, got.UpdatedReplicas, got.CurrentRevision, got.UpdateRevision) !=
					fmt.Sprint(tc.want.Replicas, tc.want.ReadyReplicas, tc.want.AvailableReplicas, tc.want.CurrentReplicas, tc.want.UpdatedReplicas, tc.want.CurrentRevision, tc.want.UpdateRevision) {
				t.Errorf("status\n got: %+v\nwant: %+v", got, tc.want)
			}
		})
	}
}

func TestRequeueForMinReadySeconds(t *testing.T) {
	p := Reconcile(Input{Set: mkSet(1, minReady(30)), Current: rev("B"), Update: rev("B"), Now: now,
		Pods:   []*corev1.Pod{readySince(mkPod(0, ready, "B"), 10*time.Second)},
		Claims: func(string) (*corev1.PersistentVolumeClaim, bool) { return nil, false }})
	if p.RequeueAfter < 20*time.Second || p.RequeueAfter > 22*time.Second {
		t.Errorf("RequeueAfter = %v, want about 20s", p.RequeueAfter)
	}
}

func TestNewPod(t *testing.T) {
	set := mkSet(3, withClaims)
	set.Spec.Template.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, {Name: "cfg"}}
	p := newPod(set, &set.Spec.Template, "web-B", 2)
	if p.Name != "web-2" || p.Namespace != "ns" || p.Spec.Hostname != "web-2" || p.Spec.Subdomain != "web-svc" {
		t.Errorf("identity: name %s hostname %s subdomain %s", p.Name, p.Spec.Hostname, p.Spec.Subdomain)
	}
	for k, v := range map[string]string{"app": "web", "statefulset.kubernetes.io/pod-name": "web-2", "apps.kubernetes.io/pod-index": "2", "controller-revision-hash": "web-B"} {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	var vols []string
	for _, v := range p.Spec.Volumes {
		s := v.Name
		if v.PersistentVolumeClaim != nil {
			s += "=" + v.PersistentVolumeClaim.ClaimName
		}
		vols = append(vols, s)
	}
	if !slices.Equal(vols, []string{"data=data-web-2", "cfg"}) {
		t.Errorf("volumes %v", vols)
	}
	ref := metav1.GetControllerOf(p)
	if ref == nil || ref.UID != "set-uid" || ref.Kind != "StatefulSet" {
		t.Errorf("controller %+v", ref)
	}
	if set.Spec.Template.Labels[appsv1.StatefulSetPodNameLabel] != "" || set.Spec.Template.Spec.Hostname != "" {
		t.Error("newPod changed the set's template")
	}
	c := claims(set, 2)[0]
	if c.Name != "data-web-2" || c.Labels["app"] != "web" || c.Namespace != "ns" {
		t.Errorf("claim %s labels %v", c.Name, c.Labels)
	}
}

func TestParentAndOrdinal(t *testing.T) {
	for _, tc := range []struct {
		name, parent string
		ord          int
	}{
		{"web-0", "web", 0}, {"my-web-12", "my-web", 12}, {"web", "", -1}, {"web-", "", -1}, {"web-x1", "", -1}, {"web-99999999999", "", -1},
	} {
		if p, o := parentAndOrdinal(tc.name); p != tc.parent || o != tc.ord {
			t.Errorf("parentAndOrdinal(%q) = %q, %d", tc.name, p, o)
		}
	}
}
