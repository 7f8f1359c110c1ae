package framework

import (
	"maps"
	"math"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Reasons of the PodTopologySpread filter, verbatim from kube-scheduler.
const (
	ReasonTopologySpreadNotMatch = "node(s) didn't match pod topology spread constraints"
	ReasonTopologyLabelMissing   = ReasonTopologySpreadNotMatch + " (missing required label)"
)

// spreadConstraint is a TopologySpreadConstraint with its selector parsed
// and upstream's defaults applied (minDomains 1, nodeAffinityPolicy Honor,
// nodeTaintsPolicy Ignore).
type spreadConstraint struct {
	maxSkew            int32
	topologyKey        string
	selector           podSelector
	minDomains         int32
	nodeAffinityPolicy corev1.NodeInclusionPolicy
	nodeTaintsPolicy   corev1.NodeInclusionPolicy
}

// spreadConstraints returns the pod's constraints with the given action,
// matchLabelKeys merged into their selectors.
func spreadConstraints(pod *corev1.Pod, action corev1.UnsatisfiableConstraintAction) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for _, c := range pod.Spec.TopologySpreadConstraints {
		if c.WhenUnsatisfiable != action {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(c.LabelSelector)
		if err != nil {
			return nil, err
		}
		if len(c.MatchLabelKeys) > 0 {
			sel = mergeLabelKeys(sel, pod, c.MatchLabelKeys, selection.In)
		}
		sc := spreadConstraint{
			maxSkew: c.MaxSkew, topologyKey: c.TopologyKey, selector: newPodSelector(sel), minDomains: 1,
			nodeAffinityPolicy: corev1.NodeInclusionPolicyHonor, nodeTaintsPolicy: corev1.NodeInclusionPolicyIgnore,
		}
		if c.MinDomains != nil {
			sc.minDomains = *c.MinDomains
		}
		if c.NodeAffinityPolicy != nil {
			sc.nodeAffinityPolicy = *c.NodeAffinityPolicy
		}
		if c.NodeTaintsPolicy != nil {
			sc.nodeTaintsPolicy = *c.NodeTaintsPolicy
		}
		out = append(out, sc)
	}
	return out, nil
}

// includesNode applies the constraint's node inclusion policies.
func (c *spreadConstraint) includesNode(pod *corev1.Pod, node *corev1.Node, aff nodeaffinity.RequiredNodeAffinity) bool {
	if c.nodeAffinityPolicy == corev1.NodeInclusionPolicyHonor {
		if ok, _ := aff.Match(node); !ok {
			return false
		}
	}
	if c.nodeTaintsPolicy == corev1.NodeInclusionPolicyHonor {
		for i := range node.Spec.Taints {
			t := &node.Spec.Taints[i]
			if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !tolerated(pod.Spec.Tolerations, t) {
				return false
			}
		}
	}
	return true
}

func hasAllTopologyKeys(node *corev1.Node, cs []spreadConstraint) bool {
	for i := range cs {
		if _, ok := node.Labels[cs[i].topologyKey]; !ok {
			return false
		}
	}
	return true
}

// countMatching counts the live pods in ns on ni that sel selects.
func countMatching(ni *NodeInfo, sel podSelector, ns string) int {
	if sel.Empty() {
		return 0
	}
	if sel.eq {
		return ni.labels.count(ns, sel.eqKey, sel.eqValue, true)
	}
	n := 0
	for _, p := range ni.pods {
		if p.DeletionTimestamp == nil && p.Namespace == ns && sel.Matches(labels.Set(p.Labels)) {
			n++
		}
	}
	return n
}

// spreadState is PodTopologySpread's PreFilter state: per DoNotSchedule
// constraint, the matching pods per domain of the eligible nodes, and the
// smallest such count (the "global minimum").
type spreadState struct {
	constraints []spreadConstraint
	counts      []map[string]int
	minimum     []int
	// self is 1 where the pod matches the constraint's own selector.
	self []int
}

func (s *spreadState) clone() *spreadState {
	if s == nil {
		return nil
	}
	c := &spreadState{constraints: s.constraints, counts: make([]map[string]int, len(s.counts)), minimum: slicesClone(s.minimum), self: s.self}
	for i, m := range s.counts {
		c.counts[i] = maps.Clone(m)
	}
	return c
}

func (s *spreadState) recomputeMinimum(i int) {
	m := math.MaxInt32
	for _, n := range s.counts[i] {
		m = min(m, n)
	}
	s.minimum[i] = m
}

type topologySpreadPlugin struct{ f *Framework }

func (topologySpreadPlugin) Name() string { return PodTopologySpreadName }

func (p topologySpreadPlugin) preFilter(cs *cycleState) (bool, *Status) {
	constraints, err := spreadConstraints(cs.pod, corev1.DoNotSchedule)
	if err != nil {
		return false, NewStatus(Error, err.Error())
	}
	if len(constraints) == 0 {
		return true, nil
	}
	s := &spreadState{constraints: constraints, counts: make([]map[string]int, len(constraints)), minimum: make([]int, len(constraints))}
	for i := range s.counts {
		s.counts[i] = map[string]int{}
	}
	nodes := cs.snap.nodes
	var mu sync.Mutex
	p.f.parallelize(len(nodes), func(lo, hi int) {
		local := make([]map[string]int, len(constraints))
		for i := range local {
			local[i] = map[string]int{}
		}
		for _, ni := range nodes[lo:hi] {
			node := ni.Node()
			if !hasAllTopologyKeys(node, constraints) {
				continue
			}
			for i := range constraints {
				c := &constraints[i]
				if !c.includesNode(cs.pod, node, cs.nodeAffinity) {
					continue
				}
				local[i][node.Labels[c.topologyKey]] += countMatching(ni, c.selector, cs.pod.Namespace)
			}
		}
		mu.Lock()
		for i, m := range local {
			for v, n := range m {
				s.counts[i][v] += n
			}
		}
		mu.Unlock()
	})
	s.self = make([]int, len(constraints))
	for i := range constraints {
		s.recomputeMinimum(i)
		if constraints[i].selector.Matches(labels.Set(cs.pod.Labels)) {
			s.self[i] = 1
		}
	}
	cs.spread = s
	return false, nil
}

// filter admits a node when, for each constraint, the matching pods in its
// domain plus the pod itself exceed the global minimum by at most maxSkew;
// the minimum counts as 0 while there are fewer domains than minDomains.
func (topologySpreadPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	s, node := cs.spread, ni.Node()
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.topologyKey]
		if !ok {
			return NewStatus(UnschedulableAndUnresolvable, ReasonTopologyLabelMissing)
		}
		minimum := s.minimum[i]
		if len(s.counts[i]) < int(c.minDomains) {
			minimum = 0
		}
		if s.counts[i][v]+s.self[i]-minimum > int(c.maxSkew) {
			return NewStatus(Unschedulable, ReasonTopologySpreadNotMatch)
		}
	}
	return nil
}

