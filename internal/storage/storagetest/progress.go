package storagetest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"skiff.dev/skiff/internal/storage"
)

// requestProgress asks w for progress. A backend that cannot order progress
// must say so in RunOptions.ProgressUnsupported; then these subtests run
// testProgressUnsupported instead.
func (f *fixture) requestProgress(w *watchT) {
	f.t.Helper()
	err := w.w.RequestProgress(f.ctx)
	if err != nil {
		f.t.Fatalf("%s: RequestProgress: %v", w.name, err)
	}
}

// expectProgress reads the next event, which must be a Progress event at
// min or above, and returns its revision.
func (w *watchT) expectProgress(min storage.Revision) storage.Revision {
	w.t.Helper()
	ev := w.next()
	if ev.Type != storage.Progress {
		w.t.Fatalf("%s: got %s, want a Progress event at %d or above", w.name, fmtEvent(ev), min)
	}
	if ev.Revision() < min {
		w.t.Fatalf("%s: Progress at %d, want %d or above (the store's revision when progress was requested)", w.name, ev.Revision(), min)
	}
	return ev.Revision()
}

// testProgressQuietPrefix: a watch whose prefix sees no writes still learns
// that it has caught up with writes elsewhere, and goes on normally after.
func testProgressQuietPrefix(f *fixture) {
	w := f.watch("/pq/a/", f.last)
	for i := range 3 {
		f.create(fmt.Sprintf("/pq/b/%d", i), nil)
	}
	cur := f.current()
	f.requestProgress(w)
	got := w.expectProgress(cur)

	// Again, with nothing written since: still at or above the current.
	cur = f.current()
	f.requestProgress(w)
	if again := w.expectProgress(cur); again < got {
		f.t.Fatalf("%s: Progress went back from %d to %d", w.name, got, again)
	}

	// The watch carries on: its own events, then progress past them.
	a := f.create("/pq/a/x", nil)
	w.expect(created(a))
	f.create("/pq/b/last", nil)
	cur = f.current()
	f.requestProgress(w)
	w.expectProgress(cur)
}

// testProgressBehindEvents: progress requested while the watch's own events
// are still undelivered comes after them, never before.
func testProgressBehindEvents(f *fixture) {
	w := f.watch("/pb/", f.last)
	var want []storage.Event
	for i := range 20 { // below every backend's slow-watcher limit
		kv := f.create(fmt.Sprintf("/pb/%02d", i), []byte{byte(i)})
		want = append(want, created(kv))
	}
	f.create("/pc/other", nil)
	cur := f.current()
	f.requestProgress(w)
	w.expect(want...)
	w.expectProgress(cur)

	// A second request after more writes: again behind them.
	kv := f.create("/pb/late", nil)
	cur = f.current()
	f.requestProgress(w)
	w.expect(created(kv))
	w.expectProgress(cur)
}

// testProgressConcurrentWriters: with writers racing under the watch's
// prefix and elsewhere, no event arrives after a Progress event at or above
// its revision, and every request is answered at or above the revision read
// before it.
func testProgressConcurrentWriters(f *fixture) {
	const writers, writes, requests = 3, 12, 20 // fewer than 64 queued even if nothing is read
	w := f.watch("/pw/", f.last)
	c := Collect(f.t, w.w)

	var mu sync.Mutex
	var revs []storage.Revision // of every write, for f.advanced
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			for j := range writes {
				prefix := "/pw/"
				if j%3 == 0 {
					prefix = "/px/" // not under the watch
				}
				key := fmt.Sprintf("%s%d/%d", prefix, i, j)
				rev, err := f.s.Create(f.ctx, key, nil)
				if err != nil {
					f.t.Errorf("Create(%q): %v", key, err)
					return
				}
				mu.Lock()
				revs = append(revs, rev)
				mu.Unlock()
			}
		})
	}
	// No Fatal while the writers run: collect the first failure instead.
	var floors []storage.Revision // the revision read before each request
	var failure error
	for range requests {
		cur, err := f.s.CurrentRevision(f.ctx)
		if err == nil {
			err = w.w.RequestProgress(f.ctx)
		}
		if err != nil {
			failure = err
			break
		}
		floors = append(floors, cur)
	}
	select {
	case <-waitGroupDone(&wg):
	case <-time.After(waitTimeout):
		f.t.Fatalf("writers did not finish within %v", waitTimeout)
	}
	switch {
	case failure != nil:
		f.t.Fatalf("CurrentRevision or RequestProgress: %v", failure)
	case f.t.Failed():
		f.t.FailNow()
	}
	slices.Sort(revs)
	f.advanced("concurrent writes", revs)
	final := f.current()
	f.requestProgress(w)

	got, closed, err, ok := c.waitUntil(func(evs []storage.Event, closed bool) bool {
		if closed {
			return true
		}
		for _, ev := range evs {
			if ev.Type == storage.Progress && ev.Revision() >= final {
				return true
			}
		}
		return false
	})
	if !ok || closed {
		f.t.Fatalf("no Progress at or above %d within %v (closed %v, Err %v); got%s", final, waitTimeout, closed, err, fmtEvents(got))
	}
	var progressed storage.Revision // highest Progress revision so far
	var progresses []storage.Revision
	events := 0
	for _, ev := range got {
		if err := eventShapeError(ev); err != nil {
			f.t.Fatalf("%s: %v", w.name, err)
		}
		if ev.Type == storage.Progress {
			if ev.Revision() < progressed {
				f.t.Fatalf("%s: Progress went back from %d to %d", w.name, progressed, ev.Revision())
			}
			progressed = ev.Revision()
			progresses = append(progresses, ev.Revision())
			continue
		}
		events++
		if ev.Revision() <= progressed {
			f.t.Fatalf("%s: event %s arrived after a Progress event at %d: progress overtook it", w.name, fmtEvent(ev), progressed)
		}
	}
	if want := writers * (writes - (writes+2)/3); events != want {
		f.t.Fatalf("%s: %d events, want %d", w.name, events, want)
	}
	// Requests are answered in order, so the i-th answer (counting one
	// answer for several requests) is at or above the floor of every
	// request it could answer. Weaker but order-free: the last answer
	// covers the highest floor.
	if len(progresses) == 0 || progresses[len(progresses)-1] < max(final, floors[len(floors)-1]) {
		f.t.Fatalf("%s: Progress revisions %v, want the last at or above %d", w.name, progresses, max(final, floors[len(floors)-1]))
	}
}

// testProgressAfterStop: a watch that has ended refuses progress requests
// with an error wrapping ErrClosed (or ErrUnsupported).
func testProgressAfterStop(f *fixture) {
	w := f.watch("/ps/", f.last)
	w.w.Stop()
	w.expectClosed(nil)
	err := w.w.RequestProgress(f.ctx)
	f.wantErr(err, storage.ErrClosed, "RequestProgress after Stop")
}

// testProgressUnsupported is what the progress subtests check of a backend
// that declares it cannot order progress: it says so, with ErrUnsupported,
// rather than answering out of order.
func testProgressUnsupported(f *fixture) {
	w := f.watch("/pu/", f.last)
	f.create("/pu/a", nil)
	f.wantErr(w.w.RequestProgress(f.ctx), storage.ErrUnsupported, "RequestProgress of a backend without ordered progress")
}
