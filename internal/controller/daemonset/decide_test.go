package daemonset

import (
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

const cur, prev = "new", "old"

type podOpt func(*corev1.Pod)

func ready(since time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(since)}}
	}
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

func deleting(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: t0} }

func created(at time.Time) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(at) }
}

func unscheduled(p *corev1.Pod) {
	p.Spec.Affinity = nodeNameAffinity(nil, p.Spec.NodeName)
	p.Spec.NodeName = ""
}

func pod(name, nodeName, hash string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + nodeName + "-" + name),
			Labels: map[string]string{appsv1.DefaultDaemonSetUniqueLabelKey: hash}, CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
		Spec:   corev1.PodSpec{NodeName: nodeName},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestDecideNode(t *testing.T) {
	rev := Revision{Hash: cur}
	old := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name      string
		n         NodePods
		surge     bool
		create    bool
		del       []string
		failed    []string
		succeeded []string
		requeue   time.Duration
	}{
		{name: "eligible, no pod: create", n: NodePods{ShouldRun: true, ShouldContinueRunning: true}, create: true},
		{name: "eligible, running pod: nothing", n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", cur, ready(old))}}},
		{name: "NoSchedule taint, no pod: nothing", n: NodePods{ShouldContinueRunning: true}},
		{name: "NoSchedule taint, running pod stays", n: NodePods{ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", cur, ready(old))}}},
		{name: "not eligible: delete its pods, not the terminating ones",
			n:   NodePods{Pods: []*corev1.Pod{pod("a", "n", cur, ready(old)), pod("b", "n", cur, deleting)}},
			del: []string{"a"}},
		{name: "only a terminating pod: wait for it, no surge",
			n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", prev, deleting)}}},
		{name: "only a terminating pod: with surge create beside it", surge: true, create: true,
			n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", prev, deleting)}}},
		{name: "failed pod: deleted, replacement next pass",
			n:   NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", cur, phase(corev1.PodFailed))}},
			del: []string{"a"}, failed: []string{"a"}},
		{name: "failed pod in backoff: kept, look again later",
			n:       NodePods{ShouldRun: true, ShouldContinueRunning: true, FailedBackoff: 4 * time.Second, Pods: []*corev1.Pod{pod("a", "n", cur, phase(corev1.PodFailed))}},
			requeue: 4 * time.Second},
		{name: "succeeded pod: deleted",
			n:   NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("a", "n", cur, phase(corev1.PodSucceeded))}},
			del: []string{"a"}, succeeded: []string{"a"}},
		{name: "duplicates: the oldest stays, scheduled first",
			n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{
				pod("young", "n", cur, created(t0.Add(-time.Minute))),
				pod("unsched", "n", cur, created(t0.Add(-2*time.Hour)), unscheduled),
				pod("oldest", "n", cur, created(t0.Add(-time.Hour))),
			}},
			del: []string{"young", "unsched"}},
		{name: "surge: new not yet available, old ready: both stay", surge: true,
			n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("o", "n", prev, ready(old)), pod("c", "n", cur)}}},
		{name: "surge: new available: old goes", surge: true,
			n:   NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("o", "n", prev, ready(old)), pod("c", "n", cur, ready(old))}},
			del: []string{"o"}},
		{name: "surge: old not ready: old goes", surge: true,
			n:   NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("o", "n", prev), pod("c", "n", cur)}},
			del: []string{"o"}},
		{name: "surge: two new, one old: the younger new goes", surge: true,
			n: NodePods{ShouldRun: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{
				pod("o", "n", prev, ready(old)), pod("c1", "n", cur, created(t0.Add(-time.Hour))), pod("c2", "n", cur, created(t0.Add(-time.Minute)))}},
			del: []string{"c2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.n.Name = "n"
			tc.n.Exists = true
			d := DecideNode(tc.n, rev, tc.surge, 0, t0)
			if d.Create != tc.create || !slices.Equal(names(d.Delete), tc.del) || !slices.Equal(names(d.Failed), tc.failed) ||
				!slices.Equal(names(d.Succeeded), tc.succeeded) || d.RequeueAfter != tc.requeue {
				t.Errorf("got create=%v delete=%v failed=%v succeeded=%v requeue=%v; want %v %v %v %v %v",
					d.Create, names(d.Delete), names(d.Failed), names(d.Succeeded), d.RequeueAfter,
					tc.create, tc.del, tc.failed, tc.succeeded, tc.requeue)
			}
		})
	}
}

