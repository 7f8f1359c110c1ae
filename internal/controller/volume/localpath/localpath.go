package localpath

import (
	"errors"
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/controller/volume/binder"
)

const (
	// Provisioner is the provisioner name of local-path classes.
	Provisioner = "rancher.io/local-path"
	// ClassName is the default StorageClass's name.
	ClassName = "local-path"
	// DefaultNodePath is where volumes live on a node unless the class's
	// nodePath parameter says otherwise.
	DefaultNodePath = "/var/lib/skiff/storage"
	// NodePathParameter names the class parameter overriding it.
	NodePathParameter = "nodePath"

	isDefaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
)

// DefaultClass returns the StorageClass skiff ships.
func DefaultClass() *storagev1.StorageClass {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	del := corev1.PersistentVolumeReclaimDelete
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{
			Name:        ClassName,
			Annotations: map[string]string{isDefaultClassAnnotation: "true"},
		},
		Provisioner:       Provisioner,
		ReclaimPolicy:     &del,
		VolumeBindingMode: &wait,
	}
}

// Wants reports whether this provisioner is asked to make a volume for
// the claim of class (nil: not found): the binder handed it over and no
// volume is bound yet.
func Wants(c *corev1.PersistentVolumeClaim, class *storagev1.StorageClass) bool {
	if c.Spec.VolumeName != "" || c.DeletionTimestamp != nil || class == nil || class.Provisioner != Provisioner {
		return false
	}
	p, ok := c.Annotations[binder.AnnStorageProvisioner]
	if !ok {
		p = c.Annotations[binder.AnnBetaStorageProvisioner]
	}
	return p == Provisioner
}

// VolumeName is the name of the volume provisioned for the claim.
func VolumeName(c *corev1.PersistentVolumeClaim) string { return "pvc-" + string(c.UID) }

// ErrNoNode is NewVolume's error for a claim without a selected node.
var ErrNoNode = errors.New("configuration error, no node was specified")

// NewVolume returns the volume to create for the claim of class on node.
// Its errors are the ProvisioningFailed Event's message.
func NewVolume(c *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node *corev1.Node) (*corev1.PersistentVolume, error) {
	if node == nil {
		return nil, ErrNoNode
	}
	if c.Spec.VolumeMode != nil && *c.Spec.VolumeMode == corev1.PersistentVolumeBlock {
		return nil, fmt.Errorf("volumeMode %s is not supported", corev1.PersistentVolumeBlock)
	}
	for _, m := range c.Spec.AccessModes {
		if m != corev1.ReadWriteOnce && m != corev1.ReadWriteOncePod {
			return nil, fmt.Errorf("access mode %s is not supported: only %s and %s are", m, corev1.ReadWriteOnce, corev1.ReadWriteOncePod)
		}
	}
	size, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		return nil, fmt.Errorf("claim requests no storage")
	}
	hostname := node.Labels[corev1.LabelHostname]
	if hostname == "" {
		hostname = node.Name
	}
	root := class.Parameters[NodePathParameter]
	if root == "" {
		root = DefaultNodePath
	}
	name := VolumeName(c)
	policy := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		policy = *class.ReclaimPolicy
	}
	fs := corev1.PersistentVolumeFilesystem
	dirOrCreate := corev1.HostPathDirectoryOrCreate
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{binder.AnnDynamicallyProvisioned: Provisioner},
		},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes: c.Spec.AccessModes,
			ClaimRef: &corev1.ObjectReference{
				Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion,
			},
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              class.Name,
			MountOptions:                  class.MountOptions,
			VolumeMode:                    &fs,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				// k3s's directory naming: unique, and readable on the node.
				Path: path.Join(root, name+"_"+c.Namespace+"_"+c.Name),
				Type: &dirOrCreate,
			}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{
					Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{hostname},
				}},
			}}}},
		},
	}, nil
}

// ShouldDelete reports whether the volume is this provisioner's to delete:
// it made it, its claim is gone and its policy is Delete.
func ShouldDelete(v *corev1.PersistentVolume) bool {
	return v.Annotations[binder.AnnDynamicallyProvisioned] == Provisioner &&
		v.DeletionTimestamp == nil &&
		v.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimDelete &&
		v.Status.Phase == corev1.VolumeReleased
}
