package etcd_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/etcd"
)

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func wantKV(t *testing.T, got, want storage.KeyValue, what string) {
	t.Helper()
	if got.Key != want.Key || !bytes.Equal(got.Value, want.Value) ||
		got.CreateRevision != want.CreateRevision || got.ModRevision != want.ModRevision {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

// Revisions are etcd's own: a fresh cluster is at 1, the first write is 2,
// and every write advances by one.
func TestRevisionsAreEtcds(t *testing.T) {
	s := newExclusiveStore(t)
	ctx := testCtx(t)
	if rev, err := s.CurrentRevision(ctx); err != nil || rev != 1 {
		t.Fatalf("CurrentRevision of a new cluster = %d, %v; want 1", rev, err)
	}
	for i, want := range []storage.Revision{2, 3, 4} {
		rev, err := s.Create(ctx, fmt.Sprintf("k%d", i), []byte("v"))
		if err != nil || rev != want {
			t.Fatalf("Create #%d = %d, %v; want revision %d", i, rev, err, want)
		}
	}
	if _, err := s.Create(ctx, "k0", nil); !errors.Is(err, storage.ErrKeyExists) {
		t.Fatalf("Create of an existing key: %v", err)
	}
	if rev, err := s.CurrentRevision(ctx); err != nil || rev != 4 {
		t.Fatalf("CurrentRevision after a failed write = %d, %v; want 4", rev, err)
	}
}

func TestCRUD(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)

	_, err := s.Get(ctx, "a")
	wantErr(t, err, storage.ErrNotFound, "Get of a missing key")

	r1, err := s.Create(ctx, "a", []byte("v1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	kv, err := s.Get(ctx, "a")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	wantKV(t, kv, storage.KeyValue{Key: "a", Value: []byte("v1"), CreateRevision: r1, ModRevision: r1}, "Get after Create")
	_, err = s.Create(ctx, "a", []byte("again"))
	wantErr(t, err, storage.ErrKeyExists, "second Create")

	_, err = s.Update(ctx, "a", []byte("x"), r1+100)
	wantErr(t, err, storage.ErrConflict, "Update at a wrong revision")
	_, err = s.Update(ctx, "missing", []byte("x"), r1)
	wantErr(t, err, storage.ErrNotFound, "Update of a missing key")
	_, err = s.Update(ctx, "missing", []byte("x"), storage.AnyRevision)
	wantErr(t, err, storage.ErrNotFound, "unconditional Update of a missing key")

	r2, err := s.Update(ctx, "a", []byte("v2"), r1)
	if err != nil || r2 != r1+1 {
		t.Fatalf("Update = %d, %v; want revision %d", r2, err, r1+1)
	}
	r3, err := s.Update(ctx, "a", []byte("v3"), storage.AnyRevision)
	if err != nil || r3 != r2+1 {
		t.Fatalf("unconditional Update = %d, %v; want revision %d", r3, err, r2+1)
	}
	kv, _ = s.Get(ctx, "a")
	wantKV(t, kv, storage.KeyValue{Key: "a", Value: []byte("v3"), CreateRevision: r1, ModRevision: r3}, "Get after Updates")

	_, _, err = s.Delete(ctx, "a", r2)
	wantErr(t, err, storage.ErrConflict, "Delete at a stale revision")
	r4, prev, err := s.Delete(ctx, "a", r3)
	if err != nil || r4 != r3+1 {
		t.Fatalf("Delete = %d, %v; want revision %d", r4, err, r3+1)
	}
	wantKV(t, prev, kv, "Delete's deleted state")
	_, err = s.Get(ctx, "a")
	wantErr(t, err, storage.ErrNotFound, "Get after Delete")
	_, _, err = s.Delete(ctx, "a", r3)
	wantErr(t, err, storage.ErrNotFound, "Delete of a deleted key")
	_, _, err = s.Delete(ctx, "a", storage.AnyRevision)
	wantErr(t, err, storage.ErrNotFound, "unconditional Delete of a deleted key")

	r5, err := s.Create(ctx, "a", nil)
	if err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	kv, _ = s.Get(ctx, "a")
	wantKV(t, kv, storage.KeyValue{Key: "a", CreateRevision: r5, ModRevision: r5}, "Get of a recreated key")
	r6, prev, err := s.Delete(ctx, "a", storage.AnyRevision)
	if err != nil || r6 != r5+1 {
		t.Fatalf("unconditional Delete = %d, %v", r6, err)
	}
	wantKV(t, prev, kv, "unconditional Delete's deleted state")
}

// Values passed in are copied; a caller reusing its buffer changes nothing.
func TestValueNotRetained(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)
	buf := []byte("original")
	if _, err := s.Create(ctx, "k", buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!")
	if kv, err := s.Get(ctx, "k"); err != nil || string(kv.Value) != "original" {
		t.Fatalf("Get = %q, %v; want the value as written", kv.Value, err)
	}
}

func TestInvalid(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)
	_, err := s.Get(ctx, "")
	wantErr(t, err, storage.ErrInvalid, "Get(\"\")")
	_, err = s.Create(ctx, "", nil)
	wantErr(t, err, storage.ErrInvalid, "Create(\"\")")
	_, err = s.Update(ctx, "k", nil, -1)
	wantErr(t, err, storage.ErrInvalid, "Update at a negative revision")
	_, _, err = s.Delete(ctx, "", storage.AnyRevision)
	wantErr(t, err, storage.ErrInvalid, "Delete(\"\")")
	_, err = s.List(ctx, "", storage.ListOptions{Limit: -1})
	wantErr(t, err, storage.ErrInvalid, "List with a negative limit")
	_, err = s.List(ctx, "", storage.ListOptions{Revision: -1})
	wantErr(t, err, storage.ErrInvalid, "List at a negative revision")
	_, err = s.Watch(ctx, "", -1)
	wantErr(t, err, storage.ErrInvalid, "Watch from a negative revision")
	err = s.Compact(ctx, 0)
	wantErr(t, err, storage.ErrInvalid, "Compact(0)")

	_, err = etcd.New(ctx, etcd.Config{})
	wantErr(t, err, storage.ErrInvalid, "New without endpoints")
	_, err = etcd.New(ctx, etcd.Config{Endpoints: []string{"http://127.0.0.1:1"}, TLS: &tls.Config{}, CAFile: "ca.pem"})
	wantErr(t, err, storage.ErrInvalid, "New with TLS and certificate files")
}

// New fails, within its deadline, when nothing listens at the endpoint.
func TestNewUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	s, err := etcd.New(t.Context(), etcd.Config{
		Endpoints:   []string{"http://" + addr},
		DialTimeout: 200 * time.Millisecond,
		Logger:      zap.NewNop(),
	})
	if err == nil {
		s.Close()
		t.Fatal("New succeeded with no etcd at the endpoint")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("New took %v to fail", d)
	}
}

// The Prefix is invisible to the Store's user and isolates Stores sharing a
// cluster.
func TestPrefix(t *testing.T) {
	c := sharedCluster(t)
	p := uniquePrefix(t)
	a := newStore(t, c.Endpoints(), p+"a/")
	b := newStore(t, c.Endpoints(), p+"b/")
	ctx := testCtx(t)

	rev, err := a.Create(ctx, "/k", []byte("from a"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Get(ctx, "/k")
	wantErr(t, err, storage.ErrNotFound, "Get through another prefix")
	if res, err := b.List(ctx, "", storage.ListOptions{}); err != nil || len(res.KVs) != 0 {
		t.Fatalf("List through another prefix = %+v, %v; want empty", res.KVs, err)
	}
	if _, err := b.Create(ctx, "/k", []byte("from b")); err != nil {
		t.Fatalf("Create of the same key under another prefix: %v", err)
	}

	res, err := a.List(ctx, "", storage.ListOptions{})
	if err != nil || len(res.KVs) != 1 || res.KVs[0].Key != "/k" {
		t.Fatalf("List = %+v, %v; want just /k without the prefix", res.KVs, err)
	}
	_, prev, err := a.Delete(ctx, "/k", rev)
	if err != nil || prev.Key != "/k" {
		t.Fatalf("Delete = %+v, %v; want /k without the prefix", prev, err)
	}

	// What etcd itself holds is the prefixed key.
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	raw, err := cli.Get(ctx, p+"b//k")
	if err != nil || len(raw.Kvs) != 1 || string(raw.Kvs[0].Value) != "from b" {
		t.Fatalf("raw Get of the prefixed key = %v, %v", raw, err)
	}
}

func TestList(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)
	var want []storage.KeyValue
	for i := range 10 {
		key := fmt.Sprintf("a/%02d", i)
		rev, err := s.Create(ctx, key, []byte(key))
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, storage.KeyValue{Key: key, Value: []byte(key), CreateRevision: rev, ModRevision: rev})
	}
	for _, key := range []string{"a", "b/x", "a0"} {
		if _, err := s.Create(ctx, key, nil); err != nil {
			t.Fatal(err)
		}
	}

	all, err := s.List(ctx, "a/", storage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.KVs) != 10 || all.Continue != "" || all.Remaining != 0 {
		t.Fatalf("List(a/) = %d keys, Continue %q, Remaining %d; want 10, none, 0", len(all.KVs), all.Continue, all.Remaining)
	}
	for i := range want {
		wantKV(t, all.KVs[i], want[i], fmt.Sprintf("List(a/)[%d]", i))
	}
	if cur, _ := s.CurrentRevision(ctx); all.Revision != cur {
		t.Fatalf("List revision %d, want the current %d", all.Revision, cur)
	}
	if res, err := s.List(ctx, "", storage.ListOptions{}); err != nil || len(res.KVs) != 13 {
		t.Fatalf("List(\"\") = %d keys, %v; want 13", len(res.KVs), err)
	}
	if res, err := s.List(ctx, "a/", storage.ListOptions{Limit: 10}); err != nil || res.Continue != "" || res.Remaining != 0 {
		t.Fatalf("List with a limit equal to the count: Continue %q, Remaining %d, %v; want neither", res.Continue, res.Remaining, err)
	}

	// Pages of 3 at one revision, while the keys change underneath.
	snapshot := all.Revision
	opts := storage.ListOptions{Limit: 3}
	var got []storage.KeyValue
	for page, remaining := range []int64{7, 4, 1, 0} {
		res, err := s.List(ctx, "a/", opts)
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if res.Remaining != remaining || (res.Continue != "") != (remaining > 0) || res.Revision != snapshot {
			t.Fatalf("page %d: Remaining %d, Continue %q, revision %d; want %d, Continue iff more, %d",
				page, res.Remaining, res.Continue, res.Revision, remaining, snapshot)
		}
		got = append(got, res.KVs...)
		if page == 0 {
			if _, err := s.Update(ctx, "a/05", []byte("changed"), storage.AnyRevision); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Delete(ctx, "a/09", storage.AnyRevision); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, "a/10", nil); err != nil {
				t.Fatal(err)
			}
		}
		opts = storage.ListOptions{Revision: res.Revision, Limit: 3, Continue: res.Continue}
	}
	if len(got) != len(want) {
		t.Fatalf("paged List returned %d keys, want %d", len(got), len(want))
	}
	for i := range want {
		wantKV(t, got[i], want[i], fmt.Sprintf("paged List [%d]", i))
	}

	// Current state differs from the snapshot.
	now, err := s.List(ctx, "a/", storage.ListOptions{})
	if err != nil || len(now.KVs) != 10 || string(now.KVs[5].Value) != "changed" || now.KVs[9].Key != "a/10" {
		t.Fatalf("List now = %+v, %v", now.KVs, err)
	}

	_, err = s.List(ctx, "a/", storage.ListOptions{Revision: now.Revision + 1000})
	wantErr(t, err, storage.ErrFutureRevision, "List at a future revision")
	wantErr(t, err, rpctypes.ErrFutureRev, "List at a future revision (etcd's error kept)")
	_, err = s.List(ctx, "a/", storage.ListOptions{Limit: 1, Continue: "not base64!"})
	wantErr(t, err, storage.ErrInvalid, "List with a malformed Continue")
	first, _ := s.List(ctx, "a/", storage.ListOptions{Limit: 1})
	_, err = s.List(ctx, "b/", storage.ListOptions{Limit: 1, Continue: first.Continue})
	wantErr(t, err, storage.ErrInvalid, "List with another prefix's Continue")
}

