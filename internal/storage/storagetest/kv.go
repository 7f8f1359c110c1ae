package storagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"skiff.dev/skiff/internal/storage"
)

func testGet(f *fixture) {
	f.expectMissing("/g/k")
	kv := f.create("/g/k", []byte("v"))
	f.expectGet(kv)
	// Neither a prefix of a key nor a longer key is that key.
	f.expectMissing("/g/")
	f.expectMissing("/g")
	f.expectMissing("/g/kk")
}

func testCreate(f *fixture) {
	kv := f.create("/c/k", []byte("v1")) // revision == ModRevision == CreateRevision, via Get
	_, err := f.s.Create(f.ctx, "/c/k", []byte("v2"))
	f.wantErr(err, storage.ErrKeyExists, "Create of an existing key")
	f.current() // a failed write is not a write
	f.expectGet(kv)

	kv2 := f.create("/c/k2", []byte("v"))
	if kv2.CreateRevision <= kv.CreateRevision {
		f.t.Fatalf("second Create got revision %d, not above the first's %d", kv2.CreateRevision, kv.CreateRevision)
	}
	f.expectGet(kv)
}

func testUpdate(f *fixture) {
	kv1 := f.create("/u/k", []byte("v1"))
	kv2 := f.update(kv1, []byte("v2"), kv1.ModRevision) // CreateRevision kept, ModRevision advanced

	_, err := f.s.Update(f.ctx, "/u/k", []byte("stale"), kv1.ModRevision)
	f.wantErr(err, storage.ErrConflict, "Update with a stale revision")
	_, err = f.s.Update(f.ctx, "/u/k", []byte("future"), kv2.ModRevision+1000)
	f.wantErr(err, storage.ErrConflict, "Update with a revision the key never had")
	_, err = f.s.Update(f.ctx, "/u/missing", []byte("v"), storage.AnyRevision)
	f.wantErr(err, storage.ErrNotFound, "unconditional Update of a missing key")
	_, err = f.s.Update(f.ctx, "/u/missing", []byte("v"), kv2.ModRevision)
	f.wantErr(err, storage.ErrNotFound, "Update of a missing key with an expected revision")
	f.current()
	f.expectGet(kv2)
	f.expectMissing("/u/missing")

	kv3 := f.update(kv2, []byte("v3"), storage.AnyRevision)
	kv4 := f.update(kv3, []byte("v3"), kv3.ModRevision) // the same value is still a write
	if kv4.CreateRevision != kv1.CreateRevision {
		f.t.Fatalf("CreateRevision changed by updates: %d, want %d", kv4.CreateRevision, kv1.CreateRevision)
	}

	// A revision the key had before it was deleted does not revive it.
	f.delete(kv4, storage.AnyRevision)
	_, err = f.s.Update(f.ctx, "/u/k", []byte("v"), kv4.ModRevision)
	f.wantErr(err, storage.ErrNotFound, "Update of a deleted key with its last revision")
	f.current()
}

func testDelete(f *fixture) {
	kv1 := f.create("/d/k", []byte("v1"))
	kv2 := f.update(kv1, []byte("v2"), kv1.ModRevision)

	_, _, err := f.s.Delete(f.ctx, "/d/k", kv1.ModRevision)
	f.wantErr(err, storage.ErrConflict, "Delete with a stale revision")
	f.current()
	f.expectGet(kv2)

	del := f.delete(kv2, kv2.ModRevision) // returns the deleted state
	_, _, err = f.s.Delete(f.ctx, "/d/k", storage.AnyRevision)
	f.wantErr(err, storage.ErrNotFound, "unconditional Delete of a deleted key")
	_, _, err = f.s.Delete(f.ctx, "/d/k", kv2.ModRevision)
	f.wantErr(err, storage.ErrNotFound, "Delete of a deleted key with its last revision")
	_, _, err = f.s.Delete(f.ctx, "/d/never", storage.AnyRevision)
	f.wantErr(err, storage.ErrNotFound, "Delete of a key that never existed")
	f.current()

	other := f.create("/d/other", []byte("o"))
	f.delete(other, storage.AnyRevision)

	again := f.create("/d/k", []byte("again"))
	if again.CreateRevision <= del {
		f.t.Fatalf("re-created key has CreateRevision %d, want above the delete's %d", again.CreateRevision, del)
	}
	_, _, err = f.s.Delete(f.ctx, "/d/k", kv2.ModRevision)
	f.wantErr(err, storage.ErrConflict, "Delete of a re-created key with the old incarnation's revision")
	f.expectGet(again)
}