func (topologySpreadPlugin) addPod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo) {
	updateSpread(cs, pod, ni, 1)
}

func (topologySpreadPlugin) removePod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo) {
	updateSpread(cs, pod, ni, -1)
}

func updateSpread(cs *cycleState, pod *corev1.Pod, ni *NodeInfo, delta int) {
	s, node := cs.spread, ni.Node()
	if s == nil || pod.Namespace != cs.pod.Namespace || !hasAllTopologyKeys(node, s.constraints) {
		return
	}
	podLabels := labels.Set(pod.Labels)
	for i := range s.constraints {
		c := &s.constraints[i]
		if !c.selector.Matches(podLabels) || !c.includesNode(cs.pod, node, cs.nodeAffinity) {
			continue
		}
		s.counts[i][node.Labels[c.topologyKey]] += delta
		s.recomputeMinimum(i)
	}
}

// DefaultSpreadLister supplies upstream's system default topology
// spreading. When the VolumeLister given to NewSnapshot also implements it,
// pods without topologySpreadConstraints are scored as if they had
// ScheduleAnyway constraints of maxSkew 3 per hostname and 5 per zone over
// this selector.
type DefaultSpreadLister interface {
	// DefaultSpreadSelector returns the merged selectors of the Services
	// selecting pod and of the ReplicationController, ReplicaSet or
	// StatefulSet controlling it (upstream's helper.DefaultSelector); an
	// empty or nil selector means no default spreading for the pod.
	DefaultSpreadSelector(pod *corev1.Pod) labels.Selector
}

// systemDefaultConstraints are upstream's default constraints over the
// pod's default selector, or none without a DefaultSpreadLister.
func systemDefaultConstraints(cs *cycleState) []spreadConstraint {
	l := cs.snap.spreadDefaults
	if l == nil {
		return nil
	}
	sel := l.DefaultSpreadSelector(cs.pod)
	if sel == nil || sel.Empty() {
		return nil
	}
	ps := newPodSelector(sel)
	c := spreadConstraint{selector: ps, minDomains: 1,
		nodeAffinityPolicy: corev1.NodeInclusionPolicyHonor, nodeTaintsPolicy: corev1.NodeInclusionPolicyIgnore}
	host, zone := c, c
	host.topologyKey, host.maxSkew = corev1.LabelHostname, 3
	zone.topologyKey, zone.maxSkew = corev1.LabelTopologyZone, 5
	return []spreadConstraint{host, zone}
}

