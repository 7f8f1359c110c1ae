package embedded

import (
	"cmp"
	"slices"

	"skiff.dev/skiff/internal/storage"
)

// history is the window of recent events: exactly one event for every
// revision in (compacted, compacted+len(events)], in order. Events are never
// modified in place and the backing array is never overwritten below its
// length, so a slice handed out by since stays valid without the lock.
type history struct {
	compacted storage.Revision
	events    []storage.Event
}

func (h *history) append(ev storage.Event) { h.events = append(h.events, ev) }

// since returns the events with revisions greater than rev, which must be
// within (or at the start of) the window.
func (h *history) since(rev storage.Revision) []storage.Event {
	i := int(rev - h.compacted)
	if i < 0 || i > len(h.events) {
		panic("embedded: history.since outside the window")
	}
	return h.events[i:len(h.events):len(h.events)]
}

// obsolete returns the log records that compacting at rev makes
// unnecessary: the record each event at or below rev superseded, and the
// tombstone of each such delete. Records holding the latest state of live
// keys are never among them.
func (h *history) obsolete(rev storage.Revision) []storage.Revision {
	n := min(int(rev-h.compacted), len(h.events))
	var revs []storage.Revision
	for _, ev := range h.events[:max(n, 0)] {
		if ev.Prev.Key != "" {
			revs = append(revs, ev.Prev.ModRevision)
		}
		if ev.Type == storage.Deleted {
			revs = append(revs, ev.KV.ModRevision)
		}
	}
	return revs
}

// compact drops the events at or below rev, leaving room for spare more
// events before append must grow the array.
func (h *history) compact(rev storage.Revision, spare int) {
	n := min(int(rev-h.compacted), len(h.events))
	if n <= 0 {
		return
	}
	h.compacted = rev
	// Copy the survivors to a fresh array: the old one may still be read
	// through slices returned by since, and it would otherwise keep the
	// dropped events' values alive. The room after them spares append the
	// copies of growing it until the next compaction.
	h.events = append(make([]storage.Event, 0, len(h.events)-n+max(spare, 16)), h.events[n:]...)
}

func sortKVs(kvs []storage.KeyValue) {
	slices.SortFunc(kvs, func(a, b storage.KeyValue) int { return cmp.Compare(a.Key, b.Key) })
}
