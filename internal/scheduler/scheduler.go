package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	shared "skiff.dev/skiff/internal/informers"
	"skiff.dev/skiff/internal/scheduler/framework"
)

// DefaultSchedulerName is the spec.schedulerName pods get by default.
const DefaultSchedulerName = corev1.DefaultSchedulerName

// Event reasons and condition reasons, upstream's.
const (
	reasonScheduled        = "Scheduled"
	reasonFailedScheduling = "FailedScheduling"
	reasonPreempted        = "Preempted"
	reasonSchedulerError   = "SchedulerError"
)

// Options tune a Scheduler; zero values are upstream's defaults.
type Options struct {
	// SchedulerName selects the pods this scheduler places.
	SchedulerName string
	// Instance names this process in Events' reportingInstance.
	Instance string
	// BindWorkers bounds the bindings in flight.
	BindWorkers int
	// Clock defaults to the real clock.
	Clock clock.WithTicker
}

// Scheduler places pending pods on nodes. See the package doc.
type Scheduler struct {
	opts      Options
	core      *client.Core
	algo      *framework.Framework
	queue     *Queue
	cache     *Cache
	snapshot  *Snapshot
	nominator *nominator
	recorder  *recorder
	writer    *asyncWriter
	informers informers

	bindSem chan struct{}
	workers sync.WaitGroup // bindings and preemptions in flight
	claims  claimChanges   // wakes bindings waiting for volumes
}

// New returns a scheduler talking to the API at cfg and reading it
// through the shared informers inf.
func New(cfg *rest.Config, inf *shared.Factory, opts Options) (*Scheduler, error) {
	if opts.SchedulerName == "" {
		opts.SchedulerName = DefaultSchedulerName
	}
	if opts.Instance == "" {
		host, _ := os.Hostname()
		opts.Instance = opts.SchedulerName + "-" + host
	}
	if opts.BindWorkers <= 0 {
		opts.BindWorkers = 256
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	// Protobuf, as kube-scheduler speaks: every kind it reads and writes
	// is built in, and decoding the pod watch is much of its CPU in JSON.
	if cfg.ContentType == "" {
		cfg = rest.CopyConfig(cfg)
		cfg.ContentType = runtime.ContentTypeProtobuf
		cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	}
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		opts:      opts,
		core:      core,
		algo:      framework.Default(),
		queue:     NewQueue(opts.Clock),
		cache:     NewCache(opts.Clock, DefaultAssumedTTL),
		snapshot:  NewSnapshot(),
		nominator: newNominator(),
		recorder:  newRecorder(coreEvents{core}, opts.SchedulerName, opts.Instance, opts.Clock),
		writer:    newAsyncWriter(),
		bindSem:   make(chan struct{}, opts.BindWorkers),
	}
	s.informers.init(inf)
	s.addHandlers()
	s.watchClaimChanges()
	return s, nil
}

// Run schedules until ctx ends, then waits for bindings in flight.
func (s *Scheduler) Run(ctx context.Context) error {
	var bg sync.WaitGroup
	defer bg.Wait()
	defer s.informers.removeHandlers()
	bg.Go(func() { s.queue.Run(ctx) })
	bg.Go(func() { s.recorder.Run(ctx) })
	bg.Go(func() { s.writer.Run(ctx) })
	bg.Go(func() { s.cleanupAssumed(ctx) })
	for _, inf := range s.informers.all() {
		bg.Go(func() { inf.RunWithContext(ctx) })
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), s.informers.synced()...) {
		return ctx.Err()
	}
	slog.Info("scheduler: caches synced; scheduling", "scheduler", s.opts.SchedulerName)
	defer s.workers.Wait()
	for {
		if err := s.scheduleOne(ctx); err != nil {
			if errors.Is(err, ErrQueueClosed) || ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// cleanupAssumed expires assumed pods whose binding was never observed,
// every second as upstream.
func (s *Scheduler) cleanupAssumed(ctx context.Context) {
	t := s.opts.Clock.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
			for _, p := range s.cache.CleanupExpired() {
				slog.Warn("scheduler: assumed pod expired without its binding being observed", "pod", podKey(p), "node", p.Spec.NodeName)
				s.queue.MoveAllToActiveOrBackoff(EventAssignedPodDelete)
			}
		}
	}
}

// scheduleOne runs one scheduling cycle: pop a pod, decide, assume, and
// hand the binding to a worker.
func (s *Scheduler) scheduleOne(ctx context.Context) error {
	qp, cycle, err := s.queue.Pop(ctx)
	if err != nil {
		return err
	}
	pod := qp.Pod
	if s.skip(pod) {
		s.queue.Done(pod)
		return nil
	}
	s.cache.UpdateSnapshot(s.snapshot)
	// The nominator's list keeps the snapshot's order (it swaps in copies
	// of nodes with nominated pods), so the snapshot's positions serve.
	snap := framework.NewIndexedSnapshot(s.nominator.nodesWithNominated(s.snapshot, pod), s.snapshot.pos, s.informers.volumes)
	result, err := s.algo.Schedule(pod, snap)
	if err != nil {
		s.handleScheduleError(qp, cycle, snap, err)
		return nil
	}
	host := result.SuggestedHost
	assumed := *pod // shallow: only spec.nodeName differs, nothing is mutated
	assumed.Spec.NodeName = host
	if err := s.cache.AssumePod(&assumed); err != nil {
		qp.UnschedulablePlugins = nil // an error: retry with backoff
		s.handleFailure(qp, cycle, err, reasonSchedulerError, nil)
		return nil
	}
	s.nominator.remove(pod)
	s.queue.Done(pod)
	select {
	case s.bindSem <- struct{}{}:
	case <-ctx.Done():
		s.cache.ForgetPod(&assumed)
		return ctx.Err()
	}
	s.workers.Go(func() {
		defer func() { <-s.bindSem }()
		s.bind(ctx, qp, &assumed, cycle)
	})
	return nil
}

