package storagetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"skiff.dev/skiff/internal/storage"
)

// kvsUnder returns the KeyValues whose keys start with prefix, sorted by key.
func kvsUnder(prefix string, kvs ...storage.KeyValue) []storage.KeyValue {
	var out []storage.KeyValue
	for _, kv := range kvs {
		if strings.HasPrefix(kv.Key, prefix) {
			out = append(out, kv)
		}
	}
	slices.SortFunc(out, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func testListPrefix(f *fixture) {
	var all []storage.KeyValue
	for _, k := range []string{"/a", "/a/x", "/a/y/z", "/ab", "/ab/x", "/b/x"} {
		all = append(all, f.create(k, []byte("v"+k)))
	}
	for _, prefix := range []string{"/a/", "/a", "/ab/", "/a/x", "/b/", "/c/", ""} {
		f.expectList(prefix, storage.ListOptions{}, kvsUnder(prefix, all...), 0)
	}
	// An empty range has no Continue.
	res := f.expectList("/c/", storage.ListOptions{Limit: 2}, nil, 0)
	if res.Continue != "" {
		f.t.Fatalf("empty List has Continue %q", res.Continue)
	}
}

func testListKeyOrder(f *fixture) {
	keys := []string{"/o/b", "/o/a", "/o/B", "/o/a0", "/o/a/", "/o/-", "/o/10", "/o/9", "/o/a.b", "/o/~", "/o/Z"}
	rnd := rand.New(rand.NewPCG(3, 4))
	rnd.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	var all []storage.KeyValue
	for _, k := range keys {
		all = append(all, f.create(k, []byte(k)))
	}
	want := kvsUnder("/o/", all...) // byte order
	f.expectList("/o/", storage.ListOptions{}, want, 0)
	for _, limit := range []int64{1, 2, 5} {
		got, _ := f.listAll("/o/", storage.AnyRevision, limit)
		if !sameKVs(got, want) {
			f.t.Fatalf("List(/o/) with limit %d, all pages:\n\t%s\nwant\n\t%s", limit, fmtKVs(got), fmtKVs(want))
		}
	}
}

func testListPagination(f *fixture) {
	var all []storage.KeyValue
	for i := range 7 {
		all = append(all, f.create(fmt.Sprintf("/p/%d", i), []byte{byte(i)}))
	}
	f.create("/p", nil)
	f.create("/pa", nil)

	p1 := f.expectList("/p/", storage.ListOptions{Limit: 3}, all[0:3], 4)
	p2 := f.expectList("/p/", storage.ListOptions{Revision: p1.Revision, Limit: 3, Continue: p1.Continue}, all[3:6], 1)
	p3 := f.expectList("/p/", storage.ListOptions{Revision: p1.Revision, Limit: 3, Continue: p2.Continue}, all[6:7], 0)
	if p3.Continue != "" {
		f.t.Fatalf("last page has Continue %q", p3.Continue)
	}

	// A limit that ends exactly at the last key leaves nothing to continue.
	f.expectList("/p/", storage.ListOptions{Limit: 7}, all, 0)
	f.expectList("/p/", storage.ListOptions{Limit: 100}, all, 0)
	p := f.expectList("/p/", storage.ListOptions{Limit: 6}, all[:6], 1)
	f.expectList("/p/", storage.ListOptions{Revision: p.Revision, Limit: 6, Continue: p.Continue}, all[6:], 0)

	for _, limit := range []int64{1, 2, 3, 4} {
		got, _ := f.listAll("/p/", storage.AnyRevision, limit)
		if !sameKVs(got, all) {
			f.t.Fatalf("List(/p/) with limit %d, all pages:\n\t%s\nwant\n\t%s", limit, fmtKVs(got), fmtKVs(all))
		}
	}
}

// testListPaginationSnapshot checks that all pages of a List read the
// first page's revision, whatever is written between them.
func testListPaginationSnapshot(f *fixture) {
	var all []storage.KeyValue
	for i := range 7 {
		all = append(all, f.create(fmt.Sprintf("/p/%d", i), []byte{byte(i)}))
	}
	p1 := f.expectList("/p/", storage.ListOptions{Limit: 3}, all[0:3], 4)

	// Writes before and after the cursor, after the first page.
	a1 := f.create("/p/1a", []byte("new"))
	a5 := f.create("/p/5a", []byte("new"))
	u4 := f.update(all[4], []byte("changed"), all[4].ModRevision)
	f.delete(all[6], storage.AnyRevision)
	u3 := f.update(all[3], []byte("changed"), storage.AnyRevision)
	f.delete(u3, storage.AnyRevision)

	p2 := f.expectList("/p/", storage.ListOptions{Revision: p1.Revision, Limit: 3, Continue: p1.Continue}, all[3:6], 1)
	f.expectList("/p/", storage.ListOptions{Revision: p1.Revision, Limit: 3, Continue: p2.Continue}, all[6:7], 0)

	now := []storage.KeyValue{all[0], all[1], a1, all[2], u4, all[5], a5}
	f.expectList("/p/", storage.ListOptions{}, now, 0)
	got, _ := f.listAll("/p/", storage.AnyRevision, 2)
	if !sameKVs(got, now) {
		f.t.Fatalf("List(/p/) with limit 2, all pages:\n\t%s\nwant\n\t%s", fmtKVs(got), fmtKVs(now))
	}
	// The old snapshot is still whole, page by page.
	got, _ = f.listAll("/p/", p1.Revision, 2)
	if !sameKVs(got, all) {
		f.t.Fatalf("List(/p/) at %d with limit 2, all pages:\n\t%s\nwant\n\t%s", p1.Revision, fmtKVs(got), fmtKVs(all))
	}
}

func testListPastRevision(f *fixture) {
	start := f.last
	a1 := f.create("/h/a", []byte("a1"))
	b1 := f.create("/h/b", []byte("b1"))
	a2 := f.update(a1, []byte("a2"), a1.ModRevision)
	delB := f.delete(b1, b1.ModRevision)
	c1 := f.create("/h/c", []byte("c1"))
	b2 := f.create("/h/b", []byte("b2"))

	at := func(rev storage.Revision, want ...storage.KeyValue) {
		f.t.Helper()
		f.expectList("/h/", storage.ListOptions{Revision: rev}, want, 0)
		got, _ := f.listAll("/h/", rev, 1)
		if !sameKVs(got, want) {
			f.t.Fatalf("List(/h/) at %d with limit 1, all pages:\n\t%s\nwant\n\t%s", rev, fmtKVs(got), fmtKVs(want))
		}
	}
	if start > 0 {
		at(start) // before any of the writes
	}
	at(a1.ModRevision, a1)
	at(b1.ModRevision, a1, b1)
	at(a2.ModRevision, a2, b1) // old value of b, new of a
	at(delB, a2)               // b deleted
	at(c1.ModRevision, a2, c1)
	at(b2.ModRevision, a2, b2, c1) // b re-created
	if !f.exclusive {
		return
	}
	// Between writes nothing else happens on an exclusive store, so every
	// revision is one of ours; the current one too.
	at(f.current(), a2, b2, c1)
}

func testListFutureRevision(f *fixture) {
	f.create("/f/k", nil)
	cur := f.current()
	_, err := f.s.List(f.ctx, "/f/", storage.ListOptions{Revision: cur + 1_000_000})
	f.wantErr(err, storage.ErrFutureRevision, "List far above the current revision")
	if f.exclusive {
		_, err = f.s.List(f.ctx, "/f/", storage.ListOptions{Revision: cur + 1})
		f.wantErr(err, storage.ErrFutureRevision, "List just above the current revision")
	}
	f.list("/f/", storage.ListOptions{Revision: cur})
}

// testListStart: ListOptions.Start begins the range at a key (included),
// also between keys, at a past revision and with a limit; combined with
// Continue or outside the prefix it is ErrInvalid.
func testListStart(f *fixture) {
	var all []storage.KeyValue
	for _, k := range []string{"/s/a", "/s/b", "/s/c", "/s/d"} {
		all = append(all, f.create(k, []byte(k)))
	}
	f.create("/t/a", nil)
	f.expectList("/s/", storage.ListOptions{Start: "/s/b"}, all[1:], 0)
	f.expectList("/s/", storage.ListOptions{Start: "/s/bb"}, all[2:], 0)
	f.expectList("/s/", storage.ListOptions{Start: "/s/e"}, nil, 0)
	f.expectList("/s/", storage.ListOptions{Start: "/s/"}, all, 0)

	p1 := f.expectList("/s/", storage.ListOptions{Start: "/s/b", Limit: 2}, all[1:3], 1)
	f.expectList("/s/", storage.ListOptions{Revision: p1.Revision, Limit: 2, Continue: p1.Continue}, all[3:], 0)

	// At a past revision: the state before /s/b was deleted and /s/bb made.
	past := f.last
	f.delete(all[1], storage.AnyRevision)
	f.create("/s/bb", nil)
	f.expectList("/s/", storage.ListOptions{Revision: past, Start: "/s/b"}, all[1:], 0)

	_, err := f.s.List(f.ctx, "/s/", storage.ListOptions{Start: "/t/a"})
	f.wantErr(err, storage.ErrInvalid, "List with a Start outside the prefix")
	_, err = f.s.List(f.ctx, "/s/", storage.ListOptions{Start: "/s/b", Continue: p1.Continue})
	f.wantErr(err, storage.ErrInvalid, "List with both Start and Continue")
}
