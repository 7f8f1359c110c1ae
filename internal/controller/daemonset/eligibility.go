package daemonset

import (
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/klog/v2"
)

// daemonTolerations are the tolerations upstream's DaemonSet controller
// adds to every daemon pod: a node's problems must not evict or keep
// out its daemons (kube-proxy, CNI agents) that may be what fixes them.
// The NoExecute ones have no tolerationSeconds, so the pods stay for
// good. Network-unavailable is added only for host-network pods, which
// do not need the pod network.
var daemonTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

var hostNetworkToleration = corev1.Toleration{
	Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule,
}

// withDaemonTolerations returns tolerations with the daemon tolerations
// added or, where one with the same key and effect exists, put in its
// place (as upstream's AddOrUpdateTolerationInPodSpec: a user's
// not-ready toleration with tolerationSeconds becomes unlimited). The
// argument is not modified.
func withDaemonTolerations(tolerations []corev1.Toleration, hostNetwork bool) []corev1.Toleration {
	add := daemonTolerations
	if hostNetwork {
		add = append(slices.Clip(add), hostNetworkToleration)
	}
	out := make([]corev1.Toleration, 0, len(tolerations)+len(add))
	for _, t := range tolerations {
		if !slices.ContainsFunc(add, func(d corev1.Toleration) bool { return d.Key == t.Key && d.Effect == t.Effect }) {
			out = append(out, t)
		}
	}
	return append(out, add...)
}

// nodeNameAffinity returns affinity (a copy; the argument is kept) with
// its required node affinity replaced by one term that matches only
// nodeName's metadata.name, as upstream binds a daemon pod to its node
// and leaves the binding to the default scheduler. The template's own
// required terms were already checked against the node (eligibility).
func nodeNameAffinity(affinity *corev1.Affinity, nodeName string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{
			Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName},
		}},
	}}}
	a := &corev1.Affinity{}
	if affinity != nil {
		a = affinity.DeepCopy()
	}
	if a.NodeAffinity == nil {
		a.NodeAffinity = &corev1.NodeAffinity{}
	}
	a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return a
}

// TargetNode is the node a daemon pod is for: the node it is bound to,
// or, before it is scheduled, the node its metadata.name node affinity
// names. "" when it names none (a pod adopted from elsewhere).
func TargetNode(p *corev1.Pod) string {
	if p.Spec.NodeName != "" {
		return p.Spec.NodeName
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, r := range t.MatchFields {
			if r.Key == metav1.ObjectNameField && r.Operator == corev1.NodeSelectorOpIn && len(r.Values) == 1 {
				return r.Values[0]
			}
		}
	}
	return ""
}

// Eligibility answers, for one DaemonSet, which nodes should run its pod.
// It is built once per sync (the template's affinity and tolerations are
// parsed once) and then asked about every node.
type Eligibility struct {
	nodeName    string
	affinity    nodeaffinity.RequiredNodeAffinity
	tolerations []corev1.Toleration
}

// NewEligibility reads ds's template: spec.nodeName, spec.nodeSelector,
// the required node affinity and the tolerations with the daemon ones
// added.
func NewEligibility(ds *appsv1.DaemonSet) *Eligibility {
	s := &ds.Spec.Template.Spec
	return &Eligibility{
		nodeName:    s.NodeName,
		affinity:    nodeaffinity.NewRequiredNodeAffinity(s.NodeSelector, s.Affinity),
		tolerations: withDaemonTolerations(s.Tolerations, s.HostNetwork),
	}
}

// ShouldRun is upstream's NodeShouldRunDaemonPod: shouldRun is whether a
// daemon pod should be started on node; shouldContinueRunning whether
// one already there may stay. Both are false when the template's
// nodeName, node selector or required node affinity exclude the node. A
// NoSchedule or NoExecute taint the pod does not tolerate makes
// shouldRun false; only an untolerated NoExecute taint also makes
// shouldContinueRunning false (a NoSchedule taint added later keeps
// running pods, as it does for any pod). Invalid affinity terms match
// nothing, as upstream.
func (e *Eligibility) ShouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if e.nodeName != "" && e.nodeName != node.Name {
		return false, false
	}
	if ok, _ := e.affinity.Match(node); !ok {
		return false, false
	}
	noSchedule, noExecute := false, false
	for i := range node.Spec.Taints {
		t := &node.Spec.Taints[i]
		if t.Effect != corev1.TaintEffectNoSchedule && t.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if e.tolerates(t) {
			continue
		}
		noSchedule = true
		if t.Effect == corev1.TaintEffectNoExecute {
			noExecute = true
		}
	}
	return !noSchedule, !noExecute
}

// noLog is the logger ToleratesTaint wants; it logs only for the alpha
// comparison operators, which are off, as in a default cluster.
var noLog klog.Logger

func (e *Eligibility) tolerates(t *corev1.Taint) bool {
	for i := range e.tolerations {
		if e.tolerations[i].ToleratesTaint(noLog, t, false) {
			return true
		}
	}
	return false
}