func TestRevisionUpdated(t *testing.T) {
	gen := int64(2)
	r := Revision{Hash: "h", Generation: &gen}
	byHash := pod("a", "n", "h")
	byGen := pod("b", "n", "other")
	byGen.Labels[TemplateGenerationLabel] = "2"
	stale := pod("c", "n", "other")
	stale.Labels[TemplateGenerationLabel] = "1"
	if !r.Updated(byHash) || !r.Updated(byGen) || r.Updated(stale) {
		t.Errorf("Updated: %v %v %v", r.Updated(byHash), r.Updated(byGen), r.Updated(stale))
	}
	ds := dsWith(nil)
	ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "7"}
	if g := RevisionOf(ds, "h").Generation; g == nil || *g != 7 {
		t.Errorf("RevisionOf generation %v", g)
	}
}

func intOrStr(s string) *intstr.IntOrString {
	v := intstr.Parse(s)
	return &v
}

func rolling(maxUnavailable, maxSurge string) *appsv1.DaemonSet {
	ds := dsWith(nil)
	ds.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: intOrStr(maxUnavailable), MaxSurge: intOrStr(maxSurge)}
	return ds
}

func TestUpdateCounts(t *testing.T) {
	for _, tc := range []struct {
		unavail, surge string
		desired        int
		want           Counts
	}{
		{"1", "0", 5, Counts{MaxUnavailable: 1}},
		{"30%", "0", 5, Counts{MaxUnavailable: 2}}, // rounds up
		{"0", "25%", 5, Counts{MaxSurge: 2}},
		{"0", "0", 5, Counts{MaxUnavailable: 1}}, // never stuck
		{"0", "0", 0, Counts{}},
		{"100%", "0", 3, Counts{MaxUnavailable: 3}},
	} {
		got, err := UpdateCounts(rolling(tc.unavail, tc.surge), tc.desired)
		if err != nil || got != tc.want {
			t.Errorf("UpdateCounts(%s, %s, %d) = %+v, %v; want %+v", tc.unavail, tc.surge, tc.desired, got, err, tc.want)
		}
	}
	ds := dsWith(nil)
	ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
	if got, _ := UpdateCounts(ds, 3); got != (Counts{}) {
		t.Errorf("OnDelete counts %+v", got)
	}
}

func eligible(name string, pods ...*corev1.Pod) NodePods {
	return NodePods{Name: name, Exists: true, ShouldRun: true, ShouldContinueRunning: true, Pods: pods}
}

