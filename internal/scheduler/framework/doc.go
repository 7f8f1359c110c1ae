// Package framework is the scheduler's pure decision core: kube-scheduler's
// default plugins as functions of a Snapshot, with upstream's reasons,
// normalization and weights. The runtime (internal/scheduler) owns the
// queue, the cache of NodeInfos with assumed and nominated pods, binding,
// events and leader election; it calls this package and applies its
// decisions.
//
// # API
//
//	snap := NewSnapshot(nodeInfos, volumes)  // per cycle; O(nodes)
//	fw := Default()                          // or New(Options{Rand: seeded, ...})
//	res, err := fw.Schedule(pod, snap)       // res.SuggestedHost
//	var fe *FitError; errors.As(err, &fe)    // fe.Error(): "0/3 nodes are available: ..."
//	pr, ok := fw.Preempt(pod, snap, pdbs, fe.Diagnosis)
//	// ok:  delete pr.Victims, set status.nominatedNodeName = pr.NodeName
//	// !ok: fe.Diagnosis.PostFilterMsg = pr.Message; clear the nomination
//	//      if pr.ClearNomination; report fe.Error()
//
// # Plugins
//
// Filters, in upstream's order: NodeUnschedulable, NodeName,
// TaintToleration, NodeAffinity (with the metadata.name PreFilter result
// DaemonSet pods use), NodePorts, NodeResourcesFit, VolumeRestrictions
// (GCE PD / EBS / RBD / iSCSI conflicts, ReadWriteOncePod), VolumeBinding
// (bound claims: the PV's nodeAffinity; unbound WaitForFirstConsumer
// claims: an Available volume on the node, or a class that provisions
// there; unbound Immediate claims reject the pod), VolumeZone,
// PodTopologySpread (DoNotSchedule, minDomains, nodeAffinityPolicy and
// nodeTaintsPolicy, matchLabelKeys), InterPodAffinity (required affinity and
// anti-affinity both ways, namespaces and namespaceSelector,
// matchLabelKeys/mismatchLabelKeys).
//
// Scores and weights: TaintToleration 3, NodeAffinity 2,
// PodTopologySpread 2, InterPodAffinity 2, NodeResourcesFit (LeastAllocated,
// cpu and memory weight 1) 1, NodeResourcesBalancedAllocation 1,
// ImageLocality 1. Each is 0..MaxNodeScore after upstream's NormalizeScore;
// a plugin that skips a pod scores 0 everywhere. The best total wins, ties
// broken uniformly at random from Options.Rand.
//
// Each cycle computes what depends only on the pod once (requests, parsed
// selectors, topology counts: upstream's PreFilter/PreScore state); the
// per-node work is then lookups. Pods with affinity are parsed once, when
// added to a NodeInfo, and the Snapshot lists the nodes holding them, so a
// pod without terms of its own never scans other pods.
//
// # Contract
//
//   - Decisions are functions of their arguments plus the Framework's
//     rotating start index and tie-breaking random source: no clock, no
//     I/O. Given the same inputs and call sequence, results are identical
//     whatever Options.Parallelism is: filtering and scoring fan out over
//     goroutines internally, and the feasible set is cut exactly where a
//     sequential search would stop.
//   - A Framework is safe for concurrent use. Nothing here modifies a pod,
//     Node, NodeInfo or Snapshot it is given (Preempt works on clones). A
//     Snapshot and its NodeInfos must not be mutated while a Schedule or
//     Preempt call uses them; the runtime clones a NodeInfo before changing
//     it (NodeInfo.Clone), or changes it only between cycles.
//   - NodeInfo keeps pointers to the Node and Pods it is given and does not
//     copy them; callers treat those objects as immutable while the
//     NodeInfo lives (informer caches already require this).
//   - Status reasons are kube-scheduler's strings, so FitError.Error reads
//     as upstream's FailedScheduling message: "0/N nodes are available: "
//     then "<count> <reason>" per reason over the nodes, sorted as strings,
//     then the PostFilter (preemption) message. Diagnosis.UnschedulablePlugins
//     names the plugins that rejected the pod, for queueing hints.
//   - Resource requests are computed as upstream does
//     (k8s.io/component-helpers/resource.PodRequests): the larger of the sum
//     of regular containers (plus running sidecars) and each init container's
//     peak, plus pod overhead, pod-level resources when set. Scoring counts
//     containers without requests at 100m cpu / 200Mi memory.
//   - Schedule filters until upstream's numFeasibleNodesToFind nodes fit
//     (all below 100 nodes; else Options.PercentageOfNodesToScore, by
//     default 50% minus 1% per 125 nodes, at least 5% and 100 nodes),
//     starting where the previous call stopped. A pod with
//     status.nominatedNodeName is tried on that node first.
//   - Preempt is upstream's DefaultPreemption: see its doc comment for the
//     candidate and victim rules. It does not look at nominated pods; the
//     runtime accounts for them in the NodeInfos it passes.
//
// Optional lookups: a VolumeLister passed to NewSnapshot that also
// implements NamespaceLister gives namespaceSelector terms real namespace
// labels; one that implements DefaultSpreadLister turns on upstream's
// system default spreading (ScheduleAnyway, maxSkew 3 per host and 5 per
// zone, over the selectors of the Services and controller selecting the
// pod) for pods without constraints of their own.
//
// Not implemented: NodeVolumeLimits (CSI attach limits), DynamicResources, finding or provisioning volumes for
// unbound claims, scheduler extenders and out-of-tree plugins.
package framework
