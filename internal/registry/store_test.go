// The store is tested from outside its package so that it can run the real
// core/v1 strategies: registry/core imports registry.
package registry_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
)

// waitTimeout bounds every wait on the watch cache or a watch; a passing
// test waits milliseconds.
const waitTimeout = 10 * time.Second

// now is the fake clock's time; the store truncates timestamps to seconds.
var now = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// fixture is a Store of one core/v1 resource on a fresh embedded store,
// with its watch cache running and loaded.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	db    storage.Store
	st    *registry.Store
	clock *testingclock.FakeClock
}

func newFixture(t *testing.T, resource string) *fixture {
	t.Helper()
	var res *registry.Resource
	for _, r := range core.Resources() {
		if r.GVR.Resource == resource {
			res = r
		}
	}
	if res == nil {
		t.Fatalf("core.Resources has no %s", resource)
	}
	db, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st, err := registry.NewStore(res, db)
	if err != nil {
		t.Fatal(err)
	}
	// Past the second, which the store's timestamps drop.
	clock := testingclock.NewFakeClock(now.Add(300 * time.Millisecond))
	st.Clock = clock
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Run(ctx) }()
	// Cleanups run last-in first-out: the cache stops before the store
	// closes.
	t.Cleanup(func() { cancel(); <-done })
	wctx, wcancel := context.WithTimeout(ctx, waitTimeout)
	defer wcancel()
	if err := st.WaitReady(wctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return &fixture{t: t, ctx: ctx, db: db, st: st, clock: clock}
}

func configMap(ns, name string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: data}
}

func (f *fixture) create(obj runtime.Object) runtime.Object {
	f.t.Helper()
	m, _ := meta.Accessor(obj)
	out, err := f.st.Create(f.ctx, m.GetNamespace(), obj, registry.WriteOptions{})
	if err != nil {
		f.t.Fatalf("create %s/%s: %v", m.GetNamespace(), m.GetName(), err)
	}
	return out
}

func (f *fixture) get(ns, name string) metav1.Object {
	f.t.Helper()
	obj, err := f.st.Get(f.ctx, ns, name)
	if err != nil {
		f.t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	m, _ := meta.Accessor(obj)
	return m
}

// update runs an update whose new object is change applied to the
// current one. The current object carries its resourceVersion, so the
// update is conditional unless change clears it.
func (f *fixture) update(ns, name string, opts registry.WriteOptions, change func(obj runtime.Object)) (runtime.Object, error) {
	out, _, err := f.st.Update(f.ctx, ns, name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		change(old)
		return old, nil
	}, false, opts)
	return out, err
}

// put is an update with a given new object, as a PUT sends.
func (f *fixture) put(ns, name string, obj runtime.Object, opts registry.WriteOptions) (runtime.Object, error) {
	out, _, err := f.st.Update(f.ctx, ns, name, func(context.Context, runtime.Object) (runtime.Object, error) {
		return obj, nil
	}, false, opts)
	return out, err
}

