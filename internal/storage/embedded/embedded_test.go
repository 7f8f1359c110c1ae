package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"skiff.dev/skiff/internal/storage"
)

func openTest(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestReopenKeepsStateAndHistory(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	r1, _ := s.Create(ctx, "/a", []byte("1"))
	r2, _ := s.Update(ctx, "/a", []byte("2"), r1)
	s.Create(ctx, "/b", []byte("b"))
	r4, _, _ := s.Delete(ctx, "/b", storage.AnyRevision)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, dir, Options{})
	if cur, _ := s.CurrentRevision(ctx); cur != r4 {
		t.Fatalf("current revision after reopen = %d, want %d", cur, r4)
	}
	kv, err := s.Get(ctx, "/a")
	if err != nil || string(kv.Value) != "2" || kv.ModRevision != r2 || kv.CreateRevision != r1 {
		t.Fatalf("Get /a after reopen = %+v, %v", kv, err)
	}
	if _, err := s.Get(ctx, "/b"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted /b after reopen: %v", err)
	}
	// A watch from before the restart resumes from the persisted history.
	w, err := s.Watch(ctx, "/", r1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for _, want := range []struct {
		typ storage.EventType
		key string
	}{{storage.Updated, "/a"}, {storage.Created, "/b"}, {storage.Deleted, "/b"}} {
		ev := <-w.Events()
		if ev.Type != want.typ || ev.KV.Key != want.key {
			t.Fatalf("replayed %v %s, want %v %s", ev.Type, ev.KV.Key, want.typ, want.key)
		}
	}
	// Revisions continue after the persisted ones.
	if r, _ := s.Create(ctx, "/c", nil); r != r4+1 {
		t.Fatalf("first write after reopen at %d, want %d", r, r4+1)
	}
}

func TestAutomaticCompactionBoundsHistoryAndDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const history = 100
	s := openTest(t, dir, Options{History: history})
	start, _ := s.CurrentRevision(ctx)
	value := make([]byte, 1024)
	rev, _ := s.Create(ctx, "/k", value)
	for range 2000 {
		var err error
		if rev, err = s.Update(ctx, "/k", value, rev); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.RLock()
	compacted, window := s.hist.compacted, s.hist.n
	s.mu.RUnlock()
	if window > history+history/4+1 || compacted <= start {
		t.Fatalf("after 2000 writes with History %d: window %d events, compacted at %d", history, window, compacted)
	}
	if _, err := s.Watch(ctx, "/", start); !errors.Is(err, storage.ErrCompacted) {
		t.Fatalf("watch from before automatic compaction: %v, want ErrCompacted", err)
	}
	if _, err := s.List(ctx, "/", storage.ListOptions{Revision: compacted}); err != nil {
		t.Fatalf("list at the compaction revision: %v", err)
	}
	// The log holds the live key plus the window, not all 2001 versions.
	records := 0
	s.db.View(func(tx *bolt.Tx) error {
		records = tx.Bucket(bucketLog).Stats().KeyN
		return nil
	})
	if records > history+history/4+2 {
		t.Fatalf("log holds %d records after compaction, want about %d", records, history)
	}
	s.Close()
	s = openTest(t, dir, Options{History: history})
	if kv, err := s.Get(ctx, "/k"); err != nil || kv.ModRevision != rev {
		t.Fatalf("after reopen: %+v %v, want revision %d", kv, err, rev)
	}
}

func TestSlowWatcherIsClosedWithoutBlockingWriters(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, t.TempDir(), Options{WatchQueue: 10})
	rev, _ := s.CurrentRevision(ctx)
	slow, err := s.Watch(ctx, "/", rev) // never read
	if err != nil {
		t.Fatal(err)
	}
	fast, err := s.Watch(ctx, "/", rev)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Stop()
	const writes = 200
	got := make(chan int)
	go func() {
		n := 0
		for range fast.Events() {
			if n++; n == writes {
				break
			}
		}
		got <- n
	}()
	for i := range writes {
		if _, err := s.Create(ctx, fmt.Sprintf("/k%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case n := <-got:
		if n != writes {
			t.Fatalf("fast watcher saw %d events, want %d", n, writes)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fast watcher did not see all events")
	}
	select {
	case _, ok := <-slow.Events():
		for ok {
			_, ok = <-slow.Events()
		}
	case <-time.After(10 * time.Second):
		t.Fatal("slow watcher was not closed")
	}
	if !errors.Is(slow.Err(), storage.ErrWatcherTooSlow) {
		t.Fatalf("slow watcher ended with %v, want ErrWatcherTooSlow", slow.Err())
	}
}

func TestSecondOpenOfTheSameDirFails(t *testing.T) {
	dir := t.TempDir()
	openTest(t, dir, Options{})
	if _, err := Open(dir, Options{OpenTimeout: 50 * time.Millisecond}); err == nil {
		t.Fatal("second Open of a data dir in use succeeded")
	}
}

func TestCorruptLogFailsOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	for i := range 5 {
		s.Create(ctx, fmt.Sprintf("/k%d", i), []byte("v"))
	}
	cur, _ := s.CurrentRevision(ctx)
	s.Close() // checkpoints: the records are in the database now
	// Remove a record from the middle of the history: a gap must be refused.
	db, err := bolt.Open(filepath.Join(dir, FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketLog).Delete(revKey(cur - 2)) }); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, errCorruptRecord) {
		t.Fatalf("Open of a log with a gap: %v, want errCorruptRecord", err)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Fatal(err)
	}
}
