package watchcache_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"skiff.dev/skiff/internal/watchcache"
)

// BenchmarkList10k lists 10,000 ConfigMaps in 100 namespaces: from the cache
// as it is (RV=0), consistently (RV unset: a store revision read, a
// progress round trip through the storage watch, then the cache), one page
// of 500, one namespace, and with a deep copy of every item (what copying
// list results instead of sharing them would cost).
func BenchmarkList10k(b *testing.B) {
	f := newFixture(b)
	const n, writers = 10_000, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				ns := fmt.Sprintf("ns%02d", i%100)
				cm := configMap(ns, fmt.Sprintf("cm%05d", i), map[string]string{"app": fmt.Sprint(i % 10)},
					map[string]string{"key": "some value of a realistic size, a few dozen bytes"})
				if _, err := f.store.Create(context.Background(), key(ns, cm.Name), encode(cm)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if f.caughtUp(); f.cache.Len() != n {
		b.Fatalf("cache holds %d objects", f.cache.Len())
	}
	// Consistent reads when the store has moved on (a write elsewhere, not
	// timed): the cache must ask its storage watch for progress and wait.
	written := 0 // keys written elsewhere, over every run of the sub-benchmark
	b.Run("Consistent/AfterWriteElsewhere", func(b *testing.B) {
		ctx := context.Background()
		for b.Loop() {
			b.StopTimer()
			written++
			if _, err := f.store.Create(ctx, fmt.Sprintf("/registry/core/secrets/default/s%d", written), []byte("{}")); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			res, err := f.cache.List(ctx, watchcache.ListOptions{})
			if err != nil || len(res.Items) != n {
				b.Fatalf("%v, %d items", err, len(res.Items))
			}
		}
	})
	for _, c := range []struct {
		name  string
		opts  watchcache.ListOptions
		items int
		copy  bool
	}{
		{"RV=0", watchcache.ListOptions{ResourceVersion: "0"}, n, false},
		{"Consistent", watchcache.ListOptions{}, n, false},
		{"RV=0/Limit500", watchcache.ListOptions{ResourceVersion: "0", Limit: 500}, 500, false},
		{"Consistent/Namespace", watchcache.ListOptions{Namespace: "ns42"}, n / 100, false},
		{"RV=0/DeepCopy", watchcache.ListOptions{ResourceVersion: "0"}, n, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				res, err := f.cache.List(ctx, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Items) != c.items {
					b.Fatalf("%d items, want %d", len(res.Items), c.items)
				}
				if c.copy {
					for i, it := range res.Items {
						res.Items[i] = it.DeepCopyObject()
					}
				}
			}
		})
	}
}
