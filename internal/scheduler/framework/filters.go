package framework

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Filter names, as kube-scheduler's plugins are named.
const (
	NodeNameName          = "NodeName"
	NodeUnschedulableName = "NodeUnschedulable"
	TaintTolerationName   = "TaintToleration"
	NodeAffinityName      = "NodeAffinity"
	NodeResourcesFitName  = "NodeResourcesFit"
	NodePortsName         = "NodePorts"
)

// Reasons reported by the filters, verbatim from kube-scheduler.
const (
	ReasonNodeName          = "node(s) didn't match the requested node name"
	ReasonNodeUnschedulable = "node(s) were unschedulable"
	ReasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
	ReasonNodePorts         = "node(s) didn't have free ports for the requested pod ports"
	ReasonTooManyPods       = "Too many pods"
	reasonNodeNotFound      = "node not found"
)

// FilterFunc decides whether pod fits the node in ni; nil means it does.
type FilterFunc func(pod *corev1.Pod, ni *NodeInfo) *Status

// NamedFilter is a FilterFunc with the name reported in its Status.
type NamedFilter struct {
	Name   string
	Filter FilterFunc
}

// DefaultFilters are the node-local filters among kube-scheduler's
// defaults, in its order, for checking one pod against one node without a
// Snapshot. Framework runs these and the volume and cross-node filters,
// with per-pod precomputation.
var DefaultFilters = []NamedFilter{
	{NodeUnschedulableName, NodeUnschedulable},
	{NodeNameName, NodeName},
	{TaintTolerationName, TaintToleration},
	{NodeAffinityName, NodeAffinity},
	{NodePortsName, NodePorts},
	{NodeResourcesFitName, NodeResourcesFit},
}

// RunFilters runs filters in order and returns the first non-success
// Status, labelled with its filter's name; nil if the pod fits.
func RunFilters(filters []NamedFilter, pod *corev1.Pod, ni *NodeInfo) *Status {
	for _, f := range filters {
		if st := f.Filter(pod, ni); !st.IsSuccess() {
			return st.withPlugin(f.Name)
		}
	}
	return nil
}

func nodeNotFound() *Status { return NewStatus(Error, reasonNodeNotFound) }

// NodeName rejects nodes other than the one named in spec.nodeName.
func NodeName(pod *corev1.Pod, ni *NodeInfo) *Status {
	node := ni.Node()
	if node == nil {
		return nodeNotFound()
	}
	if pod.Spec.NodeName != "" && pod.Spec.NodeName != node.Name {
		return NewStatus(UnschedulableAndUnresolvable, ReasonNodeName)
	}
	return nil
}

// NodeUnschedulable rejects cordoned nodes unless the pod tolerates the
// node.kubernetes.io/unschedulable:NoSchedule taint.
func NodeUnschedulable(pod *corev1.Pod, ni *NodeInfo) *Status {
	if ni.node == nil {
		return nodeNotFound()
	}
	if !ni.unschedulable {
		return nil
	}
	taint := corev1.Taint{Key: corev1.TaintNodeUnschedulable, Effect: corev1.TaintEffectNoSchedule}
	if tolerated(pod.Spec.Tolerations, &taint) {
		return nil
	}
	return NewStatus(UnschedulableAndUnresolvable, ReasonNodeUnschedulable)
}

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the
// pod does not tolerate, naming the first such taint.
func TaintToleration(pod *corev1.Pod, ni *NodeInfo) *Status {
	if ni.node == nil {
		return nodeNotFound()
	}
	for i := range ni.taints {
		t := &ni.taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if !tolerated(pod.Spec.Tolerations, t) {
			return NewStatus(UnschedulableAndUnresolvable,
				fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
		}
	}
	return nil
}

// tolerated reports whether any toleration tolerates taint. The Gt and Lt
// operators are behind an alpha gate upstream; like a default
// kube-scheduler, they tolerate nothing here.
func tolerated(tolerations []corev1.Toleration, taint *corev1.Taint) bool {
	for i := range tolerations {
		if toleratesTaint(&tolerations[i], taint) {
			return true
		}
	}
	return false
}

func toleratesTaint(t *corev1.Toleration, taint *corev1.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case "", corev1.TolerationOpEqual:
		return t.Value == taint.Value
	case corev1.TolerationOpExists:
		return true
	}
	return false
}

// NodeAffinity rejects nodes that do not match spec.nodeSelector and the
// required terms of spec.affinity.nodeAffinity. Invalid terms match
// nothing, as upstream.
func NodeAffinity(pod *corev1.Pod, ni *NodeInfo) *Status {
	node := ni.Node()
	if node == nil {
		return nodeNotFound()
	}
	if ok, _ := nodeaffinity.GetRequiredNodeAffinity(pod).Match(node); !ok {
		return NewStatus(UnschedulableAndUnresolvable, ReasonNodeAffinity)
	}
	return nil
}

