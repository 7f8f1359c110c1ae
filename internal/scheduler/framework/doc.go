// Package framework is the scheduler's pure decision core: a snapshot of one
// node (NodeInfo) and the Filter functions that decide whether a pod may be
// placed on it, with the reasons kube-scheduler reports.
//
// Contract:
//   - Everything here is a function of its arguments: no goroutines, no clock,
//     no I/O. The same pod and NodeInfo always give the same Status.
//   - Filters never modify the pod or the NodeInfo. A NodeInfo is owned by its
//     caller; it is not safe for concurrent mutation, but concurrent Filter
//     calls on a NodeInfo that nobody mutates are safe.
//   - NodeInfo keeps pointers to the Node and Pods it is given and does not
//     copy them; callers must treat those objects as immutable while the
//     NodeInfo lives (informer caches already require this).
//   - Status reasons are kube-scheduler's strings, so the aggregated
//     FailedScheduling message ("0/3 nodes are available: 2 Insufficient
//     cpu, ...") reads the same as upstream's. A nil *Status is success.
//   - Resource requests are computed as upstream does
//     (k8s.io/component-helpers/resource.PodRequests): the larger of the sum
//     of regular containers (plus running sidecars) and each init container's
//     peak, plus pod overhead, pod-level resources when set.
package framework
