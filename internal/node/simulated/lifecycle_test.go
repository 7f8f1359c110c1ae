package simulated

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var (
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	env = Env{HostIP: netip.MustParseAddr("172.16.0.1"), PodIP: netip.MustParseAddr("10.42.0.2"), RunDuration: time.Second}
)

// newPod is a pod as the API server stores it at create: Pending, bound.
func newPod(mut ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Generation: 1, Annotations: map[string]string{}},
		Spec: corev1.PodSpec{
			NodeName:      "n",
			RestartPolicy: corev1.RestartPolicyAlways,
			Containers:    []corev1.Container{{Name: "app", Image: "nginx"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort},
	}
	for _, m := range mut {
		m(p)
	}
	return p
}

func restartPolicy(r corev1.RestartPolicy) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.RestartPolicy = r }
}

func annotate(k, v string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Annotations[k] = v }
}

// at is a step of a scenario: call Step at t0+offset and apply its status.
type at struct {
	offset time.Duration
	check  func(t *testing.T, p *corev1.Pod, r Result)
}

// play applies Step at each time in turn, as the agent would, and runs
// each check on the pod after the step.
func play(t *testing.T, p *corev1.Pod, steps ...at) {
	t.Helper()
	for i, s := range steps {
		r := Step(p, env, t0.Add(s.offset))
		if r.Status != nil {
			p = p.DeepCopy()
			p.Status = *r.Status
		}
		if s.check != nil {
			t.Run(fmt.Sprintf("step%d", i), func(t *testing.T) { s.check(t, p, r) })
		}
	}
}