// testValues checks that values round-trip exactly through Get, List and
// Watch: every byte value, empty values and a 1 MiB value.
func testValues(f *fixture) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	big2 := append([]byte(nil), big...)
	big2[len(big2)/2] ^= 0xff

	w := f.watch("/v/", f.last)
	kvs := []storage.KeyValue{
		f.create("/v/binary", binary),
		f.create("/v/empty", []byte{}),
		f.create("/v/nil", nil),
		f.create("/v/nul", []byte{0}),
		f.create("/v/big", big),
	}
	bigKV := f.update(kvs[4], big2, kvs[4].ModRevision)

	w.expect(created(kvs[0]), created(kvs[1]), created(kvs[2]), created(kvs[3]), created(kvs[4]), updated(kvs[4], bigKV))
	kvs[4] = bigKV
	f.expectList("/v/", storage.ListOptions{}, []storage.KeyValue{kvs[4], kvs[0], kvs[1], kvs[2], kvs[3]}, 0)
}

// testValuesNotRetained checks that the store copies the value it is given.
func testValuesNotRetained(f *fixture) {
	buf := []byte("original")
	kv := f.create("/r/k", buf)
	copy(buf, "CLOBBER!")
	f.expectGet(kv)

	buf = []byte("updated")
	kv = f.update(kv, buf, kv.ModRevision)
	copy(buf, "CLOBBER")
	f.expectGet(kv)
	f.expectList("/r/", storage.ListOptions{}, []storage.KeyValue{kv}, 0)
}

func testInvalid(f *fixture) {
	_, err := f.s.Get(f.ctx, "")
	f.wantErr(err, storage.ErrInvalid, `Get("")`)
	_, err = f.s.Create(f.ctx, "", []byte("v"))
	f.wantErr(err, storage.ErrInvalid, `Create("")`)
	_, err = f.s.Update(f.ctx, "", []byte("v"), storage.AnyRevision)
	f.wantErr(err, storage.ErrInvalid, `Update("")`)
	_, _, err = f.s.Delete(f.ctx, "", storage.AnyRevision)
	f.wantErr(err, storage.ErrInvalid, `Delete("")`)
	_, err = f.s.List(f.ctx, "/i/", storage.ListOptions{Limit: -1})
	f.wantErr(err, storage.ErrInvalid, "List with a negative Limit")
	_, err = f.s.List(f.ctx, "/i/", storage.ListOptions{Revision: -1})
	f.wantErr(err, storage.ErrInvalid, "List at a negative Revision")
	f.current()
	f.expectList("", storage.ListOptions{}, nil, 0)
}

// testCancelledContext calls every method with a cancelled context: each
// fails with context.Canceled and changes nothing. (Compact is checked in
// CompactErrors, which runs alone.)
func testCancelledContext(f *fixture) {
	kv := f.create("/x/k", []byte("v"))
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()

	_, err := f.s.Get(ctx, "/x/k")
	f.wantErr(err, context.Canceled, "Get with a cancelled context")
	_, err = f.s.List(ctx, "/x/", storage.ListOptions{})
	f.wantErr(err, context.Canceled, "List with a cancelled context")
	_, err = f.s.CurrentRevision(ctx)
	f.wantErr(err, context.Canceled, "CurrentRevision with a cancelled context")
	_, err = f.s.Create(ctx, "/x/new", []byte("v"))
	f.wantErr(err, context.Canceled, "Create with a cancelled context")
	_, err = f.s.Update(ctx, "/x/k", []byte("v2"), kv.ModRevision)
	f.wantErr(err, context.Canceled, "Update with a cancelled context")
	_, _, err = f.s.Delete(ctx, "/x/k", storage.AnyRevision)
	f.wantErr(err, context.Canceled, "Delete with a cancelled context")

	f.current()
	f.expectGet(kv)
	f.expectMissing("/x/new")

	// Watch either refuses or returns a watch that ends at once, as a
	// watch ends when its context is cancelled: with Err() == nil.
	w, err := f.s.Watch(ctx, "/x/", f.last)
	if err != nil {
		f.wantErr(err, context.Canceled, "Watch with a cancelled context")
	} else {
		defer w.Stop()
		(&watchT{t: f.t, w: w, name: "Watch with a cancelled context"}).expectClosed(nil)
	}
	// The store still works.
	f.update(kv, []byte("v2"), kv.ModRevision)
}

