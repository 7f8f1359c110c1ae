package storagetest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"skiff.dev/skiff/internal/storage"
)

func testWatchFromCurrent(f *fixture) {
	a := f.create("/w/a", []byte("a"))
	w := f.watch("/w/", f.current())
	b := f.create("/w/b", []byte("b"))
	a2 := f.update(a, []byte("a2"), a.ModRevision)
	w.expect(created(b), updated(a, a2)) // and not the Create of a
}

// testWatchReplay watches from past revisions: history after since is
// replayed in order, exactly once, and the watch then goes on live.
func testWatchReplay(f *fixture) {
	start := f.last
	a1 := f.create("/w/a", []byte("a1"))
	a2 := f.update(a1, []byte("a2"), a1.ModRevision)
	b := f.create("/w/b", []byte("b"))
	delA := f.delete(a2, a2.ModRevision)
	history := []storage.Event{created(a1), updated(a1, a2), created(b), deleted(a2, delA)}

	var ws []*watchT
	var wants [][]storage.Event
	for i, since := range []storage.Revision{start, a1.ModRevision, a2.ModRevision, b.ModRevision, delA} {
		ws = append(ws, f.watch("/w/", since))
		wants = append(wants, history[i:])
	}
	for i, w := range ws {
		w.expect(wants[i]...)
	}
	c := f.create("/w/c", []byte("c"))
	b2 := f.update(b, []byte("b2"), storage.AnyRevision)
	for _, w := range ws {
		w.expect(created(c), updated(b, b2))
	}
}

func testWatchPrefix(f *fixture) {
	since := f.last
	wP := f.watch("/p/", since)
	wX := f.watch("/p/x/", since)
	wAll := f.watch("", since)

	var all []storage.KeyValue
	for _, k := range []string{"/p", "/pp", "/p/x", "/q/x", "/p/x/y", "/p/xy", "/pp/x", "/p/x/"} {
		all = append(all, f.create(k, nil))
	}
	end := f.create("/p/x/end", nil) // under all three prefixes
	all = append(all, end)
	for _, c := range []struct {
		w      *watchT
		prefix string
	}{{wP, "/p/"}, {wX, "/p/x/"}, {wAll, ""}} {
		var want []storage.Event
		for _, kv := range all {
			if strings.HasPrefix(kv.Key, c.prefix) {
				want = append(want, created(kv))
			}
		}
		c.w.expect(want...)
	}
}

func testWatchEventShapes(f *fixture) {
	w := f.watch("/e/", f.last)
	kv1 := f.create("/e/k", []byte("v1"))
	kv2 := f.update(kv1, []byte("v2"), kv1.ModRevision)
	kv3 := f.update(kv2, []byte("v3"), storage.AnyRevision)
	del := f.delete(kv3, kv3.ModRevision)
	again := f.create("/e/k", []byte("again"))
	del2 := f.delete(again, storage.AnyRevision)

	want := []storage.Event{
		created(kv1), updated(kv1, kv2), updated(kv2, kv3), deleted(kv3, del),
		created(again), deleted(again, del2),
	}
	for i, e := range want {
		got := w.next() // checks each event's shape on its own
		if !sameEvent(got, e) {
			f.t.Fatalf("event %d is\n\t%s\nwant\n\t%s", i+1, fmtEvent(got), fmtEvent(e))
		}
		if got.Type == storage.Deleted && got.KV.ModRevision != got.Revision() {
			f.t.Fatalf("Deleted event: Revision() = %d, want the delete's %d", got.Revision(), got.KV.ModRevision)
		}
	}
}

