package watchcache

import (
	"sort"

	"github.com/google/btree"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/storage"
)

// entry is one object version in the cache. Entries are immutable once
// built; trees, events and lists share them.
type entry struct {
	key    string
	raw    runtime.Object // the decoded object; shared, read-only
	obj    *CachedObject  // raw, wrapped for watch events
	labels labels.Set
	fields fields.Set
	rev    storage.Revision // the object's resourceVersion
}

func entryLess(a, b *entry) bool { return a.key < b.key }

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
	// snap is the state right after the change.
	snap *tree
}

// window holds the most recent events, oldest first, in a ring of fixed
// capacity: every event of the resource with a revision in (base, newest],
// and for each the state after it. Watches from a revision at or above
// base replay from it; lists at such a revision read its snapshots.
type window struct {
	ring     []*event
	start, n int
	base     storage.Revision // events at or below it are gone
	baseSnap *tree            // the state at base
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
// revision; ok is false below base.
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
