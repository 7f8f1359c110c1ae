package printers

import (
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func running(name string, ready bool, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, Ready: ready, RestartCount: restarts, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
}

func waiting(name, reason string, restarts int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, RestartCount: restarts, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name, reason string, exitCode, signal int32) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: name, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: reason, ExitCode: exitCode, Signal: signal}}}
}

// lastTerminated records that the container last terminated finishedAgo ago.
func lastTerminated(cs corev1.ContainerStatus, finishedAgo time.Duration) corev1.ContainerStatus {
	cs.LastTerminationState.Terminated = &corev1.ContainerStateTerminated{ExitCode: 1, Reason: "Error", FinishedAt: ago(finishedAgo)}
	return cs
}

func containers(names ...string) []corev1.Container {
	var cs []corev1.Container
	for _, n := range names {
		cs = append(cs, corev1.Container{Name: n, Image: "busybox"})
	}
	return cs
}

func sidecar(name string) corev1.Container {
	return corev1.Container{Name: name, Image: "envoy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways)}
}

func cond(t corev1.PodConditionType, s corev1.ConditionStatus) corev1.PodCondition {
	return corev1.PodCondition{Type: t, Status: s}
}

// TestPodStatus pins READY, STATUS and RESTARTS for the pod states users see.
func TestPodStatus(t *testing.T) {
	for _, tc := range []struct {
		name                      string
		spec                      corev1.PodSpec
		status                    corev1.PodStatus
		deleted                   bool
		ready, state, restartCell string
	}{
		{"running", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)}},
			false, "1/1", "Running", "0"},
		{"running, one of two ready", corev1.PodSpec{Containers: containers("a", "b")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0), running("b", false, 0)}},
			false, "1/2", "Running", "0"},
		{"pending, not scheduled", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending},
			false, "0/1", "Pending", "0"},
		{"container creating", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{waiting("a", "ContainerCreating", 0)}},
			false, "0/1", "ContainerCreating", "0"},
		{"crash loop with last restart", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{lastTerminated(waiting("a", "CrashLoopBackOff", 5), 3*time.Minute)}},
			false, "0/1", "CrashLoopBackOff", "5 (3m ago)"},
		{"restarted, now running", corev1.PodSpec{Containers: containers("a", "b")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				lastTerminated(running("a", true, 2), 5*time.Hour), lastTerminated(running("b", true, 1), 70*time.Minute)}},
			false, "2/2", "Running", "3 (70m ago)"},
		{"image pull back-off", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{waiting("a", "ImagePullBackOff", 0)}},
			false, "0/1", "ImagePullBackOff", "0"},
		{"completed", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}},
			false, "0/1", "Completed", "0"},
		{"error", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Error", 1, 0)}},
			false, "0/1", "Error", "0"},
		{"OOM killed", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "OOMKilled", 137, 0)}},
			false, "0/1", "OOMKilled", "0"},
		{"exit code without reason", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "", 2, 0)}},
			false, "0/1", "ExitCode:2", "0"},
		{"signal without reason", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "", 137, 9)}},
			false, "0/1", "Signal:9", "0"},
		{"first container decides: statuses are read last to first", corev1.PodSpec{Containers: containers("a", "b")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{waiting("a", "CrashLoopBackOff", 1), waiting("b", "ErrImagePull", 0)}},
			false, "0/2", "CrashLoopBackOff", "1"},
		{"completed with a container still running", corev1.PodSpec{Containers: containers("a", "b")},
			corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodReady, corev1.ConditionFalse)},
				ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true, 0)}},
			false, "1/2", "NotReady", "0"},
		{"completed with a container still running, ready", corev1.PodSpec{Containers: containers("a", "b")},
			corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodReady, corev1.ConditionTrue)},
				ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0), running("b", true, 0)}},
			false, "1/2", "Running", "0"},
		{"evicted", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"},
			false, "0/1", "Evicted", "0"},
		{"scheduling gated", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}}},
			false, "0/1", "SchedulingGated", "0"},
		{"init running", corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{running("i1", false, 0), waiting("i2", "PodInitializing", 0)},
				ContainerStatuses:     []corev1.ContainerStatus{waiting("a", "PodInitializing", 0)}},
			false, "0/1", "Init:0/2", "0"},
		{"second init running", corev1.PodSpec{InitContainers: containers("i1", "i2"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "Completed", 0, 0), waiting("i2", "PodInitializing", 0)},
				ContainerStatuses:     []corev1.ContainerStatus{waiting("a", "PodInitializing", 0)}},
			false, "0/1", "Init:1/2", "0"},
		{"init crash loop counts init restarts", corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending,
				InitContainerStatuses: []corev1.ContainerStatus{lastTerminated(waiting("i1", "CrashLoopBackOff", 4), 20*time.Second)},
				ContainerStatuses:     []corev1.ContainerStatus{waiting("a", "PodInitializing", 0)}},
			false, "0/1", "Init:CrashLoopBackOff", "4 (20s ago)"},
		{"init error", corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "Error", 1, 0)}},
			false, "0/1", "Init:Error", "0"},
		{"init exit code", corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "", 3, 0)}},
			false, "0/1", "Init:ExitCode:3", "0"},
		{"init signal", corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodFailed, InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "", 143, 15)}},
			false, "0/1", "Init:Signal:15", "0"},
		{"init done, running", corev1.PodSpec{InitContainers: containers("i1"), Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, InitContainerStatuses: []corev1.ContainerStatus{terminated("i1", "Completed", 0, 0)},
				ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)}},
			false, "1/1", "Running", "0"},
		{"sidecar counts as a container", corev1.PodSpec{InitContainers: []corev1.Container{sidecar("proxy")}, Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{cond(corev1.PodInitialized, corev1.ConditionTrue)},
				InitContainerStatuses: []corev1.ContainerStatus{func() corev1.ContainerStatus {
					cs := lastTerminated(running("proxy", true, 1), 2*time.Hour)
					cs.Started = ptr(true)
					return cs
				}()},
				ContainerStatuses: []corev1.ContainerStatus{lastTerminated(running("a", true, 2), 4*time.Minute)}},
			false, "2/2", "Running", "3 (4m ago)"},
		{"sidecar not started yet", corev1.PodSpec{InitContainers: []corev1.Container{sidecar("proxy")}, Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{running("proxy", false, 0)},
				ContainerStatuses: []corev1.ContainerStatus{waiting("a", "PodInitializing", 0)}},
			false, "0/2", "Init:0/1", "0"},
		{"terminating", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)}},
			true, "1/1", "Terminating", "0"},
		{"deleted after success stays completed", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{terminated("a", "Completed", 0, 0)}},
			true, "0/1", "Completed", "0"},
		{"deleted on a lost node", corev1.PodSpec{Containers: containers("a")},
			corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost", ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)}},
			true, "1/1", "Unknown", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: om("p", time.Hour), Spec: tc.spec, Status: tc.status}
			if tc.deleted {
				pod.DeletionTimestamp = ptr(ago(time.Second))
			}
			ready, state, restarts := podStatus(pod, now)
			if ready != tc.ready || state != tc.state || restarts != tc.restartCell {
				t.Errorf("got READY %q STATUS %q RESTARTS %q, want %q %q %q", ready, state, restarts, tc.ready, tc.state, tc.restartCell)
			}
		})
	}
}

