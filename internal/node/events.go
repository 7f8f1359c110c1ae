package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/flowcontrol"

	"skiff.dev/skiff/internal/node/simulated"
)

// Events are recorded as the kubelet records them, with its rate limit:
// 50 a second, bursts of 100 (eventRecordQPS, eventBurst); past that, and
// when the buffer is full, they are dropped, so events never slow pods.
const (
	eventQPS    = 50
	eventBurst  = 100
	eventBuffer = 1024
)

// podEvent is one Event about a pod (fieldPath names a container).
type podEvent struct {
	typ, reason, message, fieldPath string
}

// podEvents are the Events the kubelet records for a pod whose status went
// from before to after: a container started (Pulled, Created, Started),
// is backing off (BackOff), was stopped for a deletion (Killing), or the
// pod was rejected at admission (OutOfcpu, ...).
func podEvents(pod *corev1.Pod, before, after *corev1.PodStatus) []podEvent {
	var out []podEvent
	if after.Phase == corev1.PodFailed && before.Phase != corev1.PodFailed && strings.HasPrefix(after.Reason, "OutOf") {
		out = append(out, podEvent{corev1.EventTypeWarning, after.Reason, strings.TrimPrefix(after.Message, "Pod was rejected: "), ""})
	}
	lists := []struct {
		path          string
		specs         []corev1.Container
		before, after []corev1.ContainerStatus
	}{
		{"spec.initContainers", pod.Spec.InitContainers, before.InitContainerStatuses, after.InitContainerStatuses},
		{"spec.containers", pod.Spec.Containers, before.ContainerStatuses, after.ContainerStatuses},
	}
	for _, l := range lists {
		for _, c := range l.specs {
			now, was := findContainer(l.after, c.Name), findContainer(l.before, c.Name)
			if now == nil {
				continue
			}
			path := fmt.Sprintf("%s{%s}", l.path, c.Name)
			switch {
			case now.State.Running != nil && (was == nil || was.ContainerID != now.ContainerID || was.State.Running == nil):
				out = append(out,
					podEvent{corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image), path},
					podEvent{corev1.EventTypeNormal, "Created", "Created container: " + c.Name, path},
					podEvent{corev1.EventTypeNormal, "Started", "Started container " + c.Name, path})
			case now.State.Waiting != nil && now.State.Waiting.Reason == simulated.ReasonCrashLoopBackOff &&
				(was == nil || was.State.Waiting == nil || was.State.Waiting.Reason != simulated.ReasonCrashLoopBackOff):
				out = append(out, podEvent{corev1.EventTypeWarning, "BackOff",
					fmt.Sprintf("Back-off restarting failed container %s in pod %s_%s(%s)", c.Name, pod.Name, pod.Namespace, pod.UID), path})
			case pod.DeletionTimestamp != nil && now.State.Terminated != nil && was != nil && was.State.Running != nil:
				out = append(out, podEvent{corev1.EventTypeNormal, "Killing", "Stopping container " + c.Name, path})
			}
		}
	}
	return out
}

func findContainer(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

// eventRecord is an Event waiting to be written.
type eventRecord struct {
	event *corev1.Event
}

// record queues the events of a pod's status change from node, dropping
// them when the buffer is full.
func (a *Agent) record(pod *corev1.Pod, node string, evs []podEvent) {
	now := metav1.NewTime(a.clock.Now())
	for _, e := range evs {
		ev := &corev1.Event{
			ObjectMeta: metav1.ObjectMeta{
				// As the kubelet names events: the object and a time, here
				// made unique in the process by a sequence number.
				Name:      fmt.Sprintf("%s.%x", pod.Name, now.UnixNano()+int64(a.eventSeq.Add(1))),
				Namespace: pod.Namespace,
			},
			InvolvedObject: corev1.ObjectReference{
				Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID,
				ResourceVersion: pod.ResourceVersion, FieldPath: e.fieldPath,
			},
			Reason: e.reason, Message: e.message, Type: e.typ,
			Source:         corev1.EventSource{Component: "kubelet", Host: node},
			FirstTimestamp: now, LastTimestamp: now, Count: 1,
			ReportingController: "kubelet", ReportingInstance: node,
		}
		select {
		case a.events <- eventRecord{event: ev}:
		default: // full: dropped, as a flooded kubelet drops them
		}
	}
}

// writeEvents writes queued events at the kubelet's rate until ctx ends.
func (a *Agent) writeEvents(ctx context.Context) {
	limiter := flowcontrol.NewTokenBucketRateLimiter(eventQPS, eventBurst)
	defer limiter.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-a.events:
			if !limiter.TryAccept() {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if _, err := a.core.Events(r.event.Namespace).Create(wctx, r.event, metav1.CreateOptions{}); err != nil && ctx.Err() == nil {
				a.log.Debug("recording event", "reason", r.event.Reason, "pod", r.event.InvolvedObject.Name, "err", err)
			}
			cancel()
		}
	}
}