func (f *fixture) revision() storage.Revision {
	f.t.Helper()
	rev, err := f.db.CurrentRevision(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return rev
}

func (f *fixture) assertNotFound(ns, name string) {
	f.t.Helper()
	if obj, err := f.st.Get(f.ctx, ns, name); !apierrors.IsNotFound(err) {
		f.t.Errorf("get %s/%s = %v, %v; want NotFound", ns, name, obj, err)
	}
}

func accessor(t *testing.T, obj runtime.Object) metav1.Object {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// hasCause reports whether a Status error has a cause of type typ at
// field.
func hasCause(err error, typ metav1.CauseType, field string) bool {
	st, ok := err.(apierrors.APIStatus)
	if !ok || st.Status().Details == nil {
		return false
	}
	for _, c := range st.Status().Details.Causes {
		if c.Type == typ && c.Field == field {
			return true
		}
	}
	return false
}

// ---- Create ----

func TestCreateSetsSystemFields(t *testing.T) {
	f := newFixture(t, "configmaps")
	gone := metav1.NewTime(now.Add(-time.Hour))
	grace := int64(30)
	cm := configMap("ns", "a", map[string]string{"k": "v"})
	cm.UID = "client-uid"
	cm.Generation = 7
	cm.CreationTimestamp = metav1.NewTime(now.Add(-24 * time.Hour))
	cm.DeletionTimestamp = &gone
	cm.DeletionGracePeriodSeconds = &grace

	before := f.revision()
	out := accessor(t, f.create(cm))
	for _, m := range []metav1.Object{out, f.get("ns", "a")} {
		if m.GetUID() == "" || m.GetUID() == "client-uid" {
			t.Errorf("uid = %q, want a new one", m.GetUID())
		}
		if got := m.GetCreationTimestamp(); !got.Time.Equal(now) {
			t.Errorf("creationTimestamp = %v, want the clock's %v", got, now)
		}
		if m.GetGeneration() != 0 {
			t.Errorf("generation = %d, want 0: configmaps track no generation", m.GetGeneration())
		}
		if m.GetDeletionTimestamp() != nil || m.GetDeletionGracePeriodSeconds() != nil {
			t.Errorf("deletionTimestamp = %v, grace = %v, want unset", m.GetDeletionTimestamp(), m.GetDeletionGracePeriodSeconds())
		}
		if rv, err := strconv.ParseInt(m.GetResourceVersion(), 10, 64); err != nil || rv <= int64(before) {
			t.Errorf("resourceVersion = %q, want a revision after %d", m.GetResourceVersion(), before)
		}
	}
	if got := f.get("ns", "a"); got.GetResourceVersion() != out.GetResourceVersion() || got.GetUID() != out.GetUID() {
		t.Errorf("stored rv/uid %s/%s, returned %s/%s", got.GetResourceVersion(), got.GetUID(), out.GetResourceVersion(), out.GetUID())
	}
}

func TestCreateGenerateName(t *testing.T) {
	f := newFixture(t, "configmaps")
	names := map[string]bool{}
	for range 3 {
		cm := configMap("ns", "", nil)
		cm.GenerateName = "gen-"
		m := accessor(t, f.create(cm))
		if !strings.HasPrefix(m.GetName(), "gen-") || len(m.GetName()) != len("gen-")+5 {
			t.Errorf("generated name %q, want gen- and 5 characters", m.GetName())
		}
		if m.GetGenerateName() != "gen-" {
			t.Errorf("generateName = %q, want kept", m.GetGenerateName())
		}
		names[m.GetName()] = true
		f.get("ns", m.GetName())
	}
	if len(names) != 3 {
		t.Errorf("names %v are not distinct", names)
	}

	// A name wins over generateName.
	cm := configMap("ns", "fixed", nil)
	cm.GenerateName = "gen-"
	if m := accessor(t, f.create(cm)); m.GetName() != "fixed" {
		t.Errorf("name = %q, want fixed", m.GetName())
	}

	// An invalid prefix is refused at metadata.generateName.
	bad := configMap("ns", "", nil)
	bad.GenerateName = "Bad_"
	if _, err := f.st.Create(f.ctx, "ns", bad, registry.WriteOptions{}); !apierrors.IsInvalid(err) ||
		!hasCause(err, metav1.CauseTypeFieldValueInvalid, "metadata.generateName") {
		t.Errorf("create with generateName Bad_ = %v, want Invalid at metadata.generateName", err)
	}
}

func TestCreateErrors(t *testing.T) {
	f := newFixture(t, "configmaps")
	f.create(configMap("ns", "exists", nil))
	tests := []struct {
		name  string
		ns    string
		obj   *corev1.ConfigMap
		check func(error) bool
		// An Invalid error's cause.
		causeType metav1.CauseType
		cause     string
	}{
		{"namespace mismatch", "ns", configMap("other", "a", nil), apierrors.IsBadRequest, "", ""},
		{"already exists", "ns", configMap("ns", "exists", nil), apierrors.IsAlreadyExists, "", ""},
		{"already exists, namespace from request", "ns", configMap("", "exists", nil), apierrors.IsAlreadyExists, "", ""},
		{"no namespace", "", configMap("", "a", nil), apierrors.IsInvalid, metav1.CauseTypeFieldValueRequired, "metadata.namespace"},
		{"bad name", "ns", configMap("ns", "Bad_Name", nil), apierrors.IsInvalid, metav1.CauseTypeFieldValueInvalid, "metadata.name"},
		{"no name", "ns", configMap("ns", "", nil), apierrors.IsInvalid, metav1.CauseTypeFieldValueRequired, "metadata.name"},
		{"strategy validation", "ns", configMap("ns", "a", map[string]string{"a b": ""}), apierrors.IsInvalid,
			metav1.CauseTypeFieldValueInvalid, "data[a b]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.revision()
			_, err := f.st.Create(f.ctx, tt.ns, tt.obj, registry.WriteOptions{})
			if !tt.check(err) {
				t.Fatalf("create = %v (reason %q)", err, apierrors.ReasonForError(err))
			}
			if tt.cause != "" && !hasCause(err, tt.causeType, tt.cause) {
				t.Errorf("error %v has no cause %s %s", err, tt.causeType, tt.cause)
			}
			if f.revision() != before {
				t.Error("a refused create wrote to storage")
			}
		})
	}
	// A create with the request's namespace on an object without one
	// succeeds and takes it.
	out, err := f.st.Create(f.ctx, "ns", configMap("", "b", nil), registry.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ns := accessor(t, out).GetNamespace(); ns != "ns" {
		t.Errorf("namespace = %q, want the request's", ns)
	}
}

// ---- Update ----

func TestUpdateResourceVersion(t *testing.T) {
	f := newFixture(t, "configmaps")
	created := accessor(t, f.create(configMap("ns", "a", map[string]string{"k": "1"})))
	rv1 := created.GetResourceVersion()

	// A conditional update at the current version.
	cm := configMap("ns", "a", map[string]string{"k": "2"})
	cm.ResourceVersion = rv1
	out, err := f.put("ns", "a", cm, registry.WriteOptions{})
	if err != nil {
		t.Fatalf("update at current rv: %v", err)
	}
	rv2 := accessor(t, out).GetResourceVersion()
	if rv2 == rv1 {
		t.Fatalf("resourceVersion unchanged by an update: %s", rv2)
	}

	// A stale version conflicts and changes nothing.
	stale := configMap("ns", "a", map[string]string{"k": "3"})
	stale.ResourceVersion = rv1
	if _, err := f.put("ns", "a", stale, registry.WriteOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("update at stale rv = %v, want Conflict", err)
	}
	if got := f.get("ns", "a"); got.GetResourceVersion() != rv2 {
		t.Errorf("after conflict rv = %s, want %s", got.GetResourceVersion(), rv2)
	}

	// Without a version the update is unconditional.
	free := configMap("ns", "a", map[string]string{"k": "4"})
	out, err = f.put("ns", "a", free, registry.WriteOptions{})
	if err != nil {
		t.Fatalf("unconditional update: %v", err)
	}
	if rv := accessor(t, out).GetResourceVersion(); rv == rv2 || rv == "" {
		t.Errorf("unconditional update rv = %q", rv)
	}
	got, err := f.st.Get(f.ctx, "ns", "a")
	if err != nil {
		t.Fatal(err)
	}
	if d := got.(*corev1.ConfigMap).Data["k"]; d != "4" {
		t.Errorf("data.k = %q, want 4", d)
	}
	if m := accessor(t, got); m.GetUID() != created.GetUID() {
		t.Errorf("uid changed by an unconditional update: %s -> %s", created.GetUID(), m.GetUID())
	}

	// Updating a missing object is NotFound.
	if _, err := f.put("ns", "missing", configMap("ns", "missing", nil), registry.WriteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("update of a missing object = %v, want NotFound", err)
	}
	// The body's name must be the URL's.
	if _, err := f.put("ns", "a", configMap("ns", "b", nil), registry.WriteOptions{}); !apierrors.IsBadRequest(err) {
		t.Errorf("update with another name = %v, want BadRequest", err)
	}
}

func TestUpdateNoChangeWritesNothing(t *testing.T) {
	f := newFixture(t, "configmaps")
	created := accessor(t, f.create(configMap("ns", "a", map[string]string{"k": "v"})))
	before := f.revision()

	// The current object sent back unchanged.
	out, _, err := f.st.Update(f.ctx, "ns", "a", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		return old, nil
	}, false, registry.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rv := accessor(t, out).GetResourceVersion(); rv != created.GetResourceVersion() {
		t.Errorf("no-op update rv = %s, want %s", rv, created.GetResourceVersion())
	}
	// A PUT of the same content, with the current version.
	cm := configMap("ns", "a", map[string]string{"k": "v"})
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	cm.ResourceVersion = created.GetResourceVersion()
	if _, err := f.put("ns", "a", cm, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := f.revision(); got != before {
		t.Errorf("store revision %d -> %d: a no-op update wrote", before, got)
	}
	if rv := f.get("ns", "a").GetResourceVersion(); rv != created.GetResourceVersion() {
		t.Errorf("rv after no-op updates = %s, want %s", rv, created.GetResourceVersion())
	}
}

func TestUpdateKeepsSystemFields(t *testing.T) {
	f := newFixture(t, "configmaps")
	created := accessor(t, f.create(configMap("ns", "a", nil)))
	f.clock.Step(time.Hour)

	// A different uid is a failed precondition (409), as upstream.
	_, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.ConfigMap).UID = types.UID("other")
		obj.(*corev1.ConfigMap).Data = map[string]string{"k": "v"}
	})
	if !apierrors.IsConflict(err) {
		t.Errorf("update with another uid = %v, want Conflict", err)
	}

	// creationTimestamp, deletionTimestamp and generation are the
	// server's: changes to them are dropped.
	gone := metav1.NewTime(now.Add(time.Hour))
	out, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		cm := obj.(*corev1.ConfigMap)
		cm.CreationTimestamp = metav1.NewTime(now.Add(-48 * time.Hour))
		cm.DeletionTimestamp = &gone
		cm.Generation = 5
		cm.Data = map[string]string{"k": "v"}
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	for _, m := range []metav1.Object{accessor(t, out), f.get("ns", "a")} {
		if m.GetUID() != created.GetUID() {
			t.Errorf("uid = %s, want %s", m.GetUID(), created.GetUID())
		}
		if ct := m.GetCreationTimestamp(); !ct.Equal(&metav1.Time{Time: now}) {
			t.Errorf("creationTimestamp = %v, want %v", ct, now)
		}
		if m.GetDeletionTimestamp() != nil || m.GetGeneration() != 0 {
			t.Errorf("deletionTimestamp = %v, generation = %d, want unset", m.GetDeletionTimestamp(), m.GetGeneration())
		}
	}
	if d := f.mustGetConfigMap("ns", "a").Data["k"]; d != "v" {
		t.Errorf("data.k = %q, want v", d)
	}
}

