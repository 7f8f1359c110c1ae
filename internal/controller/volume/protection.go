package volume

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The finalizers the protection loops remove (added at admission).
const (
	pvcProtectionFinalizer = "kubernetes.io/pvc-protection"
	pvProtectionFinalizer  = "kubernetes.io/pv-protection"
)

// podClaims calls f with the name of each claim the pod's volumes use
// (persistentVolumeClaim and generic ephemeral volumes).
func podClaims(p *corev1.Pod, f func(claim string)) {
	for i := range p.Spec.Volumes {
		v := &p.Spec.Volumes[i]
		switch {
		case v.PersistentVolumeClaim != nil:
			f(v.PersistentVolumeClaim.ClaimName)
		case v.Ephemeral != nil:
			f(p.Name + "-" + v.Name)
		}
	}
}

// podUsesClaim reports whether the pod keeps the claim from being
// deleted: it is scheduled (a node agent may be using the volume; one
// does not start a pod whose claim is being deleted) and has not
// finished.
func podUsesClaim(p *corev1.Pod, claim string) bool {
	if p.Spec.NodeName == "" || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return false
	}
	uses := false
	podClaims(p, func(c string) { uses = uses || c == claim })
	return uses
}

// releaseClaim reports whether the claim's protection finalizer may go:
// it is being deleted and none of pods (the pods of its namespace) uses it.
func releaseClaim(c *corev1.PersistentVolumeClaim, pods []*corev1.Pod) bool {
	if c.DeletionTimestamp == nil || !slices.Contains(c.Finalizers, pvcProtectionFinalizer) {
		return false
	}
	for _, p := range pods {
		if p.Namespace == c.Namespace && podUsesClaim(p, c.Name) {
			return false
		}
	}
	return true
}

// releaseVolume reports whether the volume's protection finalizer may go:
// it is being deleted and no claim is bound to it.
func releaseVolume(v *corev1.PersistentVolume) bool {
	return v.DeletionTimestamp != nil && slices.Contains(v.Finalizers, pvProtectionFinalizer) &&
		v.Status.Phase != corev1.VolumeBound
}

// withoutFinalizer returns a copy of m's finalizers without f.
func withoutFinalizer(m *metav1.ObjectMeta, f string) []string {
	return slices.DeleteFunc(slices.Clone(m.Finalizers), func(s string) bool { return s == f })
}
