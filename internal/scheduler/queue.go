package scheduler

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/clock"
)

// Queue timings, upstream's defaults.
const (
	DefaultInitialBackoff = 1 * time.Second
	DefaultMaxBackoff     = 10 * time.Second
	// DefaultMaxUnschedulable is how long a pod stays unschedulable before
	// the periodic flush retries it without any event.
	DefaultMaxUnschedulable = 5 * time.Minute
	// unschedulableFlushPeriod is how often the unschedulable set is
	// checked for such pods (upstream: 30 s).
	unschedulableFlushPeriod = 30 * time.Second
)

// ErrQueueClosed is returned by Pop once the queue is closed.
var ErrQueueClosed = errors.New("scheduler: queue closed")

// QueuedPod is a pod waiting to be scheduled and what the queue knows of
// its attempts.
type QueuedPod struct {
	Pod *corev1.Pod
	// Timestamp is when the pod was last added or last failed.
	Timestamp time.Time
	// InitialAttempt is when the pod was first popped.
	InitialAttempt time.Time
	// Attempts counts scheduling attempts; the backoff doubles with each.
	Attempts int
	// UnschedulablePlugins are the filters that rejected the pod in its
	// last attempt; only events relevant to them retry it.
	UnschedulablePlugins map[string]struct{}
}

func podKey(p *corev1.Pod) string { return p.Namespace + "/" + p.Name }

func (qp *QueuedPod) key() string { return podKey(qp.Pod) }

// Queue is kube-scheduler's scheduling queue: activeQ holds pods ready to
// be tried, highest spec.priority first and then oldest; backoffQ holds
// pods that failed recently, until their per-pod exponential backoff
// expires; the unschedulable set holds pods that did not fit, until a
// cluster event relevant to the filters that rejected them (or the
// periodic flush after DefaultMaxUnschedulable) moves them back.
//
// A pod is in at most one of the three, or in flight (popped, not yet
// Done). All methods are safe for concurrent use; Run drives the timed
// moves and must be running for backed-off pods to come back.
type Queue struct {
	clock            clock.WithTicker
	initialBackoff   time.Duration
	maxBackoff       time.Duration
	maxUnschedulable time.Duration

	mu            sync.Mutex
	cond          *sync.Cond
	active        *keyedHeap[*QueuedPod]
	backoff       *keyedHeap[*QueuedPod]
	unschedulable map[string]*QueuedPod
	// inFlight maps the pods popped and not yet Done to their cycle.
	inFlight map[string]int64
	// schedulingCycle counts Pops. inFlightEvents are the cluster events
	// seen while pods were in flight, with the cycle current then: a pod
	// that fails after an event relevant to its rejection goes to backoff,
	// not to the unschedulable set, as that event may have come too late
	// for the snapshot it was tried on (upstream's in-flight events).
	schedulingCycle int64
	inFlightEvents  []cycleEvent
	closed          bool
	// backoffChanged wakes Run when the earliest backoff expiry may have
	// moved earlier.
	backoffChanged chan struct{}
}

// NewQueue returns an empty queue timed by clk.
func NewQueue(clk clock.WithTicker) *Queue {
	q := &Queue{
		clock:            clk,
		initialBackoff:   DefaultInitialBackoff,
		maxBackoff:       DefaultMaxBackoff,
		maxUnschedulable: DefaultMaxUnschedulable,
		unschedulable:    map[string]*QueuedPod{},
		inFlight:         map[string]int64{},
		backoffChanged:   make(chan struct{}, 1),
	}
	q.cond = sync.NewCond(&q.mu)
	q.active = newKeyedHeap((*QueuedPod).key, activeLess)
	q.backoff = newKeyedHeap((*QueuedPod).key, func(a, b *QueuedPod) bool {
		return q.backoffExpiry(a).Before(q.backoffExpiry(b))
	})
	return q
}

// activeLess orders activeQ as upstream's PrioritySort: higher priority
// first, then the pod that has waited longer.
func activeLess(a, b *QueuedPod) bool {
	pa, pb := podPriority(a.Pod), podPriority(b.Pod)
	if pa != pb {
		return pa > pb
	}
	return a.Timestamp.Before(b.Timestamp)
}

func podPriority(p *corev1.Pod) int32 {
	if p.Spec.Priority != nil {
		return *p.Spec.Priority
	}
	return 0
}

// backoffDuration is initial × 2^(attempts-1), capped at max.
func (q *Queue) backoffDuration(qp *QueuedPod) time.Duration {
	d := q.initialBackoff
	for i := 1; i < qp.Attempts; i++ {
		if d > q.maxBackoff/2 {
			return q.maxBackoff
		}
		d *= 2
	}
	return min(d, q.maxBackoff)
}

