package framework

import (
	"math"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// leastAllocatedScorer is NodeResourcesFit's default score: the share of
// cpu and memory (weights 1 and 1) left free once the pod is placed,
// counting containers without requests at 100m/200Mi.
type leastAllocatedScorer struct{ noNormalize }

func (leastAllocatedScorer) Name() string                           { return NodeResourcesFitName }
func (leastAllocatedScorer) preScore(*cycleState, []*NodeInfo) bool { return false }

func (leastAllocatedScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	var sum, weights int64
	add := func(requested, allocatable int64) {
		if allocatable == 0 {
			return
		}
		sum += leastRequestedScore(requested, allocatable)
		weights++
	}
	add(ni.NonZeroRequested.MilliCPU+cs.nonZeroReq.MilliCPU, ni.Allocatable.MilliCPU)
	add(ni.NonZeroRequested.Memory+cs.nonZeroReq.Memory, ni.Allocatable.Memory)
	if weights == 0 {
		return 0
	}
	return sum / weights
}

func leastRequestedScore(requested, capacity int64) int64 {
	if capacity == 0 || requested > capacity {
		return 0
	}
	return (capacity - requested) * MaxNodeScore / capacity
}

// balancedAllocationScorer favours nodes whose cpu and memory would be
// used in equal shares: 100 × (1 − the standard deviation of the shares).
// Best-effort pods are not scored, as upstream since 1.33, so they do not
// all pile onto one node.
type balancedAllocationScorer struct{ noNormalize }

func (balancedAllocationScorer) Name() string { return BalancedAllocationName }

func (balancedAllocationScorer) preScore(cs *cycleState, _ []*NodeInfo) bool {
	return cs.req.MilliCPU == 0 && cs.req.Memory == 0
}

func (balancedAllocationScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	var fractions [2]float64
	n := 0
	add := func(requested, allocatable int64) {
		if allocatable == 0 {
			return
		}
		fractions[n] = min(float64(requested)/float64(allocatable), 1)
		n++
	}
	add(ni.Requested.MilliCPU+cs.req.MilliCPU, ni.Allocatable.MilliCPU)
	add(ni.Requested.Memory+cs.req.Memory, ni.Allocatable.Memory)
	std := 0.0
	if n == 2 {
		std = math.Abs((fractions[0] - fractions[1]) / 2)
	}
	return int64((1 - std) * float64(MaxNodeScore))
}

// nodeAffinityScorer sums the weights of the preferred node affinity terms
// a node matches, scaled so the best node gets 100.
type nodeAffinityScorer struct{}

func (nodeAffinityScorer) Name() string { return NodeAffinityName }

func (nodeAffinityScorer) preScore(cs *cycleState, _ []*NodeInfo) bool {
	a := cs.pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || len(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
		return true
	}
	terms, err := nodeaffinity.NewPreferredSchedulingTerms(a.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution)
	if err != nil {
		return true
	}
	cs.preferredNodes = terms
	return false
}

func (nodeAffinityScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	return cs.preferredNodes.Score(ni.Node())
}

func (nodeAffinityScorer) normalize(_ *cycleState, _ []*NodeInfo, scores []int64) {
	defaultNormalize(scores, false)
}

// taintTolerationScorer counts the PreferNoSchedule taints the pod does not
// tolerate; fewer is better, the node with most gets 0.
type taintTolerationScorer struct{}

func (taintTolerationScorer) Name() string { return TaintTolerationName }

func (taintTolerationScorer) preScore(cs *cycleState, _ []*NodeInfo) bool {
	cs.preferNoSched = cs.preferNoSched[:0]
	for _, t := range cs.pod.Spec.Tolerations {
		if t.Effect == "" || t.Effect == corev1.TaintEffectPreferNoSchedule {
			cs.preferNoSched = append(cs.preferNoSched, t)
		}
	}
	return false
}

func (taintTolerationScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	var n int64
	taints := ni.taints
	for i := range taints {
		if taints[i].Effect == corev1.TaintEffectPreferNoSchedule && !tolerated(cs.preferNoSched, &taints[i]) {
			n++
		}
	}
	return n
}

func (taintTolerationScorer) normalize(_ *cycleState, _ []*NodeInfo, scores []int64) {
	defaultNormalize(scores, true)
}

// ImageLocality thresholds, as upstream: images under 23 MiB in total do
// not count, and each container counts up to 1000 MiB.
const (
	mib                   int64 = 1024 * 1024
	minImageThreshold           = 23 * mib
	maxContainerThreshold       = 1000 * mib
)

// imageLocalityScorer favours nodes that already hold the pod's images,
// weighing each image by its size and by the share of nodes holding it (so
// a ubiquitous image does not pull every pod to one node).
type imageLocalityScorer struct{ noNormalize }

func (imageLocalityScorer) Name() string                           { return ImageLocalityName }
func (imageLocalityScorer) preScore(*cycleState, []*NodeInfo) bool { return false }

func (imageLocalityScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	var sum int64
	if len(ni.images) > 0 {
		total := float64(len(cs.snap.nodes))
		add := func(cs2 []corev1.Container) {
			for i := range cs2 {
				name := normalizedImageName(cs2[i].Image)
				if size, ok := ni.images[name]; ok {
					sum += int64(float64(size) * float64(cs.snap.imageNodeCount(name)) / total)
				}
			}
		}
		add(cs.pod.Spec.InitContainers)
		add(cs.pod.Spec.Containers)
	}
	maxThreshold := maxContainerThreshold * int64(len(cs.pod.Spec.InitContainers)+len(cs.pod.Spec.Containers))
	sum = min(max(sum, minImageThreshold), maxThreshold)
	if maxThreshold <= minImageThreshold {
		return 0
	}
	return MaxNodeScore * (sum - minImageThreshold) / (maxThreshold - minImageThreshold)
}