// spreadScoreState is PodTopologySpread's PreScore state for the
// ScheduleAnyway constraints.
type spreadScoreState struct {
	constraints []spreadConstraint
	// ignored are feasible nodes lacking a topology key: they score 0.
	ignored map[string]bool
	// counts holds, per non-hostname constraint, the matching pods per
	// domain of the feasible nodes (hostname domains are counted in score).
	counts []map[string]int64
	// weights normalize each constraint by log(domains + 2), so a
	// constraint over many domains does not dominate.
	weights []float64
}

type topologySpreadScorer struct{ f *Framework }

func (topologySpreadScorer) Name() string { return PodTopologySpreadName }

func (p topologySpreadScorer) preScore(cs *cycleState, feasible []*NodeInfo) bool {
	constraints, err := spreadConstraints(cs.pod, corev1.ScheduleAnyway)
	if err != nil {
		return true
	}
	// Nodes lacking a topology key are left out, except under the system
	// defaults, where such a node still competes on the keys it has.
	requireAll := true
	if len(cs.pod.Spec.TopologySpreadConstraints) == 0 {
		constraints, requireAll = systemDefaultConstraints(cs), false
	}
	if len(constraints) == 0 {
		return true
	}
	s := &spreadScoreState{constraints: constraints, ignored: map[string]bool{},
		counts: make([]map[string]int64, len(constraints)), weights: make([]float64, len(constraints))}
	for i := range s.counts {
		s.counts[i] = map[string]int64{}
	}
	for _, ni := range feasible {
		node := ni.Node()
		if requireAll && !hasAllTopologyKeys(node, constraints) {
			s.ignored[node.Name] = true
			continue
		}
		for i := range constraints {
			if constraints[i].topologyKey != corev1.LabelHostname {
				s.counts[i][node.Labels[constraints[i].topologyKey]] = 0
			}
		}
	}
	for i := range constraints {
		size := len(s.counts[i])
		if constraints[i].topologyKey == corev1.LabelHostname {
			size = len(feasible) - len(s.ignored)
		}
		s.weights[i] = math.Log(float64(size + 2))
	}
	// Count matching pods on all nodes, but only in the feasible nodes'
	// domains.
	nodes := cs.snap.nodes
	var mu sync.Mutex
	p.f.parallelize(len(nodes), func(lo, hi int) {
		local := make([]map[string]int64, len(constraints))
		for _, ni := range nodes[lo:hi] {
			node := ni.Node()
			if requireAll && !hasAllTopologyKeys(node, constraints) {
				continue
			}
			for i := range constraints {
				c := &constraints[i]
				if c.topologyKey == corev1.LabelHostname || !c.includesNode(cs.pod, node, cs.nodeAffinity) {
					continue
				}
				v := node.Labels[c.topologyKey]
				if _, ok := s.counts[i][v]; !ok {
					continue
				}
				if local[i] == nil {
					local[i] = map[string]int64{}
				}
				local[i][v] += int64(countMatching(ni, c.selector, cs.pod.Namespace))
			}
		}
		mu.Lock()
		for i, m := range local {
			for v, n := range m {
				s.counts[i][v] += n
			}
		}
		mu.Unlock()
	})
	cs.spreadScore = s
	return false
}

func (topologySpreadScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	s, node := cs.spreadScore, ni.Node()
	if s.ignored[node.Name] {
		return 0
	}
	var score float64
	for i := range s.constraints {
		c := &s.constraints[i]
		v, ok := node.Labels[c.topologyKey]
		if !ok {
			continue
		}
		var n int64
		if c.topologyKey == corev1.LabelHostname {
			n = int64(countMatching(ni, c.selector, cs.pod.Namespace))
		} else {
			n = s.counts[i][v]
		}
		score += float64(n)*s.weights[i] + float64(c.maxSkew-1)
	}
	return int64(math.Round(score))
}

// normalize inverts the scores (fewer matching pods is better) and scales
// them to 0..100; ignored nodes get 0.
func (topologySpreadScorer) normalize(cs *cycleState, feasible []*NodeInfo, scores []int64) {
	s := cs.spreadScore
	lo, hi := int64(math.MaxInt64), int64(0)
	for j, v := range scores {
		if s.ignored[feasible[j].Node().Name] {
			continue
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	for j, v := range scores {
		switch {
		case s.ignored[feasible[j].Node().Name]:
			scores[j] = 0
		case hi == 0:
			scores[j] = MaxNodeScore
		default:
			scores[j] = MaxNodeScore * (hi + lo - v) / hi
		}
	}
}
