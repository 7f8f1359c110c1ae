package main

import (
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// Phases of a run: the Deployments are created, then their pod template
// changes. Pods and ReplicaSets belong to the phase in which the watch
// first saw them.
const (
	deploy = iota
	rollout
	phases
)

// phaseStats is what the watches saw during one phase, as offsets from
// its start.
type phaseStats struct {
	start time.Time
	// The phase's own pods (first seen in it): when the first appeared
	// and when the last of want was created, bound and Ready.
	firstPod, allCreated, allScheduled, allReady time.Duration
	created, scheduled, ready                    int
	// lastReadyServer is the latest Ready transition time the agent wrote
	// on those pods (one second resolution): the server's clock, which
	// does not move when the benchmark's watch lags.
	lastReadyServer time.Time
	readyPerSecond  []int
	// The same pods created, bound and Ready in each second by the
	// server's clock (creation and condition transition times, counted
	// from the second the phase started in).
	serverCreated, serverBound, serverReady []int
	// The previous phase's pods deleted in this one, and when the last
	// of them went.
	oldDeleted int
	oldGone    time.Duration
	// deploymentsDone is when every Deployment first reported the
	// phase's goal (see complete).
	deploymentsDone time.Duration
	done            chan struct{} // closed once deploymentsDone and allReady are set
}

type podRec struct {
	phase            uint8
	scheduled, ready bool
}

type rsRec struct {
	phase                      uint8
	deployment                 string
	specReplicas, statusActive int32
}

// tracker follows pods, ReplicaSets and Deployments of the benchmark's
// namespace through informers (a watch each, re-listed by client-go when
// the server closes it) and records when each phase's goals are reached.
// Its handlers run on the informers' goroutines; mu guards everything.
type tracker struct {
	mu          sync.Mutex
	want        int   // pods per phase: deployments × replicas
	replicas    int32 // per Deployment
	nDeploy     int
	phase       int
	stats       [phases]phaseStats
	pods        map[string]*podRec
	rss         map[string]*rsRec
	deployments map[string]*appsv1.Deployment
	// patchedGen is each Deployment's generation after the template
	// change (from the patch response).
	patchedGen map[string]int64
	oldGoneCh  chan struct{} // closed when the rollout has deleted every first-phase pod
	// onStall, if set, runs (on its own goroutine) when no pod has
	// turned Ready for stallAfter while the phase still waits for some.
	onStall    func(phase int, pending int)
	stallAfter time.Duration
	stallTimer *time.Timer
}

func newTracker(nDeploy, replicas int) *tracker {
	t := &tracker{
		want: nDeploy * replicas, replicas: int32(replicas), nDeploy: nDeploy,
		pods: map[string]*podRec{}, rss: map[string]*rsRec{},
		deployments: map[string]*appsv1.Deployment{}, patchedGen: map[string]int64{},
		oldGoneCh: make(chan struct{}),
	}
	for i := range t.stats {
		t.stats[i].done = make(chan struct{})
	}
	return t
}

// begin starts phase p now; events before it count for the previous one.
func (t *tracker) begin(p int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.phase = p
	t.stats[p].start = time.Now()
	if t.onStall != nil && t.stallTimer == nil {
		t.stallTimer = time.AfterFunc(t.stallAfter, t.stalled)
	}
}

func (t *tracker) stalled() {
	t.mu.Lock()
	p, pending := t.phase, t.want-t.stats[t.phase].ready
	t.mu.Unlock()
	if pending > 0 {
		t.onStall(p, pending)
	}
	t.mu.Lock()
	t.stallTimer.Reset(t.stallAfter)
	t.mu.Unlock()
}

func (t *tracker) oldGone() <-chan struct{} { return t.oldGoneCh }

func (t *tracker) setPatched(name string, gen int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.patchedGen[name] = gen
	t.check()
}

func (t *tracker) snapshot(p int) phaseStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.stats[p]
	for _, per := range []*[]int{&s.readyPerSecond, &s.serverCreated, &s.serverBound, &s.serverReady} {
		*per = append([]int(nil), *per...)
	}
	return s
}

// progress is a one-line account of the current phase, for a timeout.
func (t *tracker) progress() (created, scheduled, ready, oldDeleted, deploymentsDone int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := &t.stats[t.phase]
	for _, d := range t.deployments {
		if t.complete(d) {
			deploymentsDone++
		}
	}
	return s.created, s.scheduled, s.ready, s.oldDeleted, deploymentsDone
}

func (t *tracker) since() time.Duration { return time.Since(t.stats[t.phase].start) }

