package watchcache_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	"skiff.dev/skiff/internal/watchcache"
)

// waitTimeout bounds every wait on a condition; a passing test waits
// milliseconds.
const waitTimeout = 10 * time.Second

const prefix = "/registry/core/configmaps/"

var configMapGVK = corev1.SchemeGroupVersion.WithKind("ConfigMap")

// encode stores a ConfigMap as the registry does: its JSON with apiVersion
// and kind, without resourceVersion.
func encode(cm *corev1.ConfigMap) []byte {
	cm = cm.DeepCopy()
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	cm.ResourceVersion = ""
	data, err := json.Marshal(cm)
	if err != nil {
		panic(err)
	}
	return data
}

func decode(kv storage.KeyValue) (runtime.Object, error) {
	cm := &corev1.ConfigMap{}
	if err := json.Unmarshal(kv.Value, cm); err != nil {
		return nil, err
	}
	cm.ResourceVersion = kv.ModRevision.String()
	return cm, nil
}

// attrs adds data.color to the default fields, to select on.
func attrs(obj runtime.Object) (labels.Set, fields.Set) {
	cm := obj.(*corev1.ConfigMap)
	return labels.Set(cm.Labels), fields.Set{
		"metadata.name":      cm.Name,
		"metadata.namespace": cm.Namespace,
		"data.color":         cm.Data["color"],
	}
}

// fixture is an embedded store and a running cache on it.
type fixture struct {
	t      testing.TB
	ctx    context.Context
	store  storage.Store
	cache  *watchcache.Cache
	runErr chan error
}

type fixtureOptions struct {
	store  embedded.Options
	cache  watchcache.Config // Store, Prefix, GVK, New, Decode, Attrs are filled in
	wrap   func(storage.Store) storage.Store
	decode func(storage.KeyValue) (runtime.Object, error)
}

func newFixture(t testing.TB, opts ...func(*fixtureOptions)) *fixture {
	t.Helper()
	var o fixtureOptions
	for _, fn := range opts {
		fn(&o)
	}
	s, err := embedded.Open(t.TempDir(), o.store)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var st storage.Store = s
	if o.wrap != nil {
		st = o.wrap(s)
	}
	cfg := o.cache
	cfg.Store, cfg.Prefix, cfg.Namespaced = st, prefix, true
	cfg.GVK, cfg.New = configMapGVK, func() runtime.Object { return &corev1.ConfigMap{} }
	cfg.Decode, cfg.Attrs = decode, attrs
	if o.decode != nil {
		cfg.Decode = o.decode
	}
	c, err := watchcache.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &fixture{t: t, ctx: ctx, store: st, cache: c, runErr: make(chan error, 1)}
	go func() { f.runErr <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-f.runErr:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitTimeout):
			t.Errorf("Run did not return within %v of its context ending", waitTimeout)
		}
	})
	rctx, rcancel := context.WithTimeout(ctx, waitTimeout)
	defer rcancel()
	if err := c.WaitReady(rctx); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}
	return f
}

func key(ns, name string) string { return prefix + ns + "/" + name }

func configMap(ns, name string, lbls map[string]string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Data:       data,
	}
}

