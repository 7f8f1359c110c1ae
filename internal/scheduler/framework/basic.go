package framework

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/sets"
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
func defaultFilterPlugins(f *Framework) []filterPlugin {
	return []filterPlugin{
		simpleFilter{NodeUnschedulableName, NodeUnschedulable},
		simpleFilter{NodeNameName, NodeName},
		simpleFilter{TaintTolerationName, TaintToleration},
		nodeAffinityPlugin{},
		nodePortsPlugin{},
		resourcesFitPlugin{},
		volumeRestrictionsPlugin{},
		volumeBindingPlugin{},
		volumeZonePlugin{},
		topologySpreadPlugin{f},
		interPodAffinityPlugin{f},
	}
}

// defaultScorePlugins are kube-scheduler's default scores and weights.
func defaultScorePlugins(f *Framework) []weightedScorer {
	return []weightedScorer{
		{taintTolerationScorer{}, 3},
		{nodeAffinityScorer{}, 2},
		{topologySpreadScorer{f}, 2},
		{interPodAffinityScorer{f}, 2},
		{leastAllocatedScorer{}, 1},
		{balancedAllocationScorer{}, 1},
		{imageLocalityScorer{}, 1},
	}
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

// ReasonNodeAffinityConflict is NodeAffinity's PreFilter rejection when
// every required term names a node and no node satisfies all of them.
const ReasonNodeAffinityConflict = "pod affinity terms conflict"

// preFilter narrows the search to the nodes named by metadata.name
// matchFields when every required term has one (DaemonSet pods), as
// upstream's PreFilterResult.
func (nodeAffinityPlugin) preFilter(cs *cycleState) (bool, *Status) {
	s := &cs.pod.Spec
	if s.Affinity == nil || s.Affinity.NodeAffinity == nil || s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return len(s.NodeSelector) == 0, nil
	}
	var names sets.Set[string]
	for _, t := range s.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		var termNames sets.Set[string]
		for _, r := range t.MatchFields {
			if r.Key == metav1.ObjectNameField && r.Operator == corev1.NodeSelectorOpIn {
				if termNames == nil {
					termNames = sets.New(r.Values...)
				} else {
					termNames = termNames.Intersection(sets.New(r.Values...))
				}
			}
		}
		if termNames == nil {
			return false, nil // this term may match any node
		}
		names = names.Union(termNames)
	}
	if names != nil && names.Len() == 0 {
		return false, NewStatus(UnschedulableAndUnresolvable, ReasonNodeAffinityConflict)
	}
	cs.nodeNames = names
	return false, nil
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
	var buf [4]InsufficientResource
	return resourcesFitStatus(appendInsufficient(buf[:0], cs.req, ni))
}
