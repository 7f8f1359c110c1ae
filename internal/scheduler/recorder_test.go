package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/flowcontrol"
	testingclock "k8s.io/utils/clock/testing"
)

// memEvents records the writes a recorder makes.
type memEvents struct {
	mu      sync.Mutex
	created []*corev1.Event
	patches []string // "name count"
}

func (m *memEvents) CreateEvent(_ context.Context, ev *corev1.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.created = append(m.created, ev)
	return nil
}

func (m *memEvents) PatchEvent(_ context.Context, _, name string, patch []byte) error {
	var p struct{ Count int32 }
	if err := json.Unmarshal(patch, &p); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.patches = append(m.patches, fmt.Sprint(name, " ", p.Count))
	return nil
}

// drain runs every queued write on the caller's goroutine.
func drain(r *recorder) {
	for {
		select {
		case job := <-r.jobs:
			job(context.Background())
		default:
			return
		}
	}
}

func TestRecorderFoldsRepeatsLikeTheEventsBroadcaster(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	w := &memEvents{}
	r := newRecorder(w, "default-scheduler", "default-scheduler-host", clk)
	pod := testPod("p", 0)
	msg := "0/3 nodes are available: 3 Insufficient cpu."

	r.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Scheduling", msg)
	drain(r)
	if len(w.created) != 1 {
		t.Fatalf("created %d events, want 1", len(w.created))
	}
	ev := w.created[0]
	if ev.Count != 1 || ev.Source.Component != "default-scheduler" || ev.ReportingController != "default-scheduler" ||
		ev.InvolvedObject.UID != pod.UID || ev.Type != corev1.EventTypeWarning || ev.Message != msg {
		t.Fatalf("event %+v", ev)
	}
	// The second occurrence is written at once; later ones only count.
	for range 5 {
		clk.Step(10 * time.Second)
		r.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Scheduling", msg)
	}
	drain(r)
	if len(w.created) != 1 || len(w.patches) != 1 || w.patches[0] != ev.Name+" 2" {
		t.Fatalf("after 6 occurrences: %d created, patches %v; want 1 created, one patch to count 2", len(w.created), w.patches)
	}
	// A different message is a different event.
	r.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Scheduling", "0/3 nodes are available: 3 Insufficient memory.")
	drain(r)
	if len(w.created) != 2 {
		t.Fatalf("a new message did not create an event")
	}
	// When the series ends (no repeat for 6 min) its final count is written.
	clk.Step(seriesWindow)
	r.sweep()
	drain(r)
	if last := w.patches[len(w.patches)-1]; last != ev.Name+" 6" {
		t.Fatalf("final patch %q, want count 6", last)
	}
	// And the next occurrence starts a new Event.
	r.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Scheduling", msg)
	drain(r)
	if len(w.created) != 3 {
		t.Fatalf("created %d events after the series ended, want 3", len(w.created))
	}
}

func TestRecorderNeverBlocks(t *testing.T) {
	r := newRecorder(&memEvents{}, "default-scheduler", "x", testingclock.NewFakeClock(epoch))
	r.limiter = flowcontrol.NewFakeAlwaysRateLimiter()
	// Nobody drains: past the queue's bound events are dropped, not waited on.
	p := testPod("p", 0)
	for i := range recorderQueue + 10 {
		r.Event(p, corev1.EventTypeNormal, reasonScheduled, "Binding", fmt.Sprint("message ", i))
	}
	if len(r.jobs) != recorderQueue {
		t.Fatalf("queue holds %d, want its bound %d", len(r.jobs), recorderQueue)
	}
}

// New events are written at kube-scheduler's client rate, 50 a second
// after a burst of 100; the others are dropped.
func TestRecorderRateLimitsEvents(t *testing.T) {
	clk := testingclock.NewFakeClock(epoch)
	r := newRecorder(&memEvents{}, "default-scheduler", "x", clk)
	for i := range 300 {
		r.Event(testPod(fmt.Sprint("p", i), 0), corev1.EventTypeNormal, reasonScheduled, "Binding", "assigned")
	}
	if len(r.jobs) != eventBurst {
		t.Fatalf("queued %d event writes at once, want the burst %d", len(r.jobs), eventBurst)
	}
	clk.Step(time.Second)
	for i := range 300 {
		r.Event(testPod(fmt.Sprint("q", i), 0), corev1.EventTypeNormal, reasonScheduled, "Binding", "assigned")
	}
	if got := len(r.jobs) - eventBurst; got != eventQPS {
		t.Fatalf("queued %d more a second later, want %d", got, eventQPS)
	}
}
