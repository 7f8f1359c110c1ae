package watchcache_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/watchcache"
)

// An object is decoded when something first looks at it: not for a watcher
// whose name selector its key rules out, once for a list or a read, and
// never again after.
func TestObjectsAreDecodedWhenFirstNeeded(t *testing.T) {
	var decodes atomic.Int64
	f := newFixture(t, func(o *fixtureOptions) {
		o.decode = func(kv storage.KeyValue) (runtime.Object, error) {
			decodes.Add(1)
			return decode(kv)
		}
	})
	// A cluster-wide watch of one name, as the service account controller
	// keeps on kube-root-ca.crt.
	named := f.watch(watchcache.WatchOptions{
		ResourceVersion: f.caughtUp().String(),
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", "root"),
	})
	decodes.Store(0)
	var created []runtime.Object
	for i := range 10 {
		created = append(created, f.create(configMap(fmt.Sprint("ns", i%3), fmt.Sprint("cm", i), nil, nil)))
	}
	root := f.create(configMap("ns0", "root", nil, nil))
	named.expect(want{watch.Added, root}) // every write before it is applied
	if n := decodes.Load(); n != 1 {
		t.Fatalf("%d decodes for 11 creates watched by name, want 1 (the watched one)", n)
	}
	cm3 := created[3]
	if got, ok := f.cache.Object(key("ns0", "cm3"), rvOf(cm3)); !ok || !sameObject(got, cm3) {
		t.Fatalf("Object = %v, %v; want %s", got, ok, toJSON(cm3))
	}
	if n := decodes.Load(); n != 2 {
		t.Fatalf("%d decodes after reading one more object, want 2", n)
	}
	if res := f.list(watchcache.ListOptions{}); len(res.Items) != 11 {
		t.Fatalf("list: %d items, want 11", len(res.Items))
	}
	f.list(watchcache.ListOptions{})
	f.cache.Object(key("ns0", "cm3"), rvOf(cm3))
	if n := decodes.Load(); n != 11 {
		t.Fatalf("%d decodes after two lists and a read of 11 objects, want 11", n)
	}
}

// A stored value that does not decode is absent from lists and reads; a
// watcher that saw the object sees it deleted (its last state, at the
// revision of the bad write), and added again once it decodes again.
func TestUndecodableValueIsAbsent(t *testing.T) {
	f := newFixture(t)
	w := f.watch(watchcache.WatchOptions{ResourceVersion: f.caughtUp().String()})
	good := f.create(configMap("ns", "a", nil, map[string]string{"k": "1"}))
	rev, err := f.store.Update(f.ctx, key("ns", "a"), []byte("{not json"), storage.AnyRevision)
	if err != nil {
		t.Fatal(err)
	}
	lazy := f.create(configMap("ns", "b", nil, nil)) // its value is decoded only by the list below
	w.expect(
		want{watch.Added, good},
		want{watch.Deleted, stamped(configMap("ns", "a", nil, map[string]string{"k": "1"}), rev)},
		want{watch.Added, lazy},
	)
	if res := f.list(watchcache.ListOptions{}); len(res.Items) != 1 || !sameObject(res.Items[0], lazy) {
		t.Fatalf("list = %v, want only %s", names(res.Items), toJSON(lazy))
	}
	if _, ok := f.cache.Object(key("ns", "a"), rev); ok {
		t.Fatal("Object of an undecodable value answered")
	}
	again := f.update(configMap("ns", "a", nil, map[string]string{"k": "2"}))
	w.expect(want{watch.Added, again})
	f.remove(again)
	w.expect(want{watch.Deleted, stamped(configMap("ns", "a", nil, map[string]string{"k": "2"}), f.current())})
}