func cond(p *corev1.Pod, ct corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == ct {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func wantCond(t *testing.T, p *corev1.Pod, ct corev1.PodConditionType, status corev1.ConditionStatus, reason string) {
	t.Helper()
	c := cond(p, ct)
	if c == nil {
		t.Fatalf("no %s condition in %+v", ct, p.Status.Conditions)
	}
	if c.Status != status || c.Reason != reason {
		t.Errorf("%s = %s/%q, want %s/%q", ct, c.Status, c.Reason, status, reason)
	}
}

func wantPhase(t *testing.T, p *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	if p.Status.Phase != phase {
		t.Errorf("phase = %s, want %s", p.Status.Phase, phase)
	}
}

func wantAfter(t *testing.T, r Result, d time.Duration) {
	t.Helper()
	if r.After != d {
		t.Errorf("After = %s, want %s", r.After, d)
	}
}

func container(p *corev1.Pod, name string) corev1.ContainerStatus {
	for _, l := range [][]corev1.ContainerStatus{p.Status.ContainerStatuses, p.Status.InitContainerStatuses} {
		for _, cs := range l {
			if cs.Name == name {
				return cs
			}
		}
	}
	return corev1.ContainerStatus{}
}

func TestStepLifecycles(t *testing.T) {
	tests := []struct {
		name  string
		pod   *corev1.Pod
		steps []at
	}{
		{
			name: "a server pod is admitted Pending, then runs and is ready",
			pod:  newPod(),
			steps: []at{
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodPending)
					if p.Status.StartTime == nil || p.Status.HostIP != "172.16.0.1" || p.Status.PodIP != "" {
						t.Errorf("startTime %v hostIP %q podIP %q", p.Status.StartTime, p.Status.HostIP, p.Status.PodIP)
					}
					if w := container(p, "app").State.Waiting; w == nil || w.Reason != ReasonContainerCreating {
						t.Errorf("app state = %+v, want waiting ContainerCreating", container(p, "app").State)
					}
					wantCond(t, p, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "")
					wantCond(t, p, corev1.PodInitialized, corev1.ConditionTrue, "")
					wantCond(t, p, corev1.PodReady, corev1.ConditionFalse, ReasonContainersNotReady)
					wantCond(t, p, corev1.PodScheduled, corev1.ConditionTrue, "")
					if c := cond(p, corev1.PodReady); c.Message != "containers with unready status: [app]" {
						t.Errorf("Ready message = %q", c.Message)
					}
					var order []corev1.PodConditionType
					for _, c := range p.Status.Conditions {
						order = append(order, c.Type)
					}
					if got := len(order); got != 5 || order[0] != corev1.PodReadyToStartContainers || order[4] != corev1.PodScheduled {
						t.Errorf("condition order = %v", order)
					}
				}},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					if p.Status.PodIP != "10.42.0.2" || len(p.Status.PodIPs) != 1 {
						t.Errorf("podIP %q podIPs %v", p.Status.PodIP, p.Status.PodIPs)
					}
					cs := container(p, "app")
					if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started {
						t.Errorf("app = %+v, want running, started, ready", cs)
					}
					if !strings.HasPrefix(cs.ContainerID, "simulated://") || !strings.HasPrefix(cs.ImageID, "nginx@sha256:") {
						t.Errorf("containerID %q imageID %q", cs.ContainerID, cs.ImageID)
					}
					wantCond(t, p, corev1.PodReady, corev1.ConditionTrue, "")
					wantCond(t, p, corev1.ContainersReady, corev1.ConditionTrue, "")
					wantAfter(t, r, 0)
				}},
				// Nothing left to do: no write, no timer.
				{time.Hour, func(t *testing.T, p *corev1.Pod, r Result) {
					if r.Status != nil || r.Delete || r.After != 0 {
						t.Errorf("idle running pod: %+v", r)
					}
				}},
			},
		},
		{
			name: "a Never pod runs to success after the run duration",
			pod:  newPod(restartPolicy(corev1.RestartPolicyNever)),
			steps: []at{
				{0, nil},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					wantAfter(t, r, time.Second)
				}},
				{time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodSucceeded)
					term := container(p, "app").State.Terminated
					if term == nil || term.ExitCode != 0 || term.Reason != ReasonCompleted || !term.FinishedAt.Equal(&metav1.Time{Time: t0.Add(time.Second)}) {
						t.Errorf("terminated = %+v", term)
					}
					wantCond(t, p, corev1.PodReady, corev1.ConditionFalse, ReasonPodCompleted)
					wantCond(t, p, corev1.ContainersReady, corev1.ConditionFalse, ReasonPodCompleted)
				}},
			},
		},
		{
			name: "a Never pod with an exit code fails",
			pod:  newPod(restartPolicy(corev1.RestartPolicyNever), annotate(AnnotationExitCode, "3"), annotate(AnnotationDuration, "5s")),
			steps: []at{
				{0, nil},
				{0, func(t *testing.T, p *corev1.Pod, r Result) { wantAfter(t, r, 5*time.Second) }},
				{4 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					wantAfter(t, r, time.Second)
				}},
				{5 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodFailed)
					term := container(p, "app").State.Terminated
					if term == nil || term.ExitCode != 3 || term.Reason != ReasonError {
						t.Errorf("terminated = %+v", term)
					}
					wantCond(t, p, corev1.PodReady, corev1.ConditionFalse, ReasonContainersNotReady)
				}},
				// A terminal pod is left alone.
				{time.Hour, func(t *testing.T, p *corev1.Pod, r Result) {
					if r.Status != nil || r.Delete || r.After != 0 {
						t.Errorf("terminal pod: %+v", r)
					}
				}},
			},
		},
		{
			name: "OnFailure restarts a failed container after a back-off",
			pod:  newPod(restartPolicy(corev1.RestartPolicyOnFailure), annotate(AnnotationExitCode, "2")),
			steps: []at{
				{0, nil},
				{0, nil},
				{time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					cs := container(p, "app")
					if w := cs.State.Waiting; w == nil || w.Reason != ReasonCrashLoopBackOff ||
						w.Message != "back-off 10s restarting failed container=app pod=p_ns(uid-1)" {
						t.Errorf("state = %+v", cs.State)
					}
					if lt := cs.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 2 {
						t.Errorf("lastState = %+v", cs.LastTerminationState)
					}
					if cs.RestartCount != 0 {
						t.Errorf("restartCount = %d before the restart", cs.RestartCount)
					}
					wantAfter(t, r, 10*time.Second)
				}},
				{11 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					cs := container(p, "app")
					if cs.State.Running == nil || cs.RestartCount != 1 {
						t.Errorf("after the back-off: state %+v restartCount %d", cs.State, cs.RestartCount)
					}
					if cs.ContainerID == cs.LastTerminationState.Terminated.ContainerID {
						t.Errorf("restarted container kept its ID %s", cs.ContainerID)
					}
					wantAfter(t, r, time.Second)
				}},
				// Second failure: the back-off doubles.
				{12 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) { wantAfter(t, r, 20*time.Second) }},
			},
		},
		{
			name: "OnFailure with exit 0 succeeds",
			pod:  newPod(restartPolicy(corev1.RestartPolicyOnFailure)),
			steps: []at{
				{0, nil}, {0, nil},
				{2 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) { wantPhase(t, p, corev1.PodSucceeded) }},
			},
		},
		{
			name: "Always restarts a container that exits, even with 0",
			pod:  newPod(annotate(AnnotationDuration, "2s")),
			steps: []at{
				{0, nil}, {0, nil},
				{2 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					if lt := container(p, "app").LastTerminationState.Terminated; lt == nil || lt.Reason != ReasonCompleted {
						t.Errorf("lastState = %+v", container(p, "app").LastTerminationState)
					}
				}},
				// Late by a minute: the back-off is long over, it runs again.
				{time.Minute, func(t *testing.T, p *corev1.Pod, r Result) {
					if cs := container(p, "app"); cs.RestartCount != 1 {
						t.Errorf("restartCount = %d", cs.RestartCount)
					}
				}},
			},
		},
		{
			name: "init containers run in order before the main containers",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.InitContainers = []corev1.Container{{Name: "i1", Image: "busybox"}, {Name: "i2", Image: "busybox"}}
			}),
			steps: []at{
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					if w := container(p, "app").State.Waiting; w == nil || w.Reason != ReasonPodInitializing {
						t.Errorf("app state = %+v", container(p, "app").State)
					}
					wantCond(t, p, corev1.PodInitialized, corev1.ConditionFalse, ReasonContainersNotInitialized)
					if c := cond(p, corev1.PodInitialized); c.Message != "containers with incomplete status: [i1 i2]" {
						t.Errorf("Initialized message = %q", c.Message)
					}
				}},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodPending)
					if container(p, "i1").State.Running == nil || container(p, "i2").State.Waiting == nil || container(p, "app").State.Waiting == nil {
						t.Errorf("statuses = %+v", p.Status)
					}
					wantAfter(t, r, time.Second)
				}},
				{time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					if container(p, "i1").State.Terminated == nil || container(p, "i2").State.Running == nil {
						t.Errorf("statuses = %+v", p.Status)
					}
				}},
				{2 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					wantCond(t, p, corev1.PodInitialized, corev1.ConditionTrue, "")
					if container(p, "app").State.Running == nil {
						t.Errorf("app = %+v", container(p, "app").State)
					}
				}},
			},
		},
		{
			name: "a sidecar keeps running, and stops when the main containers complete",
			pod: newPod(restartPolicy(corev1.RestartPolicyNever), func(p *corev1.Pod) {
				always := corev1.ContainerRestartPolicyAlways
				p.Spec.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", RestartPolicy: &always}}
			}),
			steps: []at{
				{0, nil},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					if container(p, "proxy").State.Running == nil || !container(p, "proxy").Ready || container(p, "app").State.Running == nil {
						t.Errorf("statuses = %+v", p.Status)
					}
					wantCond(t, p, corev1.PodReady, corev1.ConditionTrue, "")
				}},
				{time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodSucceeded)
					if container(p, "proxy").State.Terminated == nil {
						t.Errorf("sidecar = %+v", container(p, "proxy").State)
					}
				}},
			},
		},
		{
			name: "readiness follows the probe's initial delay",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{InitialDelaySeconds: 5}
				p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "x"})
			}),
			steps: []at{
				{0, nil},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantPhase(t, p, corev1.PodRunning)
					if container(p, "app").Ready || !container(p, "b").Ready {
						t.Errorf("ready app %v b %v", container(p, "app").Ready, container(p, "b").Ready)
					}
					if c := cond(p, corev1.ContainersReady); c.Message != "containers with unready status: [app]" {
						t.Errorf("ContainersReady = %+v", c)
					}
					wantAfter(t, r, 5*time.Second)
				}},
				{5 * time.Second, func(t *testing.T, p *corev1.Pod, r Result) {
					wantCond(t, p, corev1.PodReady, corev1.ConditionTrue, "")
					if c := cond(p, corev1.PodReady); !c.LastTransitionTime.Equal(&metav1.Time{Time: t0.Add(5 * time.Second)}) {
						t.Errorf("Ready transition at %v", c.LastTransitionTime)
					}
					if c := cond(p, corev1.PodReadyToStartContainers); !c.LastTransitionTime.Equal(&metav1.Time{Time: t0}) {
						t.Errorf("unchanged condition moved its transition time to %v", c.LastTransitionTime)
					}
					if p.Status.ContainerStatuses[0].Name != "app" || p.Status.ContainerStatuses[1].Name != "b" {
						t.Errorf("container statuses not sorted by name")
					}
				}},
			},
		},
		{
			name: "Ready waits for readiness gates",
			pod: newPod(func(p *corev1.Pod) {
				p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "example.com/lb"}}
			}),
			steps: []at{
				{0, nil},
				{0, func(t *testing.T, p *corev1.Pod, r Result) {
					wantCond(t, p, corev1.ContainersReady, corev1.ConditionTrue, "")
					wantCond(t, p, corev1.PodReady, corev1.ConditionFalse, ReasonReadinessGatesNotReady)
				}},
			},
		},
		{
			name: "a deleted pod that never started goes at once",
			pod: newPod(func(p *corev1.Pod) {
				now := metav1.NewTime(t0)
				p.DeletionTimestamp = &now
			}),
			steps: []at{{0, func(t *testing.T, p *corev1.Pod, r Result) {
				if !r.Delete || r.Status != nil {
					t.Errorf("result = %+v, want delete only", r)
				}
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { play(t, tt.pod, tt.steps...) })
	}
}

func TestStepDeletion(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pod       *corev1.Pod
		phase     corev1.PodPhase
		exitCodes map[string]int32
	}{
		{"running containers stop cleanly", newPod(), corev1.PodSucceeded, map[string]int32{"app": 0}},
		{"a container waiting for its init is unknown", newPod(func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "x"}}
		}), corev1.PodFailed, map[string]int32{"init": 0, "app": 137}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.pod
			for range 2 { // admit, then start
				p.Status = *Step(p, env, t0).Status
			}
			del := metav1.NewTime(t0.Add(30 * time.Second))
			p.DeletionTimestamp = &del
			r := Step(p, env, t0.Add(10*time.Second))
			if r.Status == nil || r.Delete {
				t.Fatalf("first step after deletion = %+v, want a terminal status", r)
			}
			p.Status = *r.Status
			if p.Status.Phase != tt.phase {
				t.Errorf("phase = %s, want %s", p.Status.Phase, tt.phase)
			}
			for name, code := range tt.exitCodes {
				if term := container(p, name).State.Terminated; term == nil || term.ExitCode != code {
					t.Errorf("%s = %+v, want terminated with %d", name, container(p, name).State, code)
				}
			}
			wantCond(t, p, corev1.PodReadyToStartContainers, corev1.ConditionFalse, "")
			if r := Step(p, env, t0.Add(10*time.Second)); !r.Delete || r.Status != nil {
				t.Errorf("second step = %+v, want delete", r)
			}
		})
	}
}

