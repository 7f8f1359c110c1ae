package simulated

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations that change how a pod's containers run.
const (
	// AnnotationExitCode is the exit code of the pod's containers when
	// they end (an int; default 0).
	AnnotationExitCode = "skiff.dev/simulate-exit-code"
	// AnnotationDuration is how long the pod's containers run before they
	// exit (a Go duration such as "30s"; default Env.RunDuration for pods
	// whose restartPolicy is Never or OnFailure, forever for Always).
	AnnotationDuration = "skiff.dev/simulate-duration"
)

// Container state reasons and messages, as the kubelet writes them.
const (
	ReasonContainerCreating = "ContainerCreating"
	ReasonPodInitializing   = "PodInitializing"
	ReasonCrashLoopBackOff  = "CrashLoopBackOff"
	ReasonCompleted         = "Completed"
	ReasonError             = "Error"
	ReasonStatusUnknown     = "ContainerStatusUnknown"
	// Pod condition reasons.
	ReasonContainersNotReady       = "ContainersNotReady"
	ReasonContainersNotInitialized = "ContainersNotInitialized"
	ReasonPodCompleted             = "PodCompleted"
	ReasonReadinessGatesNotReady   = "ReadinessGatesNotReady"

	messageStatusUnknown = "The container could not be located when the pod was terminated"
)

// Back-off between restarts of a container, as the kubelet's: 10 s,
// doubling, at most 5 min.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 5 * time.Minute
)

// Env is what the node running a pod contributes to its status.
type Env struct {
	// HostIP is the node's address.
	HostIP netip.Addr
	// PodIP is the address the node allocated for the pod, used when the
	// pod's sandbox starts; pods that have one keep theirs.
	PodIP netip.Addr
	// RunDuration is how long containers that may complete run when the
	// pod does not say (AnnotationDuration); init containers always run
	// this long.
	RunDuration time.Duration
	// Reject, when set for a pod not yet admitted (no startTime), makes
	// the node refuse it, as the kubelet's admission does when the node
	// lacks room: the pod fails with the rejection's reason and message.
	Reject *Rejection
	// StartDelay is how long a pod stays Pending with its containers
	// ContainerCreating (sandbox, network, image pulls) before they start.
	StartDelay time.Duration
}

// Rejection is why a node refuses a pod, e.g. Reason "OutOfcpu" and
// Message "Node didn't have enough resource: cpu, requested: 9000, used:
// 0, capacity: 8000".
type Rejection struct {
	Reason  string
	Message string
}

// DeadlineExceeded is the reason of a pod that outlived its
// activeDeadlineSeconds.
const (
	ReasonDeadlineExceeded  = "DeadlineExceeded"
	messageDeadlineExceeded = "Pod was active on the node longer than the specified deadline"
)

// Result is what the node should do for a pod now.
type Result struct {
	// Status, when not nil, is the status to write.
	Status *corev1.PodStatus
	// Delete asks for the pod's removal with a zero grace period (and its
	// UID as precondition): it was deleted and has stopped.
	Delete bool
	// After, when positive, is when to look at the pod again even if it
	// does not change: a simulated duration ends then.
	After time.Duration
}

// Step is the pure core of the simulated kubelet: given a pod bound to the
// node, the node's environment and the time, it returns the next status
// of the pod (or none when it is as it should be), whether to delete it,
// and when to look again. Applying its status and calling it again moves
// the pod one step further; a pod goes
//
//	Pending (containers waiting, ContainerCreating)
//	→ sandbox ready, pod IP, init containers one by one
//	→ Running, containers started and (after their readiness probes'
//	  initial delay) ready
//	→ Succeeded or Failed when its containers end and are not restarted.
//
// A deleted pod has its containers stopped, becomes terminal, and is then
// deleted. Times are compared at the second precision the API keeps.
func Step(pod *corev1.Pod, env Env, now time.Time) Result {
	now = now.Truncate(time.Second)
	s := stepper{pod: pod, env: env, now: now, mnow: metav1.NewTime(now), st: pod.Status.DeepCopy()}
	return s.run()
}

type stepper struct {
	pod  *corev1.Pod
	env  Env
	now  time.Time
	mnow metav1.Time
	st   *corev1.PodStatus
	wake time.Time // earliest future time something changes; zero if none
}

