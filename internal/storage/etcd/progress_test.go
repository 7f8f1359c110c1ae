package etcd_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// etcd answers a progress request only while the watch is synced; a watch
// still replaying history gets no answer to its first requests. The Store
// asks again until an answer covers the revision, which then arrives after
// every replayed event. Run against the installed etcd; a release without
// ordered progress reports ErrUnsupported (see TestProgressOrdered).
func TestProgressWhileReplaying(t *testing.T) {
	s := newStore(t, sharedCluster(t).Endpoints(), uniquePrefix(t))
	ctx := testCtx(t)
	start, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 50
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range perWriter {
				if _, err := s.Create(ctx, fmt.Sprintf("r/%d/%d", i, j), []byte("v")); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
				// and as much history elsewhere, for the quiet watch below
				if _, err := s.Create(ctx, fmt.Sprintf("q-other/%d/%d", i, j), nil); err != nil {
					t.Errorf("Create: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	target, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, prefix string
		events       int
	}{
		{"Replaying", "r/", writers * perWriter},
		{"QuietReplaying", "q/", 0}, // becomes synced without sending anything
	} {
		t.Run(c.name, func(t *testing.T) {
			w := mustWatch(t, s, c.prefix, start)
			col := collect(t, w)
			err := w.RequestProgress(ctx)
			if !s.ProgressOrdered() {
				// This etcd cannot order progress: it must say so.
				if !errors.Is(err, storage.ErrUnsupported) {
					t.Fatalf("RequestProgress on an etcd without ordered progress: %v, want ErrUnsupported", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("RequestProgress: %v", err)
			}
			got, _ := col.WaitUntil(t, "a Progress event", func(evs []storage.Event, _ bool) bool {
				return len(evs) > 0 && evs[len(evs)-1].Type == storage.Progress
			})
			last := got[len(got)-1]
			if n := len(got) - 1; n != c.events {
				t.Fatalf("Progress after %d events, want after all %d", n, c.events)
			}
			for _, ev := range got[:len(got)-1] {
				if ev.Type == storage.Progress {
					t.Fatalf("a Progress event before the replay finished: %s", fmtEvent(ev))
				}
			}
			if last.Revision() < target {
				t.Fatalf("Progress at %d, want at least %d", last.Revision(), target)
			}
		})
	}
}
