package framework

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
