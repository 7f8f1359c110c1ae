package framework

import (
	corev1 "k8s.io/api/core/v1"
)

// NodeInfo is the scheduler's view of one node: the Node, the pods assigned
// (or assumed) to it, and what those pods hold.
type NodeInfo struct {
	node *corev1.Node
	pods []*corev1.Pod

	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// Requested is the sum of PodRequests over Pods.
	Requested Resource
	// UsedPorts are the host ports taken by Pods.
	UsedPorts HostPortInfo
}

// NewNodeInfo returns a NodeInfo for node holding pods. node may be nil
// while only pods are known (a pod's node can be observed before the Node).
func NewNodeInfo(node *corev1.Node, pods ...*corev1.Pod) *NodeInfo {
	ni := &NodeInfo{UsedPorts: HostPortInfo{}}
	ni.SetNode(node)
	for _, p := range pods {
		ni.AddPod(p)
	}
	return ni
}

// Node returns the node, or nil if it is not known yet.
func (n *NodeInfo) Node() *corev1.Node { return n.node }

// Pods returns the pods on the node; the caller must not modify the slice.
func (n *NodeInfo) Pods() []*corev1.Pod { return n.pods }

// SetNode replaces the node and recomputes Allocatable.
func (n *NodeInfo) SetNode(node *corev1.Node) {
	n.node = node
	n.Allocatable = Resource{}
	if node != nil {
		n.Allocatable = NewResource(node.Status.Allocatable)
	}
}

// AddPod accounts pod's requests and host ports to the node.
func (n *NodeInfo) AddPod(pod *corev1.Pod) {
	n.pods = append(n.pods, pod)
	req := PodRequests(pod)
	n.Requested.MilliCPU += req.MilliCPU
	n.Requested.Memory += req.Memory
	n.Requested.EphemeralStorage += req.EphemeralStorage
	for name, v := range req.Scalar {
		n.Requested.addScalar(name, v)
	}
	forEachHostPort(pod, func(p *corev1.ContainerPort) {
		n.UsedPorts.Add(p.HostIP, p.Protocol, p.HostPort)
	})
}

// RemovePod removes the pod with pod's UID (namespace/name when UIDs are
// empty) and reports whether it was there.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) bool {
	for i, p := range n.pods {
		if !samePod(p, pod) {
			continue
		}
		n.pods = append(n.pods[:i], n.pods[i+1:]...)
		req := PodRequests(p)
		req.AllowedPodNumber = 0
		n.Requested.sub(req)
		forEachHostPort(p, func(cp *corev1.ContainerPort) {
			n.UsedPorts.Remove(cp.HostIP, cp.Protocol, cp.HostPort)
		})
		return true
	}
	return false
}

func samePod(a, b *corev1.Pod) bool {
	if a.UID != "" || b.UID != "" {
		return a.UID == b.UID
	}
	return a.Namespace == b.Namespace && a.Name == b.Name
}

// forEachHostPort calls f for every container port with a host port. Like
// kube-scheduler (NodePorts and NodeInfo.UsedPorts), only regular
// containers count: host ports on init containers, sidecars included, are
// ignored.
func forEachHostPort(pod *corev1.Pod, f func(*corev1.ContainerPort)) {
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		for j := range c.Ports {
			if c.Ports[j].HostPort > 0 {
				f(&c.Ports[j])
			}
		}
	}
}

// ProtocolPort is a host port and its protocol.
type ProtocolPort struct {
	Protocol corev1.Protocol
	Port     int32
}

// HostPortInfo maps a host IP to the protocol ports used on it. An empty IP
// is stored as 0.0.0.0 (all addresses), an empty protocol as TCP.
type HostPortInfo map[string]map[ProtocolPort]int

const anyIP = "0.0.0.0"

func normalizePort(ip string, proto corev1.Protocol, port int32) (string, ProtocolPort) {
	if ip == "" {
		ip = anyIP
	}
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	return ip, ProtocolPort{Protocol: proto, Port: port}
}

// Add records a use of the port. Uses are counted so that removing one of
// two pods that (wrongly) share a port keeps it marked as used.
func (h HostPortInfo) Add(ip string, proto corev1.Protocol, port int32) {
	ip, pp := normalizePort(ip, proto, port)
	if h[ip] == nil {
		h[ip] = map[ProtocolPort]int{}
	}
	h[ip][pp]++
}

// Remove forgets one use of the port.
func (h HostPortInfo) Remove(ip string, proto corev1.Protocol, port int32) {
	ip, pp := normalizePort(ip, proto, port)
	m := h[ip]
	if m[pp] <= 1 {
		delete(m, pp)
	} else {
		m[pp]--
	}
	if len(m) == 0 {
		delete(h, ip)
	}
}

// Conflicts reports whether the port is taken: 0.0.0.0 conflicts with the
// same protocol and port on any IP, and any IP conflicts with 0.0.0.0.
func (h HostPortInfo) Conflicts(ip string, proto corev1.Protocol, port int32) bool {
	ip, pp := normalizePort(ip, proto, port)
	if ip == anyIP {
		for _, m := range h {
			if m[pp] > 0 {
				return true
			}
		}
		return false
	}
	return h[ip][pp] > 0 || h[anyIP][pp] > 0
}
