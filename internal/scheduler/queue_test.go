package scheduler

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func testPod(name string, prio int32) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Priority: ptr.To(prio), SchedulerName: DefaultSchedulerName},
	}
}

func popNow(t *testing.T, q *Queue) (*QueuedPod, int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	qp, cycle, err := q.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	return qp, cycle
}

func plugins(names ...string) map[string]struct{} {
	m := map[string]struct{}{}
	for _, n := range names {
		m[n] = struct{}{}
	}
	return m
}

func TestQueueOrdersByPriorityThenAge(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	q.Add(testPod("low-old", 0))
	clk.Step(time.Second)
	q.Add(testPod("high", 100))
	clk.Step(time.Second)
	q.Add(testPod("low-new", 0))
	q.Add(testPod("negative", -5))
	var got []string
	for range 4 {
		qp, _ := popNow(t, q)
		got = append(got, qp.Pod.Name)
	}
	want := []string{"high", "low-old", "low-new", "negative"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("pop order = %v, want %v", got, want)
		}
	}
}

func TestBackoffDuration(t *testing.T) {
	q := NewQueue(testingclock.NewFakeClock(epoch))
	for _, tc := range []struct {
		attempts int
		want     time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {4, 8 * time.Second}, {5, 10 * time.Second}, {50, 10 * time.Second}} {
		if got := q.backoffDuration(&QueuedPod{Attempts: tc.attempts}); got != tc.want {
			t.Errorf("attempts %d: backoff %v, want %v", tc.attempts, got, tc.want)
		}
	}
}

func TestErrorGoesToBackoffUntilExpiry(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	q.Add(testPod("p", 0))
	qp, cycle := popNow(t, q)
	q.AddUnschedulable(qp, cycle) // no plugins: an error, retried with backoff
	if a, b, u := q.Lens(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("after error: active %d backoff %d unschedulable %d, want 0 1 0", a, b, u)
	}
	clk.Step(999 * time.Millisecond)
	if next := q.flushBackoffCompleted(); !next.Equal(epoch.Add(time.Second)) {
		t.Fatalf("next expiry %v, want %v", next, epoch.Add(time.Second))
	}
	if a, _, _ := q.Lens(); a != 0 {
		t.Fatal("pod left backoff before 1 s")
	}
	clk.Step(time.Millisecond)
	q.flushBackoffCompleted()
	qp, cycle = popNow(t, q)
	if qp.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2", qp.Attempts)
	}
	// The second failure backs off 2 s.
	q.AddUnschedulable(qp, cycle)
	clk.Step(1500 * time.Millisecond)
	q.flushBackoffCompleted()
	if a, _, _ := q.Lens(); a != 0 {
		t.Fatal("second backoff shorter than 2 s")
	}
	clk.Step(500 * time.Millisecond)
	q.flushBackoffCompleted()
	if a, _, _ := q.Lens(); a != 1 {
		t.Fatal("second backoff did not end at 2 s")
	}
}

func TestRunMovesBackedOffPodWhenTimerFires(t *testing.T) {
	// In a synctest bubble time advances only when every goroutine is
	// blocked, so this checks that Run's timer, not a poll, brings the
	// pod back, exactly when its backoff ends.
	synctest.Test(t, func(t *testing.T) {
		q := NewQueue(clock.RealClock{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); q.Run(ctx) }()
		defer func() { cancel(); <-done }()

		q.Add(testPod("p", 0))
		qp, cycle := popNow(t, q)
		qp.Attempts = 3 // a third failure: 4 s
		start := time.Now()
		q.AddUnschedulable(qp, cycle)
		qp, _ = popNow(t, q)
		if waited := time.Since(start); waited != 4*time.Second {
			t.Fatalf("pod came back after %v, want 4s", waited)
		}
	})
}

func TestMovesOnlyOnRelevantEvents(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rejected []string
		event    ClusterEvent
		moved    bool
	}{
		{"resources freed by a pod deletion", []string{pluginNodeResourcesFit}, EventAssignedPodDelete, true},
		{"taint change does not help resources", []string{pluginNodeResourcesFit}, EventNodeTaintChange, false},
		{"taint change helps a taint rejection", []string{pluginTaintToleration}, EventNodeTaintChange, true},
		{"node add helps anything", []string{pluginNodeAffinity}, EventNodeAdd, true},
		{"pod add helps affinity", []string{pluginInterPodAffinity}, EventAssignedPodAdd, true},
		{"pod add does not help node affinity", []string{pluginNodeAffinity}, EventAssignedPodAdd, false},
		{"label change helps node affinity", []string{pluginNodeAffinity, pluginNodeResourcesFit}, EventNodeLabelChange, true},
		{"pv change helps volume binding", []string{pluginVolumeBinding}, EventPVChange, true},
		{"unschedulable flip", []string{pluginNodeUnschedulable}, EventNodeSpecUnschedulableChange, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := testingclock.NewFakeClock(epoch)
			q := NewQueue(clk)
			q.Add(testPod("p", 0))
			qp, cycle := popNow(t, q)
			qp.UnschedulablePlugins = plugins(tc.rejected...)
			q.AddUnschedulable(qp, cycle)
			if _, _, u := q.Lens(); u != 1 {
				t.Fatal("rejected pod is not in the unschedulable set")
			}
			clk.Step(2 * time.Second) // past its backoff
			q.MoveAllToActiveOrBackoff(tc.event)
			a, _, u := q.Lens()
			if moved := a == 1 && u == 0; moved != tc.moved {
				t.Fatalf("moved = %v (active %d, unschedulable %d), want %v", moved, a, u, tc.moved)
			}
		})
	}
}

