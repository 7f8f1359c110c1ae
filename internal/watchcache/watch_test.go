package watchcache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	testingclock "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	"skiff.dev/skiff/internal/watchcache"
)

// A watch from a resourceVersion replays every later change exactly once,
// in order, and then goes on live; so does one from each point in between.
func TestWatchFromResourceVersion(t *testing.T) {
	f := newFixture(t)
	start := f.caughtUp()
	var history []want
	var revs []string
	record := func(typ watch.EventType, obj *corev1.ConfigMap) {
		history = append(history, want{typ, obj})
		revs = append(revs, obj.ResourceVersion)
	}
	record(watch.Added, f.create(configMap("a", "x", nil, nil)))
	record(watch.Added, f.create(configMap("b", "y", nil, nil)))
	f.writeElsewhere("s1")
	record(watch.Modified, f.update(configMap("a", "x", nil, map[string]string{"v": "2"})))
	record(watch.Deleted, f.remove(configMap("a", "x", nil, map[string]string{"v": "2"})))
	record(watch.Added, f.create(configMap("a", "x", nil, map[string]string{"v": "again"})))
	f.caughtUp()

	froms := append([]string{start.String()}, revs...)
	ws := make([]*watcher, len(froms))
	for i, rv := range froms {
		ws[i] = f.watch(watchcache.WatchOptions{ResourceVersion: rv})
	}
	for i, w := range ws {
		w.expect(history[i:]...)
	}
	live := f.update(configMap("b", "y", nil, map[string]string{"live": "1"}))
	for _, w := range ws {
		w.expect(want{watch.Modified, live})
	}
}

// A resourceVersion older than the window: one ERROR event, 410 Expired,
// then the channel closes.
func TestWatchTooOld(t *testing.T) {
	f := newFixture(t, func(o *fixtureOptions) { o.cache.Window = 3 })
	old := f.caughtUp()
	for i := range 5 {
		f.create(configMap("a", fmt.Sprint(i), nil, nil))
	}
	f.caughtUp()
	w := f.watch(watchcache.WatchOptions{ResourceVersion: old.String()})
	ev := w.next()
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != 410 || st.Reason != metav1.StatusReasonExpired || st.Kind != "Status" {
		t.Fatalf("watch from a too old revision: %s %s, want ERROR with a 410 Expired Status", ev.Type, toJSON(ev.Object))
	}
	w.expectClosed(false)
}

func TestWatchSelectorTransitions(t *testing.T) {
	f := newFixture(t)
	f.caughtUp()
	web := map[string]string{"app": "web"}
	db := map[string]string{"app": "db"}
	w := f.watch(watchcache.WatchOptions{ResourceVersion: f.cache.Revision().String(), LabelSelector: labels.SelectorFromSet(web)})
	byName := f.watch(watchcache.WatchOptions{ResourceVersion: f.cache.Revision().String(), Namespace: "a", Name: "x"})
	byField := f.watch(watchcache.WatchOptions{ResourceVersion: f.cache.Revision().String(), FieldSelector: fields.OneTermEqualSelector("data.color", "red")})

	f.create(configMap("a", "x", db, nil))           // not matching
	added := f.update(configMap("a", "x", web, nil)) // starts matching
	modified := f.update(configMap("a", "x", web, map[string]string{"k": "v"}))
	gone := f.update(configMap("a", "x", db, map[string]string{"k": "v"})) // stops matching
	f.update(configMap("a", "x", db, map[string]string{"color": "red"}))   // still not matching
	other := f.create(configMap("a", "y", web, nil))
	deleted := f.remove(configMap("a", "y", web, nil))
	w.expect(
		want{watch.Added, added},
		want{watch.Modified, modified},
		want{watch.Deleted, gone}, // the new state, at the update's revision
		want{watch.Added, other},
		want{watch.Deleted, deleted}, // the last state, at the delete's revision
	)
	if rvOf(gone) <= rvOf(modified) || rvOf(deleted) <= rvOf(other) {
		t.Fatal("test bug: revisions do not increase")
	}

	// The name watch sees only a/x; the field watch only the red version.
	byName.expect(
		want{watch.Added, stamped(configMap("a", "x", db, nil), rvOf(added)-1)},
		want{watch.Modified, added}, want{watch.Modified, modified}, want{watch.Modified, gone},
	)
	red := f.remove(configMap("a", "x", db, map[string]string{"color": "red"}))
	byName.next() // the red update
	byName.expect(want{watch.Deleted, red})
	byField.expect(
		want{watch.Added, stamped(configMap("a", "x", db, map[string]string{"color": "red"}), rvOf(red)-3)},
		want{watch.Deleted, red},
	)
}

