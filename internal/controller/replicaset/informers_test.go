package replicaset

import (
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTrimPod(t *testing.T) {
	owner := []metav1.OwnerReference{{UID: "rs-1", Controller: new(true)}}
	for _, c := range []struct {
		name     string
		in, want *corev1.Pod
	}{{
		name: "managed fields, last-applied and the spec but its node dropped, the rest kept",
		in: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "a"}, OwnerReferences: owner,
			Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "controller.kubernetes.io/pod-deletion-cost": "5"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
			Spec:   corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "c", RestartCount: 2}}}},
		want: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"app": "a"}, OwnerReferences: owner,
			Annotations: map[string]string{"controller.kubernetes.io/pod-deletion-cost": "5"}},
			Spec:   corev1.PodSpec{NodeName: "n"},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{Name: "c", RestartCount: 2}}}},
	}, {
		name: "annotations without last-applied untouched",
		in:   &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b"}}},
		want: &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b"}}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			got, err := TrimPod(c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("TrimPod = %+v, want %+v", got, c.want)
			}
		})
	}
	// A deleted object's tombstone passes through.
	if got, _ := TrimPod("x"); got != "x" {
		t.Errorf("TrimPod(non-pod) = %v", got)
	}
}

func TestDropManagedFields(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}}}
	got, err := DropManagedFields(rs)
	if err != nil {
		t.Fatal(err)
	}
	want := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs", Annotations: map[string]string{corev1.LastAppliedConfigAnnotation: "{}"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DropManagedFields = %+v, want %+v (the annotation is kept: the object may be updated from the cache)", got, want)
	}
}
