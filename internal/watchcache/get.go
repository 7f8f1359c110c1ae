package watchcache

import (
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/storage"
)

// Object returns the cache's object for key if the cache holds exactly the
// version written at rev; ok is false otherwise (not there, or the cache
// is behind or ahead of rev). The object is the one Config.Decode made from
// that version's stored value, so a caller that read key at rev from the
// store gets what decoding the value itself would give, without decoding.
// It is shared: read it, or deep-copy it to change it.
func (c *Cache) Object(key string, rev storage.Revision) (obj runtime.Object, ok bool) {
	snap, _ := c.snapshot()
	e, found := lookup(snap, key)
	if !found || e.rev != rev {
		return nil, false
	}
	d := e.load()
	if d == nil {
		return nil, false
	}
	return d.raw, true
}