func (q *Queue) backoffExpiry(qp *QueuedPod) time.Time {
	return qp.Timestamp.Add(q.backoffDuration(qp))
}

func (q *Queue) backingOff(qp *QueuedPod) bool {
	return qp.Attempts > 0 && q.backoffExpiry(qp).After(q.clock.Now())
}

// Add queues a new pending pod for a first attempt.
func (q *Queue) Add(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := podKey(pod)
	q.backoff.Delete(k)
	delete(q.unschedulable, k)
	if old, ok := q.active.Get(k); ok {
		old.Pod = pod
		q.active.Upsert(old)
		return
	}
	q.active.Upsert(&QueuedPod{Pod: pod, Timestamp: q.clock.Now()})
	q.cond.Broadcast()
}

// Update replaces a queued pod. An unschedulable pod whose spec or
// metadata changed (not merely its status, which the scheduler writes
// itself) is retried, as the change may make it fit.
func (q *Queue) Update(oldPod, newPod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := podKey(newPod)
	if qp, ok := q.active.Get(k); ok {
		qp.Pod = newPod
		q.active.Upsert(qp)
		return
	}
	if qp, ok := q.backoff.Get(k); ok {
		qp.Pod = newPod
		q.backoff.Upsert(qp)
		return
	}
	if qp, ok := q.unschedulable[k]; ok {
		qp.Pod = newPod
		if podChangedBeyondStatus(oldPod, newPod) {
			delete(q.unschedulable, k)
			q.requeueLocked(qp)
		}
		return
	}
	if _, ok := q.inFlight[k]; ok {
		// Being tried now: the attempt's outcome decides where it goes;
		// make sure a failure retries rather than parks it.
		if podChangedBeyondStatus(oldPod, newPod) {
			q.inFlightEvents = append(q.inFlightEvents, cycleEvent{q.schedulingCycle, eventPodUpdate})
		}
		return
	}
	q.active.Upsert(&QueuedPod{Pod: newPod, Timestamp: q.clock.Now()})
	q.cond.Broadcast()
}

// podChangedBeyondStatus reports whether anything but status and the
// fields every write changes differs.
func podChangedBeyondStatus(a, b *corev1.Pod) bool {
	if a == nil {
		return true
	}
	strip := func(p *corev1.Pod) *corev1.Pod {
		c := *p
		c.ResourceVersion = ""
		c.Generation = 0
		c.ManagedFields = nil
		c.Status = corev1.PodStatus{}
		return &c
	}
	return !equality.Semantic.DeepEqual(strip(a), strip(b))
}

// Delete forgets pod wherever it is queued.
func (q *Queue) Delete(pod *corev1.Pod) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := podKey(pod)
	q.active.Delete(k)
	q.backoff.Delete(k)
	delete(q.unschedulable, k)
}

// Pop waits for a pod in activeQ and returns it, marked in flight until
// Done. It returns ErrQueueClosed once Close is called, or ctx's error.
func (q *Queue) Pop(ctx context.Context) (*QueuedPod, int64, error) {
	stop := context.AfterFunc(ctx, func() {
		q.mu.Lock()
		q.cond.Broadcast()
		q.mu.Unlock()
	})
	defer stop()
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.active.Len() == 0 {
		if q.closed {
			return nil, 0, ErrQueueClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		q.cond.Wait()
	}
	qp, _ := q.active.Pop()
	q.schedulingCycle++
	qp.Attempts++
	if qp.InitialAttempt.IsZero() {
		qp.InitialAttempt = q.clock.Now()
	}
	q.inFlight[qp.key()] = q.schedulingCycle
	return qp, q.schedulingCycle, nil
}

// Done ends pod's in-flight state.
func (q *Queue) Done(pod *corev1.Pod) {
	q.mu.Lock()
	q.doneLocked(podKey(pod))
	q.mu.Unlock()
}

// doneLocked ends a pod's flight and forgets the in-flight events no pod
// in flight can still need.
func (q *Queue) doneLocked(k string) {
	delete(q.inFlight, k)
	if len(q.inFlight) == 0 {
		q.inFlightEvents = q.inFlightEvents[:0]
		return
	}
	oldest := q.schedulingCycle
	for _, c := range q.inFlight {
		oldest = min(oldest, c)
	}
	i := 0
	for i < len(q.inFlightEvents) && q.inFlightEvents[i].cycle < oldest {
		i++
	}
	q.inFlightEvents = q.inFlightEvents[i:]
}

// SchedulingCycle is the cycle of the last Pop.
func (q *Queue) SchedulingCycle() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.schedulingCycle
}

