package etcd_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"skiff.dev/skiff/internal/etcdtest"
	"skiff.dev/skiff/internal/storage"
)

// writeTimeout bounds one write during failover; a write that times out is
// simply not acknowledged. A write proposed through a dying leader is never
// answered by etcd, only timed out, so this is short.
const writeTimeout = time.Second

// startFailoverCluster starts three members with half of etcd's default raft
// timing, so a leader's death is noticed and replaced in about a second.
func startFailoverCluster(t *testing.T) *etcdtest.Cluster {
	return etcdtest.StartClusterOptions(t, etcdtest.Options{
		Members:           3,
		HeartbeatInterval: 50 * time.Millisecond,
		ElectionTimeout:   500 * time.Millisecond,
	})
}

// ackedWrite is a write the Store acknowledged.
type ackedWrite struct {
	key string
	rev storage.Revision
}

// writer creates keys w/000000, w/000001, ... one at a time until stopped,
// recording the acknowledged ones. Failed writes are skipped, not retried:
// they may or may not have happened.
type writer struct {
	s       storage.Store
	stop    chan struct{}
	done    chan struct{}
	changed chan struct{} // one pending wake-up per acknowledged write

	mu     sync.Mutex
	acked  []ackedWrite
	failed int
}

func startWriter(t *testing.T, s storage.Store) *writer {
	w := &writer{s: s, stop: make(chan struct{}), done: make(chan struct{}), changed: make(chan struct{}, 1)}
	go w.run(t.Context())
	t.Cleanup(w.halt)
	return w
}

func (w *writer) run(ctx context.Context) {
	defer close(w.done)
	for i := 0; ; i++ {
		select {
		case <-w.stop:
			return
		default:
		}
		key := fmt.Sprintf("w/%06d", i)
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		rev, err := w.s.Create(wctx, key, []byte(key))
		cancel()
		w.mu.Lock()
		if err == nil {
			w.acked = append(w.acked, ackedWrite{key, rev})
		} else {
			w.failed++
		}
		w.mu.Unlock()
		if err == nil {
			select {
			case w.changed <- struct{}{}:
			default:
			}
		}
	}
}

// halt stops the writer and waits for it; safe to call twice.
func (w *writer) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

func (w *writer) snapshot() ([]ackedWrite, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.acked), w.failed
}

// waitAcked waits until n more writes than now have been acknowledged.
func (w *writer) waitAcked(t *testing.T, n int, what string) {
	t.Helper()
	acked, _ := w.snapshot()
	target := len(acked) + n
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		acked, failed := w.snapshot()
		if len(acked) >= target {
			return
		}
		select {
		case <-w.changed:
		case <-deadline.C:
			t.Fatalf("%s: %d writes acknowledged, want %d within %v (%d failed)", what, len(acked), target, waitTimeout, failed)
		}
	}
}

// While every member in turn — the leader first — is killed and restarted, a
// writer keeps writing and a watcher, started before, sees every
// acknowledged write exactly once, in revision order, with no revision
// missing.
func TestFailoverWatchSeesEveryWrite(t *testing.T) {
	c := startFailoverCluster(t)
	prefix := uniquePrefix(t)
	// Separate clients, so the watch stream and the writes break
	// independently.
	ws := newStore(t, c.Endpoints(), prefix)
	ctx := testCtx(t)
	start, err := ws.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	watch := collect(t, mustWatch(t, ws, "", start))
	wr := startWriter(t, newStore(t, c.Endpoints(), prefix))

	wr.waitAcked(t, 20, "before any failure")
	leader, _ := c.Leader()
	order := []int{leader}
	for i := range c.Size() {
		if i != leader {
			order = append(order, i)
		}
	}
	// The watch's stream is on one of the members, so one of these kills
	// breaks it; the first kill also forces an election.
	for _, i := range order {
		c.Kill(i)
		wr.waitAcked(t, 20, fmt.Sprintf("with member %d down", i))
		c.Restart(i)
		wr.waitAcked(t, 20, fmt.Sprintf("after member %d restarted", i))
	}
	wr.halt()
	acked, failed := wr.snapshot()
	last := acked[len(acked)-1].rev
	t.Logf("%d writes acknowledged, %d failed, last at revision %d", len(acked), failed, last)

	events, _ := watch.WaitUntil(t, fmt.Sprintf("the last acknowledged write (revision %d)", last),
		func(evs []storage.Event, _ bool) bool { return len(evs) > 0 && evs[len(evs)-1].Revision() >= last })

	// Nothing but the writer writes to this cluster, so the watch must see
	// every revision from start+1 on: acknowledged writes and failed writes
	// that nevertheless committed.
	byRev := make(map[storage.Revision]storage.Event, len(events))
	for i, e := range events {
		if want := start + storage.Revision(i) + 1; e.Revision() != want {
			t.Fatalf("event %d is at revision %d, want %d (gap, duplicate or reordering): %s", i, e.Revision(), want, fmtEvent(e))
		}
		if e.Type != storage.Created || string(e.KV.Value) != e.KV.Key {
			t.Fatalf("event %d: %s, want a Created with value = key", i, fmtEvent(e))
		}
		byRev[e.Revision()] = e
	}
	for _, a := range acked {
		e, ok := byRev[a.rev]
		if !ok || e.KV.Key != a.key {
			t.Fatalf("acknowledged write %s at %d: watch delivered %s", a.key, a.rev, fmtEvent(e))
		}
	}
}

// Writes go on while a minority is down, stop without quorum and resume when
// it is back, and a restarted member serves everything written meanwhile.
func TestFailoverWritesContinue(t *testing.T) {
	c := startFailoverCluster(t)
	s := newStore(t, c.Endpoints(), "")
	ctx := testCtx(t)
	if _, err := s.Create(ctx, "k", []byte("0")); err != nil {
		t.Fatal(err)
	}

	leader, _ := c.Leader()
	c.Kill(leader)
	var kv storage.KeyValue
	for i := 1; i <= 10; i++ {
		kv = updateEventually(t, s, "k", fmt.Sprint(i))
	}

	// Two of three down: no write is acknowledged.
	other := (leader + 1) % 3
	c.Kill(other)
	wctx, cancel := context.WithTimeout(ctx, time.Second)
	_, err := s.Update(wctx, "k", []byte("no quorum"), kv.ModRevision)
	cancel()
	if err == nil {
		t.Fatal("Update acknowledged with two of three members down")
	}

	c.Restart(leader) // with stale data: it catches up from the survivor
	kv = updateEventually(t, s, "k", "after quorum")
	c.Restart(other)

	// Each restarted member, asked alone, has every acknowledged write.
	for _, i := range []int{leader, other} {
		got, err := newStore(t, []string{c.Endpoint(i)}, "").Get(ctx, "k")
		if err != nil || got.ModRevision < kv.ModRevision {
			t.Fatalf("member %d alone: Get = %+v, %v; want revision >= %d", i, got, err, kv.ModRevision)
		}
	}
}

// updateEventually retries an unconditional update until it is acknowledged
// (an election may be under way) and returns the key's state after it.
func updateEventually(t *testing.T, s storage.Store, key, value string) storage.KeyValue {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		ctx, cancel := context.WithTimeout(t.Context(), writeTimeout)
		_, err := s.Update(ctx, key, []byte(value), storage.AnyRevision)
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Update(%q) not acknowledged within %v: %v", key, waitTimeout, err)
		}
	}
	kv, err := s.Get(t.Context(), key)
	if err != nil || string(kv.Value) != value {
		t.Fatalf("Get(%q) after Update = %+v, %v; want %q", key, kv, err, value)
	}
	return kv
}
