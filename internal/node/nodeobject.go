package node

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"net/netip"
	"runtime"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/version"
)

// Labels and annotations a node registers with.
const (
	// InstanceType is the node.kubernetes.io/instance-type label of
	// simulated nodes.
	InstanceType = "simulated"
	// AnnotationRuntime names the runtime of the agent that owns a node.
	AnnotationRuntime = "skiff.dev/runtime"
	// RuntimeSimulated is that annotation's value for simulated nodes.
	RuntimeSimulated = "simulated"
	// kubeletPort is what status.daemonEndpoints advertise.
	kubeletPort = 10250
)

// Pod CIDRs are /24s counted from 10.42.0.0 (10.42.0.0/24, 10.42.1.0/24,
// ..., 10.43.0.0/24, ...), as k3s's default cluster CIDR starts; node
// addresses are counted from 172.16.0.1, one per pod CIDR index, so both
// are unique in a cluster whose nodes this package registered.
var (
	podCIDRBase  = netip.MustParseAddr("10.42.0.0")
	nodeIPBase   = netip.MustParseAddr("172.16.0.0")
	maxCIDRIndex = (256 - 42) * 256 // up to 10.255.255.0/24
)

// podCIDRForIndex is the k-th /24 pod CIDR.
func podCIDRForIndex(k int) netip.Prefix {
	b := podCIDRBase.As4()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16) + uint32(k)<<8
	return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), 0}), 24)
}

// cidrIndex is the inverse of podCIDRForIndex; ok is false for a CIDR
// outside the scheme (set by someone else), which is then left alone.
func cidrIndex(cidr string) (int, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() || p.Bits() != 24 {
		return 0, false
	}
	a, base := p.Addr().As4(), podCIDRBase.As4()
	if a[0] != base[0] || a[1] < base[1] {
		return 0, false
	}
	return int(a[1]-base[1])<<8 | int(a[2]), true
}

// nodeIPForIndex is the InternalIP of the node with pod CIDR index k.
func nodeIPForIndex(k int) netip.Addr {
	b := nodeIPBase.As4()
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) + uint32(k) + 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// nodeSpec is what the agent decides about one of its nodes before it
// registers it.
type nodeSpec struct {
	name    string
	zone    string // "" for none
	podCIDR netip.Prefix
	ip      netip.Addr
}

// buildNode is the Node a simulated kubelet registers: labels, capacity,
// conditions, addresses and node info, as the kubelet reports them.
func buildNode(s nodeSpec, o *Options, now time.Time) *corev1.Node {
	labels := map[string]string{
		corev1.LabelHostname:           s.name,
		corev1.LabelOSStable:           "linux",
		corev1.LabelArchStable:         runtime.GOARCH,
		corev1.LabelInstanceTypeStable: InstanceType,
	}
	if s.zone != "" {
		labels[corev1.LabelTopologyZone] = s.zone
		labels[corev1.LabelTopologyRegion] = o.Region
	}
	for k, v := range o.Labels {
		labels[k] = v
	}
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              o.CPU.DeepCopy(),
		corev1.ResourceMemory:           o.Memory.DeepCopy(),
		corev1.ResourceEphemeralStorage: o.EphemeralStorage.DeepCopy(),
		corev1.ResourcePods:             *resource.NewQuantity(int64(o.MaxPods), resource.DecimalSI),
		"hugepages-1Gi":                 resource.MustParse("0"),
		"hugepages-2Mi":                 resource.MustParse("0"),
	}
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   s.name,
			Labels: labels,
			Annotations: map[string]string{
				// As the kubelet annotates its node by default.
				"volumes.kubernetes.io/controller-managed-attach-detach": "true",
				"node.alpha.kubernetes.io/ttl":                           "0",
				AnnotationRuntime:                                        RuntimeSimulated,
			},
		},
		Spec: corev1.NodeSpec{
			Taints: append([]corev1.Taint(nil), o.Taints...),
		},
		Status: corev1.NodeStatus{
			Capacity:        capacity,
			Allocatable:     capacity.DeepCopy(),
			Phase:           "", // deprecated; the kubelet leaves it empty
			Conditions:      nodeConditions(nil, now, s.podCIDR.IsValid()),
			Addresses:       nodeAddresses(s),
			DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: kubeletPort}},
			NodeInfo:        nodeInfo(s.name),
		},
	}
	if s.podCIDR.IsValid() {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = s.podCIDR.String(), []string{s.podCIDR.String()}
	}
	return n
}

