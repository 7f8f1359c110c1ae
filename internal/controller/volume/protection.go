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

// slimPod is the pod informer's transform: pvc-protection reads a pod's
// identity, node, phase and claim volumes, nothing else.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion},
		Spec:       corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status:     corev1.PodStatus{Phase: p.Status.Phase},
	}
	for _, v := range p.Spec.Volumes {
		switch {
		case v.PersistentVolumeClaim != nil:
			out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: v.PersistentVolumeClaim.ClaimName}}})
		case v.Ephemeral != nil:
			out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{Name: v.Name, VolumeSource: corev1.VolumeSource{
				Ephemeral: &corev1.EphemeralVolumeSource{}}})
		}
	}
	return out, nil
}