func (s *stepper) wakeAt(t time.Time) {
	if t.After(s.now) && (s.wake.IsZero() || t.Before(s.wake)) {
		s.wake = t
	}
}

func (s *stepper) result() Result {
	var r Result
	if !apiequality.Semantic.DeepEqual(s.st, &s.pod.Status) {
		r.Status = s.st
	}
	if !s.wake.IsZero() {
		r.After = s.wake.Sub(s.now)
	}
	return r
}

func (s *stepper) run() Result {
	pod, st := s.pod, s.st
	deleting := pod.DeletionTimestamp != nil
	if isTerminal(st.Phase) {
		return Result{Delete: deleting}
	}
	if deleting {
		if st.StartTime == nil {
			return Result{Delete: true} // nothing ever ran
		}
		s.stopAll()
		return s.result()
	}
	st.ObservedGeneration = pod.Generation
	if st.StartTime == nil {
		if r := s.env.Reject; r != nil {
			st.Phase, st.Reason, st.Message = corev1.PodFailed, r.Reason, "Pod was rejected: "+r.Message
			return s.result()
		}
		s.admit()
		return s.result()
	}
	if d := pod.Spec.ActiveDeadlineSeconds; d != nil {
		deadline := st.StartTime.Add(time.Duration(*d) * time.Second)
		if !s.now.Before(deadline) {
			s.stopAll()
			st.Phase, st.Reason, st.Message = corev1.PodFailed, ReasonDeadlineExceeded, messageDeadlineExceeded
			s.conditions()
			return s.result()
		}
		s.wakeAt(deadline)
	}
	if !conditionTrue(st.Conditions, corev1.PodReadyToStartContainers) {
		if at := st.StartTime.Add(s.env.StartDelay); s.now.Before(at) {
			s.wakeAt(at)
			return s.result()
		}
		s.startSandbox()
	}
	s.advance()
	return s.result()
}

// admit is the kubelet's first status of a pod it accepted: Pending, its
// containers waiting to be created.
func (s *stepper) admit() {
	st := s.st
	st.Phase = corev1.PodPending
	st.StartTime = &s.mnow
	st.HostIP = s.env.HostIP.String()
	st.HostIPs = []corev1.HostIP{{IP: st.HostIP}}
	waiting := ReasonContainerCreating
	if len(s.pod.Spec.InitContainers) > 0 {
		waiting = ReasonPodInitializing
	}
	st.InitContainerStatuses = s.waitingStatuses(s.pod.Spec.InitContainers, waiting, st.InitContainerStatuses)
	st.ContainerStatuses = s.waitingStatuses(s.pod.Spec.Containers, waiting, st.ContainerStatuses)
	sortByName(st.ContainerStatuses)
	s.setCondition(corev1.PodScheduled, corev1.ConditionTrue, "", "")
	s.setCondition(corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", "")
	s.conditions()
}

func (s *stepper) waitingStatuses(cs []corev1.Container, reason string, old []corev1.ContainerStatus) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, len(cs))
	for i, c := range cs {
		out[i] = corev1.ContainerStatus{
			Name:    c.Name,
			Image:   c.Image,
			Started: ptr(false),
			State:   corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}},
		}
		if o := findStatus(old, c.Name); o != nil {
			out[i].RestartCount = o.RestartCount
		}
	}
	return out
}