func TestStepStartDelay(t *testing.T) {
	slow := env
	slow.StartDelay = 3 * time.Second
	p := newPod()
	for _, tt := range []struct {
		offset  time.Duration
		phase   corev1.PodPhase
		waiting string
		after   time.Duration
	}{
		{0, corev1.PodPending, ReasonContainerCreating, 0},
		{time.Second, corev1.PodPending, ReasonContainerCreating, 2 * time.Second},
		{3 * time.Second, corev1.PodRunning, "", 0},
	} {
		r := Step(p, slow, t0.Add(tt.offset))
		if r.Status != nil {
			p.Status = *r.Status
		}
		var waiting string
		if w := p.Status.ContainerStatuses[0].State.Waiting; w != nil {
			waiting = w.Reason
		}
		if p.Status.Phase != tt.phase || waiting != tt.waiting || r.After != tt.after {
			t.Errorf("at +%s: phase %s waiting %q after %s; want %s %q %s", tt.offset, p.Status.Phase, waiting, r.After, tt.phase, tt.waiting, tt.after)
		}
	}
}

func TestStepActiveDeadline(t *testing.T) {
	p := newPod(func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr(int64(60)) })
	play(t, p,
		at{0, nil},
		at{0, func(t *testing.T, p *corev1.Pod, r Result) {
			wantPhase(t, p, corev1.PodRunning)
			wantAfter(t, r, time.Minute)
		}},
		at{time.Minute, func(t *testing.T, p *corev1.Pod, r Result) {
			wantPhase(t, p, corev1.PodFailed)
			if p.Status.Reason != ReasonDeadlineExceeded || p.Status.Message != messageDeadlineExceeded {
				t.Errorf("reason %q message %q", p.Status.Reason, p.Status.Message)
			}
			if container(p, "app").State.Terminated == nil {
				t.Errorf("app still %+v", container(p, "app").State)
			}
			wantCond(t, p, corev1.PodReady, corev1.ConditionFalse, ReasonContainersNotReady)
		}})
}

