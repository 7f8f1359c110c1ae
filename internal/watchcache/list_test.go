package watchcache_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	"skiff.dev/skiff/internal/watchcache"
)

func wantNames(t *testing.T, what string, got []runtime.Object, want ...string) {
	t.Helper()
	if g := names(got); !slices.Equal(g, want) && !(len(g) == 0 && len(want) == 0) {
		t.Fatalf("%s: items %v, want %v", what, g, want)
	}
}

// A consistent list (resourceVersion "") reflects every write acknowledged
// before it, also when the latest writes were to other resources: the
// cache learns it is up to date from a storage progress event.
func TestListConsistentAfterWritesElsewhere(t *testing.T) {
	f := newFixture(t)
	f.create(configMap("a", "one", nil, nil))
	f.caughtUp()
	for i := range 5 {
		f.writeElsewhere(fmt.Sprint(i))
	}
	cur := f.current()
	res := f.list(watchcache.ListOptions{})
	if res.Revision < cur {
		t.Fatalf("consistent list at revision %d, want at least the store's %d", res.Revision, cur)
	}
	if rev := f.cache.Revision(); rev < cur {
		t.Fatalf("cache at %d after a consistent list, want at least %d", rev, cur)
	}
	wantNames(t, "consistent list", res.Items, "a/one")

	// And a write under the prefix just before the list is in it.
	f.create(configMap("a", "two", nil, nil))
	wantNames(t, "consistent list after a write", f.list(watchcache.ListOptions{}).Items, "a/one", "a/two")
}

