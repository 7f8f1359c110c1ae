package framework

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Framework is a configured set of filter and score plugins. It is safe for
// concurrent use; its only mutable state is the rotating start index of the
// node search and the tie-breaking random source.
type Framework struct {
	filters                  []filterPlugin
	scorers                  []weightedScorer
	percentageOfNodesToScore int32
	parallelism              int

	mu        sync.Mutex // guards rnd and nextStart
	rnd       *rand.Rand
	nextStart int
}

// Options configure a Framework.
type Options struct {
	// Rand breaks ties between the best-scored nodes; nil seeds one
	// randomly. Tests pass a seeded source for deterministic choices.
	Rand *rand.Rand
	// PercentageOfNodesToScore bounds how many feasible nodes are looked
	// for before scoring; 0 is upstream's adaptive default (50% minus 1%
	// per 125 nodes, at least 5%, at least 100 nodes).
	PercentageOfNodesToScore int32
	// Parallelism is the number of goroutines filtering and scoring nodes;
	// 0 means GOMAXPROCS.
	Parallelism int
}

// Default returns kube-scheduler's default plugins and weights.
func Default() *Framework { return New(Options{}) }

// New returns a Framework with kube-scheduler's default plugins and
// weights, configured by opts.
func New(opts Options) *Framework {
	f := &Framework{
		percentageOfNodesToScore: opts.PercentageOfNodesToScore,
		parallelism:              opts.Parallelism,
		rnd:                      opts.Rand,
	}
	f.filters = defaultFilterPlugins(f)
	f.scorers = defaultScorePlugins(f)
	if f.rnd == nil {
		f.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if f.parallelism <= 0 {
		f.parallelism = runtime.GOMAXPROCS(0)
	}
	return f
}

// ScheduleResult is the outcome of a successful Schedule.
type ScheduleResult struct {
	// SuggestedHost is the chosen node.
	SuggestedHost string
	// EvaluatedNodes is how many nodes were filtered; FeasibleNodes how
	// many of them fit.
	EvaluatedNodes, FeasibleNodes int
}

// Upstream's bounds on the adaptive number of feasible nodes to find.
const (
	minFeasibleNodesToFind           = 100
	minFeasibleNodesPercentageToFind = 5
)

// numFeasibleNodesToFind is upstream's: all nodes below 100; otherwise a
// percentage of them, adaptive when unset, and never fewer than 100.
func (f *Framework) numFeasibleNodesToFind(numAllNodes int) int {
	if numAllNodes < minFeasibleNodesToFind {
		return numAllNodes
	}
	percentage := int(f.percentageOfNodesToScore)
	if percentage == 0 {
		percentage = max(50-numAllNodes/125, minFeasibleNodesPercentageToFind)
	}
	n := numAllNodes * percentage / 100
	if n < minFeasibleNodesToFind {
		return minFeasibleNodesToFind
	}
	return n
}

// Schedule picks a node for pod in snap: PreFilter, then Filter over the
// nodes from a rotating start index until enough feasible nodes are found,
// then Score, NormalizeScore and weights, and a random pick among the
// best. When no node fits it returns a *FitError; ErrNoNodesAvailable for
// an empty snapshot; any other error means a plugin could not decide.
//
// Given the same inputs and the same sequence of earlier calls (start index,
// random source), the result is the same whatever the parallelism.
func (f *Framework) Schedule(pod *corev1.Pod, snap *Snapshot) (ScheduleResult, error) {
	nodes := snap.NodeInfos()
	if len(nodes) == 0 {
		return ScheduleResult{}, ErrNoNodesAvailable
	}
	cs := newCycleState(pod, snap)
	diag := Diagnosis{NodeToStatus: map[string]*Status{}, UnschedulablePlugins: sets.New[string]()}
	if st := f.runPreFilters(cs); st != nil {
		if st.Code() == Error {
			return ScheduleResult{}, fmt.Errorf("running PreFilter plugin %q: %s", st.Plugin(), st.Message())
		}
		diag.PreFilterMsg = st.Message()
		diag.UnschedulablePlugins.Insert(st.Plugin())
		for _, ni := range nodes {
			diag.NodeToStatus[ni.Node().Name] = st
		}
		return ScheduleResult{}, &FitError{Pod: pod, NumAllNodes: len(nodes), Diagnosis: diag}
	}

	// A pod that preempted others was nominated to a node: try it first, so
	// the room made for it is not lost to a better-scored node.
	if nn := pod.Status.NominatedNodeName; nn != "" {
		if ni := snap.Get(nn); ni != nil && f.runFilters(cs, ni).IsSuccess() {
			return ScheduleResult{SuggestedHost: nn, EvaluatedNodes: 1, FeasibleNodes: 1}, nil
		}
	}

	all := nodes
	if cs.nodeNames != nil {
		nodes = make([]*NodeInfo, 0, cs.nodeNames.Len())
		for _, name := range sets.List(cs.nodeNames) {
			if ni := snap.Get(name); ni != nil {
				nodes = append(nodes, ni)
			}
		}
	}
	sc := getScratch()
	defer putScratch(sc)
	feasible, evaluated, err := f.findFeasible(cs, nodes, &diag, len(nodes) == len(all), sc)
	if err != nil {
		return ScheduleResult{}, err
	}
	if len(feasible) == 0 {
		if len(nodes) < len(all) {
			// Nodes the PreFilter result left out, in upstream's words.
			st := NewStatus(UnschedulableAndUnresolvable, "node(s) didn't satisfy plugin(s) ["+NodeAffinityName+"]")
			for _, ni := range all {
				if _, ok := diag.NodeToStatus[ni.Node().Name]; !ok {
					diag.NodeToStatus[ni.Node().Name] = st
				}
			}
			diag.UnschedulablePlugins.Insert(NodeAffinityName)
		}
		return ScheduleResult{}, &FitError{Pod: pod, NumAllNodes: len(all), Diagnosis: diag}
	}
	res := ScheduleResult{EvaluatedNodes: evaluated, FeasibleNodes: len(feasible)}
	if len(feasible) == 1 {
		res.SuggestedHost = feasible[0].Node().Name
		return res, nil
	}
	scores := f.scoreNodes(cs, feasible, sc)
	cs.interPodScore.release()
	res.SuggestedHost = f.selectHost(feasible, scores)
	return res, nil
}

// scratch holds a scheduling cycle's per-node working slices, reused
// across cycles: for a thousand nodes they were a third of the
// scheduler's allocations.
type scratch struct {
	statuses []*Status
	scores   []int64 // the raw score rows, then the totals
}

var scratches = sync.Pool{New: func() any { return new(scratch) }}

func getScratch() *scratch { return scratches.Get().(*scratch) }

func putScratch(sc *scratch) {
	clear(sc.statuses) // no Status kept alive by the pool
	scratches.Put(sc)
}

// reuse returns (*buf)[:n] zeroed, growing *buf when it is shorter.
func reuse[T any](buf *[]T, n int) []T {
	if cap(*buf) < n {
		*buf = make([]T, n)
	}
	s := (*buf)[:n]
	clear(s)
	return s
}

func (f *Framework) runPreFilters(cs *cycleState) *Status {
	cs.skip = make([]bool, len(f.filters))
	for i, p := range f.filters {
		skip, st := p.preFilter(cs)
		if !st.IsSuccess() {
			return st.withPlugin(p.Name())
		}
		cs.skip[i] = skip
	}
	return nil
}

// runFilters returns the first rejecting Status for ni, labelled with its
// plugin; nil when the pod fits.
func (f *Framework) runFilters(cs *cycleState, ni *NodeInfo) *Status {
	for i, p := range f.filters {
		if cs.skip[i] {
			continue
		}
		if st := p.filter(cs, ni); !st.IsSuccess() {
			return st.withPlugin(p.Name())
		}
	}
	return nil
}

// filterChunk is how many nodes a filtering goroutine takes at a time.
const filterChunk = 16

// findFeasible filters nodes from the rotating start index until
// numFeasibleNodesToFind fit, in parallel. Goroutines claim chunks in
// order and stop claiming once enough nodes fit, so the claimed chunks
// form a prefix of the rotation; the result is cut from that prefix
// exactly where a sequential search would stop, which keeps it
// deterministic.
//
// rotate is false when nodes is a PreFilter's subset: the search then
// starts at its first node and leaves the rotation alone.
func (f *Framework) findFeasible(cs *cycleState, nodes []*NodeInfo, diag *Diagnosis, rotate bool, sc *scratch) ([]*NodeInfo, int, error) {
	n := len(nodes)
	if n == 0 {
		return nil, 0, nil
	}
	want := f.numFeasibleNodesToFind(n)
	start := 0
	if rotate {
		f.mu.Lock()
		start = f.nextStart % n
		f.mu.Unlock()
	}

	statuses := reuse(&sc.statuses, n) // by position in the rotation
	var found atomic.Int64
	var nextChunk atomic.Int64
	work := func() {
		for found.Load() < int64(want) {
			c := int(nextChunk.Add(1) - 1)
			lo := c * filterChunk
			if lo >= n {
				return
			}
			for i := lo; i < min(lo+filterChunk, n); i++ {
				st := f.runFilters(cs, nodes[(start+i)%n])
				if st == nil {
					st = successStatus
					found.Add(1)
				}
				statuses[i] = st
			}
		}
	}
	workers := min(f.parallelism, (n+filterChunk-1)/filterChunk)
	if workers <= 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers - 1 {
			wg.Go(work)
		}
		work()
		wg.Wait()
	}

	feasible := make([]*NodeInfo, 0, min(want, n))
	evaluated := 0
	for i := 0; i < n && statuses[i] != nil && len(feasible) < want; i++ {
		evaluated++
		ni := nodes[(start+i)%n]
		st := statuses[i]
		switch {
		case st == successStatus:
			feasible = append(feasible, ni)
		case st.Code() == Error:
			return nil, 0, fmt.Errorf("running Filter plugin %q on node %q: %s", st.Plugin(), ni.Node().Name, st.Message())
		default:
			diag.NodeToStatus[ni.Node().Name] = st
			diag.UnschedulablePlugins.Insert(st.Plugin())
		}
	}
	if rotate {
		f.mu.Lock()
		f.nextStart = (start + evaluated) % n
		f.mu.Unlock()
	}
	return feasible, evaluated, nil
}

