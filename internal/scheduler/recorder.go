package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// Event aggregation timings, those of client-go's events broadcaster
// (which kube-scheduler uses): an identical event within seriesWindow of
// the last one joins its series; the series count is written at the
// second occurrence, then at most every seriesRefresh, and once more when
// the series ends.
const (
	seriesWindow  = 6 * time.Minute
	seriesRefresh = 30 * time.Minute
	// recorderQueue bounds the writes waiting; past it events are
	// dropped (logged) rather than slowing the scheduling loop.
	recorderQueue   = 4096
	recorderWorkers = 4
	// Event writes are limited as kube-scheduler's are by its client
	// (--kube-api-qps 50, --kube-api-burst 100, which its event client
	// gets too); past that, events are dropped, as its broadcaster drops
	// what its sink cannot take. Ten thousand pods scheduled at once would
	// otherwise cost ten thousand Event writes, a quarter of all the
	// writes of placing and starting them.
	eventQPS   = 50
	eventBurst = 100
)

// eventWriter is what the recorder needs of core/v1 Events.
type eventWriter interface {
	CreateEvent(ctx context.Context, ev *corev1.Event) error
	PatchEvent(ctx context.Context, namespace, name string, patch []byte) error
}

type seriesKey struct {
	namespace, reason, eventType, message string
	uid                                   types.UID
}

type series struct {
	name      string
	namespace string
	count     int32
	written   int32 // count as last written
	last      time.Time
	lastWrite time.Time
	pending   bool // a create is queued: later patches must wait for it
}

// recorder writes the scheduler's Events asynchronously through a bounded
// queue, folding identical repeats into one Event's count.
type recorder struct {
	w         eventWriter
	component string
	instance  string
	clock     clock.WithTicker

	jobs    chan func(context.Context)
	limiter flowcontrol.RateLimiter // of event writes

	mu     sync.Mutex
	series map[seriesKey]*series
}

func newRecorder(w eventWriter, component, instance string, clk clock.WithTicker) *recorder {
	return &recorder{
		w: w, component: component, instance: instance, clock: clk,
		jobs:    make(chan func(context.Context), recorderQueue),
		limiter: flowcontrol.NewTokenBucketRateLimiterWithClock(eventQPS, eventBurst, clk),
		series:  map[seriesKey]*series{},
	}
}

// Eventf records an event about pod. It never blocks.
func (r *recorder) Event(pod *corev1.Pod, eventType, reason, action, message string) {
	now := r.clock.Now()
	k := seriesKey{namespace: pod.Namespace, uid: pod.UID, reason: reason, eventType: eventType, message: message}
	r.mu.Lock()
	s, ok := r.series[k]
	if ok && now.Sub(s.last) < seriesWindow {
		s.count++
		s.last = now
		write := s.count == 2 && !s.pending
		if write {
			s.written, s.lastWrite = s.count, now
		}
		r.mu.Unlock()
		if write {
			r.enqueue(r.patchJob(s.namespace, s.name, 2, now))
		}
		return
	}
	if !r.limiter.TryAccept() {
		r.mu.Unlock()
		slog.Debug("scheduler: event rate limit reached; dropping an event", "pod", pod.Namespace+"/"+pod.Name, "reason", reason)
		return
	}
	s = &series{name: fmt.Sprintf("%v.%x", pod.Name, now.UnixNano()), namespace: pod.Namespace, count: 1, written: 1, last: now, lastWrite: now, pending: true}
	r.series[k] = s
	r.mu.Unlock()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: s.name, Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name,
			UID: pod.UID, ResourceVersion: pod.ResourceVersion,
		},
		Reason:              reason,
		Message:             message,
		Type:                eventType,
		Action:              action,
		Source:              corev1.EventSource{Component: r.component},
		ReportingController: r.component,
		ReportingInstance:   r.instance,
		FirstTimestamp:      metav1.Time{Time: now},
		LastTimestamp:       metav1.Time{Time: now},
		Count:               1,
	}
	r.enqueue(func(ctx context.Context) {
		err := r.w.CreateEvent(ctx, ev)
		r.mu.Lock()
		s.pending = false
		catchUp := err == nil && s.count > s.written
		if catchUp {
			s.written, s.lastWrite = s.count, r.clock.Now()
		}
		count, last := s.count, s.last
		r.mu.Unlock()
		if err != nil {
			slog.Debug("scheduler: writing event", "pod", pod.Namespace+"/"+pod.Name, "reason", reason, "err", err)
			return
		}
		if catchUp {
			r.patchJob(ev.Namespace, ev.Name, count, last)(ctx)
		}
	})
}

func (r *recorder) patchJob(namespace, name string, count int32, last time.Time) func(context.Context) {
	return func(ctx context.Context) {
		patch, _ := json.Marshal(map[string]any{"count": count, "lastTimestamp": metav1.Time{Time: last}})
		if err := r.w.PatchEvent(ctx, namespace, name, patch); err != nil {
			slog.Debug("scheduler: updating event count", "event", namespace+"/"+name, "err", err)
		}
	}
}

// enqueue runs job on a worker, or drops it when the queue is full: the
// scheduling loop never waits for the API to take an Event.
func (r *recorder) enqueue(job func(context.Context)) {
	select {
	case r.jobs <- job:
	default:
		slog.Debug("scheduler: event queue full; dropping an event write")
	}
}

// Run writes queued events with recorderWorkers workers, and refreshes and
// ends series, until ctx ends.
func (r *recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range recorderWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case job := <-r.jobs:
					job(ctx)
				}
			}
		})
	}
	ticker := r.clock.NewTicker(seriesWindow)
	defer func() {
		ticker.Stop()
		wg.Wait()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
			r.sweep()
		}
	}
}

// sweep writes series counts that are due and forgets ended series.
func (r *recorder) sweep() {
	now := r.clock.Now()
	var due []func(context.Context)
	r.mu.Lock()
	for k, s := range r.series {
		if s.pending {
			continue
		}
		ended := now.Sub(s.last) >= seriesWindow
		if s.count > s.written && (ended || now.Sub(s.lastWrite) >= seriesRefresh) {
			due = append(due, r.patchJob(s.namespace, s.name, s.count, s.last))
			s.written, s.lastWrite = s.count, now
		}
		if ended {
			delete(r.series, k)
		}
	}
	r.mu.Unlock()
	for _, j := range due {
		r.enqueue(j)
	}
}
