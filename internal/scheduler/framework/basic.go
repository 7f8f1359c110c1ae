package framework

import (
	corev1 "k8s.io/api/core/v1"
)

// Plugin names beyond the basic filters, as kube-scheduler names them.
const (
	InterPodAffinityName   = "InterPodAffinity"
	PodTopologySpreadName  = "PodTopologySpread"
	VolumeBindingName      = "VolumeBinding"
	VolumeZoneName         = "VolumeZone"
	VolumeRestrictionsName = "VolumeRestrictions"
	BalancedAllocationName = "NodeResourcesBalancedAllocation"
	ImageLocalityName      = "ImageLocality"
	DefaultPreemptionName  = "DefaultPreemption"
)

// defaultFilterPlugins are kube-scheduler's default filters in its order.
func defaultFilterPlugins() []filterPlugin {
	return []filterPlugin{
		simpleFilter{NodeUnschedulableName, NodeUnschedulable},
		simpleFilter{NodeNameName, NodeName},
		simpleFilter{TaintTolerationName, TaintToleration},
		nodeAffinityPlugin{},
		nodePortsPlugin{},
		resourcesFitPlugin{},
	}
}

// defaultScorePlugins are kube-scheduler's default scores and weights.
func defaultScorePlugins() []weightedScorer {
	return nil
}

// simpleFilter adapts a FilterFunc that needs no per-pod state.
type simpleFilter struct {
	name string
	fn   FilterFunc
}

func (p simpleFilter) Name() string                                { return p.name }
func (p simpleFilter) preFilter(*cycleState) (bool, *Status)       { return false, nil }
func (p simpleFilter) filter(cs *cycleState, ni *NodeInfo) *Status { return p.fn(cs.pod, ni) }

type nodeAffinityPlugin struct{}

func (nodeAffinityPlugin) Name() string { return NodeAffinityName }

func (nodeAffinityPlugin) preFilter(cs *cycleState) (bool, *Status) {
	s := &cs.pod.Spec
	return len(s.NodeSelector) == 0 && (s.Affinity == nil || s.Affinity.NodeAffinity == nil ||
		s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil), nil
}

func (nodeAffinityPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	if ok, _ := cs.nodeAffinity.Match(ni.Node()); !ok {
		return NewStatus(UnschedulableAndUnresolvable, ReasonNodeAffinity)
	}
	return nil
}

type nodePortsPlugin struct{}

func (nodePortsPlugin) Name() string { return NodePortsName }

func (nodePortsPlugin) preFilter(cs *cycleState) (bool, *Status) { return len(cs.hostPorts) == 0, nil }

func (nodePortsPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	for _, p := range cs.hostPorts {
		if ni.UsedPorts.Conflicts(p.HostIP, p.Protocol, p.HostPort) {
			return NewStatus(Unschedulable, ReasonNodePorts)
		}
	}
	return nil
}

type resourcesFitPlugin struct{}

func (resourcesFitPlugin) Name() string                          { return NodeResourcesFitName }
func (resourcesFitPlugin) preFilter(*cycleState) (bool, *Status) { return false, nil }

func (resourcesFitPlugin) filter(cs *cycleState, ni *NodeInfo) *Status {
	return resourcesFitStatus(Fits(cs.req, ni))
}

// placeholders until the plugins land.
type interPodState struct{}

func (s *interPodState) clone() *interPodState { return s }

type spreadState struct{}

func (s *spreadState) clone() *spreadState { return s }

type volumeState struct{}
type spreadScoreState struct{}

var _ = corev1.Pod{}