// skip reports pods that need no attempt: deleted, being deleted, or
// already assumed (an update raced the binding).
func (s *Scheduler) skip(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil || s.cache.IsAssumed(pod)
}

func (s *Scheduler) bind(ctx context.Context, qp *QueuedPod, assumed *corev1.Pod, cycle int64) {
	err := s.preBindVolumes(ctx, assumed)
	if err == nil {
		err = s.core.Bind(ctx, &corev1.Binding{
			ObjectMeta: metav1.ObjectMeta{Namespace: assumed.Namespace, Name: assumed.Name, UID: assumed.UID},
			Target:     corev1.ObjectReference{Kind: "Node", Name: assumed.Spec.NodeName},
		}, metav1.CreateOptions{})
	}
	if err != nil {
		s.cache.ForgetPod(assumed)
		if ctx.Err() != nil {
			return
		}
		// The assumed pod's resources are free again for the others.
		s.queue.MoveAllToActiveOrBackoff(EventBindFailure)
		qp.UnschedulablePlugins = nil // an error: retry with backoff
		s.handleFailure(qp, cycle, fmt.Errorf("binding rejected: %w", err), reasonSchedulerError, nil)
		return
	}
	s.cache.FinishBinding(assumed)
	s.recorder.Event(qp.Pod, corev1.EventTypeNormal, reasonScheduled, "Binding",
		fmt.Sprintf("Successfully assigned %v/%v to %v", assumed.Namespace, assumed.Name, assumed.Spec.NodeName))
}

// handleScheduleError handles a failed decision: a FitError may lead to
// preemption; then the pod is requeued and the failure reported.
func (s *Scheduler) handleScheduleError(qp *QueuedPod, cycle int64, snap *framework.Snapshot, err error) {
	pod := qp.Pod
	var fitErr *framework.FitError
	if !errors.As(err, &fitErr) {
		qp.UnschedulablePlugins = nil
		if errors.Is(err, framework.ErrNoNodesAvailable) {
			// Upstream reports an empty cluster as unschedulable, and any
			// node added retries it.
			qp.UnschedulablePlugins = map[string]struct{}{pluginNodeName: {}}
			s.handleFailure(qp, cycle, err, corev1.PodReasonUnschedulable, ptrString(""))
			return
		}
		s.handleFailure(qp, cycle, err, reasonSchedulerError, nil)
		return
	}
	qp.UnschedulablePlugins = make(map[string]struct{}, len(fitErr.Diagnosis.UnschedulablePlugins))
	for p := range fitErr.Diagnosis.UnschedulablePlugins {
		qp.UnschedulablePlugins[p] = struct{}{}
	}
	nominated := ""
	if s.mayPreempt(pod, snap) {
		res, ok := s.algo.Preempt(pod, snap, s.informers.pdbList(), fitErr.Diagnosis)
		fitErr.Diagnosis.PostFilterMsg = res.Message
		if ok && res.NodeName != "" {
			nominated = res.NodeName
			s.nominator.add(pod, nominated)
			s.evict(pod, nominated, res.Victims)
		}
	}
	s.handleFailure(qp, cycle, fitErr, corev1.PodReasonUnschedulable, &nominated)
}

func ptrString(s string) *string { return &s }

// handleFailure reports a failed attempt (Event, PodScheduled condition,
// nominatedNodeName when nominated is not nil) and requeues the pod in
// its latest state, unless it was deleted or bound meanwhile.
func (s *Scheduler) handleFailure(qp *QueuedPod, cycle int64, err error, reason string, nominated *string) {
	pod := qp.Pod
	msg := err.Error()
	s.recorder.Event(pod, corev1.EventTypeWarning, reasonFailedScheduling, "Scheduling", msg)
	cur, ok := s.informers.pod(pod.Namespace, pod.Name)
	if !ok || cur.UID != pod.UID || cur.Spec.NodeName != "" {
		s.queue.Done(pod)
		return
	}
	qp.Pod = cur
	s.queue.AddUnschedulable(qp, cycle)
	s.updatePodStatus(cur, corev1.PodCondition{
		Type:    corev1.PodScheduled,
		Status:  corev1.ConditionFalse,
		Reason:  reason,
		Message: msg,
	}, nominated)
}

// mayPreempt is upstream's PodEligibleToPreemptOthers: not with
// preemptionPolicy Never, and not while lower-priority pods on the node
// the pod was already nominated to are still terminating (the room it
// preempted for is on its way).
func (s *Scheduler) mayPreempt(pod *corev1.Pod, snap *framework.Snapshot) bool {
	if pod.Spec.PreemptionPolicy != nil && *pod.Spec.PreemptionPolicy == corev1.PreemptNever {
		return false
	}
	nn := pod.Status.NominatedNodeName
	if nn == "" {
		return true
	}
	ni := snap.Get(nn)
	if ni == nil {
		return true
	}
	prio := podPriority(pod)
	for _, p := range ni.Pods() {
		if p.DeletionTimestamp != nil && podPriority(p) < prio {
			return false
		}
	}
	return true
}
