package daemonset

import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/controller/replicaset"
)

var controllerKind = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

// podTemplate is the template ds's pods are made from at revision rev:
// its own, labelled with the revision's hash (and template generation),
// with the daemon tolerations added, as upstream's CreatePodTemplate.
func podTemplate(ds *appsv1.DaemonSet, rev Revision) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if rev.Generation != nil {
		t.Labels[TemplateGenerationLabel] = strconv.FormatInt(*rev.Generation, 10)
	}
	if rev.Hash != "" {
		t.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] = rev.Hash
	}
	t.Spec.Tolerations = withDaemonTolerations(t.Spec.Tolerations, t.Spec.HostNetwork)
	return t
}

// NewPod is the pod to create for node from template (podTemplate):
// controlled by ds, required to land on node by a metadata.name node
// affinity, which the default scheduler honours.
func NewPod(ds *appsv1.DaemonSet, template *corev1.PodTemplateSpec, node string) (*corev1.Pod, error) {
	p, err := replicaset.PodFromTemplate(template, ds.Name, replicaset.NewControllerRef(ds, controllerKind))
	if err != nil {
		return nil, err
	}
	p.Namespace = ds.Namespace
	p.Spec.Affinity = nodeNameAffinity(p.Spec.Affinity, node)
	return p, nil
}

// daemonSetOf is the name of the DaemonSet controlling m, or "".
func daemonSetOf(m metav1.Object) (name string, ref *metav1.OwnerReference) {
	ref = metav1.GetControllerOfNoCopy(m)
	if ref == nil || ref.Kind != controllerKind.Kind || ref.APIVersion != appsv1.SchemeGroupVersion.String() {
		return "", ref
	}
	return ref.Name, ref
}

// trimPod is the pod informer's transform. Of a pod controlled by
// something other than a DaemonSet only its identity and controller are
// kept: this controller never looks at it again, and a cluster's pods
// are mostly such pods. Of a daemon pod, or an orphan a DaemonSet might
// adopt, it keeps the metadata (without managed fields and the
// last-applied annotation), spec.nodeName and the node affinity (an
// unscheduled pod's target node), and the phase and conditions. The
// controller only creates, patches and deletes pods, so nothing dropped
// is ever written back.
func trimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	if name, ref := daemonSetOf(p); name == "" && ref != nil {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			OwnerReferences: []metav1.OwnerReference{*ref},
		}}, nil
	}
	client.TrimMetadata(p)
	p.Spec = corev1.PodSpec{NodeName: p.Spec.NodeName, Affinity: p.Spec.Affinity}
	p.Status = corev1.PodStatus{Phase: p.Status.Phase, Conditions: p.Status.Conditions}
	return p, nil
}

// trimNode is the node informer's transform: eligibility reads a node's
// name, labels and taints, never its status (conditions become taints
// through the node lifecycle controller and admission), so the status,
// the largest part of a node, is dropped.
func trimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	client.TrimMetadata(n)
	n.Status = corev1.NodeStatus{}
	return n, nil
}
