package scheduler

// ClusterEvent is a change to cluster state that could make pods
// schedulable that were not, as kube-scheduler's framework.ClusterEvent.
// Plugins names the filters whose rejection the change can undo; a pod is
// moved out of the unschedulable set only if one of the plugins that
// rejected it is listed (upstream's queueing hints, by plugin). Nil Plugins
// means every plugin.
type ClusterEvent struct {
	Label   string
	Plugins []string
}

// Plugin names the events refer to; they are kube-scheduler's, which the
// framework's filters report in Diagnosis.UnschedulablePlugins.
const (
	pluginNodeName          = "NodeName"
	pluginNodeUnschedulable = "NodeUnschedulable"
	pluginTaintToleration   = "TaintToleration"
	pluginNodeAffinity      = "NodeAffinity"
	pluginNodeResourcesFit  = "NodeResourcesFit"
	pluginNodePorts         = "NodePorts"
	pluginInterPodAffinity  = "InterPodAffinity"
	pluginPodTopologySpread = "PodTopologySpread"
	pluginVolumeBinding     = "VolumeBinding"
	pluginVolumeZone        = "VolumeZone"
	pluginVolumeRestriction = "VolumeRestrictions"
	pluginNodeVolumeLimits  = "NodeVolumeLimits"
)

var volumePlugins = []string{pluginVolumeBinding, pluginVolumeZone, pluginVolumeRestriction, pluginNodeVolumeLimits}

// The events the scheduler reacts to.
var (
	// NodeAdd can satisfy any filter.
	EventNodeAdd                     = ClusterEvent{Label: "NodeAdd"}
	EventNodeAllocatableChange       = ClusterEvent{Label: "NodeAllocatableChange", Plugins: []string{pluginNodeResourcesFit}}
	EventNodeLabelChange             = ClusterEvent{Label: "NodeLabelChange", Plugins: append([]string{pluginNodeAffinity, pluginInterPodAffinity, pluginPodTopologySpread}, volumePlugins...)}
	EventNodeTaintChange             = ClusterEvent{Label: "NodeTaintChange", Plugins: []string{pluginTaintToleration}}
	EventNodeSpecUnschedulableChange = ClusterEvent{Label: "NodeSpecUnschedulableChange", Plugins: []string{pluginNodeUnschedulable}}
	// A pod leaving a node frees its resources and ports, and changes
	// what affinity and spreading see.
	EventAssignedPodDelete = ClusterEvent{Label: "AssignedPodDelete", Plugins: append([]string{pluginNodeResourcesFit, pluginNodePorts, pluginInterPodAffinity, pluginPodTopologySpread}, volumePlugins...)}
	// A pod arriving on a node can satisfy a pod affinity term or a
	// spreading constraint's minimum.
	EventAssignedPodAdd    = ClusterEvent{Label: "AssignedPodAdd", Plugins: []string{pluginInterPodAffinity, pluginPodTopologySpread}}
	EventAssignedPodUpdate = ClusterEvent{Label: "AssignedPodUpdate", Plugins: []string{pluginInterPodAffinity, pluginPodTopologySpread, pluginNodeResourcesFit}}
	EventPVChange          = ClusterEvent{Label: "PersistentVolumeChange", Plugins: volumePlugins}
	EventPVCChange         = ClusterEvent{Label: "PersistentVolumeClaimChange", Plugins: volumePlugins}
	EventStorageClassAdd   = ClusterEvent{Label: "StorageClassAdd", Plugins: volumePlugins}
	// EventUnschedulableTimeout is upstream's periodic flush of pods that
	// have been unschedulable for too long: every plugin.
	EventUnschedulableTimeout = ClusterEvent{Label: "UnschedulableTimeout"}
	// EventBindFailure: a binding failed, so the assumed pod's resources
	// are free again.
	EventBindFailure = ClusterEvent{Label: "AssignedPodDelete", Plugins: EventAssignedPodDelete.Plugins}
)

// relevant reports whether ev could help a pod that the plugins in
// rejectedBy turned down. A pod with no recorded plugins (it failed with
// an error) is moved by any event.
func (ev ClusterEvent) relevant(rejectedBy map[string]struct{}) bool {
	if ev.Plugins == nil || len(rejectedBy) == 0 {
		return true
	}
	for _, p := range ev.Plugins {
		if _, ok := rejectedBy[p]; ok {
			return true
		}
	}
	return false
}
