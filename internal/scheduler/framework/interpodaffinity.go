package framework

import (
	"maps"
	"math"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Reasons of the InterPodAffinity filter, verbatim from kube-scheduler.
const (
	ReasonAffinityRulesNotMatch              = "node(s) didn't match pod affinity rules"
	ReasonAntiAffinityRulesNotMatch          = "node(s) didn't match pod anti-affinity rules"
	ReasonExistingAntiAffinityNotMatch       = "node(s) didn't satisfy existing pods anti-affinity rules"
	hardPodAffinityWeight              int64 = 1 // upstream's default HardPodAffinityWeight
)

type topologyPair struct{ key, value string }

// topologyCounts counts pods per topology domain; zero counts are deleted,
// so an empty map means "no such pods anywhere".
type topologyCounts map[topologyPair]int64

func (m topologyCounts) add(key, value string, delta int64) {
	p := topologyPair{key, value}
	if m[p] += delta; m[p] == 0 {
		delete(m, p)
	}
}

func (m topologyCounts) merge(o topologyCounts) {
	for p, v := range o {
		m.add(p.key, p.value, v)
	}
}

// interPodState is InterPodAffinity's PreFilter state, as upstream.
type interPodState struct {
	// existingAnti counts, per domain, the existing pods whose required
	// anti-affinity terms select the incoming pod.
	existingAnti topologyCounts
	// affinity counts, per domain of each of the incoming pod's required
	// affinity terms, the pods matching all of those terms.
	affinity topologyCounts
	// anti counts, per domain, the pods matching each of the incoming
	// pod's required anti-affinity terms.
	anti topologyCounts
}

func (s *interPodState) clone() *interPodState {
	if s == nil {
		return nil
	}
	return &interPodState{maps.Clone(s.existingAnti), maps.Clone(s.affinity), maps.Clone(s.anti)}
}

type interPodAffinityPlugin struct{ f *Framework }

func (interPodAffinityPlugin) Name() string { return InterPodAffinityName }

func (p interPodAffinityPlugin) preFilter(cs *cycleState) (bool, *Status) {
	pi, snap := cs.pi, cs.snap
	if len(pi.requiredAffinity) == 0 && len(pi.requiredAnti) == 0 && len(snap.withRequiredAnti) == 0 {
		return true, nil
	}
	s := &interPodState{existingAnti: topologyCounts{}, affinity: topologyCounts{}, anti: topologyCounts{}}
	for _, ni := range snap.withRequiredAnti {
		for _, existing := range ni.podsWithRequiredAnti {
			s.updateExisting(existing, cs, ni.Node(), 1)
		}
	}
	if len(pi.requiredAffinity) > 0 || len(pi.requiredAnti) > 0 {
		var mu sync.Mutex
		p.f.parallelize(len(snap.nodes), func(lo, hi int) {
			local := &interPodState{affinity: topologyCounts{}, anti: topologyCounts{}}
			for _, ni := range snap.nodes[lo:hi] {
				local.countIncoming(cs, ni)
			}
			mu.Lock()
			s.affinity.merge(local.affinity)
			s.anti.merge(local.anti)
			mu.Unlock()
		})
	}
	cs.interPod = s
	return false, nil
}

// updateExisting counts existing's required anti-affinity terms that
// select the incoming pod.
func (s *interPodState) updateExisting(existing *podInfo, cs *cycleState, node *corev1.Node, delta int64) {
	for i := range existing.requiredAnti {
		t := &existing.requiredAnti[i]
		if v, ok := node.Labels[t.topologyKey]; ok && t.matches(cs.pod, cs.nsLabels) {
			s.existingAnti.add(t.topologyKey, v, delta)
		}
	}
}

// countIncoming is updateIncoming for all of ni's pods, with per-node
// counts (the label index) where the terms allow.
func (s *interPodState) countIncoming(cs *cycleState, ni *NodeInfo) {
	pi, node := cs.pi, ni.Node()
	switch len(pi.requiredAffinity) {
	case 0:
	case 1:
		t := &pi.requiredAffinity[0]
		if v, ok := node.Labels[t.topologyKey]; ok {
			if n := countTermMatches(t, ni, cs.snap); n > 0 {
				s.affinity.add(t.topologyKey, v, n)
			}
		}
	default:
		for _, p := range ni.pods {
			if podMatchesAllTerms(pi.requiredAffinity, p, cs.snap) {
				for i := range pi.requiredAffinity {
					t := &pi.requiredAffinity[i]
					if v, ok := node.Labels[t.topologyKey]; ok {
						s.affinity.add(t.topologyKey, v, 1)
					}
				}
			}
		}
	}
	for i := range pi.requiredAnti {
		t := &pi.requiredAnti[i]
		if v, ok := node.Labels[t.topologyKey]; ok {
			if n := countTermMatches(t, ni, cs.snap); n > 0 {
				s.anti.add(t.topologyKey, v, n)
			}
		}
	}
}

// updateIncoming counts pod against the incoming pod's required terms.
func (s *interPodState) updateIncoming(cs *cycleState, pod *corev1.Pod, node *corev1.Node, delta int64) {
	pi := cs.pi
	if podMatchesAllTerms(pi.requiredAffinity, pod, cs.snap) {
		for i := range pi.requiredAffinity {
			t := &pi.requiredAffinity[i]
			if v, ok := node.Labels[t.topologyKey]; ok {
				s.affinity.add(t.topologyKey, v, delta)
			}
		}
	}
	for i := range pi.requiredAnti {
		t := &pi.requiredAnti[i]
		if v, ok := node.Labels[t.topologyKey]; ok && t.matchesIn(pod, cs.snap) {
			s.anti.add(t.topologyKey, v, delta)
		}
	}
}

func (interPodAffinityPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	s, node := cs.interPod, ni.Node()
	if !satisfiesPodAffinity(cs, s, node) {
		return NewStatus(UnschedulableAndUnresolvable, ReasonAffinityRulesNotMatch)
	}
	for i := range cs.pi.requiredAnti {
		t := &cs.pi.requiredAnti[i]
		if v, ok := node.Labels[t.topologyKey]; ok && s.anti[topologyPair{t.topologyKey, v}] > 0 {
			return NewStatus(Unschedulable, ReasonAntiAffinityRulesNotMatch)
		}
	}
	if len(s.existingAnti) > 0 {
		for k, v := range node.Labels {
			if s.existingAnti[topologyPair{k, v}] > 0 {
				return NewStatus(Unschedulable, ReasonExistingAntiAffinityNotMatch)
			}
		}
	}
	return nil
}

// satisfiesPodAffinity requires every required affinity term's topology
// label on the node and a matching pod in that domain; the first pod of a
// group that selects itself may go anywhere with the labels, as upstream.
func satisfiesPodAffinity(cs *cycleState, s *interPodState, node *corev1.Node) bool {
	terms := cs.pi.requiredAffinity
	podsExist := true
	for i := range terms {
		v, ok := node.Labels[terms[i].topologyKey]
		if !ok {
			return false
		}
		if s.affinity[topologyPair{terms[i].topologyKey, v}] <= 0 {
			podsExist = false
		}
	}
	if podsExist {
		return true
	}
	return len(s.affinity) == 0 && podMatchesAllTerms(terms, cs.pod, cs.snap)
}

func (interPodAffinityPlugin) addPod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo) {
	updateInterPod(cs, pod, ni, 1)
}