func testCurrentRevision(f *fixture) {
	for i := range 5 {
		kv := f.create(fmt.Sprintf("/cr/%d", i), []byte("v"))
		if cur := f.current(); cur < kv.ModRevision {
			f.t.Fatalf("CurrentRevision %d after a write at %d", cur, kv.ModRevision)
		}
	}

	// Read CurrentRevision while others write: it never goes backwards and
	// covers every write acknowledged before the read began.
	const writers, writes = 2, 10
	var mu sync.Mutex
	var revs []storage.Revision
	var maxAcked storage.Revision
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				rev, err := f.s.Create(f.ctx, fmt.Sprintf("/crw/%d/%d", w, i), []byte("v"))
				if err != nil {
					f.t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				revs = append(revs, rev)
				maxAcked = max(maxAcked, rev)
				mu.Unlock()
			}
		})
	}
	done := waitGroupDone(&wg)
	prev := f.last
	deadline := time.After(waitTimeout)
	for reading := true; reading; {
		select {
		case <-done:
			reading = false
		case <-deadline:
			f.t.Fatalf("writers did not finish within %v", waitTimeout)
		default:
		}
		mu.Lock()
		acked := maxAcked
		mu.Unlock()
		cur, err := f.s.CurrentRevision(f.ctx)
		if err != nil {
			f.t.Fatalf("CurrentRevision: %v", err)
		}
		if cur < prev || cur < acked {
			f.t.Fatalf("CurrentRevision = %d, after reading %d and with a write acknowledged at %d", cur, prev, acked)
		}
		prev = cur
	}
	if f.t.Failed() {
		f.t.FailNow()
	}
	f.advanced("concurrent Creates", revs)
	f.current()
}

// testRevisionsGapless checks, on a store that owns its revision counter,
// that revisions are gapless: failed writes take none, concurrent writes
// take consecutive ones, and a watch sees every one of them.
func testRevisionsGapless(f *fixture) {
	start := f.last
	kv := f.create("/gap/k", []byte("v"))
	_, err := f.s.Create(f.ctx, "/gap/k", []byte("v"))
	f.wantErr(err, storage.ErrKeyExists, "Create of an existing key")
	f.current()
	_, err = f.s.Update(f.ctx, "/gap/k", []byte("v"), kv.ModRevision+7)
	f.wantErr(err, storage.ErrConflict, "Update with a wrong revision")
	f.current()
	_, err = f.s.Update(f.ctx, "/gap/missing", []byte("v"), storage.AnyRevision)
	f.wantErr(err, storage.ErrNotFound, "Update of a missing key")
	f.current()
	_, _, err = f.s.Delete(f.ctx, "/gap/k", kv.ModRevision+7)
	f.wantErr(err, storage.ErrConflict, "Delete with a wrong revision")
	f.current()
	_, _, err = f.s.Delete(f.ctx, "/gap/missing", storage.AnyRevision)
	f.wantErr(err, storage.ErrNotFound, "Delete of a missing key")
	f.current()

	const writers, writes = 4, 8
	revs := make([]storage.Revision, 0, writers*writes)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range writes {
				rev, err := f.s.Create(f.ctx, fmt.Sprintf("/gap/%d/%d", w, i), nil)
				if err != nil {
					f.t.Errorf("Create: %v", err)
					return
				}
				mu.Lock()
				revs = append(revs, rev)
				mu.Unlock()
			}
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
	f.advanced("concurrent Creates", revs) // exactly the next revisions
	f.current()

	w := f.watch("/gap/", start)
	for rev := start + 1; rev <= f.last; rev++ {
		if ev := w.next(); ev.Revision() != rev {
			f.t.Fatalf("watch from %d: event at %d, want %d", start, ev.Revision(), rev)
		}
	}
}
