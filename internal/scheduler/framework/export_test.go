package framework

import corev1 "k8s.io/api/core/v1"

// FilterAll runs the PreFilters and, unless one rejects, the Filters of f
// on every node of snap, so table tests can check each node's verdict.
// A PreFilter rejection is returned under the key "".
func FilterAll(f *Framework, pod *corev1.Pod, snap *Snapshot) map[string]*Status {
	cs := newCycleState(pod, snap)
	if st := f.runPreFilters(cs); st != nil {
		return map[string]*Status{"": st}
	}
	out := map[string]*Status{}
	for _, ni := range snap.NodeInfos() {
		out[ni.Node().Name] = f.runFilters(cs, ni)
	}
	return out
}

// PluginScores returns the normalized (unweighted) score the named score
// plugin gives each node of snap, all taken as feasible; nil when the
// plugin skips the pod.
func PluginScores(f *Framework, name string, pod *corev1.Pod, snap *Snapshot) map[string]int64 {
	cs := newCycleState(pod, snap)
	nodes := snap.NodeInfos()
	for _, s := range f.scorers {
		if s.Name() != name {
			continue
		}
		if s.preScore(cs, nodes) {
			return nil
		}
		scores := make([]int64, len(nodes))
		for i, ni := range nodes {
			scores[i] = s.score(cs, ni)
		}
		s.normalize(cs, nodes, scores)
		out := map[string]int64{}
		for i, ni := range nodes {
			out[ni.Node().Name] = scores[i]
		}
		return out
	}
	panic("no score plugin " + name)
}
