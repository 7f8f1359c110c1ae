package registry_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
)

// hookedStrategy is the ConfigMap strategy with WriteHooks that record
// their calls. BeforeWrite marks what it "reserves" in the object, so the
// test sees that the mark is stored; hook, when set, runs inside
// BeforeWrite.
type hookedStrategy struct {
	registry.Strategy
	mu    sync.Mutex
	calls []string
	fail  error
	hook  func(ctx context.Context)
}

type recordTxn struct {
	s    *hookedStrategy
	name string
}

func (t recordTxn) Commit(context.Context) { t.s.record("commit " + t.name) }
func (t recordTxn) Revert(context.Context) { t.s.record("revert " + t.name) }

func (s *hookedStrategy) record(c string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
}

// take returns the calls so far and forgets them.
func (s *hookedStrategy) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

func (s *hookedStrategy) BeforeWrite(ctx context.Context, _ storage.Store, obj, old runtime.Object) (registry.WriteTxn, error) {
	cm := obj.(*corev1.ConfigMap)
	what := "create"
	if old != nil {
		what = "update"
	}
	s.record("before " + what + " " + cm.Name)
	if s.fail != nil {
		return nil, s.fail
	}
	if h := s.hook; h != nil {
		s.hook = nil
		h(ctx)
	}
	if cm.Annotations == nil {
		cm.Annotations = map[string]string{}
	}
	cm.Annotations["reserved"] = "yes"
	return recordTxn{s, cm.Name}, nil
}

func (s *hookedStrategy) AfterDelete(_ context.Context, _ storage.Store, obj runtime.Object) {
	s.record("after delete " + obj.(*corev1.ConfigMap).Name)
}

func newHookedStore(t *testing.T) (*registry.Store, *hookedStrategy) {
	t.Helper()
	var res registry.Resource
	for _, r := range core.Resources() {
		if r.GVR.Resource == "configmaps" {
			res = *r
		}
	}
	hs := &hookedStrategy{Strategy: res.Strategy}
	res.Strategy = hs
	db, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := registry.NewStore(&res, db)
	if err != nil {
		t.Fatal(err)
	}
	return st, hs
}

func expectCalls(t *testing.T, hs *hookedStrategy, want ...string) {
	t.Helper()
	if got := hs.take(); !slices.Equal(got, want) {
		t.Errorf("hook calls:\n  got  %q\n  want %q", got, want)
	}
}

func TestWriteHooks(t *testing.T) {
	ctx := context.Background()
	st, hs := newHookedStore(t)
	dry := registry.WriteOptions{DryRun: true}

	if _, err := st.Create(ctx, "ns", configMap("ns", "dry", nil), dry); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs) // a dry run reserves nothing

	if _, err := st.Create(ctx, "ns", configMap("ns", "a", nil), registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs, "before create a", "commit a")
	got, err := st.Get(ctx, "ns", "a")
	if err != nil || got.(*corev1.ConfigMap).Annotations["reserved"] != "yes" {
		t.Errorf("what BeforeWrite recorded is not stored: %v, %v", got, err)
	}

	// A failed write gives back what was reserved for it.
	if _, err := st.Create(ctx, "ns", configMap("ns", "a", nil), registry.WriteOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	expectCalls(t, hs, "before create a", "revert a")

	// A hook's error fails the write, which stores nothing.
	hs.fail = apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("ConfigMap").GroupKind(), "b", nil)
	if _, err := st.Create(ctx, "ns", configMap("ns", "b", nil), registry.WriteOptions{}); !errors.Is(err, hs.fail) {
		t.Fatalf("create with failing hook: %v", err)
	}
	hs.fail = nil
	expectCalls(t, hs, "before create b")
	if _, err := st.Get(ctx, "ns", "b"); !apierrors.IsNotFound(err) {
		t.Errorf("failed create stored the object: %v", err)
	}

	change := func(ctx context.Context, old runtime.Object) (runtime.Object, error) {
		cm := old.(*corev1.ConfigMap)
		cm.Data = map[string]string{"k": cm.ResourceVersion}
		cm.ResourceVersion = "" // unconditional: a conflict retries
		return cm, nil
	}
	if _, _, err := st.Update(ctx, "ns", "a", change, false, dry); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs)
	if _, _, err := st.Update(ctx, "ns", "a", change, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs, "before update a", "commit a")

	// An update that changes nothing writes nothing and reserves nothing.
	same := func(_ context.Context, old runtime.Object) (runtime.Object, error) { return old, nil }
	if _, _, err := st.Update(ctx, "ns", "a", same, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs)

	// A write that loses a race reverts, then reserves again for its retry.
	hs.hook = func(ctx context.Context) {
		if _, _, err := st.Update(ctx, "ns", "a", change, false, registry.WriteOptions{}); err != nil {
			t.Error(err)
		}
	}
	if _, _, err := st.Update(ctx, "ns", "a", change, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs, "before update a", "before update a", "commit a", "revert a", "before update a", "commit a")

	if _, _, err := st.Delete(ctx, "ns", "a", nil, dry); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs)
	if _, _, err := st.Delete(ctx, "ns", "a", nil, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs, "after delete a")

	// An object with a finalizer is released when its last finalizer goes,
	// not when its deletion begins.
	fin := configMap("ns", "f", nil)
	fin.Finalizers = []string{"example.com/hold"}
	if _, err := st.Create(ctx, "ns", fin, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, gone, err := st.Delete(ctx, "ns", "f", &metav1.DeleteOptions{}, registry.WriteOptions{}); err != nil || gone {
		t.Fatalf("delete with finalizer: gone %v, %v", gone, err)
	}
	expectCalls(t, hs, "before create f", "commit f")
	if _, _, err := st.Update(ctx, "ns", "f", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		old.(*corev1.ConfigMap).Finalizers = nil
		return old, nil
	}, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectCalls(t, hs, "after delete f")
}