// startSandbox: the pod's network is up; it has its address.
func (s *stepper) startSandbox() {
	st := s.st
	if st.PodIP == "" && s.env.PodIP.IsValid() {
		st.PodIP = s.env.PodIP.String()
		st.PodIPs = []corev1.PodIP{{IP: st.PodIP}}
	}
	s.setCondition(corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", "")
}

// advance runs init containers in order, then the main containers, ends
// and restarts containers whose simulated run is over, and derives the
// phase and conditions.
func (s *stepper) advance() {
	spec, st := &s.pod.Spec, s.st
	initDone := true
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		cs := s.statusFor(&st.InitContainerStatuses, c)
		if isSidecar(c) {
			if cs.State.Running == nil {
				s.start(cs, c)
			}
			s.probe(cs, c)
			if !*cs.Started {
				initDone = false // the next init container waits for the sidecar's startup
				break
			}
			continue
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode == 0 {
			continue
		}
		if cs.State.Running == nil {
			s.start(cs, c)
		}
		end := cs.State.Running.StartedAt.Add(s.env.RunDuration)
		if s.now.Before(end) {
			s.wakeAt(end)
			initDone = false
			break
		}
		s.terminate(cs, 0, end)
	}
	if initDone {
		for i := range spec.Containers {
			c := &spec.Containers[i]
			s.runMain(s.statusFor(&st.ContainerStatuses, c), c)
		}
		sortByName(st.ContainerStatuses)
	}
	// Sidecars stop once the main containers have ended for good.
	if initDone && s.mainFinished() {
		for i := range spec.InitContainers {
			if c := &spec.InitContainers[i]; isSidecar(c) {
				if cs := s.statusFor(&st.InitContainerStatuses, c); cs.State.Running != nil {
					s.terminate(cs, 0, s.now)
				}
			}
		}
	}
	st.Phase = s.phase(initDone)
	s.conditions()
}

// runMain advances one main container: start it, end its run, restart it
// after a back-off, and track started/ready.
func (s *stepper) runMain(cs *corev1.ContainerStatus, c *corev1.Container) {
	switch {
	case cs.State.Waiting != nil && cs.LastTerminationState.Terminated != nil:
		// Back-off after a restartable exit.
		at := cs.LastTerminationState.Terminated.FinishedAt.Add(backoff(cs.RestartCount))
		if s.now.Before(at) {
			s.wakeAt(at)
			return
		}
		cs.RestartCount++
		s.start(cs, c)
	case cs.State.Waiting != nil:
		s.start(cs, c)
	case cs.State.Terminated != nil:
		return // ended and not restarted
	}
	if d, ok := s.runFor(); ok {
		end := cs.State.Running.StartedAt.Add(d)
		if s.now.Before(end) {
			s.wakeAt(end)
		} else {
			code := s.exitCode()
			s.terminate(cs, code, end)
			if s.restarts(code) {
				term := cs.State.Terminated
				cs.LastTerminationState = corev1.ContainerState{Terminated: term}
				cs.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
					Reason: ReasonCrashLoopBackOff,
					Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)",
						backoff(cs.RestartCount), c.Name, s.pod.Name, s.pod.Namespace, s.pod.UID),
				}}
				at := term.FinishedAt.Add(backoff(cs.RestartCount))
				if !s.now.Before(at) {
					// Late: the back-off is already over.
					cs.RestartCount++
					s.start(cs, c)
				} else {
					s.wakeAt(at)
					return
				}
			}
		}
	}
	s.probe(cs, c)
}

// start runs the container now, under a new container ID.
func (s *stepper) start(cs *corev1.ContainerStatus, c *corev1.Container) {
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: s.mnow}}
	cs.Image = c.Image
	cs.ImageID = imageID(c.Image)
	cs.ContainerID = containerID(s.pod, c.Name, cs.RestartCount)
	cs.Started, cs.Ready = ptr(false), false
}

// probe sets started and ready of a running container: its startup and
// readiness probes pass once their initial delay has gone by.
func (s *stepper) probe(cs *corev1.ContainerStatus, c *corev1.Container) {
	r := cs.State.Running
	if r == nil {
		cs.Started, cs.Ready = ptr(false), false
		return
	}
	started := s.passed(r.StartedAt.Time, c.StartupProbe)
	cs.Started = ptr(started)
	cs.Ready = started && s.passed(r.StartedAt.Time, c.ReadinessProbe)
}

func (s *stepper) passed(startedAt time.Time, p *corev1.Probe) bool {
	if p == nil {
		return true
	}
	at := startedAt.Add(time.Duration(p.InitialDelaySeconds) * time.Second)
	if s.now.Before(at) {
		s.wakeAt(at)
		return false
	}
	return true
}

func (s *stepper) terminate(cs *corev1.ContainerStatus, code int32, at time.Time) {
	started := s.mnow
	if r := cs.State.Running; r != nil {
		started = r.StartedAt
	}
	reason := ReasonCompleted
	if code != 0 {
		reason = ReasonError
	}
	cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode:    code,
		Reason:      reason,
		StartedAt:   started,
		FinishedAt:  metav1.NewTime(at),
		ContainerID: cs.ContainerID,
	}}
	cs.Started, cs.Ready = ptr(false), false
}