// TestUpdateConcurrent: unconditional updates that race are retried on the
// newest object, so none is lost; conditional ones at the same version
// conflict, so exactly one wins.
func TestUpdateConcurrent(t *testing.T) {
	f := newFixture(t, "configmaps")
	created := accessor(t, f.create(configMap("ns", "a", map[string]string{"n": "0"})))
	const workers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Go(func() {
			for range each {
				_, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
					cm := obj.(*corev1.ConfigMap)
					n, _ := strconv.Atoi(cm.Data["n"])
					cm.Data["n"] = strconv.Itoa(n + 1)
					// Without a version, as a patch that sets none.
					cm.ResourceVersion = ""
				})
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("unconditional update: %v", err)
		}
	}
	if n := f.mustGetConfigMap("ns", "a").Data["n"]; n != strconv.Itoa(workers*each) {
		t.Errorf("n = %s after %d increments", n, workers*each)
	}

	// Conditional updates at one version: one wins.
	rv := f.get("ns", "a").GetResourceVersion()
	results := make(chan error, workers)
	for i := range workers {
		wg.Go(func() {
			cm := configMap("ns", "a", map[string]string{"n": "w" + strconv.Itoa(i)})
			cm.ResourceVersion = rv
			_, err := f.put("ns", "a", cm, registry.WriteOptions{})
			results <- err
		})
	}
	wg.Wait()
	close(results)
	won := 0
	for err := range results {
		switch {
		case err == nil:
			won++
		case !apierrors.IsConflict(err):
			t.Errorf("conditional update: %v, want success or Conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d conditional updates at rv %s succeeded, want 1", won, rv)
	}
	if uid := f.get("ns", "a").GetUID(); uid != created.GetUID() {
		t.Errorf("uid %s -> %s", created.GetUID(), uid)
	}
}

