package watchcache_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/watchcache"
)

// The cache snapshots its state only when a reader asks for it; an Exact
// list at a revision inside a batch of changes applied at once, or at a
// window base that was inside one, sees the state rebuilt from a later
// one, equal to the store's at that revision.
func TestListExactInsideBatch(t *testing.T) {
	// The cache's Run goroutine decodes "gate" for a watcher of it, and
	// stalls there, while the writes after it queue up.
	var gating atomic.Bool
	stalled, gate := make(chan struct{}, 1), make(chan struct{})
	var bs *bufferedStore
	f := newFixture(t, func(o *fixtureOptions) {
		o.cache.Window = 5
		o.decode = func(kv storage.KeyValue) (runtime.Object, error) {
			if gating.Load() && strings.HasSuffix(kv.Key, "/gate") {
				stalled <- struct{}{}
				<-gate
			}
			return decode(kv)
		}
		o.wrap = func(s storage.Store) storage.Store {
			bs = &bufferedStore{Store: s, forwarded: make(chan storage.Revision, 1024)}
			return bs
		}
	})
	for i := range 4 {
		f.create(configMap("a", fmt.Sprint(i), nil, nil))
	}
	gated := f.watch(watchcache.WatchOptions{
		ResourceVersion: f.caughtUp().String(),
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", "gate"),
	})
	gating.Store(true)
	g := f.create(configMap("a", "gate", nil, nil))
	select {
	case <-stalled:
	case <-time.After(waitTimeout):
		t.Fatalf("the cache did not decode the gate within %v", waitTimeout)
	}
	f.update(configMap("a", "0", map[string]string{"v": "2"}, nil))
	f.create(configMap("a", "4", nil, nil))
	f.remove(configMap("a", "1", nil, nil))
	f.update(configMap("a", "4", map[string]string{"v": "2"}, nil))
	f.create(configMap("b", "5", nil, nil))
	f.remove(configMap("a", "0", nil, nil))
	f.update(configMap("a", "2", map[string]string{"v": "2"}, nil))
	last := f.current()
	bs.await(t, last) // all of them wait, to be applied in one batch
	close(gate)
	gated.expect(want{watch.Added, g})
	f.caughtUp()

	// The window holds the batch's last 5 writes: its base is the second.
	for rev := last - 5; rev <= last; rev++ {
		lists := bs.lists.Load()
		got := f.list(watchcache.ListOptions{ResourceVersion: rev.String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
		if n := bs.lists.Load() - lists; n != 0 {
			t.Errorf("the Exact list at %d, inside the window, read the store", rev)
		}
		res, err := f.store.List(f.ctx, prefix, storage.ListOptions{Revision: rev})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, kv := range res.KVs {
			want = append(want, kv.Key[len(prefix):]+"@"+strconv.FormatInt(int64(kv.ModRevision), 10))
		}
		var have []string
		for _, it := range got.Items {
			have = append(have, names([]runtime.Object{it})[0]+"@"+strconv.FormatInt(int64(rvOf(it)), 10))
		}
		if fmt.Sprint(have) != fmt.Sprint(want) || got.Revision != rev {
			t.Errorf("Exact list at %d: %v at %d, the store has %v", rev, have, got.Revision, want)
		}
	}
	// Rebuilt states are kept: asked again, they are the same.
	a := f.list(watchcache.ListOptions{ResourceVersion: (last - 2).String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	b := f.list(watchcache.ListOptions{ResourceVersion: (last - 2).String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if fmt.Sprint(namesOf(a)) != fmt.Sprint(namesOf(b)) {
		t.Errorf("Exact list at %d changed: %v, then %v", last-2, namesOf(a), namesOf(b))
	}
}

func namesOf(res *watchcache.ListResult) []string { return names(res.Items) }

// bufferedStore's watches pass events on through a large buffer, sending
// on forwarded the revision of each once it is in it: a stalled cache then
// finds every event waiting at once.
type bufferedStore struct {
	storage.Store
	forwarded chan storage.Revision
	lists     atomic.Int64
}

func (s *bufferedStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	s.lists.Add(1)
	return s.Store.List(ctx, prefix, opts)
}

func (s *bufferedStore) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	w, err := s.Store.Watch(ctx, prefix, since)
	if err != nil {
		return nil, err
	}
	bw := &bufferedWatch{Watch: w, out: make(chan storage.Event, 1024)}
	go func() {
		defer close(bw.out)
		for ev := range w.Events() {
			bw.out <- ev
			select {
			case s.forwarded <- ev.Revision():
			default: // nobody is waiting for this many
			}
		}
	}()
	return bw, nil
}

// await waits until the event at rev is in the buffer, and so every
// event before it.
func (s *bufferedStore) await(t *testing.T, rev storage.Revision) {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		select {
		case got := <-s.forwarded:
			if got >= rev {
				return
			}
		case <-deadline:
			t.Fatalf("the event at %d not forwarded within %v", rev, waitTimeout)
		}
	}
}

type bufferedWatch struct {
	storage.Watch
	out chan storage.Event
}

func (w *bufferedWatch) Events() <-chan storage.Event { return w.out }
