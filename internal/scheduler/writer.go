package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/client"
)

const (
	writerWorkers = 4
	writerQueue   = 8192
)

// asyncWriter runs API writes off the scheduling loop on a few workers.
// Writes are keyed: a write queued for a key replaces the one still
// waiting for it, so a pod retried often costs one status write, the
// latest. A full queue drops the write (logged).
type asyncWriter struct {
	mu      sync.Mutex
	pending map[string]func(context.Context)
	keys    chan string
}

func newAsyncWriter() *asyncWriter {
	return &asyncWriter{pending: map[string]func(context.Context){}, keys: make(chan string, writerQueue)}
}

func (w *asyncWriter) do(key string, job func(context.Context)) {
	w.mu.Lock()
	_, queued := w.pending[key]
	w.pending[key] = job
	w.mu.Unlock()
	if queued {
		return
	}
	select {
	case w.keys <- key:
	default:
		w.mu.Lock()
		delete(w.pending, key)
		w.mu.Unlock()
		slog.Warn("scheduler: write queue full; dropping a write", "key", key)
	}
}

func (w *asyncWriter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range writerWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case k := <-w.keys:
					w.mu.Lock()
					job := w.pending[k]
					delete(w.pending, k)
					w.mu.Unlock()
					if job != nil {
						job(ctx)
					}
				}
			}
		})
	}
	wg.Wait()
}

// updatePodStatus sets the PodScheduled condition (and nominatedNodeName
// when nominated is not nil) if they differ from what pod shows, with a
// strategic merge patch of pods/status, as upstream does.
func (s *Scheduler) updatePodStatus(pod *corev1.Pod, cond corev1.PodCondition, nominated *string) {
	var old *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == cond.Type {
			old = &pod.Status.Conditions[i]
		}
	}
	condChanged := old == nil || old.Status != cond.Status || old.Reason != cond.Reason || old.Message != cond.Message
	nnnChanged := nominated != nil && pod.Status.NominatedNodeName != *nominated
	if !condChanged && !nnnChanged {
		return
	}
	status := map[string]any{}
	if condChanged {
		transition := metav1.Now()
		if old != nil && old.Status == cond.Status {
			transition = old.LastTransitionTime
		}
		status["conditions"] = []map[string]any{{
			"type": cond.Type, "status": cond.Status, "reason": cond.Reason, "message": cond.Message,
			"lastProbeTime": nil, "lastTransitionTime": transition,
		}}
	}
	if nnnChanged {
		if *nominated == "" {
			status["nominatedNodeName"] = nil
		} else {
			status["nominatedNodeName"] = *nominated
		}
	}
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"uid": pod.UID}, "status": status})
	if err != nil {
		return
	}
	ns, name := pod.Namespace, pod.Name
	s.writer.do("status/"+ns+"/"+name, func(ctx context.Context) {
		_, err := s.core.Pods(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status")
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			slog.Info("scheduler: updating pod status", "pod", ns+"/"+name, "err", err)
		}
	})
}

// evict deletes the victims preemption chose on node for preemptor,
// after marking each with upstream's DisruptionTarget condition and
// recording a Preempted event on it.
func (s *Scheduler) evict(preemptor *corev1.Pod, node string, victims []*corev1.Pod) {
	for _, v := range victims {
		s.recorder.Event(v, corev1.EventTypeNormal, reasonPreempted, "Preempting",
			fmt.Sprintf("Preempted by pod %v on node %v", preemptor.UID, node))
		victim := v
		s.writer.do("evict/"+string(victim.UID), func(ctx context.Context) {
			pods := s.core.Pods(victim.Namespace)
			patch, _ := json.Marshal(map[string]any{
				"metadata": map[string]any{"uid": victim.UID},
				"status": map[string]any{"conditions": []map[string]any{{
					"type": corev1.DisruptionTarget, "status": corev1.ConditionTrue,
					"reason":             corev1.PodReasonPreemptionByScheduler,
					"message":            fmt.Sprintf("%s: preempting to accommodate a higher priority pod", preemptor.Spec.SchedulerName),
					"lastTransitionTime": metav1.Now(),
				}}},
			})
			if _, err := pods.Patch(ctx, victim.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil && !apierrors.IsNotFound(err) {
				slog.Info("scheduler: marking preemption victim", "pod", podKey(victim), "err", err)
			}
			uid := victim.UID
			err := pods.Delete(ctx, victim.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				slog.Warn("scheduler: deleting preemption victim", "pod", podKey(victim), "err", err)
			}
		})
	}
}

// coreEvents writes Events through the core/v1 client.
type coreEvents struct{ core *client.Core }

func (c coreEvents) CreateEvent(ctx context.Context, ev *corev1.Event) error {
	_, err := c.core.Events(ev.Namespace).Create(ctx, ev, metav1.CreateOptions{})
	return err
}

func (c coreEvents) PatchEvent(ctx context.Context, namespace, name string, patch []byte) error {
	_, err := c.core.Events(namespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return err
}
