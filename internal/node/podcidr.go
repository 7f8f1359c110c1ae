package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// A node's pod CIDR comes from the control plane: the node IPAM
// controller sets spec.podCIDR on a node that registered without one, as
// kube-controller-manager's --allocate-node-cidrs does, so agents
// registering at the same instant never pick the same one. Until then
// the node is not Ready (no pod network) and its pods wait. When no
// CIDR comes within PodCIDRWait (no allocator runs), the agent picks the
// lowest free 10.42.k.0/24 itself, as it did before the controller
// existed.

// slimNode keeps of the agent's nodes what it reads from the informer.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion},
		Spec: corev1.NodeSpec{PodCIDR: n.Spec.PodCIDR, PodCIDRs: n.Spec.PodCIDRs}}, nil
}

// nodeSeen takes the pod CIDR of one of the agent's nodes from the
// informer.
func (a *Agent) nodeSeen(obj any) {
	nd, ok := obj.(*corev1.Node)
	if !ok || len(nd.Spec.PodCIDRs) == 0 {
		return
	}
	n := a.nodes[nd.Name]
	if n == nil {
		return
	}
	if p, err := netip.ParsePrefix(nd.Spec.PodCIDRs[0]); err == nil {
		a.cidrAssigned(n, p)
	}
}

// cidrAssigned gives a node that had none its pod CIDR and the address
// derived from it, posts its status (Ready now, with the address) and
// wakes its pods that wait for an address.
func (a *Agent) cidrAssigned(n *simNode, p netip.Prefix) {
	a.mu.Lock()
	if n.ips != nil {
		a.mu.Unlock()
		return
	}
	n.spec.podCIDR, n.ips = p.Masked(), newPodIPs(p)
	if !n.spec.ip.IsValid() {
		n.spec.ip = nodeIPForCIDR(p)
	}
	registered := n.node != nil
	a.mu.Unlock()
	a.log.Debug("node has its pod CIDR", "node", n.spec.name, "podCIDR", p)
	if registered {
		a.nodeQueue.Add(key{kind: kindStatus, name: n.spec.name})
	}
	for _, obj := range a.pods.GetStore().List() {
		if pod, ok := obj.(*corev1.Pod); ok && pod.Spec.NodeName == n.spec.name {
			a.queue.Add(key{kind: kindPod, namespace: pod.Namespace, name: pod.Name})
		}
	}
}

// ownCIDR picks pod CIDRs for nodes the control plane gave none within
// PodCIDRWait: the lowest 10.42.k.0/24s no node has. One call serves
// every node of the agent still without one (one list of the nodes, not
// one per node), serialized so that two of the agent's nodes never pick
// the same; each write carries the node's resourceVersion as
// precondition, so a CIDR the allocator sets meanwhile wins.
func (a *Agent) ownCIDR(ctx context.Context, n *simNode) error {
	a.ownMu.Lock()
	defer a.ownMu.Unlock()
	if a.hasCIDR(n) {
		return nil
	}
	nodes, err := a.core.Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	byName := make(map[string]*corev1.Node, len(nodes.Items))
	for i := range nodes.Items {
		byName[nodes.Items[i].Name] = &nodes.Items[i]
	}
	free := freeCIDRIndices(nodes.Items)
	var errN error
	picked := 0
	for _, m := range a.order {
		cur := byName[m.spec.name]
		if a.hasCIDR(m) || cur == nil { // has one, or not registered (or deleted)
			continue
		}
		if len(cur.Spec.PodCIDRs) > 0 {
			a.nodeSeen(cur)
			continue
		}
		k, err := free()
		if err != nil {
			return err
		}
		p := podCIDRForIndex(k)
		patch, _ := json.Marshal(map[string]any{
			"metadata": map[string]any{"resourceVersion": cur.ResourceVersion},
			"spec":     map[string]any{"podCIDR": p.String(), "podCIDRs": []string{p.String()}},
		})
		if _, err := a.core.Nodes().Patch(ctx, cur.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			if m == n && !apierrors.IsNotFound(err) {
				errN = fmt.Errorf("setting pod CIDR of node %s: %w", cur.Name, err)
			}
			continue
		}
		picked++
		a.cidrAssigned(m, p)
	}
	if picked > 0 {
		a.log.Warn("no pod CIDR from the control plane (is the nodeipam controller running with --allocate-node-cidrs, and is --cluster-cidr large enough?); nodes picked their own",
			"nodes", picked, "after", a.opts.PodCIDRWait)
	}
	return errN
}

func (a *Agent) hasCIDR(n *simNode) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return n.ips != nil
}

// freeCIDRIndices returns a function that hands out, lowest first, the
// indices of the 10.42.k.0/24 pod CIDRs none of nodes has.
func freeCIDRIndices(nodes []corev1.Node) func() (int, error) {
	used := map[int]bool{}
	for i := range nodes {
		for _, c := range append([]string{nodes[i].Spec.PodCIDR}, nodes[i].Spec.PodCIDRs...) {
			if k, ok := cidrIndex(c); ok {
				used[k] = true
			}
		}
	}
	next := 0
	return func() (int, error) {
		for ; next < maxCIDRIndex; next++ {
			if !used[next] {
				used[next] = true
				return next, nil
			}
		}
		return 0, errors.New("node: no pod CIDR left in 10.42.0.0-10.255.255.0")
	}
}
