package framework

import (
	"fmt"
	"math"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	corev1helpers "k8s.io/component-helpers/scheduling/corev1"
)

// Messages of upstream's DefaultPreemption.
const (
	msgNotEligibleNever        = "not eligible due to preemptionPolicy=Never."
	msgNotEligibleTerminating  = "not eligible due to a terminating pod on the nominated node."
	ReasonNoVictims            = "No preemption victims found for incoming pod"
	ReasonPreemptionNotHelpful = "Preemption is not helpful for scheduling"
)

// Upstream's DefaultPreemption bounds on how many candidate nodes a
// preemption attempt evaluates: 10% of the nodes, at least 100.
const (
	minCandidateNodesPercentage = 10
	minCandidateNodesAbsolute   = 100
)

// PreemptResult is the outcome of Preempt.
type PreemptResult struct {
	// NodeName is the node to nominate the pod to; Victims are the pods to
	// delete there, most important first. Both are empty when preemption
	// cannot help.
	NodeName string
	Victims  []*corev1.Pod
	// ClearNomination is set when the pod's status.nominatedNodeName should
	// be cleared: no node can be made to fit (upstream does the same).
	ClearNomination bool
	// Message explains a failed preemption in upstream's words ("preemption:
	// 0/3 nodes are available: ..."); the runtime puts it in
	// Diagnosis.PostFilterMsg before rendering the FitError.
	Message string
}

// Preempt is upstream's DefaultPreemption PostFilter as a pure function: it
// looks for the node where deleting the fewest, least important
// lower-priority pods lets pod fit, given the Diagnosis of the failed
// Schedule on the same snapshot. It reports false when no such node
// exists.
//
// Only nodes whose rejection was Unschedulable (not
// UnschedulableAndUnresolvable) are candidates. On each, all lower-priority
// pods are removed; if the pod then fits, victims are reprieved one by one,
// most important first and those whose eviction would violate a
// PodDisruptionBudget before the others, keeping each whose return still
// lets the pod fit. The node is chosen by fewest PDB violations, then lowest
// highest victim priority, smallest priority sum, fewest victims, latest
// start time of the most important victims.
//
// The runtime deletes the victims (upstream first adds the DisruptionTarget
// condition with reason PreemptionByScheduler, which Preempt looks for to
// avoid preempting again while victims terminate), sets the pod's
// status.nominatedNodeName, and clears the nomination of lower-priority pods
// nominated to that node. Nominated pods are not otherwise considered here.
func (f *Framework) Preempt(pod *corev1.Pod, snap *Snapshot, pdbs []*policyv1.PodDisruptionBudget, diag Diagnosis) (PreemptResult, bool) {
	if msg, ok := eligibleToPreempt(pod, snap, diag); !ok {
		return PreemptResult{Message: "preemption: " + msg}, false
	}
	all := snap.NodeInfos()
	statuses := map[string]*Status{}
	notHelpful := NewStatus(UnschedulableAndUnresolvable, ReasonPreemptionNotHelpful)
	var potential []*NodeInfo
	for _, ni := range all {
		if st, ok := diag.NodeToStatus[ni.Node().Name]; ok && st.Code() == Unschedulable {
			potential = append(potential, ni)
		} else {
			statuses[ni.Node().Name] = notHelpful
		}
	}
	var cands []candidate
	if len(potential) > 0 {
		cs := newCycleState(pod, snap)
		if st := f.runPreFilters(cs); st.IsSuccess() {
			cands = f.dryRunPreemption(cs, potential, pdbs, statuses)
		} else {
			for _, ni := range potential {
				statuses[ni.Node().Name] = notHelpful
			}
		}
	}
	if len(cands) == 0 {
		fe := FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: Diagnosis{NodeToStatus: statuses}}
		return PreemptResult{ClearNomination: true, Message: "preemption: " + fe.Error()}, false
	}
	best := pickCandidate(cands)
	return PreemptResult{NodeName: best.node, Victims: best.victims}, true
}