// stopAll stops every container of a deleted pod: running ones exit
// cleanly, ones that never ran are reported as the kubelet reports them,
// and the pod ends Succeeded or Failed by their exit codes.
func (s *stepper) stopAll() {
	st := s.st
	stop := func(list []corev1.ContainerStatus) {
		for i := range list {
			cs := &list[i]
			switch {
			case cs.State.Running != nil:
				s.terminate(cs, 0, s.now)
			case cs.State.Waiting != nil:
				cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
					ExitCode: 137, Reason: ReasonStatusUnknown, Message: messageStatusUnknown,
					StartedAt: metav1.Time{}, FinishedAt: s.mnow,
				}}
				cs.Started, cs.Ready = ptr(false), false
			}
		}
	}
	stop(st.InitContainerStatuses)
	stop(st.ContainerStatuses)
	st.Phase = corev1.PodSucceeded
	for _, cs := range append(slices.Clone(st.InitContainerStatuses), st.ContainerStatuses...) {
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			st.Phase = corev1.PodFailed
		}
	}
	s.setCondition(corev1.PodReadyToStartContainers, corev1.ConditionFalse, "", "")
	s.conditions()
}

// runFor is how long main containers run before they exit, if they do.
func (s *stepper) runFor() (time.Duration, bool) {
	if v, ok := s.pod.Annotations[AnnotationDuration]; ok {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			return d, true
		}
	}
	if s.pod.Spec.RestartPolicy == corev1.RestartPolicyAlways || s.pod.Spec.RestartPolicy == "" {
		if _, ok := s.pod.Annotations[AnnotationExitCode]; !ok {
			return 0, false // a server runs until stopped
		}
	}
	return s.env.RunDuration, true
}

func (s *stepper) exitCode() int32 {
	if v, ok := s.pod.Annotations[AnnotationExitCode]; ok {
		if c, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32); err == nil {
			return int32(c)
		}
	}
	return 0
}

// restarts says whether a main container that exited with code is
// started again, by the pod's restart policy.
func (s *stepper) restarts(code int32) bool {
	switch s.pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return false
	case corev1.RestartPolicyOnFailure:
		return code != 0
	}
	return true
}

// mainFinished: every main container has terminated and will not restart.
func (s *stepper) mainFinished() bool {
	for _, cs := range s.st.ContainerStatuses {
		if cs.State.Terminated == nil {
			return false
		}
	}
	return len(s.st.ContainerStatuses) > 0
}

// phase is the kubelet's getPhase for a pod that is not being deleted.
func (s *stepper) phase(initDone bool) corev1.PodPhase {
	if !initDone {
		return corev1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range s.st.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++ // restarting after a back-off
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped == succeeded && s.mainFinished():
		return corev1.PodSucceeded
	case s.mainFinished() && s.pod.Spec.RestartPolicy == corev1.RestartPolicyNever:
		return corev1.PodFailed
	}
	return corev1.PodRunning // containers restarting
}

// conditions derives Initialized, ContainersReady and Ready from the
// container statuses.
func (s *stepper) conditions() {
	st, spec := s.st, &s.pod.Spec
	var incomplete, unready []string
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		cs := findStatus(st.InitContainerStatuses, c.Name)
		switch {
		case cs == nil:
			incomplete = append(incomplete, c.Name)
		case isSidecar(c):
			if cs.Started == nil || !*cs.Started {
				incomplete = append(incomplete, c.Name)
			}
			if !cs.Ready {
				unready = append(unready, c.Name)
			}
		case cs.State.Terminated == nil || cs.State.Terminated.ExitCode != 0:
			incomplete = append(incomplete, c.Name)
		}
	}
	for _, c := range spec.Containers {
		if cs := findStatus(st.ContainerStatuses, c.Name); cs == nil || !cs.Ready {
			unready = append(unready, c.Name)
		}
	}
	terminalInit := isTerminal(st.Phase) && len(incomplete) == 0
	if len(incomplete) == 0 || terminalInit {
		s.setCondition(corev1.PodInitialized, corev1.ConditionTrue, "", "")
	} else {
		s.setCondition(corev1.PodInitialized, corev1.ConditionFalse, ReasonContainersNotInitialized,
			fmt.Sprintf("containers with incomplete status: [%s]", strings.Join(incomplete, " ")))
	}
	switch {
	case st.Phase == corev1.PodSucceeded:
		s.setCondition(corev1.ContainersReady, corev1.ConditionFalse, ReasonPodCompleted, "")
		s.setCondition(corev1.PodReady, corev1.ConditionFalse, ReasonPodCompleted, "")
		return
	case len(unready) > 0:
		msg := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
		s.setCondition(corev1.ContainersReady, corev1.ConditionFalse, ReasonContainersNotReady, msg)
		s.setCondition(corev1.PodReady, corev1.ConditionFalse, ReasonContainersNotReady, msg)
		return
	}
	s.setCondition(corev1.ContainersReady, corev1.ConditionTrue, "", "")
	// Readiness gates are conditions others set; Ready waits for them.
	var gates []string
	for _, g := range spec.ReadinessGates {
		if !conditionTrue(st.Conditions, g.ConditionType) {
			gates = append(gates, string(g.ConditionType))
		}
	}
	if len(gates) > 0 {
		msg := fmt.Sprintf("corresponding condition of pod readiness gate %q does not exist.", gates[0])
		s.setCondition(corev1.PodReady, corev1.ConditionFalse, ReasonReadinessGatesNotReady, msg)
		return
	}
	s.setCondition(corev1.PodReady, corev1.ConditionTrue, "", "")
}