func TestMovedPodStillBackingOffGoesToBackoff(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	q.Add(testPod("p", 0))
	qp, cycle := popNow(t, q)
	qp.UnschedulablePlugins = plugins(pluginNodeResourcesFit)
	q.AddUnschedulable(qp, cycle)
	q.MoveAllToActiveOrBackoff(EventNodeAdd) // within the 1 s backoff
	if a, b, u := q.Lens(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("active %d backoff %d unschedulable %d, want 0 1 0", a, b, u)
	}
}

func TestEventDuringAttemptIsNotLost(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	q.Add(testPod("p", 0))
	qp, cycle := popNow(t, q)
	// A node is added while p is being tried against the old snapshot.
	q.MoveAllToActiveOrBackoff(EventNodeAdd)
	qp.UnschedulablePlugins = plugins(pluginNodeResourcesFit)
	q.AddUnschedulable(qp, cycle)
	if a, b, u := q.Lens(); a != 0 || b != 1 || u != 0 {
		t.Fatalf("active %d backoff %d unschedulable %d, want 0 1 0 (retry, not park)", a, b, u)
	}

	// An event that cannot help its rejection does not save the next
	// attempt from the unschedulable set.
	clk.Step(2 * time.Second)
	q.flushBackoffCompleted()
	qp, cycle = popNow(t, q)
	q.MoveAllToActiveOrBackoff(EventNodeTaintChange)
	q.AddUnschedulable(qp, cycle)
	if a, b, u := q.Lens(); a != 0 || b != 0 || u != 1 {
		t.Fatalf("active %d backoff %d unschedulable %d, want 0 0 1 (irrelevant event)", a, b, u)
	}
	if len(q.inFlightEvents) != 0 {
		t.Fatalf("%d in-flight events kept with nothing in flight", len(q.inFlightEvents))
	}
}

func TestUpdateOfUnschedulablePod(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	p := testPod("p", 0)
	q.Add(p)
	qp, cycle := popNow(t, q)
	qp.UnschedulablePlugins = plugins(pluginNodeAffinity)
	q.AddUnschedulable(qp, cycle)
	clk.Step(2 * time.Second)

	// The scheduler's own status write does not retry it.
	withStatus := p.DeepCopy()
	withStatus.ResourceVersion = "2"
	withStatus.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse}}
	q.Update(p, withStatus)
	if _, _, u := q.Lens(); u != 1 {
		t.Fatal("a status-only update moved the pod")
	}
	// A new label may make it fit (e.g. a spreading selector): retried.
	relabelled := withStatus.DeepCopy()
	relabelled.Labels = map[string]string{"a": "b"}
	q.Update(withStatus, relabelled)
	if a, _, u := q.Lens(); a != 1 || u != 0 {
		t.Fatal("a spec/metadata update did not retry the pod")
	}
	qp, _ = popNow(t, q)
	if qp.Pod.Labels["a"] != "b" {
		t.Fatal("the queue did not keep the updated pod")
	}
}

func TestUnschedulableFlushAfterFiveMinutes(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	q := NewQueue(clk)
	q.Add(testPod("p", 0))
	qp, cycle := popNow(t, q)
	qp.UnschedulablePlugins = plugins(pluginNodeAffinity)
	q.AddUnschedulable(qp, cycle)
	clk.Step(DefaultMaxUnschedulable)
	q.flushUnschedulableLeftover()
	if _, _, u := q.Lens(); u != 1 {
		t.Fatal("flushed at exactly the limit")
	}
	clk.Step(time.Second)
	q.flushUnschedulableLeftover()
	if a, _, u := q.Lens(); a != 1 || u != 0 {
		t.Fatal("not flushed after the limit")
	}
}

func TestDeleteAndClose(t *testing.T) {
	q := NewQueue(testingclock.NewFakeClock(epoch))
	p := testPod("p", 0)
	q.Add(p)
	q.Delete(p)
	if a, b, u := q.Lens(); a+b+u != 0 {
		t.Fatal("deleted pod still queued")
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := q.Pop(context.Background())
		done <- err
	}()
	q.Close()
	select {
	case err := <-done:
		if err != ErrQueueClosed {
			t.Fatalf("Pop after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Pop did not return after Close")
	}
}