func (f *fixture) mustGetConfigMap(ns, name string) *corev1.ConfigMap {
	f.t.Helper()
	obj, err := f.st.Get(f.ctx, ns, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return obj.(*corev1.ConfigMap)
}

func TestUpdateValidation(t *testing.T) {
	f := newFixture(t, "configmaps")
	cm := configMap("ns", "a", map[string]string{"k": "v"})
	cm.Immutable = new(true)
	f.create(cm)
	before := f.revision()
	_, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.ConfigMap).Data["k"] = "changed"
	})
	if !apierrors.IsInvalid(err) || !hasCause(err, metav1.CauseTypeForbidden, "data") {
		t.Errorf("changing an immutable configmap = %v, want Invalid: Forbidden data", err)
	}
	if f.revision() != before {
		t.Error("a refused update wrote")
	}
}

// ---- Delete ----

func TestDeletePreconditions(t *testing.T) {
	f := newFixture(t, "configmaps")
	m := accessor(t, f.create(configMap("ns", "a", nil)))
	uid, rv := m.GetUID(), m.GetResourceVersion()
	wrongUID, wrongRV := types.UID("other"), "1"
	tests := []struct {
		name string
		pre  metav1.Preconditions
	}{
		{"uid", metav1.Preconditions{UID: &wrongUID}},
		{"resourceVersion", metav1.Preconditions{ResourceVersion: &wrongRV}},
		{"right uid, wrong resourceVersion", metav1.Preconditions{UID: &uid, ResourceVersion: &wrongRV}},
	}
	for _, tt := range tests {
		_, _, err := f.st.Delete(f.ctx, "ns", "a", &metav1.DeleteOptions{Preconditions: &tt.pre}, registry.WriteOptions{})
		if !apierrors.IsConflict(err) {
			t.Errorf("%s precondition: delete = %v, want Conflict", tt.name, err)
		}
		f.get("ns", "a")
	}
	_, gone, err := f.st.Delete(f.ctx, "ns", "a", &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}, registry.WriteOptions{})
	if err != nil || !gone {
		t.Fatalf("delete with matching preconditions = %v, %v", gone, err)
	}
	f.assertNotFound("ns", "a")
	if _, _, err := f.st.Delete(f.ctx, "ns", "a", nil, registry.WriteOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("second delete = %v, want NotFound", err)
	}
}

