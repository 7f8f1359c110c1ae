package node

import (
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/node/simulated"
)

func TestPodEvents(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	env := simulated.Env{HostIP: netip.MustParseAddr("172.16.0.1"), PodIP: netip.MustParseAddr("10.42.0.2"), RunDuration: time.Second}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", Annotations: map[string]string{simulated.AnnotationExitCode: "1"}},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "app", Image: "nginx:1"}}},
	}
	// step applies one lifecycle step at t and returns the events of it.
	step := func(at time.Time) []podEvent {
		r := simulated.Step(pod, env, at)
		if r.Status == nil {
			return nil
		}
		evs := podEvents(pod, &pod.Status, r.Status)
		pod.Status = *r.Status
		return evs
	}
	reasons := func(evs []podEvent) (out []string) {
		for _, e := range evs {
			out = append(out, e.typ+"/"+e.reason)
		}
		return out
	}
	for i, tt := range []struct {
		at   time.Duration
		want []string
	}{
		{0, nil}, // admitted: containers being created
		{0, []string{"Normal/Pulled", "Normal/Created", "Normal/Started"}},
		{time.Second, []string{"Warning/BackOff"}},
		{11 * time.Second, []string{"Normal/Pulled", "Normal/Created", "Normal/Started"}},
	} {
		got := reasons(step(t0.Add(tt.at)))
		if len(got) != len(tt.want) {
			t.Fatalf("step %d: events %v, want %v", i, got, tt.want)
		}
		for j := range got {
			if got[j] != tt.want[j] {
				t.Errorf("step %d: events %v, want %v", i, got, tt.want)
			}
		}
	}
	del := metav1.NewTime(t0)
	pod.DeletionTimestamp = &del
	if got := reasons(step(t0.Add(11 * time.Second))); len(got) != 1 || got[0] != "Normal/Killing" {
		t.Errorf("deletion: events %v, want Normal/Killing", got)
	}
	evs := podEvents(pod, &corev1.PodStatus{Phase: corev1.PodPending}, &corev1.PodStatus{Phase: corev1.PodFailed, Reason: "OutOfpods",
		Message: "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110"})
	if len(evs) != 1 || evs[0].reason != "OutOfpods" || evs[0].message != "Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110" {
		t.Errorf("rejection events = %+v", evs)
	}
}
