package watchcache

import (
	"sort"
	"strings"
	"sync"

	"github.com/google/btree"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/storage"
)

// entry is one object version in the cache. Entries are immutable once
// built, except that a lazy one decodes itself on first use; trees, events
// and lists share them.
//
// The changes the cache follows make lazy entries: an object is decoded
// when something first needs it (a list, a watcher whose range and key
// filters it passes, a read), so objects nobody looks at are never decoded.
type entry struct {
	key string
	rev storage.Revision // the object's resourceVersion

	// value is what a lazy entry decodes, with cfg; only load reads it,
	// and drops it once decoded.
	value []byte
	cfg   *Config

	once   sync.Once
	d      decoded // valid after once, when ok
	failed bool    // the value does not decode; set in once
}

// decoded is an entry's object and what selectors match.
type decoded struct {
	raw    runtime.Object // shared, read-only
	obj    *CachedObject  // raw, wrapped for watch events
	labels labels.Set
	fields fields.Set
}

// lazyEntry is the entry of a stored value, decoded on first use.
func lazyEntry(cfg *Config, key string, value []byte, rev storage.Revision) *entry {
	return &entry{key: key, rev: rev, value: value, cfg: cfg}
}

// decodedEntry is the entry of an object already decoded.
func decodedEntry(key string, rev storage.Revision, d decoded) *entry {
	e := &entry{key: key, rev: rev, d: d}
	e.once.Do(func() {})
	return e
}

// decodedEntryFailed is the entry of an object that did not decode.
func decodedEntryFailed(key string, rev storage.Revision) *entry {
	e := &entry{key: key, rev: rev, failed: true}
	e.once.Do(func() {})
	return e
}

// load returns the entry's object, decoding it on first use; nil when the
// value does not decode (logged once), and the entry then counts as
// absent: lists skip it, watchers do not see it, reads miss.
func (e *entry) load() *decoded {
	e.once.Do(func() {
		obj, err := e.cfg.Decode(storage.KeyValue{Key: e.key, Value: e.value, ModRevision: e.rev})
		if err == nil {
			e.d, err = e.cfg.decoded(obj)
		}
		if err != nil {
			e.failed = true
			e.cfg.Logger.Error("watch cache cannot decode a stored object; serving it as absent",
				"key", e.key, "revision", e.rev, "err", err)
		}
		e.value = nil
	})
	if e.failed {
		return nil
	}
	return &e.d
}

// name is the last segment of the entry's key: the object's name, which
// the registry puts there (names cannot contain "/").
func (e *entry) name() string { return e.key[strings.LastIndexByte(e.key, '/')+1:] }

func entryLess(a, b *entry) bool { return a.key < b.key }

// probes are entries that only carry a key, to look it up in a tree
// without allocating an entry per lookup.
var probes = sync.Pool{New: func() any { return new(entry) }}

// lookup returns t's entry for key.
func lookup(t *tree, key string) (*entry, bool) {
	p := probes.Get().(*entry)
	p.key = key
	e, ok := t.Get(p)
	p.key = ""
	probes.Put(p)
	return e, ok
}

// tree is the state of the resource at one revision: entries by key. A
// tree that has been published (as Cache.snap, in an event or in the
// window) is never modified again; the Run goroutine changes its working
// tree and publishes clones (copy on write, so a clone costs O(1) and each
// later change copies one path).
type tree = btree.BTreeG[*entry]

func newTree() *tree { return btree.NewG(32, entryLess) }

// event is one change of the resource, as the cache applied it.
type event struct {
	typ storage.EventType // Created, Updated or Deleted
	rev storage.Revision
	key string
	// cur is the object after the change. For Deleted it is the last
	// state, copied and stamped with the delete's revision, with the last
	// state's labels and fields.
	cur *entry
	// prev is the object before the change; nil for Created.
	prev *entry
	// snap is the state right after the change, once window.rebuildAt has
	// made it for a list at that revision; nil until then.
	snap *tree
}

// undo reverts e in t, a tree holding the state right after e.
func (e *event) undo(t *tree) {
	if e.prev != nil {
		t.ReplaceOrInsert(e.prev)
	} else {
		t.Delete(e.cur)
	}
}

// window holds the most recent events, oldest first, in a ring of fixed
// capacity: every event of the resource with a revision in (base, newest],
// and the state after those some list asked for (event.snap). Watches
// from a revision at or above base replay from it; lists at such a
// revision read its snapshots, or a state rebuilt from a later one.
type window struct {
	ring     []*event
	start, n int
	base     storage.Revision // events at or below it are gone
	// baseSnap is the state at base; nil when the event at base had no
	// snapshot (rebuildAt makes it).
	baseSnap *tree
}

func newWindow(capacity int) window { return window{ring: make([]*event, capacity)} }

// reset empties the window: it now starts at rev, whose state is snap.
func (w *window) reset(rev storage.Revision, snap *tree) {
	clear(w.ring)
	w.start, w.n, w.base, w.baseSnap = 0, 0, rev, snap
}

func (w *window) at(i int) *event { return w.ring[(w.start+i)%len(w.ring)] }

// push appends e, dropping the oldest event when the ring is full.
func (w *window) push(e *event) {
	if w.n == len(w.ring) {
		old := w.ring[w.start]
		w.ring[w.start] = nil
		w.start = (w.start + 1) % len(w.ring)
		w.n--
		w.base, w.baseSnap = old.rev, old.snap
	}
	w.ring[(w.start+w.n)%len(w.ring)] = e
	w.n++
}

// firstAfter is the index of the first event with a revision above rev.
func (w *window) firstAfter(rev storage.Revision) int {
	return sort.Search(w.n, func(i int) bool { return w.at(i).rev > rev })
}

// since returns the events with revisions above rev, oldest first; rev
// must be at or above base.
func (w *window) since(rev storage.Revision) []*event {
	i := w.firstAfter(rev)
	out := make([]*event, 0, w.n-i)
	for ; i < w.n; i++ {
		out = append(out, w.at(i))
	}
	return out
}

// snapshotAt returns the state at rev, for base <= rev <= the cache's
// revision; ok is false below base. t is nil (and ok true) when the window
// keeps no snapshot of that state: rebuildAt makes it.
func (w *window) snapshotAt(rev storage.Revision) (t *tree, ok bool) {
	if rev < w.base {
		return nil, false
	}
	i := w.firstAfter(rev) // events [0, i) are at or below rev
	if i == 0 {
		return w.baseSnap, true
	}
	return w.at(i - 1).snap, true
}

// rebuildAt is snapshotAt, making a state the window keeps no snapshot of
// from the next one it keeps, or from newest, the state after the newest
// event, by undoing the events between. It clones a published tree, which
// writes the tree's copy-on-write marker: callers must hold Cache.mu for
// writing. The state made is kept in place of the missing snapshot.
func (w *window) rebuildAt(rev storage.Revision, newest *tree) (t *tree, ok bool) {
	if t, ok = w.snapshotAt(rev); t != nil || !ok {
		return t, ok
	}
	i := w.firstAfter(rev) // the state wanted is the one after event i-1
	if i == w.n {
		return newest, true // rev is at or above the newest event
	}
	j := i
	for j < w.n-1 && w.at(j).snap == nil {
		j++
	}
	if s := w.at(j).snap; s != nil {
		t = s.Clone()
	} else {
		t = newest.Clone()
	}
	for ; j >= i; j-- {
		w.at(j).undo(t)
	}
	if i == 0 {
		w.baseSnap = t
	} else {
		w.at(i - 1).snap = t
	}
	return t, true
}