// writerEvents does creates, updates and deletes on keys of its own and
// returns the events they must produce.
func writerEvents(ctx context.Context, s storage.Store, prefix string, keys int) ([]storage.Event, error) {
	var evs []storage.Event
	for k := range keys {
		key := fmt.Sprintf("%s%d", prefix, k)
		rev, err := s.Create(ctx, key, []byte("c"))
		if err != nil {
			return nil, fmt.Errorf("Create(%q): %w", key, err)
		}
		kv := storage.KeyValue{Key: key, Value: []byte("c"), CreateRevision: rev, ModRevision: rev}
		evs = append(evs, created(kv))
		for i := range 2 {
			val := []byte(fmt.Sprintf("u%d", i))
			rev, err := s.Update(ctx, key, val, kv.ModRevision)
			if err != nil {
				return nil, fmt.Errorf("Update(%q): %w", key, err)
			}
			next := storage.KeyValue{Key: key, Value: val, CreateRevision: kv.CreateRevision, ModRevision: rev}
			evs = append(evs, updated(kv, next))
			kv = next
		}
		rev, old, err := s.Delete(ctx, key, kv.ModRevision)
		if err != nil {
			return nil, fmt.Errorf("Delete(%q): %w", key, err)
		}
		if !sameKV(old, kv) {
			return nil, fmt.Errorf("Delete(%q) returned %s, want %s", key, fmtKV(old), fmtKV(kv))
		}
		evs = append(evs, deleted(kv, rev))
	}
	return evs, nil
}

// testWatchConcurrentWriters: with writers racing, watchers see every
// write exactly once, in revision order.
func testWatchConcurrentWriters(f *fixture) {
	const writers, keys = 4, 3
	since := f.last
	cAll := Collect(f.t, f.watch("/w/", since).w)
	c0 := Collect(f.t, f.watch("/w/0/", since).w)

	var mu sync.Mutex
	var want []storage.Event
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			evs, err := writerEvents(f.ctx, f.s, fmt.Sprintf("/w/%d/", i), keys)
			if err != nil {
				f.t.Error(err)
				return
			}
			mu.Lock()
			want = append(want, evs...)
			mu.Unlock()
		})
	}
	select {
	case <-waitGroupDone(&wg):
	case <-time.After(waitTimeout):
		f.t.Fatalf("writers did not finish within %v", waitTimeout)
	}
	if f.t.Failed() {
		f.t.FailNow()
	}
	slices.SortFunc(want, byRevision)
	revs := make([]storage.Revision, len(want))
	for i, e := range want {
		revs[i] = e.Revision()
	}
	f.advanced("concurrent writes", revs) // distinct, and gapless if exclusive

	var want0 []storage.Event
	for _, e := range want {
		if strings.HasPrefix(e.KV.Key, "/w/0/") {
			want0 = append(want0, e)
		}
	}
	for _, c := range []struct {
		name string
		c    *Collector
		want []storage.Event
	}{{"Watch(/w/)", cAll, want}, {"Watch(/w/0/)", c0, want0}} {
		got, closed, err, ok := c.c.waitUntil(func(evs []storage.Event, closed bool) bool {
			return closed || len(evs) >= len(c.want)
		})
		if !ok || closed {
			f.t.Fatalf("%s got %d of %d events (closed %v, Err %v)", c.name, len(got), len(c.want), closed, err)
		}
		for i := range got {
			if err := eventShapeError(got[i]); err != nil {
				f.t.Fatalf("%s: %v", c.name, err)
			}
			if i > 0 && got[i].Revision() <= got[i-1].Revision() {
				f.t.Fatalf("%s: event at %d after one at %d", c.name, got[i].Revision(), got[i-1].Revision())
			}
		}
		if !slices.EqualFunc(got, c.want, sameEvent) {
			f.t.Fatalf("%s: %s", c.name, diffEvents(got, c.want))
		}
	}
	// Nothing more: the next event is the sentinel.
	end := f.create("/w/0/end", nil)
	for _, c := range []*Collector{cAll, c0} {
		n := len(want0)
		if c == cAll {
			n = len(want)
		}
		got, _, err, ok := c.waitUntil(func(evs []storage.Event, closed bool) bool { return closed || len(evs) > n })
		if !ok || len(got) <= n || !sameEvent(got[n], created(end)) {
			f.t.Fatalf("after %d events, want the sentinel Create of %q next; got%s (Err %v)", n, end.Key, fmtEvents(got[min(n, len(got)):]), err)
		}
	}
}

