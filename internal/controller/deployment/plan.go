package deployment

import (
	"fmt"
	"math"
	"slices"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Scale is one decided change of a ReplicaSet's size. With Always the
// ReplicaSet is written even at the same size, to bring its
// desired-replicas and max-replicas annotations up to date (proportional
// scaling does this to every active ReplicaSet).
type Scale struct {
	RS     *appsv1.ReplicaSet
	To     int32
	Always bool
}

// findActiveOrLatest is the only active ReplicaSet, or the newest when
// none is active; nil when several are active.
func findActiveOrLatest(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(oldRSs) == 0 {
		return nil
	}
	newestFirst := slices.SortedStableFunc(slices.Values(oldRSs), func(a, b *appsv1.ReplicaSet) int { return byCreation(b, a) })
	all := activeRSs(append(newestFirst, newRS))
	switch len(all) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return newestFirst[0]
	case 1:
		return all[0]
	}
	return nil
}

// IsScalingEvent: spec.replicas changed since an active ReplicaSet was
// last sized (its desired-replicas annotation differs).
func IsScalingEvent(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet) bool {
	for _, rs := range activeRSs(allRSs) {
		if desired, ok := intAnnotation(rs, DesiredReplicasAnnotation); ok && desired != replicas(d) {
			return true
		}
	}
	return false
}

// PlanScale sizes the ReplicaSets for a scaling event or a paused
// Deployment, without rolling out: the only active ReplicaSet takes all
// replicas; a saturated new ReplicaSet ends the old ones; during a rolling
// update the replicas to add or remove are spread over the active
// ReplicaSets in proportion to their size (largest first; newer first
// when adding, older first when removing), the rounding leftover going to
// the first.
func PlanScale(d *appsv1.Deployment, newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet) []Scale {
	if rs := findActiveOrLatest(newRS, oldRSs); rs != nil {
		if rsReplicas(rs) == replicas(d) {
			return nil
		}
		return []Scale{{RS: rs, To: replicas(d)}}
	}
	if IsSaturated(d, newRS) {
		var out []Scale
		for _, old := range activeRSs(oldRSs) {
			out = append(out, Scale{RS: old, To: 0})
		}
		return out
	}
	if !isRolling(d) {
		return nil
	}
	all := activeRSs(append(slices.Clone(oldRSs), newRS))
	allowed := int32(0)
	if replicas(d) > 0 {
		allowed = replicas(d) + MaxSurge(d)
	}
	toAdd := allowed - sumReplicas(all, specReplicas)
	switch {
	case toAdd > 0:
		slices.SortStableFunc(all, func(a, b *appsv1.ReplicaSet) int { return bySizeThen(a, b, true) })
	case toAdd < 0:
		slices.SortStableFunc(all, func(a, b *appsv1.ReplicaSet) int { return bySizeThen(a, b, false) })
	}
	sizes := make([]int32, len(all))
	added := int32(0)
	for i, rs := range all {
		sizes[i] = rsReplicas(rs)
		if toAdd != 0 {
			p := getProportion(rs, d, toAdd, added)
			sizes[i] += p
			added += p
		}
	}
	out := make([]Scale, len(all))
	for i, rs := range all {
		if i == 0 && toAdd != 0 {
			sizes[i] = max(sizes[i]+toAdd-added, 0)
		}
		out[i] = Scale{RS: rs, To: sizes[i], Always: true}
	}
	return out
}

// bySizeThen orders larger first; between equals, newer first when
// newerFirst, else older first (upstream's ReplicaSetsBySizeNewer/Older).
func bySizeThen(a, b *appsv1.ReplicaSet, newerFirst bool) int {
	if ra, rb := rsReplicas(a), rsReplicas(b); ra != rb {
		if ra > rb {
			return -1
		}
		return 1
	}
	if newerFirst {
		return byCreation(b, a)
	}
	return byCreation(a, b)
}

// getProportion is rs's share of toAdd, bounded so the running total
// never passes it.
func getProportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || rsReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := replicaSetFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

// replicaSetFraction is how rs would grow or shrink if the Deployment's
// change applied to it in proportion to the size it had when annotated.
func replicaSetFraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if replicas(d) == 0 {
		return -rsReplicas(rs)
	}
	deploymentReplicas := replicas(d) + MaxSurge(d)
	annotated, ok := intAnnotation(rs, MaxReplicasAnnotation)
	if !ok || annotated == 0 {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(rsReplicas(rs)*deploymentReplicas) / float64(annotated)
	return int32(math.Round(size)) - rsReplicas(rs)
}

// PlanNewReplicaSet is the rolling update's scale-up: the new ReplicaSet
// shrinks to replicas if above, else grows as NewRSNewReplicas allows.
func PlanNewReplicaSet(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) (Scale, bool) {
	switch cur := rsReplicas(newRS); {
	case cur == replicas(d):
		return Scale{}, false
	case cur > replicas(d):
		return Scale{RS: newRS, To: replicas(d)}, true
	}
	to := NewRSNewReplicas(d, allRSs, newRS)
	return Scale{RS: newRS, To: to}, to != rsReplicas(newRS)
}