func TestListResourceVersionModes(t *testing.T) {
	f := newFixture(t, func(o *fixtureOptions) { o.cache.RevisionWait = 300 * time.Millisecond })
	one := f.create(configMap("a", "one", nil, nil))
	f.create(configMap("b", "two", nil, nil))
	at2 := f.caughtUp()
	f.update(configMap("a", "one", nil, map[string]string{"k": "v"}))
	f.remove(configMap("b", "two", nil, nil))
	f.create(configMap("c", "three", nil, nil))
	at3 := f.caughtUp()

	t.Run("Any", func(t *testing.T) {
		res := f.list(watchcache.ListOptions{ResourceVersion: "0"})
		if res.Revision != at3 {
			t.Fatalf("RV=0 list at %d, want the cache's %d", res.Revision, at3)
		}
		wantNames(t, "RV=0", res.Items, "a/one", "c/three")
	})
	t.Run("NotOlderThan", func(t *testing.T) {
		res := f.list(watchcache.ListOptions{ResourceVersion: at2.String()})
		if res.Revision < at2 {
			t.Fatalf("NotOlderThan %d list at %d", at2, res.Revision)
		}
		wantNames(t, "NotOlderThan", res.Items, "a/one", "c/three")
	})
	t.Run("Exact", func(t *testing.T) {
		res := f.list(watchcache.ListOptions{ResourceVersion: at2.String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
		if res.Revision != at2 {
			t.Fatalf("Exact %d list at %d", at2, res.Revision)
		}
		wantNames(t, "Exact", res.Items, "a/one", "b/two")
		if !sameObject(res.Items[0], one) {
			t.Fatalf("Exact list has %s, want the old version %s", toJSON(res.Items[0]), toJSON(one))
		}
		// N with a limit and no match means Exact too.
		res = f.list(watchcache.ListOptions{ResourceVersion: at2.String(), Limit: 10})
		if res.Revision != at2 || len(res.Items) != 2 {
			t.Fatalf("RV=%d with limit: revision %d, items %v", at2, res.Revision, names(res.Items))
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		start := time.Now()
		_, err := f.cache.List(f.ctx, watchcache.ListOptions{ResourceVersion: (at3 + 1000).String()})
		if !isStatus(err, 504, metav1.StatusReasonTimeout) {
			t.Fatalf("future RV: %v, want a 504 Timeout", err)
		}
		causes := err.(apierrors.APIStatus).Status().Details.Causes
		if len(causes) != 1 || causes[0].Type != metav1.CauseTypeResourceVersionTooLarge {
			t.Fatalf("future RV: causes %+v, want ResourceVersionTooLarge", causes)
		}
		if waited := time.Since(start); waited < 300*time.Millisecond {
			t.Fatalf("future RV failed after %v, before RevisionWait", waited)
		}
	})
	t.Run("BadRequests", func(t *testing.T) {
		for _, opts := range []watchcache.ListOptions{
			{ResourceVersion: "x"},
			{ResourceVersion: "-1"},
			{ResourceVersion: "0", ResourceVersionMatch: metav1.ResourceVersionMatchExact},
			{ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan},
			{Continue: "not a token"},
			{Continue: base64.RawURLEncoding.EncodeToString([]byte(`{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}`))},
			{Limit: -1},
		} {
			if _, err := f.cache.List(f.ctx, opts); !apierrors.IsBadRequest(err) {
				t.Errorf("List(%+v): %v, want 400", opts, err)
			}
		}
	})
}

// Exact reads older than the window, and continued pages whose revision
// the window no longer holds, read the store at that revision.
func TestListExactBeyondWindow(t *testing.T) {
	var cs *countingStore
	f := newFixture(t, func(o *fixtureOptions) { o.cache.Window = 2 }, counting(&cs))
	for i := range 5 {
		f.create(configMap("a", fmt.Sprint(i), nil, nil))
	}
	old := f.caughtUp()
	for i := range 5 {
		f.update(configMap("a", fmt.Sprint(i), map[string]string{"v": "2"}, nil))
	}
	f.remove(configMap("a", "0", nil, nil))
	f.caughtUp()

	res := f.list(watchcache.ListOptions{ResourceVersion: old.String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	wantNames(t, "Exact beyond the window", res.Items, "a/0", "a/1", "a/2", "a/3", "a/4")
	if cs.lists.Load() != 2 {
		t.Fatalf("%d store Lists, want Run's and this one", cs.lists.Load())
	}
	for _, it := range res.Items {
		if len(it.(*corev1.ConfigMap).Labels) != 0 || rvOf(it) > old {
			t.Fatalf("Exact %d returned a newer version: %s", old, toJSON(it))
		}
	}

	// Compacted in the store too: 410.
	if err := f.store.Compact(f.ctx, f.current()); err != nil {
		t.Fatal(err)
	}
	_, err := f.cache.List(f.ctx, watchcache.ListOptions{ResourceVersion: old.String(), ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) {
		t.Fatalf("Exact at a compacted revision: %v, want 410 Expired", err)
	}
}

func TestListPagination(t *testing.T) {
	for _, c := range []struct {
		name   string
		window int
	}{
		{"FromCache", 0}, // the window still holds the first page's revision
		{"FromStore", 2}, // it does not: later pages read the store
	} {
		t.Run(c.name, func(t *testing.T) {
			var cs *countingStore
			f := newFixture(t, func(o *fixtureOptions) { o.cache.Window = c.window }, counting(&cs))
			var all []string
			for i := range 10 {
				ns := []string{"a", "b"}[i%2]
				f.create(configMap(ns, fmt.Sprintf("cm%d", i), nil, nil))
				all = append(all, fmt.Sprintf("%s/cm%d", ns, i))
			}
			slices.Sort(all)

			p1 := f.list(watchcache.ListOptions{Limit: 3})
			wantNames(t, "page 1", p1.Items, all[:3]...)
			if p1.Continue == "" || p1.RemainingItemCount == nil || *p1.RemainingItemCount != 7 {
				t.Fatalf("page 1: continue %q, remaining %v; want a token and 7", p1.Continue, p1.RemainingItemCount)
			}
			checkToken(t, p1.Continue, p1.Revision, "a/cm4\x00")

			// Writes between pages do not show: every page reads the first
			// page's revision.
			f.remove(configMap("b", "cm5", nil, nil))
			f.create(configMap("a", "cm45", nil, nil))
			f.update(configMap("b", "cm9", map[string]string{"new": "yes"}, nil))
			f.caughtUp()

			var got []runtime.Object
			got = append(got, p1.Items...)
			token := p1.Continue
			for page := 2; token != ""; page++ {
				res := f.list(watchcache.ListOptions{Limit: 3, Continue: token})
				if res.Revision != p1.Revision {
					t.Fatalf("page %d at revision %d, want the first page's %d", page, res.Revision, p1.Revision)
				}
				left := int64(len(all) - len(got) - len(res.Items))
				if res.Continue != "" && (res.RemainingItemCount == nil || *res.RemainingItemCount != left) {
					t.Fatalf("page %d: remainingItemCount %v, want %d", page, res.RemainingItemCount, left)
				}
				if res.Continue == "" && res.RemainingItemCount != nil {
					t.Fatalf("last page has remainingItemCount %d", *res.RemainingItemCount)
				}
				got = append(got, res.Items...)
				token = res.Continue
			}
			wantNames(t, "all pages", got, all...)
			if lists := cs.lists.Load(); (lists > 1) != (c.window != 0) {
				t.Fatalf("%d store Lists (1 is Run's): the store served later pages %v, want %v", lists, lists > 1, c.window != 0)
			}
			for _, it := range got {
				if len(it.(*corev1.ConfigMap).Labels) != 0 {
					t.Fatalf("a page returned a version newer than the list: %s", toJSON(it))
				}
			}

			// A page that ends exactly at the last item has no token.
			res := f.list(watchcache.ListOptions{Limit: 10, Namespace: "a"})
			if res.Continue != "" || len(res.Items) != 6 {
				t.Fatalf("namespace a, limit 10: %v, continue %q", names(res.Items), res.Continue)
			}

			// With a selector: pages hold matches only, no remainingItemCount.
			sel := labels.SelectorFromSet(labels.Set{"new": "yes"})
			s1 := f.list(watchcache.ListOptions{Limit: 1, LabelSelector: sel})
			if len(s1.Items) != 1 || s1.RemainingItemCount != nil || s1.Continue != "" {
				t.Fatalf("selector page: %v, remaining %v, continue %q; want b/cm9 alone", names(s1.Items), s1.RemainingItemCount, s1.Continue)
			}
		})
	}
}

// checkToken decodes a continue token: the upstream shape.
func checkToken(t *testing.T, token string, rev storage.Revision, start string) {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatalf("token %q: %v", token, err)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("token %s: %v", data, err)
	}
	want := map[string]any{"v": "meta.k8s.io/v1", "rv": float64(rev), "start": start}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("token %s, want %v", data, want)
	}
}

// A continue token whose revision the store has compacted is 410 Expired.
func TestListContinueExpired(t *testing.T) {
	f := newFixture(t, func(o *fixtureOptions) { o.cache.Window = 1 })
	for i := range 4 {
		f.create(configMap("a", fmt.Sprint(i), nil, nil))
	}
	p1 := f.list(watchcache.ListOptions{Limit: 2})
	for i := range 3 {
		f.update(configMap("a", fmt.Sprint(i), map[string]string{"x": "y"}, nil))
	}
	if err := f.store.Compact(f.ctx, f.current()); err != nil {
		t.Fatal(err)
	}
	f.caughtUp()
	_, err := f.cache.List(f.ctx, watchcache.ListOptions{Limit: 2, Continue: p1.Continue})
	if !apierrors.IsResourceExpired(err) {
		t.Fatalf("expired continue: %v, want 410 Expired", err)
	}
	st := err.(apierrors.APIStatus).Status()
	if st.Message == "" || st.ListMeta.Continue == "" {
		t.Fatalf("expired continue: status %+v, want the upstream message and a fresh token", st)
	}
}

// Selectors and namespaces, read from a cache snapshot and from the store
// (an exact revision the one-event window no longer holds), unlimited and
// one item per page.
func TestListSelectors(t *testing.T) {
	for _, src := range []struct {
		name   string
		window int
	}{{"FromCache", 0}, {"FromStore", 1}} {
		t.Run(src.name, func(t *testing.T) {
			var cs *countingStore
			f := newFixture(t, func(o *fixtureOptions) { o.cache.Window = src.window }, counting(&cs))
			f.create(configMap("a", "red", map[string]string{"app": "web"}, map[string]string{"color": "red"}))
			f.create(configMap("a", "blue", map[string]string{"app": "db"}, map[string]string{"color": "blue"}))
			f.create(configMap("b", "red", map[string]string{"app": "web"}, map[string]string{"color": "red"}))
			f.create(configMap("b", "green", nil, map[string]string{"color": "green"}))
			at := f.caughtUp()
			// Later changes the lists at revision `at` must not show.
			f.create(configMap("c", "later", map[string]string{"app": "web"}, nil))
			f.update(configMap("c", "later", nil, map[string]string{"color": "blue"}))
			f.caughtUp()
			lists := cs.lists.Load()

			for _, c := range []struct {
				name string
				opts watchcache.ListOptions
				want []string
			}{
				{"Namespace", watchcache.ListOptions{Namespace: "b"}, []string{"b/green", "b/red"}},
				{"Label", watchcache.ListOptions{LabelSelector: labels.SelectorFromSet(labels.Set{"app": "web"})}, []string{"a/red", "b/red"}},
				{"LabelInNamespace", watchcache.ListOptions{Namespace: "a", LabelSelector: labels.SelectorFromSet(labels.Set{"app": "web"})}, []string{"a/red"}},
				{"NoLabel", watchcache.ListOptions{LabelSelector: mustLabels(t, "!app")}, []string{"b/green"}},
				{"FieldName", watchcache.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "red")}, []string{"a/red", "b/red"}},
				{"FieldNameAndNamespace", watchcache.ListOptions{FieldSelector: fields.AndSelectors(
					fields.OneTermEqualSelector("metadata.name", "red"), fields.OneTermEqualSelector("metadata.namespace", "b"))}, []string{"b/red"}},
				{"FieldNamespaceConflict", watchcache.ListOptions{Namespace: "a", FieldSelector: fields.OneTermEqualSelector("metadata.namespace", "b")}, nil},
				{"FieldCustom", watchcache.ListOptions{FieldSelector: fields.OneTermNotEqualSelector("data.color", "red")}, []string{"a/blue", "b/green"}},
				{"Both", watchcache.ListOptions{LabelSelector: mustLabels(t, "app"), FieldSelector: fields.OneTermEqualSelector("data.color", "blue")}, []string{"a/blue"}},
			} {
				t.Run(c.name, func(t *testing.T) {
					for _, limit := range []int64{0, 1} {
						opts := c.opts
						opts.ResourceVersion, opts.ResourceVersionMatch = at.String(), metav1.ResourceVersionMatchExact
						opts.Limit = limit
						var got []runtime.Object
						for {
							res := f.list(opts)
							if res.Revision != at {
								t.Fatalf("list at %d, want %d", res.Revision, at)
							}
							selected := c.opts.LabelSelector != nil || c.opts.FieldSelector != nil
							if selected && res.RemainingItemCount != nil {
								t.Fatalf("a selected list has remainingItemCount %d", *res.RemainingItemCount)
							}
							got = append(got, res.Items...)
							if res.Continue == "" {
								break
							}
							if limit == 0 {
								t.Fatalf("unlimited list has a continue token")
							}
							opts.ResourceVersion, opts.ResourceVersionMatch, opts.Continue = "", "", res.Continue
						}
						wantNames(t, fmt.Sprintf("limit %d", limit), got, c.want...)
					}
				})
			}
			if read := cs.lists.Load() > lists; read != (src.window == 1) {
				t.Fatalf("the store was read: %v, want %v", read, src.window == 1)
			}
		})
	}
}

func mustLabels(t *testing.T, s string) labels.Selector {
	t.Helper()
	sel, err := labels.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sel
}

// Lists never hand out an object the cache changes later: a new version
// is a new object.
func TestListObjectsStable(t *testing.T) {
	f := newFixture(t)
	f.create(configMap("a", "x", nil, map[string]string{"v": "1"}))
	before := f.list(watchcache.ListOptions{}).Items[0]
	snapshot := toJSON(before)
	f.update(configMap("a", "x", nil, map[string]string{"v": "2"}))
	f.remove(configMap("a", "x", nil, nil))
	f.caughtUp()
	if toJSON(before) != snapshot {
		t.Fatalf("a listed object changed after later writes: %s, was %s", toJSON(before), snapshot)
	}
}

// The store is closed under the cache: Run ends with ErrClosed and requests
// fail instead of hanging.
func TestRunEndsWhenStoreCloses(t *testing.T) {
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := watchcache.New(watchcache.Config{
		Store: s, Prefix: prefix, Namespaced: true, GVK: configMapGVK,
		New: func() runtime.Object { return &corev1.ConfigMap{} }, Decode: decode,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := c.Watch(ctx, watchcache.WatchOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Run returned nil after the store closed, want ErrClosed")
		}
	case <-ctx.Done():
		t.Fatal("Run did not return after the store closed")
	}
	for range w.ResultChan() {
	}
	if _, err := c.List(ctx, watchcache.ListOptions{ResourceVersion: "0"}); !apierrors.IsServiceUnavailable(err) {
		t.Fatalf("List after Run ended: %v, want 503", err)
	}
}

// Without progress from the store, a consistent list the cache cannot
// confirm is read from the store; once events bring the cache up to date it
// serves again.
func TestConsistentReadWithoutProgress(t *testing.T) {
	var cs *countingStore
	f := newFixture(t, func(o *fixtureOptions) {
		o.wrap = func(s storage.Store) storage.Store {
			cs = &countingStore{Store: noProgressStore{s}}
			return cs
		}
	})
	f.create(configMap("a", "x", nil, nil))
	f.writeElsewhere("s")
	cur := f.current()
	before := cs.lists.Load()
	res := f.list(watchcache.ListOptions{})
	if res.Revision < cur || len(res.Items) != 1 || cs.lists.Load() != before+1 {
		t.Fatalf("consistent list: revision %d (want >= %d), items %v, %d store lists (want one more)",
			res.Revision, cur, names(res.Items), cs.lists.Load()-before)
	}
	// A NotOlderThan read at the store's revision: also from the store.
	res = f.list(watchcache.ListOptions{ResourceVersion: cur.String()})
	if res.Revision < cur || len(res.Items) != 1 {
		t.Fatalf("NotOlderThan %d: revision %d, items %v", cur, res.Revision, names(res.Items))
	}
	// An event under the prefix brings the cache up to date: no store read.
	w := f.watch(watchcache.WatchOptions{ResourceVersion: res.Revision.String()})
	y := f.create(configMap("a", "y", nil, nil))
	w.expect(want{watch.Added, y}) // the cache has y once a watcher got it
	before = cs.lists.Load()
	res = f.list(watchcache.ListOptions{})
	if len(res.Items) != 2 || cs.lists.Load() != before {
		t.Fatalf("consistent list with the cache up to date: items %v, %d store lists", names(res.Items), cs.lists.Load()-before)
	}
}
