package garbagecollector

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// absentKey names an owner as a lookup found it absent: where it was
// looked for, and the UID that was not there.
type absentKey struct {
	Resource  schema.GroupResource
	Namespace string
	Name      string
	UID       types.UID
}

// absentCache remembers owners verified absent, as upstream's
// absentOwnerCache, so the dependents of one deleted owner cost one lookup
// of it, not one each. A UID never comes back, so an entry never goes
// stale; the oldest are forgotten past size.
type absentCache struct {
	mu    sync.Mutex
	size  int
	set   map[absentKey]struct{}
	order []absentKey // insertion order, for eviction
}

func newAbsentCache(size int) *absentCache {
	return &absentCache{size: size, set: make(map[absentKey]struct{}, size)}
}

func (a *absentCache) has(k absentKey) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.set[k]
	return ok
}

func (a *absentCache) add(k absentKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.set[k]; ok {
		return
	}
	if len(a.order) >= a.size {
		delete(a.set, a.order[0])
		a.order = a.order[1:]
	}
	a.set[k] = struct{}{}
	a.order = append(a.order, k)
}
