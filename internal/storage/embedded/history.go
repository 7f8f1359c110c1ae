package embedded

import (
	"cmp"
	"slices"

	"skiff.dev/skiff/internal/storage"
)

// history is the window of recent events: exactly one event for every
// revision in (compacted, compacted+n], in order. It keeps them in chunks
// of historyChunk events, the last one filling up: events are never
// modified in place and no chunk is overwritten below its length, so the
// slices handed out by since stay valid without the lock; compaction drops
// whole chunks and copies nothing.
type history struct {
	compacted storage.Revision
	chunks    [][]storage.Event // all full but the last
	head      int               // the first event of the window in chunks[0]
	n         int               // events in the window
}

// historyChunk is how many events one array of the history holds.
const historyChunk = 1024

func (h *history) append(ev storage.Event) {
	if len(h.chunks) == 0 || len(h.chunks[len(h.chunks)-1]) == historyChunk {
		h.chunks = append(h.chunks, make([]storage.Event, 0, historyChunk))
	}
	last := &h.chunks[len(h.chunks)-1]
	*last = append(*last, ev)
	h.n++
}

// events is a run of history events, in order, in pieces.
type events [][]storage.Event

// since returns the events with revisions greater than rev, which must be
// within (or at the start of) the window.
func (h *history) since(rev storage.Revision) events {
	i := int(rev - h.compacted)
	if i < 0 || i > h.n {
		panic("embedded: history.since outside the window")
	}
	if i == h.n {
		return nil
	}
	p := h.head + i
	first := p / historyChunk
	out := make(events, 0, len(h.chunks)-first)
	for ci, c := range h.chunks[first:] {
		off := 0
		if ci == 0 {
			off = p % historyChunk
		}
		out = append(out, c[off:len(c):len(c)])
	}
	return out
}

// obsolete returns the log records that compacting at rev makes
// unnecessary: the record each event at or below rev superseded, and the
// tombstone of each such delete. Records holding the latest state of live
// keys are never among them.
func (h *history) obsolete(rev storage.Revision) []storage.Revision {
	n := min(int(rev-h.compacted), h.n)
	var revs []storage.Revision
	for _, c := range h.since(h.compacted) {
		if n <= 0 {
			break
		}
		for _, ev := range c[:min(n, len(c))] {
			if ev.Prev.Key != "" {
				revs = append(revs, ev.Prev.ModRevision)
			}
			if ev.Type == storage.Deleted {
				revs = append(revs, ev.KV.ModRevision)
			}
		}
		n -= len(c)
	}
	return revs
}

// compact drops the events at or below rev.
func (h *history) compact(rev storage.Revision) {
	n := min(int(rev-h.compacted), h.n)
	if n <= 0 {
		return
	}
	h.compacted = rev
	h.head += n
	h.n -= n
	// Chunks wholly compacted go, unless it is the one appends fill. A
	// chunk partly compacted keeps its oldest events' values alive until
	// it goes too: at most historyChunk-1 of them.
	d := 0
	for d < len(h.chunks)-1 && h.head >= len(h.chunks[d]) {
		h.head -= len(h.chunks[d])
		d++
	}
	clear(h.chunks[:d]) // since copies this array's headers: nobody reads it
	h.chunks = h.chunks[d:]
}

func sortKVs(kvs []storage.KeyValue) {
	slices.SortFunc(kvs, func(a, b storage.KeyValue) int { return cmp.Compare(a.Key, b.Key) })
}
