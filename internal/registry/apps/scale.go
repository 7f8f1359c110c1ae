package apps

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
)

// scalable is what the scale subresource reads and writes of a workload.
type scalable interface {
	replicas() (spec *int32, status int32, selector *metav1.LabelSelector)
}

type deploymentScale struct{ *appsv1.Deployment }
type replicaSetScale struct{ *appsv1.ReplicaSet }
type statefulSetScale struct{ *appsv1.StatefulSet }

func (d deploymentScale) replicas() (*int32, int32, *metav1.LabelSelector) {
	return d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector
}
func (r replicaSetScale) replicas() (*int32, int32, *metav1.LabelSelector) {
	return r.Spec.Replicas, r.Status.Replicas, r.Spec.Selector
}
func (s statefulSetScale) replicas() (*int32, int32, *metav1.LabelSelector) {
	return s.Spec.Replicas, s.Status.Replicas, s.Spec.Selector
}

func asScalable(obj runtime.Object) (scalable, func(int32)) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deploymentScale{o}, func(n int32) { o.Spec.Replicas = &n }
	case *appsv1.ReplicaSet:
		return replicaSetScale{o}, func(n int32) { o.Spec.Replicas = &n }
	case *appsv1.StatefulSet:
		return statefulSetScale{o}, func(n int32) { o.Spec.Replicas = &n }
	}
	panic("apps: not a scalable workload")
}

// workloadScale serves the scale subresource of Deployments, ReplicaSets
// and StatefulSets: spec.replicas (1 when unset, as defaulted), status.replicas
// and the label selector in its string form.
var workloadScale = &registry.Scale{
	Replicas: func(obj runtime.Object) int32 {
		s, _ := asScalable(obj)
		if spec, _, _ := s.replicas(); spec != nil {
			return *spec
		}
		return 1
	},
	SetReplicas: func(obj runtime.Object, n int32) {
		_, set := asScalable(obj)
		set(n)
	},
	StatusReplicas: func(obj runtime.Object) int32 {
		s, _ := asScalable(obj)
		_, status, _ := s.replicas()
		return status
	},
	Selector: func(obj runtime.Object) string {
		s, _ := asScalable(obj)
		_, _, sel := s.replicas()
		if sel == nil {
			return ""
		}
		ls, err := metav1.LabelSelectorAsSelector(sel)
		if err != nil {
			return ""
		}
		return ls.String()
	},
}