func TestWatchInitialEvents(t *testing.T) {
	f := newFixture(t)
	one := f.create(configMap("a", "one", map[string]string{"app": "web"}, nil))
	f.create(configMap("a", "two", nil, nil))
	three := f.create(configMap("b", "three", map[string]string{"app": "web"}, nil))
	web := labels.SelectorFromSet(labels.Set{"app": "web"})

	t.Run("Unset", func(t *testing.T) {
		w := f.watch(watchcache.WatchOptions{LabelSelector: web})
		w.expect(want{watch.Added, one}, want{watch.Added, three})
		four := f.create(configMap("c", "four", map[string]string{"app": "web"}, nil))
		w.expect(want{watch.Added, four})
	})
	t.Run("Zero", func(t *testing.T) {
		w := f.watch(watchcache.WatchOptions{ResourceVersion: "0", Namespace: "a"})
		ev1, ev2 := w.next(), w.next()
		if ev1.Type != watch.Added || ev2.Type != watch.Added || names([]runtime.Object{ev1.Object, ev2.Object})[1] != "a/two" {
			t.Fatalf("RV=0 in namespace a: %s %s, %s %s", ev1.Type, toJSON(ev1.Object), ev2.Type, toJSON(ev2.Object))
		}
	})
	t.Run("SendInitialEvents", func(t *testing.T) {
		yes := true
		at := f.caughtUp()
		w := f.watch(watchcache.WatchOptions{LabelSelector: web, SendInitialEvents: &yes, AllowBookmarks: true,
			ResourceVersion: "", Namespace: "a"})
		w.expect(want{watch.Added, one})
		ev := w.next()
		if ev.Type != watch.Bookmark {
			t.Fatalf("after the initial events: %s %s, want BOOKMARK", ev.Type, toJSON(ev.Object))
		}
		m, _ := meta.Accessor(plain(ev.Object))
		if m.GetAnnotations()[metav1.InitialEventsAnnotationKey] != "true" || rvOf(plain(ev.Object)) < at {
			t.Fatalf("end bookmark %s, want the annotation and a revision >= %d", toJSON(ev.Object), at)
		}
		if gvk := ev.Object.GetObjectKind().GroupVersionKind(); gvk != configMapGVK {
			t.Fatalf("bookmark kind %v", gvk)
		}
		five := f.create(configMap("a", "five", map[string]string{"app": "web"}, nil))
		w.expect(want{watch.Added, five})
	})
	t.Run("NoInitialEvents", func(t *testing.T) {
		no := false
		w := f.watch(watchcache.WatchOptions{SendInitialEvents: &no, ResourceVersion: "0"})
		six := f.create(configMap("a", "six", nil, nil))
		w.expect(want{watch.Added, six})
	})
}