func TestDeleteWithFinalizer(t *testing.T) {
	f := newFixture(t, "configmaps")
	cm := configMap("ns", "a", nil)
	cm.Finalizers = []string{"example.com/hold"}
	f.create(cm)
	f.clock.Step(time.Minute)

	out, gone, err := f.st.Delete(f.ctx, "ns", "a", nil, registry.WriteOptions{})
	if err != nil || gone {
		t.Fatalf("delete = gone %v, %v; want marked", gone, err)
	}
	marked := f.get("ns", "a")
	for _, m := range []metav1.Object{accessor(t, out), marked} {
		if dt := m.GetDeletionTimestamp(); dt == nil || !dt.Time.Equal(now.Add(time.Minute)) {
			t.Errorf("deletionTimestamp = %v, want %v", dt, now.Add(time.Minute))
		}
		if g := m.GetDeletionGracePeriodSeconds(); g == nil || *g != 0 {
			t.Errorf("deletionGracePeriodSeconds = %v, want 0", g)
		}
	}
	if marked.GetResourceVersion() != accessor(t, out).GetResourceVersion() {
		t.Errorf("returned rv %s, stored %s", accessor(t, out).GetResourceVersion(), marked.GetResourceVersion())
	}

	// Deleting again changes nothing.
	before := f.revision()
	if _, gone, err := f.st.Delete(f.ctx, "ns", "a", nil, registry.WriteOptions{}); err != nil || gone {
		t.Fatalf("second delete = gone %v, %v", gone, err)
	}
	if f.revision() != before {
		t.Error("a repeated delete wrote")
	}

	// Other updates go on while the finalizer holds the object.
	if _, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.ConfigMap).Labels = map[string]string{"a": "b"}
	}); err != nil {
		t.Fatalf("update while deleting: %v", err)
	}
	f.get("ns", "a")

	// Removing the last finalizer deletes the object.
	if _, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.ConfigMap).Finalizers = nil
	}); err != nil {
		t.Fatalf("removing the finalizer: %v", err)
	}
	f.assertNotFound("ns", "a")
}

func TestNoNewFinalizersWhileDeleting(t *testing.T) {
	f := newFixture(t, "configmaps")
	cm := configMap("ns", "a", nil)
	cm.Finalizers = []string{"example.com/one"}
	f.create(cm)
	if _, _, err := f.st.Delete(f.ctx, "ns", "a", nil, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	before := f.revision()
	_, err := f.update("ns", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		m := accessor(t, obj)
		m.SetFinalizers(append(m.GetFinalizers(), "example.com/two"))
	})
	if !apierrors.IsInvalid(err) || !hasCause(err, metav1.CauseTypeForbidden, "metadata.finalizers") {
		t.Errorf("adding a finalizer while deleting = %v, want Invalid: Forbidden metadata.finalizers", err)
	}
	if f.revision() != before {
		t.Error("a refused update wrote")
	}
	if fs := f.get("ns", "a").GetFinalizers(); len(fs) != 1 || fs[0] != "example.com/one" {
		t.Errorf("finalizers = %v", fs)
	}
}