func (interPodAffinityPlugin) removePod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo) {
	updateInterPod(cs, pod, ni, -1)
}

func updateInterPod(cs *cycleState, pod *corev1.Pod, ni *NodeInfo, delta int64) {
	if cs.interPod == nil {
		return
	}
	cs.interPod.updateExisting(newPodInfo(pod), cs, ni.Node(), delta)
	cs.interPod.updateIncoming(cs, pod, ni.Node(), delta)
}

// interPodAffinityScorer scores preferred pod (anti-)affinity both ways:
// the incoming pod's preferred terms against existing pods, and existing
// pods' required affinity (weight 1) and preferred terms against the
// incoming pod, summed per topology domain, then scaled min..max to 0..100.
type interPodAffinityScorer struct{ f *Framework }

func (interPodAffinityScorer) Name() string { return InterPodAffinityName }

func (p interPodAffinityScorer) preScore(cs *cycleState, _ []*NodeInfo) bool {
	pi, snap := cs.pi, cs.snap
	hasPreferred := len(pi.preferredAffinity) > 0 || len(pi.preferredAnti) > 0
	if !hasPreferred && len(snap.withAffinity) == 0 {
		return true
	}
	nodes := snap.withAffinity
	if hasPreferred {
		nodes = snap.nodes
	}
	score := scorePool.Get().(*interPodScore)
	var mu sync.Mutex
	p.f.parallelize(len(nodes), func(lo, hi int) {
		// Contributions are gathered in a slice and summed under the lock:
		// cheaper than a map per chunk.
		type contribution struct {
			p topologyPair
			w int64
		}
		local := make([]contribution, 0, hi-lo)
		add := func(key, value string, w int64) { local = append(local, contribution{topologyPair{key, value}, w}) }
		for _, ni := range nodes[lo:hi] {
			node := ni.Node()
			if len(node.Labels) == 0 {
				continue
			}
			// The incoming pod's preferred terms against every pod here:
			// count the matches first, so the domain is updated once per
			// node and term.
			if hasPreferred {
				for i := range pi.preferredAffinity {
					t := &pi.preferredAffinity[i]
					if v, ok := node.Labels[t.topologyKey]; ok {
						if n := countTermMatches(&t.affinityTerm, ni, snap); n > 0 {
							add(t.topologyKey, v, t.weight*n)
						}
					}
				}
				for i := range pi.preferredAnti {
					t := &pi.preferredAnti[i]
					if v, ok := node.Labels[t.topologyKey]; ok {
						if n := countTermMatches(&t.affinityTerm, ni, snap); n > 0 {
							add(t.topologyKey, v, -t.weight*n)
						}
					}
				}
			}
			// Existing pods' terms against the incoming pod.
			incoming := func(t *affinityTerm, w int64) {
				if v, ok := node.Labels[t.topologyKey]; ok && t.matches(cs.pod, cs.nsLabels) {
					add(t.topologyKey, v, w)
				}
			}
			for _, existing := range ni.podsWithAffinity {
				for i := range existing.requiredAffinity {
					incoming(&existing.requiredAffinity[i], hardPodAffinityWeight)
				}
				for i := range existing.preferredAffinity {
					incoming(&existing.preferredAffinity[i].affinityTerm, existing.preferredAffinity[i].weight)
				}
				for i := range existing.preferredAnti {
					incoming(&existing.preferredAnti[i].affinityTerm, -existing.preferredAnti[i].weight)
				}
			}
		}
		mu.Lock()
		for _, c := range local {
			if !slices.Contains(score.keys, c.p.key) {
				score.keys = append(score.keys, c.p.key)
			}
			score.m[c.p] += c.w
		}
		mu.Unlock()
	})
	if len(score.m) == 0 {
		scorePool.Put(score)
		return true
	}
	// Map order made keys' order random; sums do not depend on it, but
	// keep it stable anyway.
	slices.Sort(score.keys)
	cs.interPodScore = score
	return false
}

