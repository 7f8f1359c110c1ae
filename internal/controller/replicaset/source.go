package replicaset

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"skiff.dev/skiff/internal/client"
)

// source is one kind the controller manages, seen as apps/v1
// ReplicaSets: the ReplicaSet itself, or ReplicationController converted.
type source interface {
	gvk() schema.GroupVersionKind
	informer() cache.SharedIndexInformer
	// toRS converts an informer object to a ReplicaSet the caller may
	// modify; nil if obj is not of the kind.
	toRS(obj any) *appsv1.ReplicaSet
	// peek is toRS without the copy, for event handlers that only read:
	// the result may share the informer's cache and must not be modified.
	peek(obj any) *appsv1.ReplicaSet
	get(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error)
	updateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// object is rs in its own kind, for events.
	object(rs *appsv1.ReplicaSet) runtime.Object
}

// ReplicaSetKind and ReplicationControllerKind are the kinds served.
var (
	ReplicaSetKind            = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	ReplicationControllerKind = corev1.SchemeGroupVersion.WithKind("ReplicationController")
)

type replicaSets struct {
	apps *client.Group
	inf  cache.SharedIndexInformer
}

func (s replicaSets) gvk() schema.GroupVersionKind        { return ReplicaSetKind }
func (s replicaSets) informer() cache.SharedIndexInformer { return s.inf }
func (s replicaSets) object(rs *appsv1.ReplicaSet) runtime.Object {
	return rs
}

func (s replicaSets) toRS(obj any) *appsv1.ReplicaSet {
	if rs, ok := obj.(*appsv1.ReplicaSet); ok {
		return rs.DeepCopy()
	}
	return nil
}

func (s replicaSets) peek(obj any) *appsv1.ReplicaSet {
	rs, _ := obj.(*appsv1.ReplicaSet)
	return rs
}

func (s replicaSets) get(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	return s.apps.ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (s replicaSets) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return s.apps.ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}

type replicationControllers struct {
	core *client.Core
	inf  cache.SharedIndexInformer
}

func (s replicationControllers) gvk() schema.GroupVersionKind { return ReplicationControllerKind }
func (s replicationControllers) informer() cache.SharedIndexInformer {
	return s.inf
}
func (s replicationControllers) object(rs *appsv1.ReplicaSet) runtime.Object { return rsToRC(rs) }

func (s replicationControllers) toRS(obj any) *appsv1.ReplicaSet {
	if rc, ok := obj.(*corev1.ReplicationController); ok {
		return rcToRS(rc.DeepCopy())
	}
	return nil
}

func (s replicationControllers) peek(obj any) *appsv1.ReplicaSet {
	if rc, ok := obj.(*corev1.ReplicationController); ok {
		return rcToRS(rc)
	}
	return nil
}

func (s replicationControllers) get(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	rc, err := s.core.ReplicationControllers(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	return rcToRS(rc), nil
}

func (s replicationControllers) updateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	rc, err := s.core.ReplicationControllers(rs.Namespace).UpdateStatus(ctx, rsToRC(rs), metav1.UpdateOptions{})
	if err != nil {
		return nil, err
	}
	return rcToRS(rc), nil
}

// rcToRS is upstream's conversion of a ReplicationController to a
// ReplicaSet: the selector map becomes matchLabels. rc's maps and slices
// are shared.
func rcToRS(rc *corev1.ReplicationController) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "ReplicaSet"},
		ObjectMeta: rc.ObjectMeta,
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        rc.Spec.Replicas,
			MinReadySeconds: rc.Spec.MinReadySeconds,
		},
		Status: appsv1.ReplicaSetStatus{
			Replicas:             rc.Status.Replicas,
			FullyLabeledReplicas: rc.Status.FullyLabeledReplicas,
			ReadyReplicas:        rc.Status.ReadyReplicas,
			AvailableReplicas:    rc.Status.AvailableReplicas,
			ObservedGeneration:   rc.Status.ObservedGeneration,
		},
	}
	if rc.Spec.Selector != nil {
		rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: rc.Spec.Selector}
	}
	if rc.Spec.Template != nil {
		rs.Spec.Template = *rc.Spec.Template
	}
	for _, c := range rc.Status.Conditions {
		rs.Status.Conditions = append(rs.Status.Conditions, appsv1.ReplicaSetCondition{
			Type: appsv1.ReplicaSetConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message,
		})
	}
	return rs
}

// rsToRC is the inverse of rcToRS. ReplicationControllerStatus has no
// terminatingReplicas, so that count is not carried back.
func rsToRC(rs *appsv1.ReplicaSet) *corev1.ReplicationController {
	rc := &corev1.ReplicationController{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ReplicationController"},
		ObjectMeta: rs.ObjectMeta,
		Spec: corev1.ReplicationControllerSpec{
			Replicas:        rs.Spec.Replicas,
			MinReadySeconds: rs.Spec.MinReadySeconds,
			Template:        &rs.Spec.Template,
		},
		Status: corev1.ReplicationControllerStatus{
			Replicas:             rs.Status.Replicas,
			FullyLabeledReplicas: rs.Status.FullyLabeledReplicas,
			ReadyReplicas:        rs.Status.ReadyReplicas,
			AvailableReplicas:    rs.Status.AvailableReplicas,
			ObservedGeneration:   rs.Status.ObservedGeneration,
		},
	}
	if rs.Spec.Selector != nil {
		rc.Spec.Selector = rs.Spec.Selector.MatchLabels
	}
	for _, c := range rs.Status.Conditions {
		rc.Status.Conditions = append(rc.Status.Conditions, corev1.ReplicationControllerCondition{
			Type: corev1.ReplicationControllerConditionType(c.Type), Status: c.Status, LastTransitionTime: c.LastTransitionTime,
			Reason: c.Reason, Message: c.Message,
		})
	}
	return rc
}
