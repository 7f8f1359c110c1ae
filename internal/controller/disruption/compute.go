package disruption

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// DeletionTimeout is how long a pod the eviction subresource let go stays
// in status.disruptedPods (and out of currentHealthy) waiting to be
// deleted.
const DeletionTimeout = 2 * time.Minute

// NeedsScale: the budget's desired count depends on how many pods the
// pods' controllers expect, not only on the pods there are.
func NeedsScale(pdb *policyv1.PodDisruptionBudget) bool {
	return pdb.Spec.MaxUnavailable != nil || pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.String
}

// Compute is the status of pdb given the pods its selector matches, the
// number of pods their controllers expect (read only when NeedsScale) and
// the time. recheck, when not zero, is when an entry of disruptedPods
// expires and the budget must be computed again. An error (a malformed
// percentage) is reported with SyncFailed.
func Compute(pdb *policyv1.PodDisruptionBudget, pods []*corev1.Pod, expectedScale int32, now time.Time) (st policyv1.PodDisruptionBudgetStatus, recheck time.Time, err error) {
	var desired, expected int32
	switch {
	case pdb.Spec.MaxUnavailable != nil:
		expected = expectedScale
		maxUnavailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(expected), true)
		if err != nil {
			return st, recheck, err
		}
		desired = max(expected-int32(maxUnavailable), 0)
	case pdb.Spec.MinAvailable != nil && pdb.Spec.MinAvailable.Type == intstr.Int:
		desired = pdb.Spec.MinAvailable.IntVal
		expected = int32(len(pods))
	case pdb.Spec.MinAvailable != nil:
		expected = expectedScale
		minAvailable, err := intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(expected), true)
		if err != nil {
			return st, recheck, err
		}
		desired = int32(minAvailable)
	}

	disrupted, recheck := liveDisruptions(pdb.Status.DisruptedPods, pods, now)
	var healthy int32
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if _, going := disrupted[p.Name]; going {
			continue
		}
		if podReady(p) {
			healthy++
		}
	}
	allowed := healthy - desired
	if expected <= 0 || allowed < 0 {
		allowed = 0
	}
	st = policyv1.PodDisruptionBudgetStatus{
		ObservedGeneration: pdb.Generation,
		DisruptedPods:      disrupted,
		DisruptionsAllowed: allowed,
		CurrentHealthy:     healthy,
		DesiredHealthy:     desired,
		ExpectedPods:       expected,
		Conditions:         cloneConditions(pdb.Status.Conditions),
	}
	cond := metav1.Condition{
		Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.InsufficientPodsReason, ObservedGeneration: st.ObservedGeneration,
	}
	if allowed > 0 {
		cond.Status, cond.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	setCondition(&st.Conditions, cond, now)
	return st, recheck, nil
}

// Failed is pdb's status when Compute could not run (err): no disruption
// allowed, and the condition says why; the rest of the status is kept.
func Failed(pdb *policyv1.PodDisruptionBudget, err error, now time.Time) policyv1.PodDisruptionBudgetStatus {
	st := *pdb.Status.DeepCopy()
	st.DisruptionsAllowed = 0
	setCondition(&st.Conditions, metav1.Condition{
		Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.SyncFailedReason, Message: err.Error(), ObservedGeneration: st.ObservedGeneration,
	}, now)
	return st
}

// liveDisruptions are the entries of disruptedPods still waiting for
// their pod to be deleted: the pod is there, not being deleted, and its
// two minutes have not passed. next is when the first of them expires.
func liveDisruptions(disruptedPods map[string]metav1.Time, pods []*corev1.Pod, now time.Time) (live map[string]metav1.Time, next time.Time) {
	if len(disruptedPods) == 0 {
		return nil, next
	}
	for _, p := range pods {
		at, ok := disruptedPods[p.Name]
		if !ok || p.DeletionTimestamp != nil {
			continue
		}
		expires := at.Add(DeletionTimeout)
		if !expires.After(now) {
			continue
		}
		if live == nil {
			live = map[string]metav1.Time{}
		}
		live[p.Name] = at
		if next.IsZero() || expires.Before(next) {
			next = expires
		}
	}
	return live, next
}

// setCondition sets c, its lastTransitionTime now unless the status
// stays what it was.
func setCondition(conds *[]metav1.Condition, c metav1.Condition, now time.Time) {
	c.LastTransitionTime = metav1.NewTime(now)
	meta.SetStatusCondition(conds, c)
}

func cloneConditions(c []metav1.Condition) []metav1.Condition {
	if c == nil {
		return nil
	}
	out := make([]metav1.Condition, len(c))
	copy(out, c)
	return out
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// errNoController is the SyncFailed message of a pod that nothing with a
// scale controls, as upstream words it.
func errNoController(pod string) error { return fmt.Errorf("found no controllers for pod %q", pod) }
