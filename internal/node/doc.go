// Package node is skiff's node agent with the simulated runtime: one
// Agent runs many simulated nodes in one process, as cheaply as the API
// allows, for `skiff up` (its built-in nodes) and `skiff node --runtime
// simulated`.
//
// For each node the agent does what a kubelet does through the API:
//   - registers the Node with capacity and allocatable, the well-known
//     labels (hostname, os, arch, instance type, zone and region when
//     zones are given), the kubelet's conditions and node info, or adopts
//     the Node when it exists, keeping its pod CIDR and address. A new
//     node's pod CIDR comes from the control plane (the node IPAM
//     controller sets spec.podCIDR); until it has one the node reports
//     Ready=False (network not ready, as a kubelet whose CNI plugin waits
//     for it) and its pods wait; its InternalIP derives from the CIDR.
//     When none comes within PodCIDRWait (no allocator runs; `skiff up`
//     without the nodeipam controller says so at once) the agent picks
//     the lowest free 10.42.k.0/24 itself. The not-ready NoSchedule taint
//     admission gives a new node is lifted by the node lifecycle
//     controller once the node is Ready, as upstream;
//   - renews a Lease in kube-node-lease named after the node every
//     LeaseRenewInterval (10 s), owned by the Node;
//   - posts the node status with fresh heartbeats every
//     StatusReportFrequency (5 min), as nodeStatusReportFrequency, and
//     when its pod CIDR arrives, as a merge patch (no conflict with a
//     controller's write to the node's spec);
//   - admits the pods bound to it as the kubelet does (OutOfcpu,
//     OutOfmemory, OutOfpods, ...), and moves the admitted ones through
//     their lifecycle (package simulated decides each step), with pod IPs
//     from its CIDR; steps that need no time are coalesced into one status
//     write, as the kubelet's status manager posts only the latest status;
//     deleted pods are stopped, reported terminal, then removed with a
//     zero-grace delete carrying their UID as precondition.
//
// Costs do not grow with goroutines: one pod informer (one watch, for all
// nodes; pods are cached slimmed to what the lifecycle reads), a
// rate-limited work queue of pods with a fixed number of workers and its
// delaying heap for simulated durations, a second queue with its own
// workers for registrations, leases and status (so a backlog of pods never
// delays a heartbeat), and one ticker turning a wheel of lease slots so
// renewals spread evenly over the interval.
//
// The pod IPs and admitted resources of a node live in memory only; an
// agent rebuilds them from the pods it finds when it starts.
//
// Node names are "<prefix>-<i>" and are the nodes' identity: an agent
// started again with the same prefix and count adopts its nodes, leases
// and pods. Two agents with the same prefix fight over the same nodes.
// The clock is injectable (Options.Clock) so tests drive time.
package node
