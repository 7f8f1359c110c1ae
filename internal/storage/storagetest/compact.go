package storagetest

import (
	"context"
	"fmt"

	"skiff.dev/skiff/internal/storage"
)

func (f *fixture) compact(rev storage.Revision) {
	f.t.Helper()
	if err := f.s.Compact(f.ctx, rev); err != nil {
		f.t.Fatalf("Compact(%d): %v", rev, err)
	}
	f.current() // compaction is not a write
}

func testCompact(f *fixture) {
	k1a := f.create("/k/1", []byte("a"))
	k1b := f.update(k1a, []byte("b"), k1a.ModRevision)
	k2 := f.create("/k/2", []byte("x"))
	del2 := f.delete(k2, k2.ModRevision)
	k1c := f.update(k1b, []byte("c"), k1b.ModRevision)
	k3 := f.create("/k/3", []byte("y"))

	c := k2.ModRevision
	f.compact(c)
	for _, rev := range []storage.Revision{c - 1, k1a.ModRevision} {
		_, err := f.s.List(f.ctx, "/k/", storage.ListOptions{Revision: rev})
		f.wantErr(err, storage.ErrCompacted, fmt.Sprintf("List at %d after Compact(%d)", rev, c))
	}
	// The state at the compaction revision itself is kept.
	f.expectList("/k/", storage.ListOptions{Revision: c}, []storage.KeyValue{k1b, k2}, 0)
	got, _ := f.listAll("/k/", c, 1)
	if !sameKVs(got, []storage.KeyValue{k1b, k2}) {
		f.t.Fatalf("List(/k/) at %d with limit 1 after Compact(%d): %s", c, c, fmtKVs(got))
	}
	f.expectList("/k/", storage.ListOptions{Revision: del2}, []storage.KeyValue{k1b}, 0)
	f.expectList("/k/", storage.ListOptions{Revision: k1c.ModRevision}, []storage.KeyValue{k1c}, 0)
	f.expectList("/k/", storage.ListOptions{}, []storage.KeyValue{k1c, k3}, 0)
	f.expectGet(k1c)
	f.expectGet(k3)
	f.expectMissing("/k/2")

	// Compacting everything keeps the current state readable and writable.
	cur := f.current()
	f.compact(cur)
	f.expectList("/k/", storage.ListOptions{Revision: cur}, []storage.KeyValue{k1c, k3}, 0)
	f.expectList("/k/", storage.ListOptions{}, []storage.KeyValue{k1c, k3}, 0)
	f.expectGet(k1c)
	k1d := f.update(k1c, []byte("d"), k1c.ModRevision)
	f.delete(k3, k3.ModRevision)
	k4 := f.create("/k/4", nil)
	f.expectList("/k/", storage.ListOptions{}, []storage.KeyValue{k1d, k4}, 0)
	f.expectList("/k/", storage.ListOptions{Revision: cur}, []storage.KeyValue{k1c, k3}, 0)
}

func testCompactErrors(f *fixture) {
	kv := f.create("/ce/k", []byte("1"))
	kv2 := f.update(kv, []byte("2"), kv.ModRevision)
	f.update(kv2, []byte("3"), kv2.ModRevision)

	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	err := f.s.Compact(ctx, kv2.ModRevision)
	f.wantErr(err, context.Canceled, "Compact with a cancelled context")
	// It had no effect: compacting below it still works.
	f.compact(kv.ModRevision)

	err = f.s.Compact(f.ctx, kv.ModRevision)
	f.wantErr(err, storage.ErrCompacted, "Compact at the previous compaction")
	if kv.ModRevision > 1 {
		err = f.s.Compact(f.ctx, kv.ModRevision-1)
		f.wantErr(err, storage.ErrCompacted, "Compact below the previous compaction")
	}
	cur := f.current()
	err = f.s.Compact(f.ctx, cur+1_000_000)
	f.wantErr(err, storage.ErrFutureRevision, "Compact far above the current revision")
	if f.exclusive {
		err = f.s.Compact(f.ctx, cur+1)
		f.wantErr(err, storage.ErrFutureRevision, "Compact just above the current revision")
	}
	f.compact(kv2.ModRevision)
	_, err = f.s.List(f.ctx, "/ce/", storage.ListOptions{Revision: kv.ModRevision})
	f.wantErr(err, storage.ErrCompacted, "List below the compaction")
}

func testWatchAfterCompact(f *fixture) {
	start := f.last
	a1 := f.create("/wc/a", []byte("a1"))
	a2 := f.update(a1, []byte("a2"), a1.ModRevision)
	b1 := f.create("/wc/b", []byte("b1"))
	delA := f.delete(a2, a2.ModRevision)
	c1 := f.create("/wc/c", []byte("c1"))
	b2 := f.update(b1, []byte("b2"), b1.ModRevision)

	c := b1.ModRevision
	f.compact(c)
	// Since c-1 is the boundary the suite leaves open (see the package doc).
	f.expectWatchFails(f.ctx, "/wc/", c-2, storage.ErrCompacted)
	f.expectWatchFails(f.ctx, "/wc/", start, storage.ErrCompacted)
	f.expectWatchFails(f.ctx, "", start, storage.ErrCompacted)

	// From the compaction revision on, history is replayed exactly.
	want := []storage.Event{deleted(a2, delA), created(c1), updated(b1, b2)}
	w := f.watch("/wc/", c)
	wAll := f.watch("", c)
	wLater := f.watch("/wc/", delA)
	w.expect(want...)
	wAll.expect(want...)
	wLater.expect(want[1:]...)
	d := f.create("/wc/d", nil)
	for _, w := range []*watchT{w, wAll, wLater} {
		w.expect(created(d))
	}

	// Watches that have caught up survive a compaction past them.
	cur := f.current()
	f.compact(cur)
	f.expectWatchFails(f.ctx, "/wc/", c, storage.ErrCompacted)
	wNow := f.watch("/wc/", cur)
	e := f.create("/wc/e", nil)
	for _, w := range []*watchT{w, wAll, wLater, wNow} {
		w.expect(created(e))
	}
}