// PlanOldReplicaSets is the rolling update's scale-down of the active old
// ReplicaSets. At most allPods - minAvailable - newUnavailable replicas go
// (so unavailable new pods never make it remove available old ones):
// first the old ReplicaSets' unavailable replicas, oldest ReplicaSet
// first, since removing them costs no availability; then available ones
// while the Deployment keeps minAvailable available pods.
func PlanOldReplicaSets(d *appsv1.Deployment, allRSs, oldRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []Scale {
	if sumReplicas(oldRSs, specReplicas) == 0 {
		return nil
	}
	minAvailable := replicas(d) - MaxUnavailable(d)
	newUnavailable := rsReplicas(newRS) - newRS.Status.AvailableReplicas
	maxScaledDown := sumReplicas(allRSs, specReplicas) - minAvailable - newUnavailable
	if maxScaledDown <= 0 {
		return nil
	}
	olds := slices.SortedStableFunc(slices.Values(oldRSs), byCreation)
	size := make(map[types.UID]int32, len(olds))
	for _, rs := range olds {
		size[rs.UID] = rsReplicas(rs)
	}
	// Unhealthy replicas first.
	cleaned := int32(0)
	for _, rs := range olds {
		if cleaned >= maxScaledDown {
			break
		}
		if size[rs.UID] == 0 || size[rs.UID] == rs.Status.AvailableReplicas {
			continue
		}
		n := min(maxScaledDown-cleaned, size[rs.UID]-rs.Status.AvailableReplicas)
		if n <= 0 {
			continue
		}
		size[rs.UID] -= n
		cleaned += n
	}
	// Then available ones, keeping minAvailable.
	available := sumReplicas(allRSs, keptAvailable)
	if available > minAvailable {
		want := available - minAvailable
		done := int32(0)
		for _, rs := range olds {
			if done >= want {
				break
			}
			if size[rs.UID] == 0 {
				continue
			}
			n := min(size[rs.UID], want-done)
			size[rs.UID] -= n
			done += n
		}
	}
	var out []Scale
	for _, rs := range olds {
		if size[rs.UID] != rsReplicas(rs) {
			out = append(out, Scale{RS: rs, To: size[rs.UID]})
		}
	}
	return out
}

// OldPodsRunning: Recreate must wait, because an old ReplicaSet still
// has replicas or one of its pods has not finished (a pod of Unknown
// phase counts as running).
func OldPodsRunning(newRS *appsv1.ReplicaSet, oldRSs []*appsv1.ReplicaSet, podsByRS map[types.UID][]*corev1.Pod) bool {
	if sumReplicas(oldRSs, statusReplicas) > 0 {
		return true
	}
	for uid, pods := range podsByRS {
		if newRS != nil && newRS.UID == uid {
			continue
		}
		for _, p := range pods {
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				return true
			}
		}
	}
	return false
}

// ReplicaSetsToCleanUp are the oldest old ReplicaSets beyond
// revisionHistoryLimit that have no replicas, no pods and whose spec the
// ReplicaSet controller has seen.
func ReplicaSetsToCleanUp(d *appsv1.Deployment, oldRSs []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	if !HasRevisionHistoryLimit(d) {
		return nil
	}
	var alive []*appsv1.ReplicaSet
	for _, rs := range oldRSs {
		if rs != nil && rs.DeletionTimestamp == nil {
			alive = append(alive, rs)
		}
	}
	diff := len(alive) - int(*d.Spec.RevisionHistoryLimit)
	if diff <= 0 {
		return nil
	}
	// Oldest revision first; unparsable revisions by creation.
	slices.SortStableFunc(alive, func(a, b *appsv1.ReplicaSet) int {
		ra, rb := Revision(a), Revision(b)
		if ra == rb {
			return byCreation(a, b)
		}
		if ra < rb {
			return -1
		}
		return 1
	})
	var out []*appsv1.ReplicaSet
	for _, rs := range alive[:diff] {
		if rs.Status.Replicas != 0 || rsReplicas(rs) != 0 || rs.Generation > rs.Status.ObservedGeneration {
			continue
		}
		out = append(out, rs)
	}
	return out
}

// CalculateStatus is the Deployment's status from its ReplicaSets' (the
// conditions but Available are carried over).
func CalculateStatus(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	available := sumReplicas(allRSs, availableReplicas)
	unavailable := max(sumReplicas(allRSs, specReplicas)-available, 0)
	st := appsv1.DeploymentStatus{
		ObservedGeneration:  d.Generation,
		Replicas:            sumReplicas(allRSs, statusReplicas),
		UpdatedReplicas:     sumReplicas([]*appsv1.ReplicaSet{newRS}, statusReplicas),
		ReadyReplicas:       sumReplicas(allRSs, readyReplicas),
		AvailableReplicas:   available,
		UnavailableReplicas: unavailable,
		TerminatingReplicas: terminatingReplicas(allRSs),
		CollisionCount:      d.Status.CollisionCount,
		Conditions:          slices.Clone(d.Status.Conditions),
	}
	if available >= replicas(d)-MaxUnavailable(d) {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionTrue, ReasonMinimumAvailable, "Deployment has minimum availability.", now))
	} else {
		setCondition(&st, newCondition(appsv1.DeploymentAvailable, corev1.ConditionFalse, ReasonMinimumUnavailable, "Deployment does not have minimum availability.", now))
	}
	return st
}