func TestDeletePropagation(t *testing.T) {
	policy := func(p metav1.DeletionPropagation) *metav1.DeleteOptions {
		return &metav1.DeleteOptions{PropagationPolicy: &p}
	}
	tests := []struct {
		name       string
		finalizers []string
		opts       *metav1.DeleteOptions
		want       []string // nil: the object is gone
	}{
		{"foreground", nil, policy(metav1.DeletePropagationForeground), []string{metav1.FinalizerDeleteDependents}},
		{"orphan", nil, policy(metav1.DeletePropagationOrphan), []string{metav1.FinalizerOrphanDependents}},
		{"background", nil, policy(metav1.DeletePropagationBackground), nil},
		{"legacy orphanDependents", nil, &metav1.DeleteOptions{OrphanDependents: new(true)}, []string{metav1.FinalizerOrphanDependents}},
		{"foreground keeps others", []string{"example.com/x"}, policy(metav1.DeletePropagationForeground),
			[]string{"example.com/x", metav1.FinalizerDeleteDependents}},
		{"policy replaces an earlier one", []string{"example.com/x", metav1.FinalizerOrphanDependents}, policy(metav1.DeletePropagationForeground),
			[]string{"example.com/x", metav1.FinalizerDeleteDependents}},
	}
	f := newFixture(t, "configmaps")
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("cm-%d", i)
			cm := configMap("ns", name, nil)
			cm.Finalizers = tt.finalizers
			f.create(cm)
			_, gone, err := f.st.Delete(f.ctx, "ns", name, tt.opts, registry.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.want == nil {
				if !gone {
					t.Error("not deleted")
				}
				f.assertNotFound("ns", name)
				return
			}
			m := f.get("ns", name)
			if gone || m.GetDeletionTimestamp() == nil {
				t.Errorf("gone = %v, deletionTimestamp = %v; want marked", gone, m.GetDeletionTimestamp())
			}
			if got := m.GetFinalizers(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("finalizers = %v, want %v", got, tt.want)
			}
		})
	}
}

// ---- Dry run ----

func TestDryRun(t *testing.T) {
	f := newFixture(t, "configmaps")
	dry := registry.WriteOptions{DryRun: true}
	existing := accessor(t, f.create(configMap("ns", "a", map[string]string{"k": "v"})))
	held := configMap("ns", "held", nil)
	held.Finalizers = []string{"example.com/hold"}
	f.create(held)
	before := f.revision()

	out, err := f.st.Create(f.ctx, "ns", configMap("ns", "new", map[string]string{"k": "v"}), dry)
	if err != nil {
		t.Fatalf("dry-run create: %v", err)
	}
	if m := accessor(t, out); m.GetName() != "new" || m.GetUID() == "" {
		t.Errorf("dry-run create returned %s uid %q", m.GetName(), m.GetUID())
	}
	f.assertNotFound("ns", "new")
	if _, err := f.st.Create(f.ctx, "ns", configMap("ns", "a", nil), dry); !apierrors.IsAlreadyExists(err) {
		t.Errorf("dry-run create of an existing name = %v, want AlreadyExists", err)
	}
	if _, err := f.st.Create(f.ctx, "ns", configMap("ns", "bad", map[string]string{"a b": ""}), dry); !apierrors.IsInvalid(err) {
		t.Errorf("dry-run create of an invalid object = %v, want Invalid", err)
	}

	out, err = f.update("ns", "a", dry, func(obj runtime.Object) { obj.(*corev1.ConfigMap).Data["k"] = "dry" })
	if err != nil {
		t.Fatalf("dry-run update: %v", err)
	}
	if d := out.(*corev1.ConfigMap).Data["k"]; d != "dry" {
		t.Errorf("dry-run update returned data.k = %q", d)
	}
	if d := f.mustGetConfigMap("ns", "a").Data["k"]; d != "v" {
		t.Errorf("stored data.k = %q after a dry-run update", d)
	}

	if _, gone, err := f.st.Delete(f.ctx, "ns", "a", nil, dry); err != nil || !gone {
		t.Errorf("dry-run delete = gone %v, %v", gone, err)
	}
	if m := f.get("ns", "a"); m.GetResourceVersion() != existing.GetResourceVersion() {
		t.Errorf("rv %s after dry-run delete, want %s", m.GetResourceVersion(), existing.GetResourceVersion())
	}
	out, gone, err := f.st.Delete(f.ctx, "ns", "held", nil, dry)
	if err != nil || gone || accessor(t, out).GetDeletionTimestamp() == nil {
		t.Errorf("dry-run delete of a held object = gone %v, %v", gone, err)
	}
	if m := f.get("ns", "held"); m.GetDeletionTimestamp() != nil {
		t.Error("dry-run delete stored a deletionTimestamp")
	}

	if got := f.revision(); got != before {
		t.Errorf("store revision %d -> %d after dry runs", before, got)
	}
}

// ---- Namespace deletion: a DeletionStrategy ----

