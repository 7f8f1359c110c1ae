package etcd_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"skiff.dev/skiff/internal/etcdtest"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/etcd"
)

// waitTimeout bounds every wait on a condition; it only turns a hang into a
// failure, a passing run waits milliseconds (seconds across a failover).
const waitTimeout = 30 * time.Second

// shared is one single-member cluster for every test that does not kill
// members; each test gets its own key prefix on it (newSharedStore).
var shared struct {
	once sync.Once
	c    *etcdtest.Cluster
	err  error
}

var prefixSeq atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.c != nil {
		shared.c.Stop()
	}
	os.Exit(code)
}

// sharedCluster starts the shared cluster on first use. A start failure
// (including a missing etcd binary) fails the test.
func sharedCluster(t *testing.T) *etcdtest.Cluster {
	t.Helper()
	shared.once.Do(func() {
		shared.c, shared.err = etcdtest.Start(context.Background(), etcdtest.Options{})
	})
	if shared.err != nil {
		t.Fatalf("%v", shared.err)
	}
	return shared.c
}

// newSharedStore is a fresh, empty store for t: a unique Prefix on the shared
// cluster. It has the signature storagetest.Run wants.
func newSharedStore(t *testing.T) storage.Store {
	t.Helper()
	return newStore(t, sharedCluster(t).Endpoints(), uniquePrefix(t))
}

// newExclusiveStore is a store on a cluster of its own, for tests that need
// every revision to be this store's (storagetest ExclusiveRevisions, models).
func newExclusiveStore(t *testing.T) storage.Store {
	t.Helper()
	return newStore(t, etcdtest.StartCluster(t, 1).Endpoints(), "")
}

// uniquePrefix is a key prefix no other test (or -count rerun) uses.
func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("/etcdtest/%s/%d/", strings.ReplaceAll(t.Name(), "/", "_"), prefixSeq.Add(1))
}

// newStore connects a Store and closes it in t.Cleanup. Extra options adjust
// the Config.
func newStore(t *testing.T, endpoints []string, prefix string, opts ...func(*etcd.Config)) *etcd.Store {
	t.Helper()
	cfg := etcd.Config{Endpoints: endpoints, Prefix: prefix, Logger: zap.NewNop()}
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	s, err := etcd.New(ctx, cfg)
	if err != nil {
		t.Fatalf("etcd.New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*waitTimeout)
	t.Cleanup(cancel)
	return ctx
}

// collector reads a watch on its own goroutine, promptly, and lets the test
// wait for conditions on what arrived.
type collector struct {
	w       storage.Watch
	changed chan struct{} // one pending wake-up
	done    chan struct{} // Events closed and drained

	mu     sync.Mutex
	events []storage.Event
	closed bool
	err    error
}

func collect(t *testing.T, w storage.Watch) *collector {
	c := &collector{w: w, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range w.Events() {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
			c.wake()
		}
		err := w.Err()
		c.mu.Lock()
		c.closed, c.err = true, err
		c.mu.Unlock()
		c.wake()
	}()
	t.Cleanup(func() {
		w.Stop()
		<-c.done
	})
	return c
}

func (c *collector) wake() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// waitUntil waits until cond holds on what arrived so far and returns it; it
// fails the test after waitTimeout.
func (c *collector) waitUntil(t *testing.T, what string, cond func(events []storage.Event, closed bool) bool) ([]storage.Event, error) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		events, closed, err := slices.Clone(c.events), c.closed, c.err
		c.mu.Unlock()
		if cond(events, closed) {
			return events, err
		}
		if closed {
			t.Fatalf("waiting for %s: watch closed with %v after %d events", what, err, len(events))
		}
		select {
		case <-c.changed:
		case <-deadline.C:
			t.Fatalf("waiting for %s: not within %v (%d events so far)", what, waitTimeout, len(events))
		}
	}
}

// waitClosed waits until the watch's Events channel closes and returns
// everything delivered and Err.
func (c *collector) waitClosed(t *testing.T) ([]storage.Event, error) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		t.Fatalf("watch not closed within %v", waitTimeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events), c.err
}

func fmtEvent(e storage.Event) string {
	return fmt.Sprintf("%v@%d %q=%q create=%d prev={%q %q %d/%d}", e.Type, e.Revision(), e.KV.Key, e.KV.Value,
		e.KV.CreateRevision, e.Prev.Key, e.Prev.Value, e.Prev.CreateRevision, e.Prev.ModRevision)
}
