package watchcache_test

import (
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// Object answers only for the exact version asked for, once the cache has
// it.
func TestObject(t *testing.T) {
	f := newFixture(t)
	v1 := f.create(configMap("ns", "a", nil, map[string]string{"k": "1"}))
	f.caughtUp()
	got, ok := f.cache.Object(key("ns", "a"), rvOf(v1))
	if !ok || !sameObject(got, v1) {
		t.Fatalf("Object at %d = %v, %v; want %s", rvOf(v1), got, ok, toJSON(v1))
	}
	v2 := f.update(configMap("ns", "a", nil, map[string]string{"k": "2"}))
	f.caughtUp()
	if _, ok := f.cache.Object(key("ns", "a"), rvOf(v1)); ok {
		t.Errorf("Object at the superseded revision %d answered", rvOf(v1))
	}
	if got, ok := f.cache.Object(key("ns", "a"), rvOf(v2)); !ok || !sameObject(got, v2) {
		t.Errorf("Object at %d = %v, %v; want %s", rvOf(v2), got, ok, toJSON(v2))
	}
	if _, ok := f.cache.Object(key("ns", "missing"), storage.Revision(1)); ok {
		t.Error("Object of a missing key answered")
	}
	f.remove(v2)
	f.caughtUp()
	if _, ok := f.cache.Object(key("ns", "a"), rvOf(v2)); ok {
		t.Error("Object of a deleted key answered")
	}
}