// NodePorts rejects nodes where a host port the pod asks for is taken.
func NodePorts(pod *corev1.Pod, ni *NodeInfo) *Status {
	conflict := false
	forEachHostPort(pod, func(p *corev1.ContainerPort) {
		if !conflict && ni.UsedPorts.Conflicts(p.HostIP, p.Protocol, p.HostPort) {
			conflict = true
		}
	})
	if conflict {
		return NewStatus(Unschedulable, ReasonNodePorts)
	}
	return nil
}

// InsufficientResource describes one resource the node lacks for a pod.
type InsufficientResource struct {
	Name      corev1.ResourceName
	Reason    string
	Requested int64
	Used      int64
	Capacity  int64
	// Unresolvable is set when the request exceeds the node's whole
	// allocatable, so preemption cannot help.
	Unresolvable bool
}

// NodeResourcesFit rejects nodes without room for the pod's requests or
// for one more pod. The status is UnschedulableAndUnresolvable when some
// request exceeds the node's whole allocatable.
func NodeResourcesFit(pod *corev1.Pod, ni *NodeInfo) *Status {
	if ni.Node() == nil {
		return nodeNotFound()
	}
	return resourcesFitStatus(Fits(PodRequests(pod), ni))
}

func resourcesFitStatus(insufficient []InsufficientResource) *Status {
	if len(insufficient) == 0 {
		return nil
	}
	code := Unschedulable
	for _, r := range insufficient {
		if r.Unresolvable {
			code = UnschedulableAndUnresolvable
		}
	}
	// Most rejections name one resource: share its reasons slice rather
	// than allocate one per node.
	if len(insufficient) == 1 {
		if reasons, ok := singleReasons[insufficient[0].Reason]; ok {
			return &Status{code: code, reasons: reasons}
		}
	}
	reasons := make([]string, len(insufficient))
	for i, r := range insufficient {
		reasons[i] = r.Reason
	}
	return NewStatus(code, reasons...)
}

// Reasons of NodeResourcesFit for the resources every pod has.
var (
	reasonInsufficientCPU     = "Insufficient " + string(corev1.ResourceCPU)
	reasonInsufficientMemory  = "Insufficient " + string(corev1.ResourceMemory)
	reasonInsufficientStorage = "Insufficient " + string(corev1.ResourceEphemeralStorage)
	singleReasons             = map[string][]string{
		ReasonTooManyPods:         {ReasonTooManyPods},
		reasonInsufficientCPU:     {reasonInsufficientCPU},
		reasonInsufficientMemory:  {reasonInsufficientMemory},
		reasonInsufficientStorage: {reasonInsufficientStorage},
	}
)

// Fits lists what ni lacks for a pod requesting req, in upstream's order:
// pods, cpu, memory, ephemeral-storage, then scalars by name.
func Fits(req Resource, ni *NodeInfo) []InsufficientResource {
	return appendInsufficient(nil, req, ni)
}

// appendInsufficient is Fits appending to out, so a caller can pass a
// stack buffer.
func appendInsufficient(out []InsufficientResource, req Resource, ni *NodeInfo) []InsufficientResource {
	alloc, used := &ni.Allocatable, &ni.Requested
	if pods := int64(len(ni.pods)); pods+1 > alloc.AllowedPodNumber {
		out = append(out, InsufficientResource{
			Name: corev1.ResourcePods, Reason: ReasonTooManyPods,
			Requested: 1, Used: pods, Capacity: alloc.AllowedPodNumber,
		})
	}
	out = appendIfShort(out, corev1.ResourceCPU, reasonInsufficientCPU, req.MilliCPU, alloc.MilliCPU, used.MilliCPU)
	out = appendIfShort(out, corev1.ResourceMemory, reasonInsufficientMemory, req.Memory, alloc.Memory, used.Memory)
	out = appendIfShort(out, corev1.ResourceEphemeralStorage, reasonInsufficientStorage, req.EphemeralStorage, alloc.EphemeralStorage, used.EphemeralStorage)
	if len(req.Scalar) > 0 {
		for _, name := range sortedNames(req.Scalar) {
			out = appendIfShort(out, name, "", req.Scalar[name], alloc.Scalar[name], used.Scalar[name])
		}
	}
	return out
}

func appendIfShort(out []InsufficientResource, name corev1.ResourceName, reason string, want, have, inUse int64) []InsufficientResource {
	if want <= 0 || want <= have-inUse {
		return out
	}
	if reason == "" {
		reason = "Insufficient " + string(name)
	}
	return append(out, InsufficientResource{
		Name: name, Reason: reason, Requested: want, Used: inUse, Capacity: have,
		Unresolvable: want > have,
	})
}

func sortedNames(m map[corev1.ResourceName]int64) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
