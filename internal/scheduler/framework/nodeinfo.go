package framework

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// NodeInfo is the scheduler's view of one node: the Node, the pods assigned
// (or assumed) to it, and what those pods hold.
type NodeInfo struct {
	node *corev1.Node
	// unschedulable and taints are the node's spec.unschedulable and
	// spec.taints, kept here for the filters every node passes through for
	// every pod: reading them from the Node took a cache miss per node,
	// the most expensive step of filtering a thousand nodes.
	unschedulable bool
	taints        []corev1.Taint
	pods          []*corev1.Pod
	// podRes[i] is what pods[i] holds.
	podRes []podResources

	// Allocatable is the node's status.allocatable.
	Allocatable Resource
	// Requested is the sum of PodRequests over Pods.
	Requested Resource
	// NonZeroRequested is Requested with the scoring defaults (100m cpu,
	// 200Mi memory) for containers that request nothing, as upstream's
	// NonZeroRequested: it keeps best-effort pods from piling onto one node.
	// Only MilliCPU and Memory are set.
	NonZeroRequested Resource
	// UsedPorts are the host ports taken by Pods.
	UsedPorts HostPortInfo

	// podsWithAffinity are the pods with any pod (anti-)affinity, and
	// podsWithRequiredAnti those with required anti-affinity: the only pods
	// the inter-pod affinity plugin must look at for an incoming pod
	// without terms of its own.
	podsWithAffinity     []*podInfo
	podsWithRequiredAnti []*podInfo
	// labels counts the pods per namespace and label.
	labels labelIndex
	// pvcRefs counts the pods using each "namespace/claim".
	pvcRefs map[string]int
	// images maps each normalized image name on the node to its size.
	images map[string]int64
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
	n.images = nil
	n.unschedulable, n.taints = false, nil
	if node == nil {
		return
	}
	n.unschedulable, n.taints = node.Spec.Unschedulable, node.Spec.Taints
	n.Allocatable = NewResource(node.Status.Allocatable)
	for _, img := range node.Status.Images {
		for _, name := range img.Names {
			if n.images == nil {
				n.images = map[string]int64{}
			}
			n.images[normalizedImageName(name)] = img.SizeBytes
		}
	}
}

// normalizedImageName adds the implicit ":latest" tag, as the kubelet
// reports images and as upstream's ImageLocality compares them.
func normalizedImageName(name string) string {
	if strings.LastIndex(name, ":") <= strings.LastIndex(name, "/") {
		name += ":latest"
	}
	return name
}

// Clone returns a copy of n that can be modified (pods added or removed)
// without affecting n. The Node and Pod objects are shared.
func (n *NodeInfo) Clone() *NodeInfo {
	c := *n
	c.pods = slicesClone(n.pods)
	c.podRes = slicesClone(n.podRes)
	c.podsWithAffinity = slicesClone(n.podsWithAffinity)
	c.podsWithRequiredAnti = slicesClone(n.podsWithRequiredAnti)
	c.Requested.Scalar = maps.Clone(n.Requested.Scalar)
	c.UsedPorts = make(HostPortInfo, len(n.UsedPorts))
	for ip, m := range n.UsedPorts {
		c.UsedPorts[ip] = maps.Clone(m)
	}
	c.pvcRefs = maps.Clone(n.pvcRefs)
	c.labels = labelIndex{all: maps.Clone(n.labels.all), terminating: maps.Clone(n.labels.terminating)}
	return &c
}

func slicesClone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// AddPod accounts pod's requests and host ports to the node.
func (n *NodeInfo) AddPod(pod *corev1.Pod) {
	n.addPod(pod, podResourcesOf(pod))
}

// podResources are a pod's requests as NodeInfo accounts them, kept beside
// the pod so that removing it (or moving it during preemption) does not
// recompute them.
type podResources struct {
	req     Resource // PodRequests
	nonZero Resource // cpu and memory with the scoring defaults
}

func podResourcesOf(pod *corev1.Pod) podResources {
	if r, ok := singleContainerResources(pod); ok {
		return r
	}
	return podResources{PodRequests(pod), nonZeroRequests(pod)}
}