func TestNamespaceLifecycle(t *testing.T) {
	f := newFixture(t, "namespaces")
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	// A cluster-scoped object loses a namespace the client sent.
	ns.Namespace = "ignored"
	out := f.create(ns).(*corev1.Namespace)
	if out.Namespace != "" || out.Status.Phase != corev1.NamespaceActive || len(out.Spec.Finalizers) != 1 {
		t.Fatalf("created namespace: %+v", out)
	}

	_, gone, err := f.st.Delete(f.ctx, "", "team", nil, registry.WriteOptions{})
	if err != nil || gone {
		t.Fatalf("delete = gone %v, %v; want Terminating", gone, err)
	}
	got := f.getNamespace("team")
	if got.Status.Phase != corev1.NamespaceTerminating || got.DeletionTimestamp == nil {
		t.Fatalf("after delete: phase %q, deletionTimestamp %v", got.Status.Phase, got.DeletionTimestamp)
	}

	// A plain update cannot clear spec.finalizers: nothing changes.
	before := f.revision()
	if _, err := f.update("", "team", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.Namespace).Spec.Finalizers = nil
	}); err != nil {
		t.Fatal(err)
	}
	if f.revision() != before || len(f.getNamespace("team").Spec.Finalizers) != 1 {
		t.Error("a plain update changed spec.finalizers")
	}
	// Nor can status be changed but through status.
	if _, err := f.update("", "team", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.Namespace).Status.Phase = corev1.NamespaceActive
	}); err != nil {
		t.Fatal(err)
	}
	if p := f.getNamespace("team").Status.Phase; p != corev1.NamespaceTerminating {
		t.Errorf("phase = %q after a plain update, want Terminating", p)
	}

	// finalize clears them, and the namespace is gone.
	if _, err := f.update("", "team", registry.WriteOptions{Subresource: "finalize"}, func(obj runtime.Object) {
		obj.(*corev1.Namespace).Spec.Finalizers = nil
	}); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	f.assertNotFound("", "team")
}

func (f *fixture) getNamespace(name string) *corev1.Namespace {
	f.t.Helper()
	obj, err := f.st.Get(f.ctx, "", name)
	if err != nil {
		f.t.Fatal(err)
	}
	return obj.(*corev1.Namespace)
}

// ---- List and Watch ----

func listNames(t *testing.T, list runtime.Object) []string {
	t.Helper()
	items, err := meta.ExtractList(list)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(items))
	for _, it := range items {
		m := accessor(t, it)
		names = append(names, m.GetNamespace()+"/"+m.GetName())
	}
	return names
}

