package framework

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// ErrNoNodesAvailable is returned by Schedule for an empty snapshot, with
// upstream's message.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Diagnosis records why a pod fits no node.
type Diagnosis struct {
	// NodeToStatus holds the rejecting Status of each evaluated node. When a
	// PreFilter rejected the pod, every node maps to that Status.
	NodeToStatus map[string]*Status
	// UnschedulablePlugins names the plugins that rejected the pod (on any
	// node or in PreFilter). The runtime requeues the pod on the cluster
	// events these plugins care about (queueing hints).
	UnschedulablePlugins sets.Set[string]
	// PreFilterMsg is the message of a PreFilter rejection; when set, the
	// per-node reasons are left out of the FitError message, as upstream.
	PreFilterMsg string
	// PostFilterMsg is appended to the FitError message; the runtime sets it
	// to PreemptResult.Message after a failed preemption attempt.
	PostFilterMsg string
}

// FitError is returned by Schedule when no node fits the pod.
type FitError struct {
	Pod         *corev1.Pod
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Separators of upstream's FitError message.
const (
	noNodeAvailableMsg = "0/%v nodes are available"
	separatorFormat    = " %v."
)

// Error returns upstream's message, e.g. "0/3 nodes are available: 1
// Insufficient cpu, 2 node(s) had untolerated taint {k: v}.": each reason
// with the number of nodes giving it, sorted as strings (so "10 ..." sorts
// before "2 ..."), then any PostFilter (preemption) message.
func (e *FitError) Error() string {
	msg := fmt.Sprintf(noNodeAvailableMsg+":", e.NumAllNodes)
	if e.Diagnosis.PreFilterMsg != "" {
		msg += fmt.Sprintf(separatorFormat, e.Diagnosis.PreFilterMsg)
	} else if r := reasonHistogram(e.Diagnosis.NodeToStatus); len(r) > 0 {
		msg += fmt.Sprintf(separatorFormat, strings.Join(r, ", "))
	}
	if e.Diagnosis.PostFilterMsg != "" {
		msg += fmt.Sprintf(separatorFormat, e.Diagnosis.PostFilterMsg)
	}
	return msg
}

// reasonHistogram counts each reason over the statuses and renders
// "<count> <reason>" strings, sorted.
func reasonHistogram(m map[string]*Status) []string {
	counts := map[string]int{}
	for _, st := range m {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%v %v", n, r))
	}
	sort.Strings(out)
	return out
}
