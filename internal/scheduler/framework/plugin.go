package framework

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// MaxNodeScore is the highest score a score plugin gives a node after
// normalization, as upstream.
const MaxNodeScore int64 = 100

// cycleState is what one scheduling cycle computes once for the pod, before
// looking at nodes (upstream's PreFilter/PreScore state). It is written
// only by the pre- phases; filter and score read it from many goroutines.
type cycleState struct {
	pod      *corev1.Pod
	pi       *podInfo
	snap     *Snapshot
	nsLabels labels.Set // labels of the pod's namespace

	req          Resource // PodRequests
	nonZeroReq   Resource // cpu and memory with the scoring defaults
	nodeAffinity nodeaffinity.RequiredNodeAffinity
	hostPorts    []*corev1.ContainerPort

	// nodeNames, when not nil, are the only nodes the pod may go to
	// (NodeAffinity's PreFilterResult).
	nodeNames sets.Set[string]

	// skip[i] is set when filter plugin i has nothing to check for the pod.
	skip []bool

	interPod *interPodState
	spread   *spreadState
	volumes  *volumeState
	rwop     *rwopState

	// claims are the pod's PersistentVolumeClaims, looked up once;
	// claimsErr is upstream's error for the first one that is unusable.
	claims    []*corev1.PersistentVolumeClaim
	claimsErr error

	// Score state.
	scoreSkip      []bool
	preferredNodes *nodeaffinity.PreferredSchedulingTerms
	preferNoSched  []corev1.Toleration
	spreadScore    *spreadScoreState
	interPodScore  *interPodScore
}

func newCycleState(pod *corev1.Pod, snap *Snapshot) *cycleState {
	cs := &cycleState{
		pod:          pod,
		pi:           newPodInfo(pod),
		snap:         snap,
		nodeAffinity: nodeaffinity.GetRequiredNodeAffinity(pod),
	}
	res := podResourcesOf(pod)
	cs.req, cs.nonZeroReq = res.req, res.nonZero
	forEachHostPort(pod, func(p *corev1.ContainerPort) { cs.hostPorts = append(cs.hostPorts, p) })
	cs.nsLabels = snap.namespaceLabels(pod.Namespace)
	cs.claims, cs.claimsErr = podClaims(cs)
	return cs
}

// clone copies the state that addPod/removePod change, for evaluating a
// node with some pods removed (preemption).
func (cs *cycleState) clone() *cycleState {
	c := *cs
	c.interPod = cs.interPod.clone()
	c.spread = cs.spread.clone()
	if cs.rwop != nil {
		r := *cs.rwop
		c.rwop = &r
	}
	return &c
}

// filterPlugin is a Filter with its PreFilter.
type filterPlugin interface {
	Name() string
	// preFilter computes the plugin's per-pod state in cs. skip reports
	// that the plugin has nothing to check for this pod; a rejecting status
	// rejects the pod on every node.
	preFilter(cs *cycleState) (skip bool, st *Status)
	filter(cs *cycleState, ni *NodeInfo) *Status
}

// podUpdater is implemented by filters whose per-pod state depends on
// other pods; preemption uses it to remove victims (upstream's
// PreFilterExtensions).
type podUpdater interface {
	addPod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo)
	removePod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo)
}

// scorePlugin is a Score with its PreScore and NormalizeScore.
type scorePlugin interface {
	Name() string
	// preScore prepares scoring of the feasible nodes; skip reports that
	// the plugin scores nothing for this pod (its score counts as 0).
	preScore(cs *cycleState, feasible []*NodeInfo) (skip bool)
	score(cs *cycleState, ni *NodeInfo) int64
	// normalize rescales scores (indexed as feasible) to 0..MaxNodeScore.
	normalize(cs *cycleState, feasible []*NodeInfo, scores []int64)
}

type weightedScorer struct {
	scorePlugin
	weight int64
}

// noNormalize is embedded by scorers whose scores are already 0..100.
type noNormalize struct{}

func (noNormalize) normalize(*cycleState, []*NodeInfo, []int64) {}

// defaultNormalize scales scores so the highest becomes MaxNodeScore
// (reversed: the highest becomes 0), as upstream's DefaultNormalizeScore.
func defaultNormalize(scores []int64, reverse bool) {
	var highest int64
	for _, s := range scores {
		highest = max(highest, s)
	}
	if highest == 0 {
		if reverse {
			for i := range scores {
				scores[i] = MaxNodeScore
			}
		}
		return
	}
	for i, s := range scores {
		s = MaxNodeScore * s / highest
		if reverse {
			s = MaxNodeScore - s
		}
		scores[i] = s
	}
}
