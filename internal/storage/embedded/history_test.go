package embedded

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// The chunked history answers since exactly as one flat slice of the
// window would, through appends and compactions of every size, and the
// slices it handed out earlier never change; compaction lets wholly
// compacted chunks go.
func TestHistoryChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h history
	var flat []storage.Event // the model: events in (h.compacted, current]
	type handout struct {
		from storage.Revision
		got  events
		want []storage.Event
	}
	var handouts []handout
	current := storage.Revision(0)
	for step := range 400 {
		for range rng.IntN(3 * historyChunk / 2) {
			current++
			ev := storage.Event{Type: storage.Created, KV: storage.KeyValue{Key: fmt.Sprint("/k", current), ModRevision: current}}
			h.append(ev)
			flat = append(flat, ev)
		}
		if rng.IntN(3) == 0 && len(flat) > 0 {
			drop := rng.IntN(len(flat) + 1)
			h.compact(h.compacted + storage.Revision(drop))
			flat = flat[drop:]
		}
		if h.n != len(flat) || h.compacted+storage.Revision(h.n) != current {
			t.Fatalf("step %d: window of %d events after %d, want %d after %d", step, h.n, h.compacted, len(flat), current-storage.Revision(len(flat)))
		}
		if max := h.n/historyChunk + 2; len(h.chunks) > max {
			t.Fatalf("step %d: %d chunks for %d events", step, len(h.chunks), h.n)
		}
		from := h.compacted + storage.Revision(rng.IntN(h.n+1))
		got := h.since(from)
		want := flat[from-h.compacted:]
		if s := flatten(got); !sameEvents(s, want) {
			t.Fatalf("step %d: since(%d) = %d events, want %d", step, from, len(s), len(want))
		}
		if step%10 == 0 {
			handouts = append(handouts, handout{from, got, append([]storage.Event(nil), want...)})
		}
	}
	for _, ho := range handouts {
		if s := flatten(ho.got); !sameEvents(s, ho.want) {
			t.Fatalf("since(%d) changed after later appends and compactions", ho.from)
		}
	}
}

func flatten(e events) []storage.Event {
	var out []storage.Event
	for _, c := range e {
		out = append(out, c...)
	}
	return out
}

func sameEvents(a, b []storage.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].KV.ModRevision != b[i].KV.ModRevision || a[i].KV.Key != b[i].KV.Key {
			return false
		}
	}
	return true
}