// Bookmarks come every BookmarkInterval of the (fake) clock, behind the
// events before them, only to watchers that allow them.
func TestWatchBookmarks(t *testing.T) {
	clk := testingclock.NewFakeClock(time.Now())
	f := newFixture(t, func(o *fixtureOptions) {
		o.cache.Clock = clk
		o.cache.BookmarkInterval = time.Minute
	})
	at := f.caughtUp()
	with := f.watch(watchcache.WatchOptions{ResourceVersion: at.String(), AllowBookmarks: true})
	without := f.watch(watchcache.WatchOptions{ResourceVersion: at.String()})

	x := f.create(configMap("a", "x", nil, nil))
	f.writeElsewhere("e")
	cur := f.caughtUp()
	clk.Step(time.Minute)
	with.expect(want{watch.Added, x})
	ev := with.next()
	if ev.Type != watch.Bookmark || rvOf(plain(ev.Object)) != cur {
		t.Fatalf("got %s %s, want a BOOKMARK at %d", ev.Type, toJSON(ev.Object), cur)
	}
	bm := plain(ev.Object).(*corev1.ConfigMap)
	if bm.Kind != "ConfigMap" || bm.Name != "" || bm.Data != nil || len(bm.Annotations) != 0 {
		t.Fatalf("bookmark carries more than a resourceVersion: %s", toJSON(bm))
	}

	// The one without bookmarks got nothing in between.
	y := f.create(configMap("a", "y", nil, nil))
	without.expect(want{watch.Added, x}, want{watch.Added, y})

	clk.Step(time.Minute)
	with.expect(want{watch.Added, y})
	if ev := with.next(); ev.Type != watch.Bookmark || rvOf(plain(ev.Object)) < rvOf(y) {
		t.Fatalf("second bookmark: %s %s", ev.Type, toJSON(ev.Object))
	}
}

// A watcher that does not read is closed once WatchBuffer events are
// waiting for it; the cache and the other watchers do not wait for it. The
// fast watcher reads each event before the next write, so only the slow one
// can fall behind.
func TestSlowWatcherClosed(t *testing.T) {
	const buffer, writes = 4, 20
	f := newFixture(t, func(o *fixtureOptions) { o.cache.WatchBuffer = buffer })
	at := f.caughtUp().String()
	slow := f.watch(watchcache.WatchOptions{ResourceVersion: at})
	fast := f.watch(watchcache.WatchOptions{ResourceVersion: at})
	for i := range writes {
		fast.expect(want{watch.Added, f.create(configMap("a", fmt.Sprint(i), nil, nil))})
	}
	got := slow.expectClosed(true)
	if len(got) > buffer+1 {
		t.Fatalf("slow watcher got %d events before closing, want at most %d", len(got), buffer+1)
	}
	if n := f.cache.Len(); n != writes {
		t.Fatalf("cache holds %d objects, want %d", n, writes)
	}
	// The fast one goes on.
	x := f.update(configMap("a", "0", nil, map[string]string{"k": "v"}))
	fast.expect(want{watch.Modified, x})
}

// The cache's storage watch falls behind (the embedded store ends it with
// ErrWatcherTooSlow): the cache resumes from its revision, and watchers
// notice nothing.
func TestStorageWatchTooSlowResumes(t *testing.T) {
	g := newGatedDecode()
	var cs *countingStore
	f := newFixture(t, func(o *fixtureOptions) {
		o.store.WatchQueue = 4
		o.decode = g.decode
	}, counting(&cs))
	w := f.watch(watchcache.WatchOptions{ResourceVersion: f.caughtUp().String()})

	g.block()
	var wants []want
	for i := range 20 {
		wants = append(wants, want{watch.Added, f.create(configMap("a", fmt.Sprint(i), nil, nil))})
	}
	g.release()
	f.caughtUp()
	if n := cs.watches.Load(); n < 2 {
		t.Fatalf("%d storage watches: the first one was not closed as too slow", n)
	}
	w.expect(wants...)
	if n := f.cache.Len(); n != 20 {
		t.Fatalf("cache holds %d objects, want 20", n)
	}
}

// The cache's storage watch falls behind and the store has compacted the
// history since: the cache lists again; its watchers, whose position is
// lost, get a 410 ERROR and end; new ones work.
func TestStorageWatchTooSlowRelists(t *testing.T) {
	g := newGatedDecode()
	var cs *countingStore
	f := newFixture(t, func(o *fixtureOptions) {
		o.store = embedded.Options{WatchQueue: 4, History: 8}
		o.decode = g.decode
	}, counting(&cs))
	old := f.watch(watchcache.WatchOptions{ResourceVersion: f.caughtUp().String()})

	g.block()
	for i := range 40 {
		f.create(configMap("a", fmt.Sprint(i), nil, nil))
	}
	g.release()
	f.caughtUp()
	if n := cs.lists.Load(); n < 2 {
		t.Fatalf("%d store lists, want a second one (relist)", n)
	}
	got := old.expectClosed(true)
	last := got[len(got)-1]
	if st, ok := last.Object.(*metav1.Status); last.Type != watch.Error || !ok || st.Code != 410 {
		t.Fatalf("old watcher ended with %s %s, want ERROR 410", last.Type, toJSON(last.Object))
	}
	if n := f.cache.Len(); n != 40 {
		t.Fatalf("cache holds %d objects after the relist, want 40", n)
	}
	fresh := f.watch(watchcache.WatchOptions{ResourceVersion: f.cache.Revision().String()})
	x := f.update(configMap("a", "7", nil, map[string]string{"after": "relist"}))
	fresh.expect(want{watch.Modified, x})
}