// testWatchSlowReader: a watcher that does not read never blocks writers;
// it either keeps up or is closed with ErrWatcherTooSlow after delivering a
// correct prefix of its events.
func testWatchSlowReader(f *fixture) {
	const writers, writes = 4, 64
	w := f.watch("/s/", f.last)

	var mu sync.Mutex
	var want []storage.Event
	var wg sync.WaitGroup
	value := make([]byte, 512)
	for i := range writers {
		wg.Go(func() {
			for j := range writes {
				key := fmt.Sprintf("/s/%d/%d", i, j)
				rev, err := f.s.Create(f.ctx, key, value)
				if err != nil {
					f.t.Errorf("Create(%q): %v", key, err)
					return
				}
				mu.Lock()
				want = append(want, created(storage.KeyValue{Key: key, Value: value, CreateRevision: rev, ModRevision: rev}))
				mu.Unlock()
			}
		})
	}
	select {
	case <-waitGroupDone(&wg):
	case <-time.After(waitTimeout):
		f.t.Fatalf("writes did not finish within %v while a watcher was not reading: a slow watcher must be closed, not waited for", waitTimeout)
	}
	if f.t.Failed() {
		f.t.FailNow()
	}
	slices.SortFunc(want, byRevision)

	deadline := time.After(waitTimeout)
	for i, e := range want {
		select {
		case ev, ok := <-w.w.Events():
			if !ok {
				if err := w.w.Err(); !errors.Is(err, storage.ErrWatcherTooSlow) {
					f.t.Fatalf("slow watcher closed after %d of %d events with Err() = %v, want ErrWatcherTooSlow", i, len(want), err)
				}
				f.t.Logf("slow watcher closed with ErrWatcherTooSlow after %d of %d events", i, len(want))
				return
			}
			if !sameEvent(ev, e) {
				f.t.Fatalf("slow watcher: event %d is\n\t%s\nwant\n\t%s", i+1, fmtEvent(ev), fmtEvent(e))
			}
		case <-deadline:
			f.t.Fatalf("slow watcher: got %d of %d events within %v", i, len(want), waitTimeout)
		}
	}
}

func testWatchStop(f *fixture) {
	w := f.watch("/st/", f.last)
	other := f.watch("/st/", f.last)
	w.w.Stop()
	w.expectClosed(nil)
	w.w.Stop() // a second Stop is harmless

	// The store and other watches go on.
	a := f.create("/st/a", nil)
	other.expect(created(a))

	// Stop with events pending: Events closes, possibly after some of them.
	b := f.create("/st/b", nil)
	c := f.create("/st/c", nil)
	other.w.Stop()
	other.expectClosed(nil, created(b), created(c))
}

func testWatchContextCancel(f *fixture) {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	w := f.watchCtx(ctx, "/cc/", f.last)
	other := f.watch("/cc/", f.last)
	a := f.create("/cc/a", nil)
	w.expect(created(a))
	cancel()
	w.expectClosed(nil)

	b := f.create("/cc/b", nil)
	other.expect(created(a), created(b))
}

func testClose(f *fixture) {
	w := f.watch("/x/", f.last)
	kv := f.create("/x/a", nil)
	w.expect(created(kv))
	if err := f.s.Close(); err != nil {
		f.t.Fatalf("Close: %v", err)
	}
	w.expectClosed(storage.ErrClosed)

	// A call that blocks on a closed store fails with a deadline error.
	ctx, cancel := context.WithTimeout(f.ctx, waitTimeout)
	defer cancel()
	f.ctx = ctx
	_, err := f.s.Get(f.ctx, "/x/a")
	f.wantErr(err, storage.ErrClosed, "Get after Close")
	_, err = f.s.List(f.ctx, "/x/", storage.ListOptions{})
	f.wantErr(err, storage.ErrClosed, "List after Close")
	_, err = f.s.Create(f.ctx, "/x/b", nil)
	f.wantErr(err, storage.ErrClosed, "Create after Close")
	_, err = f.s.Update(f.ctx, "/x/a", nil, storage.AnyRevision)
	f.wantErr(err, storage.ErrClosed, "Update after Close")
	_, _, err = f.s.Delete(f.ctx, "/x/a", storage.AnyRevision)
	f.wantErr(err, storage.ErrClosed, "Delete after Close")
	_, err = f.s.CurrentRevision(f.ctx)
	f.wantErr(err, storage.ErrClosed, "CurrentRevision after Close")
	f.expectWatchFails(f.ctx, "/x/", kv.ModRevision, storage.ErrClosed)
}

func byRevision(a, b storage.Event) int { return cmp.Compare(a.Revision(), b.Revision()) }
