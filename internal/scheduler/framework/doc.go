// Package framework is the scheduler's pure decision core: kube-scheduler's
// default plugins as functions of a Snapshot, with upstream's reasons,
// normalization and weights. The runtime (internal/scheduler) owns the
// queue, the cache of NodeInfos with assumed pods, binding and events; it
// calls this package and applies its decisions.
//
// API:
//
//	snap := NewSnapshot(nodeInfos, volumes)  // one per scheduling cycle
//	fw := Default()                          // or New(Options{Rand: seeded})
//	res, err := fw.Schedule(pod, snap)       // res.SuggestedHost
//	var fe *FitError; errors.As(err, &fe)    // fe.Error(): "0/3 nodes are available: ..."
//	pr, ok := fw.Preempt(pod, snap, pdbs, fe.Diagnosis)
//	// ok: delete pr.Victims, set status.nominatedNodeName = pr.NodeName
//	// !ok: fe.Diagnosis.PostFilterMsg = pr.Message, report fe.Error()
//
// Contract:
//   - Everything here is a function of its arguments, plus the Framework's
//     rotating start index and tie-breaking random source: no clock, no
//     I/O. Given the same inputs and call sequence, results are the same
//     whatever GOMAXPROCS is; filtering and scoring run in parallel
//     internally and are joined before Schedule returns.
//   - Nothing here modifies a pod, a Node, a NodeInfo or a Snapshot it is
//     given. A Snapshot and its NodeInfos must not be mutated while a
//     Schedule or Preempt call uses them (the runtime clones a NodeInfo
//     before changing it, or changes it only between cycles).
//   - NodeInfo keeps pointers to the Node and Pods it is given and does not
//     copy them; callers must treat those objects as immutable while the
//     NodeInfo lives (informer caches already require this).
//   - Status reasons are kube-scheduler's strings, so the aggregated
//     FailedScheduling message reads the same as upstream's.
//     Diagnosis.UnschedulablePlugins names the plugins that rejected the pod,
//     for the runtime's queueing hints.
//   - Resource requests are computed as upstream does
//     (k8s.io/component-helpers/resource.PodRequests): the larger of the sum
//     of regular containers (plus running sidecars) and each init container's
//     peak, plus pod overhead, pod-level resources when set.
//   - Schedule filters until upstream's numFeasibleNodesToFind nodes fit
//     (all below 100 nodes; 50% minus 1% per 125 nodes, at least 5% and 100
//     nodes), starting where the previous call stopped.
package framework