// AddUnschedulable returns a pod that failed in cycle to the queue: to the
// unschedulable set when filters rejected it and no cluster event has
// happened since the attempt began, otherwise to backoff. A pod already
// queued again (e.g. re-added by an update) is left where it is.
func (q *Queue) AddUnschedulable(qp *QueuedPod, cycle int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	k := qp.key()
	missed := false
	for _, e := range q.inFlightEvents {
		if e.cycle >= cycle && e.ev.relevant(qp.UnschedulablePlugins) {
			missed = true
			break
		}
	}
	q.doneLocked(k)
	if _, ok := q.active.Get(k); ok {
		return
	}
	if _, ok := q.backoff.Get(k); ok {
		return
	}
	if _, ok := q.unschedulable[k]; ok {
		return
	}
	qp.Timestamp = q.clock.Now()
	if len(qp.UnschedulablePlugins) == 0 || missed {
		q.addBackoffLocked(qp)
		return
	}
	q.unschedulable[k] = qp
}

func (q *Queue) addBackoffLocked(qp *QueuedPod) {
	q.backoff.Upsert(qp)
	select {
	case q.backoffChanged <- struct{}{}:
	default:
	}
}

// requeueLocked moves a pod out of the unschedulable set: to backoff while
// its backoff lasts, else to activeQ.
func (q *Queue) requeueLocked(qp *QueuedPod) {
	if q.backingOff(qp) {
		q.addBackoffLocked(qp)
		return
	}
	q.active.Upsert(qp)
	q.cond.Broadcast()
}

// MoveAllToActiveOrBackoff retries the unschedulable pods ev could help.
func (q *Queue) MoveAllToActiveOrBackoff(ev ClusterEvent) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveLocked(ev, nil)
}

// MoveForEvents is MoveAllToActiveOrBackoff for several events of one
// change (e.g. a node update changing labels and taints).
func (q *Queue) MoveForEvents(evs ...ClusterEvent) {
	if len(evs) == 0 {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.moveLocked(evs[0], evs[1:])
}

func (q *Queue) moveLocked(ev ClusterEvent, more []ClusterEvent) {
	for k, qp := range q.unschedulable {
		ok := ev.relevant(qp.UnschedulablePlugins)
		for _, e := range more {
			ok = ok || e.relevant(qp.UnschedulablePlugins)
		}
		if ok {
			delete(q.unschedulable, k)
			q.requeueLocked(qp)
		}
	}
	if len(q.inFlight) > 0 {
		q.inFlightEvents = append(q.inFlightEvents, cycleEvent{q.schedulingCycle, ev})
		for _, e := range more {
			q.inFlightEvents = append(q.inFlightEvents, cycleEvent{q.schedulingCycle, e})
		}
	}
}

type cycleEvent struct {
	cycle int64
	ev    ClusterEvent
}

// eventPodUpdate is an update of the pod being tried: any rejection may
// no longer hold.
var eventPodUpdate = ClusterEvent{Label: "PodUpdate"}

// flushBackoffCompleted moves pods whose backoff has expired to activeQ
// and returns when the next one expires (zero if backoffQ is empty).
func (q *Queue) flushBackoffCompleted() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	moved := false
	for {
		qp, ok := q.backoff.Peek()
		if !ok {
			break
		}
		if exp := q.backoffExpiry(qp); exp.After(now) {
			if moved {
				q.cond.Broadcast()
			}
			return exp
		}
		q.backoff.Pop()
		q.active.Upsert(qp)
		moved = true
	}
	if moved {
		q.cond.Broadcast()
	}
	return time.Time{}
}

// flushUnschedulableLeftover retries pods unschedulable for longer than
// maxUnschedulable.
func (q *Queue) flushUnschedulableLeftover() {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	for k, qp := range q.unschedulable {
		if now.Sub(qp.Timestamp) > q.maxUnschedulable {
			delete(q.unschedulable, k)
			q.requeueLocked(qp)
		}
	}
}

// Run moves backed-off pods to activeQ when their backoff expires (one
// timer, armed for the earliest expiry) and flushes long-unschedulable
// pods periodically, until ctx ends; then it closes the queue.
func (q *Queue) Run(ctx context.Context) {
	defer q.Close()
	ticker := q.clock.NewTicker(unschedulableFlushPeriod)
	defer ticker.Stop()
	for {
		next := q.flushBackoffCompleted()
		var timerC <-chan time.Time
		var timer clock.Timer
		if !next.IsZero() {
			timer = q.clock.NewTimer(next.Sub(q.clock.Now()))
			timerC = timer.C()
		}
		select {
		case <-ctx.Done():
		case <-q.backoffChanged:
		case <-timerC:
		case <-ticker.C():
			q.flushUnschedulableLeftover()
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// Close wakes Pop, which then returns ErrQueueClosed.
func (q *Queue) Close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// Lens returns the sizes of activeQ, backoffQ and the unschedulable set.
func (q *Queue) Lens() (active, backoff, unschedulable int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.active.Len(), q.backoff.Len(), len(q.unschedulable)
}