// nodeAddresses are the node's InternalIP, once it has one (it derives
// from the pod CIDR), and its host name.
func nodeAddresses(s nodeSpec) []corev1.NodeAddress {
	var out []corev1.NodeAddress
	if s.ip.IsValid() {
		out = append(out, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: s.ip.String()})
	}
	return append(out, corev1.NodeAddress{Type: corev1.NodeHostName, Address: s.name})
}

// nodeIPForCIDR is the InternalIP of the node with pod CIDR p: the
// counting scheme's for 10.42.k.0/24 (so nodes keep their addresses
// across versions), otherwise the subnet's number within the 2^20
// addresses from 172.16.0.1. Distinct pod CIDRs give distinct addresses
// as long as the cluster CIDR holds fewer than 2^20-2 subnets.
func nodeIPForCIDR(p netip.Prefix) netip.Addr {
	if k, ok := cidrIndex(p.String()); ok {
		return nodeIPForIndex(k)
	}
	subnet := new(big.Int).SetBytes(p.Masked().Addr().AsSlice())
	subnet.Rsh(subnet, uint(p.Addr().BitLen()-p.Bits()))
	return nodeIPForIndex(int(subnet.Mod(subnet, big.NewInt(1<<20-2)).Int64()))
}

// nodeInfo is status.nodeInfo: the identifiers derive from the name, so
// they stay the same when a restarted agent re-registers the node.
func nodeInfo(name string) corev1.NodeSystemInfo {
	sum := sha256.Sum256([]byte("skiff-simulated-node/" + name))
	id := hex.EncodeToString(sum[:16])
	uuid := id[0:8] + "-" + id[8:12] + "-" + id[12:16] + "-" + id[16:20] + "-" + id[20:32]
	return corev1.NodeSystemInfo{
		MachineID:               id,
		SystemUUID:              uuid,
		BootID:                  uuid,
		KernelVersion:           "simulated",
		OSImage:                 "skiff simulated node",
		ContainerRuntimeVersion: "simulated://" + version.Version,
		KubeletVersion:          version.Kubernetes,
		OperatingSystem:         "linux",
		Architecture:            runtime.GOARCH,
	}
}

// conditionTemplates are the conditions a healthy kubelet posts, with its
// reasons and messages word for word. NetworkUnavailable is the network
// plugin's; simulated nodes say their (simulated) routes exist.
var conditionTemplates = []corev1.NodeCondition{
	{Type: corev1.NodeNetworkUnavailable, Status: corev1.ConditionFalse, Reason: "RouteCreated", Message: "simulated pod network is configured"},
	{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
	{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
	{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
	{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
}

// networkNotReady is the Ready condition of a kubelet whose network is
// not set up yet: a simulated node has no pod network until it has a pod
// CIDR, as a CNI plugin that takes the node's podCIDR.
var networkNotReady = corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady",
	Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"}

// nodeConditions is the conditions a heartbeat at now posts, given the
// ones the node has: every heartbeat time is now; a transition time moves
// only when the condition's status changes. Without networkReady (no pod
// CIDR yet) the node is not Ready.
func nodeConditions(old []corev1.NodeCondition, now time.Time, networkReady bool) []corev1.NodeCondition {
	t := metav1.NewTime(now)
	out := make([]corev1.NodeCondition, 0, len(conditionTemplates))
	for _, c := range conditionTemplates {
		if c.Type == corev1.NodeReady && !networkReady {
			c = networkNotReady
		}
		c.LastHeartbeatTime = t
		c.LastTransitionTime = t
		for _, o := range old {
			if o.Type == c.Type && o.Status == c.Status {
				c.LastTransitionTime = o.LastTransitionTime
			}
		}
		out = append(out, c)
	}
	// Conditions set by others (a node problem detector) stay.
	for _, o := range old {
		if !isTemplate(o.Type) {
			out = append(out, o)
		}
	}
	return out
}

func isTemplate(t corev1.NodeConditionType) bool {
	for _, c := range conditionTemplates {
		if c.Type == t {
			return true
		}
	}
	return false
}

// zoneFor is node i's zone, round-robin over zones.
func zoneFor(zones []string, i int) string {
	if len(zones) == 0 {
		return ""
	}
	return zones[i%len(zones)]
}