// singleContainerResources is podResourcesOf for the commonest pod: one
// container, and nothing else that counts (init containers, overhead,
// pod-level resources, resized resources in its status). Its requests are
// the container's; no ResourceLists are built and summed.
func singleContainerResources(pod *corev1.Pod) (podResources, bool) {
	spec := &pod.Spec
	if len(spec.Containers) != 1 || len(spec.InitContainers) != 0 || spec.Overhead != nil || spec.Resources != nil {
		return podResources{}, false
	}
	for i := range pod.Status.ContainerStatuses {
		if pod.Status.ContainerStatuses[i].Resources != nil {
			return podResources{}, false
		}
	}
	requests := spec.Containers[0].Resources.Requests
	r := podResources{req: NewResource(requests)}
	r.nonZero.MilliCPU, r.nonZero.Memory = DefaultMilliCPURequest, DefaultMemoryRequest
	if q, ok := requests[corev1.ResourceCPU]; ok {
		r.nonZero.MilliCPU = q.MilliValue()
	}
	if q, ok := requests[corev1.ResourceMemory]; ok {
		r.nonZero.Memory = q.Value()
	}
	return r, true
}

func (n *NodeInfo) addPod(pod *corev1.Pod, r podResources) {
	n.pods = append(n.pods, pod)
	n.podRes = append(n.podRes, r)
	req := r.req
	n.Requested.MilliCPU += req.MilliCPU
	n.Requested.Memory += req.Memory
	n.Requested.EphemeralStorage += req.EphemeralStorage
	for name, v := range req.Scalar {
		n.Requested.addScalar(name, v)
	}
	n.labels.update(pod, 1)
	nz := r.nonZero
	n.NonZeroRequested.MilliCPU += nz.MilliCPU
	n.NonZeroRequested.Memory += nz.Memory
	forEachHostPort(pod, func(p *corev1.ContainerPort) {
		n.UsedPorts.Add(p.HostIP, p.Protocol, p.HostPort)
	})
	if pod.Spec.Affinity != nil && (pod.Spec.Affinity.PodAffinity != nil || pod.Spec.Affinity.PodAntiAffinity != nil) {
		pi := newPodInfo(pod)
		n.podsWithAffinity = append(n.podsWithAffinity, pi)
		if pi.hasRequiredAntiAff {
			n.podsWithRequiredAnti = append(n.podsWithRequiredAnti, pi)
		}
	}
	forEachClaim(pod, func(key string) {
		if n.pvcRefs == nil {
			n.pvcRefs = map[string]int{}
		}
		n.pvcRefs[key]++
	})
}

// forEachClaim calls f with "namespace/claim" for each PVC pod uses.
func forEachClaim(pod *corev1.Pod, f func(key string)) {
	for i := range pod.Spec.Volumes {
		if c := pod.Spec.Volumes[i].PersistentVolumeClaim; c != nil {
			f(pod.Namespace + "/" + c.ClaimName)
		}
	}
}

func removePodInfo(list []*podInfo, pod *corev1.Pod) []*podInfo {
	for i, pi := range list {
		if samePod(pi.pod, pod) {
			return append(list[:i:i], list[i+1:]...)
		}
	}
	return list
}

// RemovePod removes the pod with pod's UID (namespace/name when UIDs are
// empty) and reports whether it was there.
func (n *NodeInfo) RemovePod(pod *corev1.Pod) bool {
	_, ok := n.removePod(pod)
	return ok
}

// removePod removes the pod and returns the resources it held.
func (n *NodeInfo) removePod(pod *corev1.Pod) (podResources, bool) {
	for i, p := range n.pods {
		if !samePod(p, pod) {
			continue
		}
		r := n.podRes[i]
		// Copy instead of shifting in place: a clone or a snapshot may
		// share the backing array.
		n.pods = append(n.pods[:i:i], n.pods[i+1:]...)
		n.podRes = append(n.podRes[:i:i], n.podRes[i+1:]...)
		req := r.req
		req.AllowedPodNumber = 0
		n.Requested.sub(req)
		n.labels.update(p, -1)
		nz := r.nonZero
		n.NonZeroRequested.MilliCPU -= nz.MilliCPU
		n.NonZeroRequested.Memory -= nz.Memory
		forEachHostPort(p, func(cp *corev1.ContainerPort) {
			n.UsedPorts.Remove(cp.HostIP, cp.Protocol, cp.HostPort)
		})
		n.podsWithAffinity = removePodInfo(n.podsWithAffinity, p)
		n.podsWithRequiredAnti = removePodInfo(n.podsWithRequiredAnti, p)
		forEachClaim(p, func(key string) {
			if n.pvcRefs[key] <= 1 {
				delete(n.pvcRefs, key)
			} else {
				n.pvcRefs[key]--
			}
		})
		return r, true
	}
	return podResources{}, false
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