func TestCompact(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)
	r1, _ := s.Create(ctx, "k", []byte("1"))
	r2, _ := s.Update(ctx, "k", []byte("2"), r1)
	r3, _ := s.Update(ctx, "k", []byte("3"), r2)
	r4, _ := s.Update(ctx, "k", []byte("4"), r3)

	if err := s.Compact(ctx, r3); err != nil {
		t.Fatalf("Compact(%d): %v", r3, err)
	}
	res, err := s.List(ctx, "", storage.ListOptions{Revision: r3})
	if err != nil || len(res.KVs) != 1 || string(res.KVs[0].Value) != "3" {
		t.Fatalf("List at the compaction revision = %+v, %v; want k=3", res.KVs, err)
	}
	_, err = s.List(ctx, "", storage.ListOptions{Revision: r2})
	wantErr(t, err, storage.ErrCompacted, "List below the compaction")
	wantErr(t, err, rpctypes.ErrCompacted, "List below the compaction (etcd's error kept)")

	wantErr(t, s.Compact(ctx, r3), storage.ErrCompacted, "Compact at the same revision again")
	wantErr(t, s.Compact(ctx, r2), storage.ErrCompacted, "Compact below an earlier compaction")
	wantErr(t, s.Compact(ctx, r4+1000), storage.ErrFutureRevision, "Compact in the future")

	// A watch from compacted history fails synchronously, from Watch.
	_, err = s.Watch(ctx, "", r1)
	wantErr(t, err, storage.ErrCompacted, "Watch from a compacted revision")
	_, err = s.Watch(ctx, "", 0)
	wantErr(t, err, storage.ErrCompacted, "Watch from revision 0 after a compaction")

	// From the compaction revision on, history is complete.
	c := collect(t, mustWatch(t, s, "", r3))
	evs, _ := c.WaitUntil(t, "the update after the compaction", func(evs []storage.Event, _ bool) bool { return len(evs) >= 1 })
	if e := evs[0]; e.Type != storage.Updated || e.Revision() != r4 || string(e.KV.Value) != "4" || e.Prev.ModRevision != r3 {
		t.Fatalf("first event after the compaction = %s, want the update at %d", fmtEvent(e), r4)
	}
	if kv, err := s.Get(ctx, "k"); err != nil || kv.ModRevision != r4 {
		t.Fatalf("Get after compaction = %+v, %v", kv, err)
	}
}

