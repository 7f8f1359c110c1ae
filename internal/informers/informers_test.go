package informers

import (
	"context"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
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

// fakeListWatch lists nothing and then serves the events of a fake watch;
// it asks reflectors for a plain list and watch (no watch-list).
type fakeListWatch struct{ events *watch.FakeWatcher }

func (lw fakeListWatch) List(metav1.ListOptions) (runtime.Object, error) {
	return &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
}
func (lw fakeListWatch) Watch(metav1.ListOptions) (watch.Interface, error) { return lw.events, nil }
func (lw fakeListWatch) IsWatchListSemanticsUnSupported() bool             { return true }

// A scope's event handlers go when it is released, before a next term
// adds its own; the informer and the handlers added outside the scope
// stay.
func TestScopeReleasesItsHandlers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := New(ctx, &rest.Config{Host: "https://127.0.0.1:1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	events := watch.NewFakeWithChanSize(16, false)
	root := f.For(&corev1.Pod{}, func() cache.ListerWatcher { return fakeListWatch{events} })
	term := f.Scope()
	inTerm := term.For(&corev1.Pod{}, nil)
	if inTerm != term.For(&corev1.Pod{}, nil) {
		t.Error("a scope handed out two views of one informer")
	}
	handler := func(seen chan<- string) cache.ResourceEventHandler {
		return cache.ResourceEventHandlerFuncs{AddFunc: func(obj any) { seen <- obj.(*corev1.Pod).Name }}
	}
	seen, seenInTerm := make(chan string, 16), make(chan string, 16)
	if _, err := root.AddEventHandler(handler(seen)); err != nil {
		t.Fatal(err)
	}
	if _, err := inTerm.AddEventHandler(handler(seenInTerm)); err != nil {
		t.Fatal(err)
	}
	go inTerm.RunWithContext(ctx)
	pod := func(name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: "2"}}
	}
	next := func(ch <-chan string, want string) {
		t.Helper()
		select {
		case got := <-ch:
			if got != want {
				t.Fatalf("handler saw %s, want %s", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("handler did not see %s", want)
		}
	}
	events.Add(pod("a"))
	next(seen, "a")
	next(seenInTerm, "a")

	term.Release()
	if _, err := term.Pods().AddEventHandler(handler(seenInTerm)); err == nil {
		t.Error("a released scope took a handler")
	}
	for _, name := range []string{"b", "c", "d"} {
		events.Add(pod(name))
		next(seen, name)
	}
	select {
	case got := <-seenInTerm:
		t.Fatalf("a released scope's handler saw %s", got)
	default:
	}
	if root.IsStopped() {
		t.Error("releasing a scope stopped the informer")
	}
}
