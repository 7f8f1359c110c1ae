// Package node is skiff's node agent with the simulated runtime: one
// Agent runs many simulated nodes in one process, as cheaply as the API
// allows, for `skiff up` (its built-in nodes) and `skiff node --runtime
// simulated`.
//
// For each node the agent does what a kubelet does through the API:
//   - registers the Node with capacity and allocatable, the well-known
//     labels (hostname, os, arch, instance type, zone and region when
//     zones are given), the kubelet's conditions, addresses, node info and
//     a pod CIDR (10.42.k.0/24, the lowest free one in the cluster), or
//     adopts the Node when it exists, keeping its CIDR and address;
//   - renews a Lease in kube-node-lease named after the node every
//     LeaseRenewInterval (10 s), owned by the Node;
//   - posts the node status with fresh heartbeats every
//     StatusReportFrequency (5 min), as nodeStatusReportFrequency;
//   - moves the pods bound to it through their lifecycle (package
//     simulated decides each step), with pod IPs from its CIDR; deleted
//     pods are stopped, reported terminal, then removed with a zero-grace
//     delete carrying their UID as precondition.
//
// Costs do not grow with goroutines: one pod informer (one watch, for all
// nodes), one rate-limited work queue with a fixed number of workers for
// every write, its delaying heap for simulated durations, and one ticker
// turning a wheel of lease slots so renewals spread over the interval.
//
// Node names are "<prefix>-<i>" and are the nodes' identity: an agent
// started again with the same prefix and count adopts its nodes, leases
// and pods. Two agents with the same prefix fight over the same nodes.
// The clock is injectable (Options.Clock) so tests drive time.
package node