func TestClose(t *testing.T) {
	s := newSharedStore(t)
	ctx := testCtx(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Get(ctx, "k")
	wantErr(t, err, storage.ErrClosed, "Get after Close")
	_, err = s.List(ctx, "", storage.ListOptions{})
	wantErr(t, err, storage.ErrClosed, "List after Close")
	_, err = s.Create(ctx, "k", nil)
	wantErr(t, err, storage.ErrClosed, "Create after Close")
	_, err = s.Update(ctx, "k", nil, storage.AnyRevision)
	wantErr(t, err, storage.ErrClosed, "Update after Close")
	_, _, err = s.Delete(ctx, "k", storage.AnyRevision)
	wantErr(t, err, storage.ErrClosed, "Delete after Close")
	_, err = s.Watch(ctx, "", 0)
	wantErr(t, err, storage.ErrClosed, "Watch after Close")
	_, err = s.CurrentRevision(ctx)
	wantErr(t, err, storage.ErrClosed, "CurrentRevision after Close")
	wantErr(t, s.Compact(ctx, 1), storage.ErrClosed, "Compact after Close")
}

// A cancelled context fails each call with context.Canceled.
func TestCancelledContext(t *testing.T) {
	s := newSharedStore(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Get(ctx, "k")
	wantErr(t, err, context.Canceled, "Get")
	_, err = s.Create(ctx, "k", nil)
	wantErr(t, err, context.Canceled, "Create")
	_, err = s.List(ctx, "", storage.ListOptions{})
	wantErr(t, err, context.Canceled, "List")
	_, err = s.Watch(ctx, "", 0)
	wantErr(t, err, context.Canceled, "Watch")
}

func mustWatch(t *testing.T, s storage.Store, prefix string, since storage.Revision) storage.Watch {
	t.Helper()
	w, err := s.Watch(testCtx(t), prefix, since)
	if err != nil {
		t.Fatalf("Watch(%q, %d): %v", prefix, since, err)
	}
	return w
}