// conditionOrder is the order in which the kubelet lists pod conditions.
var conditionOrder = []corev1.PodConditionType{
	corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.PodReady, corev1.ContainersReady, corev1.PodScheduled,
}

// setCondition sets a condition, keeping its transition time unless its
// status changes, and keeps the kubelet's order.
func (s *stepper) setCondition(t corev1.PodConditionType, status corev1.ConditionStatus, reason, msg string) {
	c := corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: msg,
		LastTransitionTime: s.mnow, ObservedGeneration: s.pod.Generation}
	for i := range s.st.Conditions {
		old := &s.st.Conditions[i]
		if old.Type != t {
			continue
		}
		if old.Status == status {
			c.LastTransitionTime = old.LastTransitionTime
			c.LastProbeTime = old.LastProbeTime
		}
		if t == corev1.PodScheduled {
			return // the scheduler's; kept as it is
		}
		*old = c
		return
	}
	s.st.Conditions = append(s.st.Conditions, c)
	slices.SortStableFunc(s.st.Conditions, func(a, b corev1.PodCondition) int {
		return rank(a.Type) - rank(b.Type)
	})
}

func rank(t corev1.PodConditionType) int {
	if i := slices.Index(conditionOrder, t); i >= 0 {
		return i
	}
	return len(conditionOrder)
}

// statusFor is c's status in list, added (waiting) if missing.
func (s *stepper) statusFor(list *[]corev1.ContainerStatus, c *corev1.Container) *corev1.ContainerStatus {
	for i := range *list {
		if (*list)[i].Name == c.Name {
			return &(*list)[i]
		}
	}
	*list = append(*list, corev1.ContainerStatus{Name: c.Name, Image: c.Image, Started: ptr(false),
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonContainerCreating}}})
	return &(*list)[len(*list)-1]
}

func findStatus(list []corev1.ContainerStatus, name string) *corev1.ContainerStatus {
	for i := range list {
		if list[i].Name == name {
			return &list[i]
		}
	}
	return nil
}

func sortByName(list []corev1.ContainerStatus) {
	slices.SortStableFunc(list, func(a, b corev1.ContainerStatus) int { return strings.Compare(a.Name, b.Name) })
}

func conditionTrue(cs []corev1.PodCondition, t corev1.PodConditionType) bool {
	for _, c := range cs {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func isTerminal(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }

// isSidecar: an init container that keeps running (restartPolicy Always).
func isSidecar(c *corev1.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// backoff is the wait before restart number restarts+1.
func backoff(restarts int32) time.Duration {
	d := backoffInitial
	for range restarts {
		d *= 2
		if d >= backoffMax {
			return backoffMax
		}
	}
	return d
}

// imageID is a stable digest-like ID for an image reference.
func imageID(image string) string {
	sum := sha256.Sum256([]byte(image))
	return image + "@sha256:" + hex.EncodeToString(sum[:])
}

// containerID names one run of a container: pod UID, container name and
// restart count make it unique and stable across agent restarts.
func containerID(pod *corev1.Pod, name string, restarts int32) string {
	sum := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", pod.UID, name, restarts))
	return "simulated://" + hex.EncodeToString(sum[:])
}

func ptr[T any](v T) *T { return &v }