func TestStepRejected(t *testing.T) {
	full := env
	full.Reject = &Rejection{Reason: "OutOfpods", Message: "Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110"}
	r := Step(newPod(), full, t0)
	if r.Status == nil || r.Status.Phase != corev1.PodFailed || r.Status.Reason != "OutOfpods" ||
		r.Status.Message != "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 110, capacity: 110" || r.Status.StartTime != nil {
		t.Errorf("rejected pod status = %+v", r.Status)
	}
	// A pod already admitted is not rejected afterwards.
	p := newPod()
	p.Status = *Step(p, env, t0).Status
	if r := Step(p, full, t0); r.Status == nil || r.Status.Phase != corev1.PodRunning {
		t.Errorf("admitted pod was rejected: %+v", r.Status)
	}
}

func TestStepIgnoresBadAnnotations(t *testing.T) {
	p := newPod(restartPolicy(corev1.RestartPolicyNever), annotate(AnnotationExitCode, "three"), annotate(AnnotationDuration, "soon"))
	play(t, p, at{0, nil}, at{0, func(t *testing.T, p *corev1.Pod, r Result) { wantAfter(t, r, env.RunDuration) }},
		at{time.Second, func(t *testing.T, p *corev1.Pod, r Result) { wantPhase(t, p, corev1.PodSucceeded) }})
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		restarts int32
		want     time.Duration
	}{{0, 10 * time.Second}, {1, 20 * time.Second}, {2, 40 * time.Second}, {4, 160 * time.Second}, {5, 5 * time.Minute}, {100, 5 * time.Minute}} {
		if got := backoff(tt.restarts); got != tt.want {
			t.Errorf("backoff(%d) = %s, want %s", tt.restarts, got, tt.want)
		}
	}
}