func TestRollingUpdate(t *testing.T) {
	rev := Revision{Hash: cur}
	old := t0.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		nodes  []NodePods
		c      Counts
		del    []string
		create []string
	}{
		{name: "maxUnavailable 1: one old pod at a time",
			nodes: []NodePods{eligible("a", pod("a", "a", prev, ready(old))), eligible("b", pod("b", "b", prev, ready(old))), eligible("c", pod("c", "c", prev, ready(old)))},
			c:     Counts{MaxUnavailable: 1}, del: []string{"a"}},
		{name: "maxUnavailable 2",
			nodes: []NodePods{eligible("a", pod("a", "a", prev, ready(old))), eligible("b", pod("b", "b", prev, ready(old))), eligible("c", pod("c", "c", prev, ready(old)))},
			c:     Counts{MaxUnavailable: 2}, del: []string{"a", "b"}},
		{name: "an updated pod not yet available uses the budget",
			nodes: []NodePods{eligible("a", pod("a", "a", cur)), eligible("b", pod("b", "b", prev, ready(old)))},
			c:     Counts{MaxUnavailable: 1}},
		{name: "a node without a pod uses the budget",
			nodes: []NodePods{eligible("a"), eligible("b", pod("b", "b", prev, ready(old)))},
			c:     Counts{MaxUnavailable: 1}},
		{name: "unavailable old pods always go",
			nodes: []NodePods{eligible("a", pod("a", "a", prev)), eligible("b", pod("b", "b", prev)), eligible("c", pod("c", "c", prev, ready(old)))},
			c:     Counts{MaxUnavailable: 1}, del: []string{"a", "b"}},
		{name: "all updated and available: nothing",
			nodes: []NodePods{eligible("a", pod("a", "a", cur, ready(old))), eligible("b", pod("b", "b", cur, ready(old)))},
			c:     Counts{MaxUnavailable: 1}},
		{name: "surge 1: one new pod beside an old one",
			nodes: []NodePods{eligible("a", pod("a", "a", prev, ready(old))), eligible("b", pod("b", "b", prev, ready(old)))},
			c:     Counts{MaxSurge: 1}, create: []string{"a"}},
		{name: "surge: the new pod is available, the old one goes, next node surges",
			nodes: []NodePods{eligible("a", pod("ao", "a", prev, ready(old)), pod("an", "a", cur, ready(old))), eligible("b", pod("b", "b", prev, ready(old)))},
			c:     Counts{MaxSurge: 1}, del: []string{"ao"}, create: []string{"b"}},
		{name: "surge budget in use: wait",
			nodes: []NodePods{eligible("a", pod("ao", "a", prev, ready(old)), pod("an", "a", cur)), eligible("b", pod("b", "b", prev, ready(old)))},
			c:     Counts{MaxSurge: 1}},
		{name: "surge: a node that no longer wants the pod keeps it while the others are not all available",
			nodes: []NodePods{eligible("a", pod("an", "a", cur)), eligible("b", pod("bn", "b", cur, ready(old))),
				{Name: "c", Exists: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("co", "c", prev, ready(old))}}},
			c: Counts{MaxSurge: 1}},
		{name: "surge: ... and loses it once they are",
			nodes: []NodePods{eligible("a", pod("an", "a", cur, ready(old))), eligible("b", pod("bn", "b", cur, ready(old))),
				{Name: "c", Exists: true, ShouldContinueRunning: true, Pods: []*corev1.Pod{pod("co", "c", prev, ready(old))}}},
			c: Counts{MaxSurge: 1}, del: []string{"co"}},
		{name: "surge: an unavailable old pod gets a new one at once",
			nodes: []NodePods{eligible("a", pod("ao", "a", prev, ready(old)), pod("an", "a", cur)), eligible("b", pod("b", "b", prev))},
			c:     Counts{MaxSurge: 1}, create: []string{"b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			desired := 0
			for _, n := range tc.nodes {
				if n.ShouldRun {
					desired++
				}
			}
			del, create := RollingUpdate(tc.nodes, rev, tc.c, desired, 0, t0)
			if !slices.Equal(names(del), tc.del) || !slices.Equal(create, tc.create) {
				t.Errorf("delete %v create %v; want %v %v", names(del), create, tc.del, tc.create)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	rev := Revision{Hash: cur}
	old := t0.Add(-time.Hour)
	nodes := []NodePods{
		eligible("a", pod("a", "a", cur, ready(old))),
		eligible("b", pod("b", "b", prev, ready(t0.Add(-5*time.Second)))),              // ready, not yet available
		eligible("c", pod("c", "c", cur)),                                              // not ready
		eligible("d"),                                                                  // no pod yet
		{Name: "e", Exists: true, Pods: []*corev1.Pod{pod("e", "e", cur, ready(old))}}, // misscheduled
		{Name: "f", Exists: true},                                                      // not for it
		{Name: "gone", Pods: []*corev1.Pod{pod("g", "gone", cur, ready(old))}},         // node deleted: not counted
	}
	got := Status(nodes, rev, 10, t0)
	want := appsv1.DaemonSetStatus{
		DesiredNumberScheduled: 4, CurrentNumberScheduled: 3, NumberMisscheduled: 1,
		NumberReady: 2, NumberAvailable: 1, NumberUnavailable: 3, UpdatedNumberScheduled: 2,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Status =\n%+v\nwant\n%+v", got, want)
	}
}

func TestDecide(t *testing.T) {
	rev := Revision{Hash: cur}
	old := t0.Add(-time.Hour)
	t.Run("per-node work first, rolling update waits", func(t *testing.T) {
		nodes := []NodePods{eligible("a"), eligible("b", pod("b", "b", prev, ready(old)))}
		p, err := Decide(rolling("1", "0"), nodes, rev, t0)
		if err != nil || !slices.Equal(p.Create, []string{"a"}) || len(p.Delete) != 0 {
			t.Errorf("plan %+v, %v", p, err)
		}
	})
	t.Run("then the rolling update", func(t *testing.T) {
		nodes := []NodePods{eligible("a", pod("a", "a", cur, ready(old))), eligible("b", pod("b", "b", prev, ready(old)))}
		p, _ := Decide(rolling("1", "0"), nodes, rev, t0)
		if len(p.Create) != 0 || !slices.Equal(names(p.Delete), []string{"b"}) {
			t.Errorf("plan create %v delete %v", p.Create, names(p.Delete))
		}
	})
	t.Run("OnDelete keeps old pods", func(t *testing.T) {
		ds := dsWith(nil)
		ds.Spec.UpdateStrategy = appsv1.DaemonSetUpdateStrategy{Type: appsv1.OnDeleteDaemonSetStrategyType}
		nodes := []NodePods{eligible("a", pod("a", "a", prev, ready(old)))}
		if p, _ := Decide(ds, nodes, rev, t0); !p.Empty() {
			t.Errorf("plan %+v", p)
		}
	})
	t.Run("pods aimed at deleted nodes", func(t *testing.T) {
		nodes := []NodePods{
			eligible("a", pod("a", "a", cur, ready(old))),
			{Name: "gone", Pods: []*corev1.Pod{pod("bound", "gone", cur, ready(old)), pod("aimed", "gone", cur, unscheduled), pod("bye", "gone", cur, deleting, unscheduled)}},
		}
		p, _ := Decide(rolling("1", "0"), nodes, rev, t0)
		if !slices.Equal(names(p.Delete), []string{"aimed"}) || !slices.Equal(names(p.Orphaned), []string{"bound"}) || len(p.Create) != 0 {
			t.Errorf("delete %v orphaned %v create %v", names(p.Delete), names(p.Orphaned), p.Create)
		}
	})
	t.Run("failed pods: backoff nodes and the soonest requeue", func(t *testing.T) {
		failedNow := eligible("a", pod("a", "a", cur, phase(corev1.PodFailed)))
		waiting := eligible("b", pod("b", "b", cur, phase(corev1.PodFailed)))
		waiting.FailedBackoff = 8 * time.Second
		waiting2 := eligible("c", pod("c", "c", cur, phase(corev1.PodFailed)))
		waiting2.FailedBackoff = 2 * time.Second
		p, _ := Decide(rolling("1", "0"), []NodePods{failedNow, waiting, waiting2}, rev, t0)
		if !slices.Equal(p.Backoff, []string{"a"}) || !slices.Equal(names(p.Failed), []string{"a"}) || p.RequeueAfter != 2*time.Second {
			t.Errorf("backoff %v failed %v requeue %v", p.Backoff, names(p.Failed), p.RequeueAfter)
		}
	})
}