// terminatingReplicas sums the ReplicaSets' counts; nil if none reports
// one.
func terminatingReplicas(rss []*appsv1.ReplicaSet) *int32 {
	var n *int32
	for _, rs := range rss {
		if rs != nil && rs.Status.TerminatingReplicas != nil {
			if n == nil {
				n = new(int32)
			}
			*n += *rs.Status.TerminatingReplicas
		}
	}
	return n
}

// DeploymentComplete: every desired replica is updated and available,
// and no old one is left.
func DeploymentComplete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	return st.UpdatedReplicas == replicas(d) && st.Replicas == replicas(d) &&
		st.AvailableReplicas == replicas(d) && st.ObservedGeneration >= d.Generation
}

// deploymentProgressing: st shows progress over d's current status.
func deploymentProgressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas || st.AvailableReplicas > old.AvailableReplicas
}

// deploymentTimedOut: the last progress is older than
// progressDeadlineSeconds (or the deadline was already reported).
func deploymentTimedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if !HasProgressDeadline(d) {
		return false
	}
	c := GetCondition(*st, appsv1.DeploymentProgressing)
	switch {
	case c == nil, c.Reason == ReasonNewRSAvailable:
		return false
	case c.Reason == ReasonTimedOut:
		return true
	}
	return c.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Before(now)
}

// RolloutStatus is the status a rollout pass writes: CalculateStatus's,
// with the Progressing condition advanced (complete, progressing, or
// timed out) and the ReplicaSets' ReplicaFailure carried up, the new
// ReplicaSet's first.
func RolloutStatus(d *appsv1.Deployment, allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet, now time.Time) appsv1.DeploymentStatus {
	st := CalculateStatus(d, allRSs, newRS, now)
	if !HasProgressDeadline(d) {
		st.Conditions = removeCondition(st.Conditions, appsv1.DeploymentProgressing)
	}
	cur := GetCondition(d.Status, appsv1.DeploymentProgressing)
	complete := st.Replicas == st.UpdatedReplicas && cur != nil && cur.Reason == ReasonNewRSAvailable
	if HasProgressDeadline(d) && !complete {
		subject := fmt.Sprintf("Deployment %q", d.Name)
		if newRS != nil {
			subject = fmt.Sprintf("ReplicaSet %q", newRS.Name)
		}
		switch {
		case DeploymentComplete(d, &st):
			setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonNewRSAvailable, subject+" has successfully progressed.", now))
		case deploymentProgressing(d, &st):
			// Progress refreshes lastUpdateTime even with the same reason;
			// the transition time stays while the status stays True.
			c := newCondition(appsv1.DeploymentProgressing, corev1.ConditionTrue, ReasonReplicaSetUpdated, subject+" is progressing.", now)
			if cur != nil && cur.Status == corev1.ConditionTrue {
				c.LastTransitionTime = cur.LastTransitionTime
			}
			st.Conditions = append(removeCondition(st.Conditions, appsv1.DeploymentProgressing), c)
		case deploymentTimedOut(d, &st, now):
			setCondition(&st, newCondition(appsv1.DeploymentProgressing, corev1.ConditionFalse, ReasonTimedOut, subject+" has timed out progressing.", now))
		}
	}
	if f := replicaFailure(allRSs, newRS); f != nil {
		setCondition(&st, *f)
	} else {
		st.Conditions = removeCondition(st.Conditions, appsv1.DeploymentReplicaFailure)
	}
	return st
}

func replicaFailure(allRSs []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) *appsv1.DeploymentCondition {
	for _, rs := range append([]*appsv1.ReplicaSet{newRS}, allRSs...) {
		if rs == nil {
			continue
		}
		for _, c := range rs.Status.Conditions {
			if c.Type == appsv1.ReplicaSetReplicaFailure {
				return &appsv1.DeploymentCondition{
					Type: appsv1.DeploymentReplicaFailure, Status: c.Status, LastUpdateTime: c.LastTransitionTime,
					LastTransitionTime: c.LastTransitionTime, Reason: c.Reason, Message: c.Message,
				}
			}
		}
	}
	return nil
}

// ProgressCheckAfter is when a rollout without progress must be looked at
// again to notice its deadline passing; ok is false when no check is due.
func ProgressCheckAfter(d *appsv1.Deployment, st appsv1.DeploymentStatus, now time.Time) (after time.Duration, ok bool) {
	cur := GetCondition(d.Status, appsv1.DeploymentProgressing)
	if !HasProgressDeadline(d) || cur == nil || DeploymentComplete(d, &st) || cur.Reason == ReasonTimedOut {
		return 0, false
	}
	after = cur.LastUpdateTime.Add(time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second).Sub(now)
	return max(after, 0), true
}
