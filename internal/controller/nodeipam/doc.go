// Package nodeipam is the node IPAM controller with kube-controller-manager's
// range allocator: every Node gets spec.podCIDR and spec.podCIDRs, a
// subnet of --node-cidr-mask-size bits carved out of --cluster-cidr, so
// that no two nodes hand out the same pod addresses.
//
// Contract:
//   - a node without pod CIDRs gets the next free subnet, searched from
//     after the last one handed out (as upstream's cidrset, so a CIDR just
//     released is not reused at once); the write is a merge patch with the
//     node's resourceVersion as precondition, so a node that got a CIDR
//     meanwhile (from another writer) is never given a second one;
//   - a node that has pod CIDRs keeps them: they are marked used, whoever
//     set them; CIDRs outside the cluster CIDR are left alone and logged;
//   - on start, the allocation is rebuilt from the existing nodes before
//     any new subnet is handed out, so a restart never hands out a CIDR a
//     node holds;
//   - a deleted node's subnets are released;
//   - when the cluster CIDR is exhausted the node gets the Event
//     CIDRNotAvailable once and waits: it is looked at again when a node
//     deletion releases a CIDR. The default 10.42.0.0/16 with /24s holds
//     256 nodes, as k3s's; more nodes need a larger --cluster-cidr.
//
// Only a single IPv4 or IPv6 cluster CIDR is supported (no dual stack).
// The allocation lives in memory only: the Nodes are its record.
package nodeipam