func TestPodRow(t *testing.T) {
	pod := &corev1.Pod{
		ObjectMeta: om("web-0", 26*time.Hour),
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: containers("a"), ReadinessGates: []corev1.PodReadinessGate{
			{ConditionType: "example.com/lb"}, {ConditionType: "example.com/dns"},
		}},
		Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.244.0.5", PodIPs: []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "fd00::5"}},
			NominatedNodeName: "node-2",
			Conditions:        []corev1.PodCondition{cond("example.com/lb", corev1.ConditionTrue), cond("example.com/dns", corev1.ConditionFalse)},
			ContainerStatuses: []corev1.ContainerStatus{running("a", true, 0)},
		},
	}
	row, err := podPrinter.Row(pod, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"web-0", "1/1", "Running", "0", "26h", "10.244.0.5", "node-1", "node-2", "1/2"}
	if !reflect.DeepEqual(row.Cells, want) {
		t.Errorf("cells\n got %#v\nwant %#v", row.Cells, want)
	}
	if row.Conditions != nil {
		t.Errorf("conditions of a running pod: %v", row.Conditions)
	}

	pending := &corev1.Pod{ObjectMeta: om("new", time.Second), Status: corev1.PodStatus{Phase: corev1.PodPending, PodIP: "10.0.0.9"}}
	row, _ = podPrinter.Row(pending, now)
	want = []any{"new", "0/0", "Pending", "0", "1s", "10.0.0.9", "<none>", "<none>", "<none>"}
	if !reflect.DeepEqual(row.Cells, want) {
		t.Errorf("cells\n got %#v\nwant %#v", row.Cells, want)
	}

	for phase, reason := range map[corev1.PodPhase]string{corev1.PodSucceeded: "Succeeded", corev1.PodFailed: "Failed"} {
		row, _ = podPrinter.Row(&corev1.Pod{Status: corev1.PodStatus{Phase: phase}}, now)
		if len(row.Conditions) != 1 || row.Conditions[0].Type != metav1.RowCompleted || row.Conditions[0].Reason != reason {
			t.Errorf("%s pod: conditions %v, want Completed/%s", phase, row.Conditions, reason)
		}
	}
}