// A thousand watchers all get the event; dispatch stays in one goroutine.
func TestManyWatchers(t *testing.T) {
	const n = 1000
	f := newFixture(t)
	at := f.caughtUp().String()
	ws := make([]watch.Interface, n)
	for i := range ws {
		opts := watchcache.WatchOptions{ResourceVersion: at}
		switch i % 4 {
		case 1:
			opts.Namespace = "a"
		case 2:
			opts.Namespace, opts.Name = "a", "x"
		case 3:
			opts.LabelSelector = labels.SelectorFromSet(labels.Set{"app": "web"})
		}
		w, err := f.cache.Watch(f.ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
		defer w.Stop()
	}
	x := f.create(configMap("a", "x", map[string]string{"app": "web"}, nil))

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, w := range ws {
		wg.Go(func() {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok || ev.Type != watch.Added || !sameObject(ev.Object, x) {
					errs <- fmt.Errorf("watcher %d: %v %s (open %v)", i, ev.Type, toJSON(ev.Object), ok)
				}
			case <-time.After(waitTimeout):
				errs <- fmt.Errorf("watcher %d: no event within %v", i, waitTimeout)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A watch from a future resourceVersion waits for it, then fails with 504.
func TestWatchFutureResourceVersion(t *testing.T) {
	f := newFixture(t, func(o *fixtureOptions) { o.cache.RevisionWait = 200 * time.Millisecond })
	at := f.caughtUp()
	_, err := f.cache.Watch(f.ctx, watchcache.WatchOptions{ResourceVersion: (at + 100).String()})
	if !isStatus(err, 504, metav1.StatusReasonTimeout) {
		t.Fatalf("watch from a future revision: %v, want 504", err)
	}
	// A revision the store has reached but the cache has not yet seen
	// (written elsewhere): the cache asks for progress and serves it.
	rev := f.writeElsewhere("later")
	w := f.watch(watchcache.WatchOptions{ResourceVersion: rev.String()})
	x := f.create(configMap("a", "x", nil, nil))
	w.expect(want{watch.Added, x})
	if _, err := f.cache.Watch(f.ctx, watchcache.WatchOptions{ResourceVersion: "x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("bad resourceVersion: %v, want 400", err)
	}
}

// Stop and the request context end a watch; its channel closes.
func TestWatchStop(t *testing.T) {
	f := newFixture(t)
	at := f.caughtUp().String()
	w := f.watch(watchcache.WatchOptions{ResourceVersion: at})
	w.w.Stop()
	w.expectClosed(true)
	ctx, cancel := context.WithCancel(f.ctx)
	w2, err := f.cache.Watch(ctx, watchcache.WatchOptions{ResourceVersion: at})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	(&watcher{t: t, w: w2, name: "cancelled"}).expectClosed(true)
}

// A watch from a revision the store has reached but the cache has not (no
// change under the prefix since, and no progress reports, as on etcd 3.4)
// starts at once and delivers exactly the changes after that revision.
func TestWatchAheadOfCacheWithoutProgress(t *testing.T) {
	f := newFixture(t, func(o *fixtureOptions) {
		o.wrap = func(s storage.Store) storage.Store { return noProgressStore{s} }
	})
	f.create(configMap("a", "x", nil, nil))
	f.writeElsewhere("s1")
	ahead := f.writeElsewhere("s2") // the store is here; the cache is not
	w := f.watch(watchcache.WatchOptions{ResourceVersion: ahead.String()})
	y := f.create(configMap("a", "y", nil, nil))
	w.expect(want{watch.Added, y})
}
