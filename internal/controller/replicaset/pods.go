package replicaset

import (
	"math"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PodDeletionCostAnnotation ranks a controller's pods for deletion: lower
// cost goes first.
const PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// IsPodActive: the pod counts toward replicas (not finished, not being
// deleted).
func IsPodActive(p *corev1.Pod) bool {
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed && p.DeletionTimestamp == nil
}

// IsPodTerminating: the pod is being deleted and has not finished.
func IsPodTerminating(p *corev1.Pod) bool {
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// readyCondition returns the pod's Ready condition, or nil.
func readyCondition(p *corev1.Pod) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == corev1.PodReady {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady: the pod's Ready condition is True.
func IsPodReady(p *corev1.Pod) bool {
	c := readyCondition(p)
	return c != nil && c.Status == corev1.ConditionTrue
}

// IsPodAvailable: ready for at least minReadySeconds at now.
func IsPodAvailable(p *corev1.Pod, minReadySeconds int32, now time.Time) bool {
	c := readyCondition(p)
	if c == nil || c.Status != corev1.ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	min := time.Duration(minReadySeconds) * time.Second
	return !c.LastTransitionTime.IsZero() && c.LastTransitionTime.Add(min).Before(now)
}

func podReadyTime(p *corev1.Pod) metav1.Time {
	if c := readyCondition(p); c != nil && c.Status == corev1.ConditionTrue {
		return c.LastTransitionTime
	}
	return metav1.Time{}
}

func maxContainerRestarts(p *corev1.Pod) int32 {
	var n int32
	for _, c := range p.Status.ContainerStatuses {
		n = max(n, c.RestartCount)
	}
	return n
}

func deletionCost(p *corev1.Pod) int32 {
	v, err := strconv.ParseInt(p.Annotations[PodDeletionCostAnnotation], 10, 32)
	if err != nil {
		return 0
	}
	return int32(v)
}

var phaseOrdinal = map[corev1.PodPhase]int{corev1.PodPending: 0, corev1.PodUnknown: 1, corev1.PodRunning: 2}

// rankedPod is a pod with its rank: how many active related pods share
// its node.
type rankedPod struct {
	pod  *corev1.Pod
	rank int
}

// deleteFirst reports whether a should be deleted before b, by upstream's
// rules applied in turn: unassigned before assigned; Pending before
// Unknown before Running; not ready before ready; lower deletion cost
// first; more colocated related pods first; ready for less time first;
// more container restarts first; newer first. Times compare on a log2
// scale of their age at now, ties broken by UID, so equally old pods are
// picked pseudo-randomly (LogarithmicScaleDown).
func deleteFirst(a, b rankedPod, now time.Time) bool {
	pa, pb := a.pod, b.pod
	if pa.Spec.NodeName != pb.Spec.NodeName && (pa.Spec.NodeName == "" || pb.Spec.NodeName == "") {
		return pa.Spec.NodeName == ""
	}
	if oa, ob := phaseOrdinal[pa.Status.Phase], phaseOrdinal[pb.Status.Phase]; oa != ob {
		return oa < ob
	}
	if ra, rb := IsPodReady(pa), IsPodReady(pb); ra != rb {
		return !ra
	}
	if ca, cb := deletionCost(pa), deletionCost(pb); ca != cb {
		return ca < cb
	}
	if a.rank != b.rank {
		return a.rank > b.rank
	}
	if IsPodReady(pa) && IsPodReady(pb) {
		if ta, tb := podReadyTime(pa), podReadyTime(pb); !ta.Equal(&tb) {
			return newerFirst(pa, pb, ta, tb, now)
		}
	}
	if ra, rb := maxContainerRestarts(pa), maxContainerRestarts(pb); ra != rb {
		return ra > rb
	}
	if ta, tb := pa.CreationTimestamp, pb.CreationTimestamp; !ta.Equal(&tb) {
		return newerFirst(pa, pb, ta, tb, now)
	}
	return false
}

// newerFirst orders by time, zero first, then by log2 of age at now.
func newerFirst(pa, pb *corev1.Pod, ta, tb metav1.Time, now time.Time) bool {
	if ta.IsZero() || tb.IsZero() || now.IsZero() {
		if ta.IsZero() || tb.IsZero() {
			return ta.IsZero()
		}
		return ta.After(tb.Time)
	}
	if d := logRank(ta.Time, now) - logRank(tb.Time, now); d != 0 {
		return d < 0
	}
	return pa.UID < pb.UID
}

func logRank(t, now time.Time) int64 {
	if d := now.Sub(t); d > 0 {
		return int64(math.Log2(float64(d)))
	}
	return -1
}

// PodsToDelete picks n of pods to delete, best candidates first. related
// are the active pods of every ReplicaSet sharing this one's controller
// (a Deployment's), whose placement makes doubled-up pods go first.
func PodsToDelete(pods, related []*corev1.Pod, n int, now time.Time) []*corev1.Pod {
	if n >= len(pods) {
		return slices.Clone(pods)
	}
	onNode := map[string]int{}
	for _, p := range related {
		if IsPodActive(p) {
			onNode[p.Spec.NodeName]++
		}
	}
	ranked := make([]rankedPod, len(pods))
	for i, p := range pods {
		ranked[i] = rankedPod{pod: p, rank: onNode[p.Spec.NodeName]}
	}
	slices.SortStableFunc(ranked, func(a, b rankedPod) int {
		switch {
		case deleteFirst(a, b, now):
			return -1
		case deleteFirst(b, a, now):
			return 1
		}
		return 0
	})
	out := make([]*corev1.Pod, n)
	for i := range out {
		out[i] = ranked[i].pod
	}
	return out
}