// create stores cm and returns it as the cache will hand it out.
func (f *fixture) create(cm *corev1.ConfigMap) *corev1.ConfigMap {
	f.t.Helper()
	rev, err := f.store.Create(f.ctx, key(cm.Namespace, cm.Name), encode(cm))
	if err != nil {
		f.t.Fatalf("Create %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return stamped(cm, rev)
}

func (f *fixture) update(cm *corev1.ConfigMap) *corev1.ConfigMap {
	f.t.Helper()
	rev, err := f.store.Update(f.ctx, key(cm.Namespace, cm.Name), encode(cm), storage.AnyRevision)
	if err != nil {
		f.t.Fatalf("Update %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return stamped(cm, rev)
}

// remove deletes cm and returns the tombstone the cache sends: the last
// state at the delete's revision.
func (f *fixture) remove(cm *corev1.ConfigMap) *corev1.ConfigMap {
	f.t.Helper()
	rev, _, err := f.store.Delete(f.ctx, key(cm.Namespace, cm.Name), storage.AnyRevision)
	if err != nil {
		f.t.Fatalf("Delete %s/%s: %v", cm.Namespace, cm.Name, err)
	}
	return stamped(cm, rev)
}

// write puts to a key outside the cache's prefix.
func (f *fixture) writeElsewhere(name string) storage.Revision {
	f.t.Helper()
	rev, err := f.store.Create(f.ctx, "/registry/core/secrets/default/"+name, []byte("{}"))
	if err != nil {
		f.t.Fatal(err)
	}
	return rev
}

func stamped(cm *corev1.ConfigMap, rev storage.Revision) *corev1.ConfigMap {
	cm = cm.DeepCopy()
	cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
	cm.ResourceVersion = rev.String()
	return cm
}

func rvOf(obj runtime.Object) storage.Revision {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(err)
	}
	n, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
	return storage.Revision(n)
}

func (f *fixture) current() storage.Revision {
	f.t.Helper()
	rev, err := f.store.CurrentRevision(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return rev
}

// caughtUp waits until the cache has reached the store's current revision
// (a consistent list does exactly that wait).
func (f *fixture) caughtUp() storage.Revision {
	f.t.Helper()
	res := f.list(watchcache.ListOptions{})
	return res.Revision
}

func (f *fixture) list(opts watchcache.ListOptions) *watchcache.ListResult {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(f.ctx, waitTimeout)
	defer cancel()
	res, err := f.cache.List(ctx, opts)
	if err != nil {
		f.t.Fatalf("List(%+v): %v", opts, err)
	}
	return res
}

func (f *fixture) watch(opts watchcache.WatchOptions) *watcher {
	f.t.Helper()
	w, err := f.cache.Watch(f.ctx, opts)
	if err != nil {
		f.t.Fatalf("Watch(%+v): %v", opts, err)
	}
	f.t.Cleanup(w.Stop)
	return &watcher{t: f.t, w: w, name: fmt.Sprintf("Watch(%+v)", opts)}
}

type watcher struct {
	t    testing.TB
	w    watch.Interface
	name string
}

func (w *watcher) next() watch.Event {
	w.t.Helper()
	select {
	case ev, ok := <-w.w.ResultChan():
		if !ok {
			w.t.Fatalf("%s closed early", w.name)
		}
		return ev
	case <-time.After(waitTimeout):
		w.t.Fatalf("%s: no event within %v", w.name, waitTimeout)
	}
	panic("unreachable")
}

// want is an expected event: its type and object (compared as JSON, so
// kind, metadata and data all count).
type want struct {
	typ watch.EventType
	obj runtime.Object
}

func (w *watcher) expect(wants ...want) {
	w.t.Helper()
	for i, x := range wants {
		ev := w.next()
		if ev.Type != x.typ || !sameObject(ev.Object, x.obj) {
			w.t.Fatalf("%s: event %d of %d is %s %s\nwant %s %s", w.name, i+1, len(wants), ev.Type, toJSON(ev.Object), x.typ, toJSON(x.obj))
		}
	}
}

// expectClosed waits for the channel to close, accepting events on the
// way only when drain is set; it returns what arrived.
func (w *watcher) expectClosed(drain bool) []watch.Event {
	w.t.Helper()
	var got []watch.Event
	deadline := time.After(waitTimeout)
	for {
		select {
		case ev, ok := <-w.w.ResultChan():
			if !ok {
				return got
			}
			if !drain {
				w.t.Fatalf("%s: unexpected %s %s while waiting for it to close", w.name, ev.Type, toJSON(ev.Object))
			}
			got = append(got, ev)
		case <-deadline:
			w.t.Fatalf("%s: not closed within %v", w.name, waitTimeout)
		}
	}
}

func plain(obj runtime.Object) runtime.Object {
	if co, ok := obj.(*watchcache.CachedObject); ok {
		return co.Object()
	}
	return obj
}

func toJSON(obj runtime.Object) string {
	data, err := json.Marshal(plain(obj))
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(data)
}

func sameObject(a, b runtime.Object) bool { return toJSON(a) == toJSON(b) }

func names(objs []runtime.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		m, _ := meta.Accessor(plain(o))
		out[i] = m.GetNamespace() + "/" + m.GetName()
	}
	return out
}

// gatedDecode blocks decoding while closed is false, to stall the cache's
// Run goroutine on purpose.
type gatedDecode struct {
	blocking atomic.Bool
	mu       sync.Mutex
	gate     chan struct{}
}

func newGatedDecode() *gatedDecode { return &gatedDecode{gate: make(chan struct{})} }

func (g *gatedDecode) decode(kv storage.KeyValue) (runtime.Object, error) {
	if g.blocking.Load() {
		g.mu.Lock()
		gate := g.gate
		g.mu.Unlock()
		<-gate
	}
	return decode(kv)
}

func (g *gatedDecode) block() {
	g.mu.Lock()
	g.gate = make(chan struct{})
	g.mu.Unlock()
	g.blocking.Store(true)
}

func (g *gatedDecode) release() {
	g.blocking.Store(false)
	g.mu.Lock()
	close(g.gate)
	g.mu.Unlock()
}

// countingStore counts Watch and List calls.
type countingStore struct {
	storage.Store
	watches atomic.Int64
	lists   atomic.Int64
}

func (s *countingStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	s.lists.Add(1)
	return s.Store.List(ctx, prefix, opts)
}

// counting makes the fixture's store a countingStore and returns it.
func counting(cs **countingStore) func(*fixtureOptions) {
	return func(o *fixtureOptions) {
		o.wrap = func(s storage.Store) storage.Store {
			*cs = &countingStore{Store: s}
			return *cs
		}
	}
}

func (s *countingStore) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	s.watches.Add(1)
	return s.Store.Watch(ctx, prefix, since)
}

func isStatus(err error, code int32, reason metav1.StatusReason) bool {
	var se interface{ Status() metav1.Status }
	if !errors.As(err, &se) {
		return false
	}
	st := se.Status()
	return st.Code == code && st.Reason == reason
}

// noProgressStore's watches cannot report progress, as on an etcd server
// without ordered progress notifications.
type noProgressStore struct{ storage.Store }

func (s noProgressStore) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	w, err := s.Store.Watch(ctx, prefix, since)
	if err != nil {
		return nil, err
	}
	return noProgressWatch{w}, nil
}

type noProgressWatch struct{ storage.Watch }

func (noProgressWatch) RequestProgress(context.Context) error {
	return fmt.Errorf("test: %w", storage.ErrUnsupported)
}
