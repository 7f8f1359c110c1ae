package podgc

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: metav1.NewTime(time.Unix(100, 0))},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func on(node string) podOpt           { return func(p *corev1.Pod) { p.Spec.NodeName = node } }
func created(s int64) podOpt {
	return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(time.Unix(s, 0)) }
}
func terminating(p *corev1.Pod) { p.DeletionTimestamp = &metav1.Time{Time: time.Unix(500, 0)} }
func evictedPod(p *corev1.Pod) {
	p.Status.Phase, p.Status.Reason = corev1.PodFailed, "Evicted"
}

func nodeNamed(name string, ready bool, taints ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}
	for _, k := range taints {
		n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: k, Effect: corev1.TaintEffectNoExecute})
	}
	return n
}

func names(pods []*corev1.Pod) []string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestExcessTerminated(t *testing.T) {
	pods := []*corev1.Pod{
		pod("running", created(1)),
		pod("ok-new", phase(corev1.PodSucceeded), created(300)),
		pod("failed-old", phase(corev1.PodFailed), created(100)),
		pod("ok-old-b", phase(corev1.PodSucceeded), created(200)),
		pod("ok-old-a", phase(corev1.PodSucceeded), created(200)),
		pod("evicted-new", evictedPod, created(400)),
		pod("pending", phase(corev1.PodPending), created(2)),
	}
	for _, tc := range []struct {
		name      string
		threshold int
		want      []string
	}{
		{"under the threshold: none", 6, nil},
		{"at the threshold: none", 5, nil},
		{"disabled", 0, nil},
		{"negative disables too", -1, nil},
		{"evicted first, then oldest, names breaking ties", 1, []string{"evicted-new", "failed-old", "ok-old-a", "ok-old-b"}},
		{"just one over", 4, []string{"evicted-new"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(excessTerminated(pods, tc.threshold)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOrphans(t *testing.T) {
	pods := []*corev1.Pod{
		pod("a", on("gone")), pod("b", on("here")), pod("c"), pod("d", on("gone")), pod("e", on("late")),
	}
	nodes := []*corev1.Node{nodeNamed("here", true)}
	if got, want := missingNodes(pods, nodes), []string{"gone", "late"}; !reflect.DeepEqual(got, want) {
		t.Errorf("missingNodes = %v, want %v", got, want)
	}
	// Only nodes a live lookup confirmed gone count.
	if got, want := names(orphanedOn(pods, map[string]bool{"gone": true})), []string{"a", "d"}; !reflect.DeepEqual(got, want) {
		t.Errorf("orphanedOn = %v, want %v", got, want)
	}
	if got := orphanedOn(pods, nil); got != nil {
		t.Errorf("orphanedOn(nothing gone) = %v", names(got))
	}
}

func TestTerminating(t *testing.T) {
	const oos = corev1.TaintNodeOutOfService
	nodes := []*corev1.Node{
		nodeNamed("down-oos", false, oos),
		nodeNamed("down", false),
		nodeNamed("up-oos", true, oos),
	}
	pods := []*corev1.Pod{
		pod("t-down-oos", on("down-oos"), terminating),
		pod("live-down-oos", on("down-oos")),
		pod("t-down", on("down"), terminating),
		pod("t-up-oos", on("up-oos"), terminating),
		pod("t-unknown-node", on("nowhere"), terminating),
		pod("t-unscheduled", terminating),
		pod("unscheduled"),
	}
	if got, want := names(terminatingOutOfService(pods, nodes)), []string{"t-down-oos"}; !reflect.DeepEqual(got, want) {
		t.Errorf("terminatingOutOfService = %v, want %v", got, want)
	}
	if got, want := names(terminatingUnscheduled(pods)), []string{"t-unscheduled"}; !reflect.DeepEqual(got, want) {
		t.Errorf("terminatingUnscheduled = %v, want %v", got, want)
	}
}

func TestFailedStatus(t *testing.T) {
	cond := &corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}
	running := pod("r", func(p *corev1.Pod) {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	})
	st, changed := failedStatus(running, cond)
	if !changed || st.Phase != corev1.PodFailed || len(st.Conditions) != 2 || st.Conditions[1].Reason != "DeletionByPodGC" {
		t.Errorf("running pod: changed=%v status=%+v", changed, st)
	}
	if running.Status.Phase != corev1.PodRunning || len(running.Status.Conditions) != 1 {
		t.Error("failedStatus modified the informer's pod")
	}
	if _, changed := failedStatus(pod("s", phase(corev1.PodSucceeded)), cond); changed {
		t.Error("a Succeeded pod is marked Failed")
	}
	if st, changed := failedStatus(pod("p", phase(corev1.PodPending)), nil); !changed || st.Phase != corev1.PodFailed || len(st.Conditions) != 0 {
		t.Errorf("pending pod without condition: changed=%v %+v", changed, st)
	}
}
