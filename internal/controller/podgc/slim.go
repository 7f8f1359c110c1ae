package podgc

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// slimPod is the pod informer's transform: it keeps of a pod only what
// PodGC decides and acts on (its identity, age, deletion, node, phase,
// reason and conditions), so the collector holds a small fraction of
// every pod in the cluster rather than a full copy. Its writes are a
// status merge patch of phase and conditions and a delete, both built
// from these fields.
func slimPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: p.Name, Namespace: p.Namespace, UID: p.UID, ResourceVersion: p.ResourceVersion,
			CreationTimestamp: p.CreationTimestamp, DeletionTimestamp: p.DeletionTimestamp,
		},
		Spec: corev1.PodSpec{NodeName: p.Spec.NodeName},
		Status: corev1.PodStatus{
			Phase: p.Status.Phase, Reason: p.Status.Reason, Conditions: p.Status.Conditions,
		},
	}, nil
}

// slimNode is the node informer's transform: PodGC reads a node's name,
// readiness and taints (out-of-service), nothing else.
func slimNode(obj any) (any, error) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return obj, nil
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: n.Name, UID: n.UID, ResourceVersion: n.ResourceVersion},
		Spec:       corev1.NodeSpec{Taints: n.Spec.Taints},
		Status:     corev1.NodeStatus{Conditions: n.Status.Conditions},
	}, nil
}
