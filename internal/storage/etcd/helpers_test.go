package etcd_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"skiff.dev/skiff/internal/etcdtest"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/etcd"
	"skiff.dev/skiff/internal/storage/storagetest"
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

func fmtEvent(e storage.Event) string {
	return fmt.Sprintf("%v@%d %q=%q create=%d prev={%q %q %d/%d}", e.Type, e.Revision(), e.KV.Key, e.KV.Value,
		e.KV.CreateRevision, e.Prev.Key, e.Prev.Value, e.Prev.CreateRevision, e.Prev.ModRevision)
}

func collect(t *testing.T, w storage.Watch) *storagetest.Collector { return storagetest.Collect(t, w) }