func (t *tracker) onPod(p *corev1.Pod) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.pods[p.Name]
	s := &t.stats[t.phase]
	if r == nil {
		r = &podRec{phase: uint8(t.phase)}
		t.pods[p.Name] = r
		if s.created == 0 {
			s.firstPod = t.since()
		}
		if s.created++; s.created == t.want {
			s.allCreated = t.since()
		}
		countAt(&s.serverCreated, s.start, p.CreationTimestamp.Time)
	}
	s = &t.stats[r.phase]
	if !r.scheduled && p.Spec.NodeName != "" {
		r.scheduled = true
		if c := podCondition(p, corev1.PodScheduled); c != nil {
			countAt(&s.serverBound, s.start, c.LastTransitionTime.Time)
		}
		if s.scheduled++; s.scheduled == t.want {
			s.allScheduled = time.Since(s.start)
		}
	}
	if c := podCondition(p, corev1.PodReady); !r.ready && c != nil {
		r.ready = true
		if t.stallTimer != nil {
			t.stallTimer.Reset(t.stallAfter)
		}
		now := time.Since(s.start)
		count(&s.readyPerSecond, int(now/time.Second))
		countAt(&s.serverReady, s.start, c.LastTransitionTime.Time)
		if c.LastTransitionTime.After(s.lastReadyServer) {
			s.lastReadyServer = c.LastTransitionTime.Time
		}
		if s.ready++; s.ready == t.want {
			s.allReady = now
			t.check()
		}
	}
}

func (t *tracker) onPodDeleted(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.pods[name]
	if r == nil {
		return
	}
	delete(t.pods, name)
	if int(r.phase) < t.phase {
		s := &t.stats[t.phase]
		if s.oldDeleted++; s.oldDeleted == t.want {
			s.oldGone = t.since()
			close(t.oldGoneCh)
		}
	}
}

func (t *tracker) onReplicaSet(rs *appsv1.ReplicaSet) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := t.rss[rs.Name]
	if r == nil {
		r = &rsRec{phase: uint8(t.phase)}
		if c := metav1.GetControllerOf(rs); c != nil {
			r.deployment = c.Name
		}
		t.rss[rs.Name] = r
	}
	r.specReplicas, r.statusActive = ptrOr(rs.Spec.Replicas, 1), rs.Status.Replicas
	t.check()
}

func (t *tracker) onReplicaSetDeleted(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rss, name)
	t.check()
}

func (t *tracker) onDeployment(d *appsv1.Deployment) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.deployments[d.Name] = d
	t.check()
}

// complete says whether d has reached the current phase's goal: all its
// replicas updated, Ready and available, no others, its status
// current; after the template change, also the changed generation seen
// and every ReplicaSet of the first phase scaled to 0 with no pods left
// (what `kubectl rollout status` waits for, plus the old ReplicaSets).
func (t *tracker) complete(d *appsv1.Deployment) bool {
	st := d.Status
	if st.ObservedGeneration < d.Generation || st.Replicas != t.replicas || st.UpdatedReplicas != t.replicas ||
		st.ReadyReplicas != t.replicas || st.AvailableReplicas != t.replicas {
		return false
	}
	if t.phase == deploy {
		return true
	}
	if gen, ok := t.patchedGen[d.Name]; !ok || d.Generation < gen {
		return false
	}
	for _, r := range t.rss {
		if r.deployment == d.Name && int(r.phase) < t.phase && (r.specReplicas != 0 || r.statusActive != 0) {
			return false
		}
	}
	return true
}

// check records the phase's end once every Deployment is complete and
// the watch has seen all its pods Ready.
func (t *tracker) check() {
	s := &t.stats[t.phase]
	if s.start.IsZero() || s.deploymentsDone != 0 && s.allReady != 0 {
		return
	}
	if s.deploymentsDone == 0 {
		n := 0
		for _, d := range t.deployments {
			if !t.complete(d) {
				return
			}
			n++
		}
		if n < t.nDeploy {
			return
		}
		s.deploymentsDone = t.since()
	}
	if s.allReady != 0 {
		close(s.done)
	}
}

// podCondition is p's condition of type typ if it is True.
func podCondition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if c := &p.Status.Conditions[i]; c.Type == typ && c.Status == corev1.ConditionTrue {
			return c
		}
	}
	return nil
}

func count(per *[]int, sec int) {
	sec = max(sec, 0)
	for len(*per) <= sec {
		*per = append(*per, 0)
	}
	(*per)[sec]++
}

// countAt counts a server timestamp (one second resolution) in its
// second since the one start is in.
func countAt(per *[]int, start, at time.Time) {
	count(per, int(at.Sub(start.Truncate(time.Second))/time.Second))
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// handlers turns informer callbacks into the tracker's, unwrapping the
// tombstones a re-list delivers for objects deleted meanwhile.
func handlers[T any](on func(T), gone func(name string), name func(T) string) cache.ResourceEventHandlerFuncs {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { on(obj.(T)) },
		UpdateFunc: func(_, obj any) { on(obj.(T)) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			if o, ok := obj.(T); ok {
				gone(name(o))
			}
		},
	}
}