// eligibleToPreempt rejects pods with preemptionPolicy Never, and pods
// whose nominated node still has lower-priority victims terminating (unless
// that node became unresolvable).
func eligibleToPreempt(pod *corev1.Pod, snap *Snapshot, diag Diagnosis) (string, bool) {
	if p := pod.Spec.PreemptionPolicy; p != nil && *p == corev1.PreemptNever {
		return msgNotEligibleNever, false
	}
	nn := pod.Status.NominatedNodeName
	if nn == "" {
		return "", true
	}
	if st, ok := diag.NodeToStatus[nn]; ok && st.Code() == UnschedulableAndUnresolvable {
		return "", true
	}
	if ni := snap.Get(nn); ni != nil {
		prio := corev1helpers.PodPriority(pod)
		for _, p := range ni.pods {
			if corev1helpers.PodPriority(p) < prio && terminatingByPreemption(p) {
				return msgNotEligibleTerminating, false
			}
		}
	}
	return "", true
}

func terminatingByPreemption(p *corev1.Pod) bool {
	if p.DeletionTimestamp == nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.DisruptionTarget {
			return c.Status == corev1.ConditionTrue && c.Reason == corev1.PodReasonPreemptionByScheduler
		}
	}
	return false
}

type candidate struct {
	node          string
	victims       []*corev1.Pod // most important first
	pdbViolations int
}

// dryRunPreemption evaluates potential nodes from a random offset (drawn
// from the framework's source) until it has upstream's number of
// candidates, at least one of them violating no PDB, or has seen every
// node. Failing nodes' statuses go into statuses.
func (f *Framework) dryRunPreemption(cs *cycleState, potential []*NodeInfo, pdbs []*policyv1.PodDisruptionBudget, statuses map[string]*Status) []candidate {
	n := len(potential)
	want := max(n*minCandidateNodesPercentage/100, minCandidateNodesAbsolute)
	want = min(want, n)
	f.mu.Lock()
	offset := f.rnd.IntN(n)
	f.mu.Unlock()
	var nonViolating, violating []candidate
	for i := range n {
		ni := potential[(offset+i)%n]
		victims, violations, st := f.selectVictims(cs.clone(), ni.Clone(), pdbs)
		if st.IsSuccess() && len(victims) == 0 {
			st = NewStatus(Error, fmt.Sprintf("expected at least one victim pod on node %q", ni.Node().Name))
		}
		if !st.IsSuccess() {
			statuses[ni.Node().Name] = st
			continue
		}
		c := candidate{node: ni.Node().Name, victims: victims, pdbViolations: violations}
		if violations == 0 {
			nonViolating = append(nonViolating, c)
		} else {
			violating = append(violating, c)
		}
		if len(nonViolating) > 0 && len(nonViolating)+len(violating) >= want {
			break
		}
	}
	return append(nonViolating, violating...)
}

// selectVictims finds the smallest set of lower-priority pods on ni whose
// removal lets the pod fit, as upstream's SelectVictimsOnNode. cs and ni
// are private copies it modifies.
func (f *Framework) selectVictims(cs *cycleState, ni *NodeInfo, pdbs []*policyv1.PodDisruptionBudget) ([]*corev1.Pod, int, *Status) {
	prio := corev1helpers.PodPriority(cs.pod)
	var potential []*corev1.Pod
	held := map[*corev1.Pod]podResources{}
	for _, p := range slices.Clone(ni.pods) {
		if corev1helpers.PodPriority(p) < prio {
			potential = append(potential, p)
			held[p] = f.removeFromNode(cs, ni, p)
		}
	}
	if len(potential) == 0 {
		return nil, 0, NewStatus(UnschedulableAndUnresolvable, ReasonNoVictims)
	}
	if st := f.runFilters(cs, ni); !st.IsSuccess() {
		return nil, 0, st
	}
	slices.SortStableFunc(potential, func(a, b *corev1.Pod) int {
		if moreImportant(a, b) {
			return -1
		}
		if moreImportant(b, a) {
			return 1
		}
		return 0
	})
	violatingPods, nonViolatingPods := splitByPDBViolation(potential, pdbs)
	var victims []*corev1.Pod
	reprieve := func(p *corev1.Pod) bool {
		f.addToNode(cs, ni, p, held[p])
		if f.runFilters(cs, ni).IsSuccess() {
			return true
		}
		f.removeFromNode(cs, ni, p)
		victims = append(victims, p)
		return false
	}
	violations := 0
	for _, p := range violatingPods {
		if !reprieve(p) {
			violations++
		}
	}
	for _, p := range nonViolatingPods {
		reprieve(p)
	}
	if len(violatingPods) > 0 && len(nonViolatingPods) > 0 {
		slices.SortStableFunc(victims, func(a, b *corev1.Pod) int {
			if moreImportant(a, b) {
				return -1
			}
			if moreImportant(b, a) {
				return 1
			}
			return 0
		})
	}
	return victims, violations, nil
}

