package framework

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
	"k8s.io/component-helpers/storage/ephemeral"
)

// Annotations of VolumeBinding's PreBind, upstream's.
const (
	// AnnSelectedNode on a claim names the node picked for its first
	// consumer: the claim's provisioner makes a volume reachable there.
	AnnSelectedNode = "volume.kubernetes.io/selected-node"
	// AnnBindCompleted on a claim says the binder finished binding it.
	AnnBindCompleted = "pv.kubernetes.io/bind-completed"
)

// DelayedClaims returns the pod's claims that wait for their first
// consumer: unbound claims of a WaitForFirstConsumer class. Before the pod
// is bound to a node, each gets AnnSelectedNode naming that node, and the
// binding waits until ClaimBound says they are bound. Claims that do not
// exist are left out (the filters have already rejected such a pod).
func DelayedClaims(pod *corev1.Pod, volumes VolumeLister) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		var name string
		switch {
		case v.PersistentVolumeClaim != nil:
			name = v.PersistentVolumeClaim.ClaimName
		case v.Ephemeral != nil:
			name = ephemeral.VolumeClaimName(pod, v)
		default:
			continue
		}
		pvc := volumes.PersistentVolumeClaim(pod.Namespace, name)
		if pvc == nil || pvc.Spec.VolumeName != "" {
			continue
		}
		class := volumes.StorageClass(claimClass(pvc))
		if class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer {
			out = append(out, pvc)
		}
	}
	return out
}

// ClaimBound reports whether the claim namespace/name is bound to a volume
// that exists and admits node; an error means it never will be (the claim
// is deleted, or bound to a volume the node cannot use), as upstream's
// checkBindings. Unlike upstream's binder, skiff's never clears the
// selected node of a claim it cannot provision, so there is no reset to
// detect: such a claim waits until the binding times out.
func ClaimBound(volumes VolumeLister, namespace, name string, node *corev1.Node) (bool, error) {
	pvc := volumes.PersistentVolumeClaim(namespace, name)
	if pvc == nil || pvc.DeletionTimestamp != nil {
		return false, fmt.Errorf("persistentvolumeclaim %q was deleted", name)
	}
	if pvc.Spec.VolumeName == "" || !metav1.HasAnnotation(pvc.ObjectMeta, AnnBindCompleted) {
		return false, nil
	}
	pv := volumes.PersistentVolume(pvc.Spec.VolumeName)
	if pv == nil {
		return false, nil // the volume's watch event may lag the claim's
	}
	if pv.Spec.NodeAffinity != nil && pv.Spec.NodeAffinity.Required != nil {
		if ok, err := nodeaffinity.NewLazyErrorNodeSelector(pv.Spec.NodeAffinity.Required).Match(node); !ok || err != nil {
			return false, fmt.Errorf("pv %q node affinity doesn't match node %q", pv.Name, node.Name)
		}
	}
	return true, nil
}
