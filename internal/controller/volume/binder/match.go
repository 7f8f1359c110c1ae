package binder

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/component-helpers/scheduling/corev1/nodeaffinity"
)

// Annotations the binder, the scheduler and provisioners exchange,
// upstream's.
const (
	AnnBindCompleted          = "pv.kubernetes.io/bind-completed"
	AnnBoundByController      = "pv.kubernetes.io/bound-by-controller"
	AnnStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	AnnBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	AnnSelectedNode           = "volume.kubernetes.io/selected-node"
	AnnDynamicallyProvisioned = "pv.kubernetes.io/provisioned-by"
)

// ClaimClass is the claim's storage class name: the deprecated beta
// annotation wins over spec.storageClassName, as upstream.
func ClaimClass(c *corev1.PersistentVolumeClaim) string {
	if name, ok := c.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return name
	}
	if c.Spec.StorageClassName != nil {
		return *c.Spec.StorageClassName
	}
	return ""
}

// VolumeClass is the volume's storage class name, annotation first.
func VolumeClass(v *corev1.PersistentVolume) string {
	if name, ok := v.Annotations[corev1.BetaStorageClassAnnotation]; ok {
		return name
	}
	return v.Spec.StorageClassName
}

// DelayBinding reports whether class binds its claims only once a pod
// using them is scheduled.
func DelayBinding(class *storagev1.StorageClass) bool {
	return class != nil && class.VolumeBindingMode != nil && *class.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer
}

// IsBoundToClaim reports whether the volume's claimRef names the claim
// (a claimRef without UID is a pre-binding by name).
func IsBoundToClaim(v *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) bool {
	ref := v.Spec.ClaimRef
	return ref != nil && ref.Name == c.Name && ref.Namespace == c.Namespace && (ref.UID == "" || ref.UID == c.UID)
}

// FindBestMatch returns the volume the claim should bind to, or nil: a
// volume pre-bound to it, else the smallest Available volume that
// satisfies it. delay is DelayBinding of the claim's class; node is the
// node the scheduler selected for the claim's first consumer (nil: none).
// A delayed claim without a node matches only a pre-bound volume; with a
// node, every candidate's nodeAffinity must admit that node.
func FindBestMatch(c *corev1.PersistentVolumeClaim, volumes []*corev1.PersistentVolume, delay bool, node *corev1.Node) *corev1.PersistentVolume {
	var selector labels.Selector
	if c.Spec.Selector != nil {
		s, err := metav1.LabelSelectorAsSelector(c.Spec.Selector)
		if err != nil {
			return nil // an invalid selector matches nothing
		}
		selector = s
	}
	requested := c.Spec.Resources.Requests[corev1.ResourceStorage]
	class := ClaimClass(c)
	var best *corev1.PersistentVolume
	for _, v := range volumes {
		if v.DeletionTimestamp != nil || volumeModeMismatch(c, v) || !hasAccessModes(v, c.Spec.AccessModes) {
			continue
		}
		fitsNode := node == nil || nodeAffinityAdmits(v, node)
		if IsBoundToClaim(v, c) {
			if !fitsNode {
				return nil
			}
			return v
		}
		if delay && node == nil {
			continue // the scheduler has not picked a node yet
		}
		if v.Spec.ClaimRef != nil || v.Status.Phase != corev1.VolumeAvailable || VolumeClass(v) != class || !fitsNode {
			continue
		}
		if selector != nil && !selector.Matches(labels.Set(v.Labels)) {
			continue
		}
		capacity := v.Spec.Capacity[corev1.ResourceStorage]
		if capacity.Cmp(requested) < 0 {
			continue
		}
		if best == nil {
			best = v
			continue
		}
		if bc := best.Spec.Capacity[corev1.ResourceStorage]; capacity.Cmp(bc) < 0 || (capacity.Cmp(bc) == 0 && v.Name < best.Name) {
			best = v
		}
	}
	return best
}

// CheckVolumeSatisfiesClaim is the check of a volume a claim names in
// spec.volumeName, with upstream's messages. The selector is not checked:
// naming a volume overrides it.
func CheckVolumeSatisfiesClaim(v *corev1.PersistentVolume, c *corev1.PersistentVolumeClaim) error {
	requested := c.Spec.Resources.Requests[corev1.ResourceStorage]
	capacity, ok := v.Spec.Capacity[corev1.ResourceStorage]
	if !ok || capacity.Cmp(requested) < 0 {
		return fmt.Errorf("requested PV is too small")
	}
	if VolumeClass(v) != ClaimClass(c) {
		return fmt.Errorf("storageClassName does not match")
	}
	if volumeModeMismatch(c, v) {
		return fmt.Errorf("incompatible volumeMode")
	}
	if !hasAccessModes(v, c.Spec.AccessModes) {
		return fmt.Errorf("incompatible accessMode")
	}
	return nil
}

func volumeModeMismatch(c *corev1.PersistentVolumeClaim, v *corev1.PersistentVolume) bool {
	mode := func(m *corev1.PersistentVolumeMode) corev1.PersistentVolumeMode {
		if m == nil {
			return corev1.PersistentVolumeFilesystem
		}
		return *m
	}
	return mode(c.Spec.VolumeMode) != mode(v.Spec.VolumeMode)
}

func hasAccessModes(v *corev1.PersistentVolume, want []corev1.PersistentVolumeAccessMode) bool {
	for _, m := range want {
		found := false
		for _, have := range v.Spec.AccessModes {
			if have == m {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// nodeAffinityAdmits reports whether the volume may be used on node: it
// has no required nodeAffinity or the node matches it.
func nodeAffinityAdmits(v *corev1.PersistentVolume, node *corev1.Node) bool {
	if v.Spec.NodeAffinity == nil || v.Spec.NodeAffinity.Required == nil {
		return true
	}
	ok, err := nodeaffinity.NewLazyErrorNodeSelector(v.Spec.NodeAffinity.Required).Match(node)
	return ok && err == nil
}