// countTermMatches counts the pods on ni that t selects.
func countTermMatches(t *affinityTerm, ni *NodeInfo, snap *Snapshot) int64 {
	var n int64
	if t.selector.eq && !t.nsSelectorSet {
		for ns := range t.namespaces {
			n += int64(ni.labels.count(ns, t.selector.eqKey, t.selector.eqValue, false))
		}
		return n
	}
	for _, p := range ni.pods {
		if t.matchesIn(p, snap) {
			n++
		}
	}
	return n
}

// interPodScore is InterPodAffinity's PreScore state: the score of each
// topology domain, and the distinct topology keys.
type interPodScore struct {
	keys []string
	m    map[topologyPair]int64
}

// scorePool recycles interPodScore maps: a per-host score map for 1,000
// nodes costs more to allocate and clear than to fill.
var scorePool = sync.Pool{New: func() any { return &interPodScore{m: map[topologyPair]int64{}} }}

// release returns s to scorePool; s must not be used afterwards.
func (s *interPodScore) release() {
	if s == nil {
		return
	}
	clear(s.m)
	s.keys = s.keys[:0]
	scorePool.Put(s)
}

func (interPodAffinityScorer) score(cs *cycleState, ni *NodeInfo) int64 {
	var s int64
	labels := ni.Node().Labels
	for _, key := range cs.interPodScore.keys {
		if v, ok := labels[key]; ok {
			s += cs.interPodScore.m[topologyPair{key, v}]
		}
	}
	return s
}

func (interPodAffinityScorer) normalize(_ *cycleState, _ []*NodeInfo, scores []int64) {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, s := range scores {
		lo, hi = min(lo, s), max(hi, s)
	}
	for i, s := range scores {
		f := 0.0
		if hi > lo {
			f = float64(MaxNodeScore) * float64(s-lo) / float64(hi-lo)
		}
		scores[i] = int64(f)
	}
}