// removeFromNode removes p from ni and from the cycle's cross-node
// state, and returns what p held.
func (f *Framework) removeFromNode(cs *cycleState, ni *NodeInfo, p *corev1.Pod) podResources {
	r, _ := ni.removePod(p)
	for i, fp := range f.filters {
		if u, ok := fp.(podUpdater); ok && !cs.skip[i] {
			u.removePod(cs, p, ni)
		}
	}
	return r
}

func (f *Framework) addToNode(cs *cycleState, ni *NodeInfo, p *corev1.Pod, r podResources) {
	ni.addPod(p, r)
	for i, fp := range f.filters {
		if u, ok := fp.(podUpdater); ok && !cs.skip[i] {
			u.addPod(cs, p, ni)
		}
	}
}

// moreImportant orders pods by priority, then by earlier start time; a pod
// that has not started counts as starting last.
func moreImportant(a, b *corev1.Pod) bool {
	pa, pb := corev1helpers.PodPriority(a), corev1helpers.PodPriority(b)
	if pa != pb {
		return pa > pb
	}
	return startTime(a).Before(startTime(b))
}

func startTime(p *corev1.Pod) time.Time {
	if p.Status.StartTime != nil {
		return p.Status.StartTime.Time
	}
	return time.Unix(math.MaxInt32, 0)
}

// splitByPDBViolation splits pods (in order) into those whose eviction,
// in that order, would take a matching PDB below zero allowed disruptions,
// and the rest, as upstream's filterPodsWithPDBViolation.
func splitByPDBViolation(pods []*corev1.Pod, pdbs []*policyv1.PodDisruptionBudget) (violating, nonViolating []*corev1.Pod) {
	allowed := make([]int32, len(pdbs))
	selectors := make([]labels.Selector, len(pdbs))
	for i, pdb := range pdbs {
		allowed[i] = pdb.Status.DisruptionsAllowed
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
			selectors[i] = sel
		}
	}
	for _, p := range pods {
		violated := false
		if len(p.Labels) > 0 {
			for i, pdb := range pdbs {
				sel := selectors[i]
				if pdb.Namespace != p.Namespace || sel == nil || sel.Empty() || !sel.Matches(labels.Set(p.Labels)) {
					continue
				}
				if _, ok := pdb.Status.DisruptedPods[p.Name]; ok {
					continue
				}
				if allowed[i]--; allowed[i] < 0 {
					violated = true
				}
			}
		}
		if violated {
			violating = append(violating, p)
		} else {
			nonViolating = append(nonViolating, p)
		}
	}
	return violating, nonViolating
}

// pickCandidate applies upstream's tie-breakers in order; the first
// candidate left wins.
func pickCandidate(cands []candidate) candidate {
	if len(cands) == 1 {
		return cands[0]
	}
	scores := []func(c *candidate) int64{
		func(c *candidate) int64 { return -int64(c.pdbViolations) },
		func(c *candidate) int64 { return -int64(corev1helpers.PodPriority(c.victims[0])) },
		func(c *candidate) int64 {
			var sum int64
			for _, v := range c.victims {
				sum += int64(corev1helpers.PodPriority(v)) + math.MaxInt32 + 1
			}
			return -sum
		},
		func(c *candidate) int64 { return -int64(len(c.victims)) },
		func(c *candidate) int64 { return earliestStartOfMostImportant(c.victims).UnixNano() },
	}
	left := cands
	for _, score := range scores {
		var kept []candidate
		best := int64(math.MinInt64)
		for i := range left {
			s := score(&left[i])
			if s > best {
				best, kept = s, kept[:0]
			}
			if s == best {
				kept = append(kept, left[i])
			}
		}
		if len(kept) == 1 {
			return kept[0]
		}
		left = kept
	}
	return left[0]
}

// earliestStartOfMostImportant is the earliest start time among the
// victims with the highest priority, as upstream's
// GetEarliestPodStartTime.
func earliestStartOfMostImportant(victims []*corev1.Pod) time.Time {
	top := corev1helpers.PodPriority(victims[0])
	earliest := startTime(victims[0])
	for _, v := range victims[1:] {
		if corev1helpers.PodPriority(v) == top && startTime(v).Before(earliest) {
			earliest = startTime(v)
		}
	}
	return earliest
}