// successStatus marks a feasible node in findFeasible's result slots.
var successStatus = &Status{code: Success}

// scoreNodes returns each feasible node's weighted total score.
func (f *Framework) scoreNodes(cs *cycleState, feasible []*NodeInfo, sc *scratch) []int64 {
	cs.scoreSkip = make([]bool, len(f.scorers))
	active := make([]int, 0, len(f.scorers))
	for i, s := range f.scorers {
		if cs.scoreSkip[i] = s.preScore(cs, feasible); !cs.scoreSkip[i] {
			active = append(active, i)
		}
	}
	// The totals, then one row of raw scores per active plugin, filled in
	// parallel by node.
	buf := reuse(&sc.scores, (1+len(active))*len(feasible))
	totals := buf[:len(feasible)]
	if len(active) == 0 {
		return totals
	}
	rows := make([][]int64, len(active))
	for k := range rows {
		rows[k] = buf[(k+1)*len(feasible) : (k+2)*len(feasible)]
	}
	f.parallelize(len(feasible), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			for k, i := range active {
				rows[k][j] = f.scorers[i].score(cs, feasible[j])
			}
		}
	})
	for k, i := range active {
		s := f.scorers[i]
		s.normalize(cs, feasible, rows[k])
		for j, v := range rows[k] {
			totals[j] += v * s.weight
		}
	}
	return totals
}

// scoreChunk is how many nodes a scoring goroutine takes at a time.
const scoreChunk = 64

// parallelize runs fn over [0,n) split into chunks across the framework's
// goroutines; fn must only write its own indexes.
func (f *Framework) parallelize(n int, fn func(lo, hi int)) {
	workers := min(f.parallelism, (n+scoreChunk-1)/scoreChunk)
	if workers <= 1 {
		fn(0, n)
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			lo := int(next.Add(1)-1) * scoreChunk
			if lo >= n {
				return
			}
			fn(lo, min(lo+scoreChunk, n))
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
}

// selectHost returns a node with the highest score, chosen uniformly at
// random among ties (reservoir sampling, as upstream).
func (f *Framework) selectHost(feasible []*NodeInfo, scores []int64) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	best, ties := 0, 1
	for j := 1; j < len(scores); j++ {
		switch {
		case scores[j] > scores[best]:
			best, ties = j, 1
		case scores[j] == scores[best]:
			ties++
			if f.rnd.IntN(ties) == 0 {
				best = j
			}
		}
	}
	return feasible[best].Node().Name
}
