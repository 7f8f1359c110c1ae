package framework

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// labelKey is one label of pods in one namespace.
type labelKey struct{ ns, key, value string }

// labelIndex counts a node's pods per namespace and label, so the common
// selector "app=x" is answered with one lookup per node instead of a scan
// of its pods: topology spreading and inter-pod affinity would otherwise
// cost O(pods in the cluster) label matches per cycle.
type labelIndex struct {
	all map[labelKey]int32
	// terminating counts pods with a deletionTimestamp, which topology
	// spreading ignores; nil while there are none.
	terminating map[labelKey]int32
}

func (x *labelIndex) update(pod *corev1.Pod, delta int32) {
	if len(pod.Labels) == 0 {
		return
	}
	if x.all == nil {
		x.all = make(map[labelKey]int32, len(pod.Labels))
	}
	for k, v := range pod.Labels {
		bump(x.all, labelKey{pod.Namespace, k, v}, delta)
	}
	if pod.DeletionTimestamp != nil {
		if x.terminating == nil {
			x.terminating = map[labelKey]int32{}
		}
		for k, v := range pod.Labels {
			bump(x.terminating, labelKey{pod.Namespace, k, v}, delta)
		}
	}
}

func bump(m map[labelKey]int32, k labelKey, delta int32) {
	if m[k] += delta; m[k] <= 0 {
		delete(m, k)
	}
}

// count returns how many pods in ns carry key=value, leaving out
// terminating pods when live is set.
func (x *labelIndex) count(ns, key, value string, live bool) int {
	k := labelKey{ns, key, value}
	n := x.all[k]
	if live {
		n -= x.terminating[k]
	}
	return int(n)
}

// equality reports the single key=value a selector consists of, if it is
// that simple (one requirement, = or == or "in" with one value).
func equality(sel labels.Selector) (key, value string, ok bool) {
	reqs, selectable := sel.Requirements()
	if !selectable || len(reqs) != 1 {
		return "", "", false
	}
	r := reqs[0]
	switch r.Operator() {
	case selection.Equals, selection.DoubleEquals, selection.In:
	default:
		return "", "", false
	}
	vals := r.ValuesUnsorted()
	if len(vals) != 1 {
		return "", "", false
	}
	return r.Key(), vals[0], true
}

// podSelector is a parsed label selector with its equality fast path.
type podSelector struct {
	labels.Selector
	eqKey, eqValue string
	eq             bool
}

func newPodSelector(sel labels.Selector) podSelector {
	s := podSelector{Selector: sel}
	s.eqKey, s.eqValue, s.eq = equality(sel)
	return s
}