func TestListSelectors(t *testing.T) {
	f := newFixture(t, "configmaps")
	for _, c := range []struct{ ns, name, app string }{
		{"a", "one", "web"}, {"a", "two", "db"}, {"a", "three", "web"}, {"b", "one", "web"}, {"b", "four", ""},
	} {
		cm := configMap(c.ns, c.name, nil)
		if c.app != "" {
			cm.Labels = map[string]string{"app": c.app}
		}
		f.create(cm)
	}
	sel := func(s string) fields.Selector {
		fs, err := fields.ParseSelector(s)
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	lsel := func(s string) labels.Selector {
		ls, err := labels.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return ls
	}
	tests := []struct {
		name string
		ns   string
		opts registry.ListOptions
		want string
	}{
		{"namespace", "a", registry.ListOptions{}, "a/one,a/three,a/two"},
		{"all namespaces", "", registry.ListOptions{}, "a/one,a/three,a/two,b/four,b/one"},
		{"label", "a", registry.ListOptions{Labels: lsel("app=web")}, "a/one,a/three"},
		{"label across namespaces", "", registry.ListOptions{Labels: lsel("app=web")}, "a/one,a/three,b/one"},
		{"label exists not", "", registry.ListOptions{Labels: lsel("!app")}, "b/four"},
		{"field name", "", registry.ListOptions{Fields: sel("metadata.name=one")}, "a/one,b/one"},
		{"field namespace", "", registry.ListOptions{Fields: sel("metadata.namespace=b")}, "b/four,b/one"},
		{"field and label", "", registry.ListOptions{Fields: sel("metadata.name!=three"), Labels: lsel("app=web")}, "a/one,b/one"},
		{"nothing", "a", registry.ListOptions{Labels: lsel("app=none")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := f.st.List(f.ctx, tt.ns, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(listNames(t, l), ","); got != tt.want {
				t.Errorf("list = %s, want %s", got, tt.want)
			}
			if _, ok := l.(*corev1.ConfigMapList); !ok {
				t.Errorf("list is %T", l)
			}
			if gvk := l.GetObjectKind().GroupVersionKind(); gvk.Kind != "ConfigMapList" || gvk.Version != "v1" {
				t.Errorf("list kind = %v", gvk)
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	f := newFixture(t, "configmaps")
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("cm-%d", i)
		f.create(configMap("p", name, nil))
		want = append(want, "p/"+name)
	}
	var (
		got   []string
		cont  string
		rv    string
		pages int
	)
	for {
		l, err := f.st.List(f.ctx, "p", registry.ListOptions{Limit: 2, Continue: cont})
		if err != nil {
			t.Fatalf("page %d: %v", pages, err)
		}
		pages++
		names := listNames(t, l)
		if len(names) > 2 {
			t.Fatalf("page %d has %d items, limit 2", pages, len(names))
		}
		got = append(got, names...)
		lm, _ := meta.ListAccessor(l)
		if rv == "" {
			rv = lm.GetResourceVersion()
			// A write after the first page is not in the later ones: every
			// page reads the first page's snapshot.
			f.create(configMap("p", "cm-9", nil))
		} else if lm.GetResourceVersion() != rv {
			t.Errorf("page %d rv %s, first page %s", pages, lm.GetResourceVersion(), rv)
		}
		cont = lm.GetContinue()
		if cont == "" {
			break
		}
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Errorf("pages %d: %v, want 3 pages of %v", pages, got, want)
	}
	// A fresh list sees the later write.
	l, err := f.st.List(f.ctx, "p", registry.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(listNames(t, l)); n != 6 {
		t.Errorf("fresh list has %d items, want 6", n)
	}
}

func TestWatchOrder(t *testing.T) {
	f := newFixture(t, "configmaps")
	start := accessor(t, f.create(configMap("other", "before", nil))).GetResourceVersion()
	ctx, cancel := context.WithTimeout(f.ctx, waitTimeout)
	defer cancel()
	w, err := f.st.Watch(ctx, "w", registry.WatchOptions{ListOptions: registry.ListOptions{ResourceVersion: start}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	created := accessor(t, f.create(configMap("w", "a", map[string]string{"k": "1"}))).GetResourceVersion()
	f.create(configMap("other", "ignored", nil)) // another namespace
	updated, err := f.update("w", "a", registry.WriteOptions{}, func(obj runtime.Object) {
		obj.(*corev1.ConfigMap).Data["k"] = "2"
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.st.Delete(f.ctx, "w", "a", nil, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	deletedAt := f.revision()

	want := []struct {
		typ watch.EventType
		rv  string
		k   string
	}{
		{watch.Added, created, "1"},
		{watch.Modified, accessor(t, updated).GetResourceVersion(), "2"},
		{watch.Deleted, deletedAt.String(), "2"},
	}
	for i, ww := range want {
		var ev watch.Event
		select {
		case e, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed before event %d", i)
			}
			ev = e
		case <-ctx.Done():
			t.Fatalf("no event %d (%s) within %v", i, ww.typ, waitTimeout)
		}
		obj := ev.Object
		if co, ok := obj.(runtime.CacheableObject); ok {
			obj = co.GetObject()
		}
		cm, ok := obj.(*corev1.ConfigMap)
		if !ok {
			t.Fatalf("event %d: %s %T", i, ev.Type, ev.Object)
		}
		if ev.Type != ww.typ || cm.Name != "a" || cm.ResourceVersion != ww.rv || cm.Data["k"] != ww.k {
			t.Errorf("event %d = %s %s/%s rv %s data.k %q; want %s a rv %s data.k %q",
				i, ev.Type, cm.Namespace, cm.Name, cm.ResourceVersion, cm.Data["k"], ww.typ, ww.rv, ww.k)
		}
	}
}

// Get serves the watch cache's copy of the version it read from storage;
// the caller owns what it gets, and changing it changes nothing cached.
func TestGetReturnsOwnCopy(t *testing.T) {
	f := newFixture(t, "configmaps")
	f.create(configMap("default", "a", map[string]string{"k": "v"}))
	// A consistent list waits until the cache holds the write.
	if _, err := f.st.List(f.ctx, "default", registry.ListOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		obj, err := f.st.Get(f.ctx, "default", "a")
		if err != nil {
			t.Fatal(err)
		}
		cm := obj.(*corev1.ConfigMap)
		if cm.Data["k"] != "v" || cm.ResourceVersion != strconv.FormatInt(int64(f.revision()), 10) {
			t.Fatalf("Get = %+v", cm)
		}
		cm.Data["k"] = "changed"
		cm.Labels = map[string]string{"x": "y"}
	}
}
