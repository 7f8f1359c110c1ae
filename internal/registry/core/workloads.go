package core

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
)

// WorkloadResources are the core/v1 resources that run pods: Pods (with
// binding, eviction, ephemeralcontainers, resize and status),
// PodTemplates and ReplicationControllers (with scale). The API server
// serves binding and eviction itself; the others are writes of the pod
// that its strategy narrows to what the subresource may change.
func WorkloadResources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("pods"), Kind: "Pod", ListKind: "PodList", SingularName: "pod", ShortNames: []string{"po"},
			Categories: []string{"all"}, Namespaced: true, Subresources: []string{"binding", SubresourceEphemeralContainers, SubresourceEviction, SubresourceResize, "status"},
			Strategy: podWithSubresources{}},
		{GVR: gvr("podtemplates"), Kind: "PodTemplate", ListKind: "PodTemplateList", SingularName: "podtemplate",
			Namespaced: true, Strategy: podTemplateStrategy{}},
		{GVR: gvr("replicationcontrollers"), Kind: "ReplicationController", ListKind: "ReplicationControllerList",
			SingularName: "replicationcontroller", ShortNames: []string{"rc"}, Categories: []string{"all"},
			Namespaced: true, Subresources: []string{"status", "scale"}, Strategy: replicationControllerStrategy{},
			Scale: &registry.Scale{
				Replicas: func(obj runtime.Object) int32 {
					if r := obj.(*corev1.ReplicationController).Spec.Replicas; r != nil {
						return *r
					}
					return 1
				},
				SetReplicas: func(obj runtime.Object, n int32) { obj.(*corev1.ReplicationController).Spec.Replicas = &n },
				StatusReplicas: func(obj runtime.Object) int32 {
					return obj.(*corev1.ReplicationController).Status.Replicas
				},
				Selector: func(obj runtime.Object) string {
					return labels.SelectorFromSet(obj.(*corev1.ReplicationController).Spec.Selector).String()
				},
			}},
	}
}
