package framework

import (
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// PreemptResult is the outcome of Preempt.
type PreemptResult struct {
	// NodeName is the node to nominate the pod to; Victims are the pods to
	// delete there. Both are empty when preemption cannot help.
	NodeName string
	Victims  []*corev1.Pod
	// Message explains a failed preemption in upstream's words ("preemption:
	// 0/3 nodes are available: ..."); the runtime puts it in
	// Diagnosis.PostFilterMsg before rendering the FitError.
	Message string
}

// Preempt is upstream's DefaultPreemption PostFilter as a pure function: it
// looks for the node where deleting the fewest, least important
// lower-priority pods lets pod fit, given the Diagnosis of the failed
// Schedule. It reports false when no such node exists. The runtime deletes
// the victims and sets the pod's status.nominatedNodeName.
func (f *Framework) Preempt(pod *corev1.Pod, snap *Snapshot, pdbs []*policyv1.PodDisruptionBudget, diag Diagnosis) (PreemptResult, bool) {
	return PreemptResult{Message: "preemption: not implemented"}, false
}
