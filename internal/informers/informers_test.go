package informers

import (
	"context"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

func TestTrimPod(t *testing.T) {
	in := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p",
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "a": "b"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	want := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "i"}}}}
	got, err := trimPod(in)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trimPod = %+v, want %+v", got, want)
	}
	// A deleted object's tombstone passes through.
	if got, _ := trimPod("x"); got != "x" {
		t.Errorf("trimPod(non-pod) = %v", got)
	}
}

func TestOneInformerPerKind(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := New(ctx, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f.Pods() != f.Pods() || f.Nodes() != f.Nodes() {
		t.Error("a kind's informer was made twice")
	}
	if cache.SharedIndexInformer(f.Pods()) == f.Nodes() {
		t.Error("pods and nodes share an informer")
	}
	for _, gvr := range []schema.GroupVersionResource{{Version: "v1", Resource: "pods"}, {Version: "v1", Resource: "nodes"}} {
		if _, ok := f.Existing(gvr); !ok {
			t.Errorf("Existing(%v) found no informer", gvr)
		}
	}
	if _, ok := f.Existing(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}); ok {
		t.Error("Existing found an informer nobody asked for")
	}
	f.ReplicaSets()
	if got, ok := f.Existing(schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}); !ok || got != f.ReplicaSets() {
		t.Error("Existing did not find the ReplicaSets informer")
	}
	for _, idx := range []string{cache.NamespaceIndex, ControllerUIDIndex} {
		if _, ok := f.Pods().GetIndexer().GetIndexers()[idx]; !ok {
			t.Errorf("pods are not indexed by %s", idx)
		}
	}
}

func TestControllerUIDIndexFunc(t *testing.T) {
	owned := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", OwnerReferences: []metav1.OwnerReference{
		{UID: "other"}, {UID: "ctrl", Controller: new(true)}}}}
	orphan := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{UID: "other"}}}}
	for _, c := range []struct {
		obj  any
		want []string
	}{{owned, []string{"ctrl"}}, {orphan, []string{"orphan/ns"}}, {"tombstone", nil}} {
		if got, _ := ControllerUIDIndexFunc(c.obj); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ControllerUIDIndexFunc(%v) = %v, want %v", c.obj, got, c.want)
		}
	}
}

// A kind of a named group makes its list-watch with the factory's group
// client, while the factory makes the informer.
func TestGroupKinds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := New(ctx, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, inf := range []cache.SharedIndexInformer{f.ReplicaSets(), f.Jobs(), f.PodDisruptionBudgets(), f.StorageClasses()} {
		if inf == nil {
			t.Error("no informer")
		}
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
