package client

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TrimMetadata drops from an object an informer holds what controllers
// never read and what makes up most of a small object's size: its managed
// fields and kubectl's last-applied annotation. Only for caches whose
// objects are never written back whole (an update would drop the
// annotation; the server keeps managed fields an update leaves out).
func TrimMetadata(m metav1.Object) {
	m.SetManagedFields(nil)
	a := m.GetAnnotations()
	if _, ok := a[corev1.LastAppliedConfigAnnotation]; !ok {
		return
	}
	// The map may be shared with the decoder's other copies: make a new one.
	kept := make(map[string]string, len(a)-1)
	for k, v := range a {
		if k != corev1.LastAppliedConfigAnnotation {
			kept[k] = v
		}
	}
	m.SetAnnotations(kept)
}
