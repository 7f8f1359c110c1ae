// Command storage benchmarks skiff's two state-store backends side by side:
// durable writes/s and latency with 1, 16 and 64 concurrent writers of
// 1 KiB values, and how long a watcher takes to see each write at that
// load. The etcd backend runs against a real etcd started on loopback.
//
//	go run ./bench/storage [-duration 3s]
//
// It prints a table, then one line per figure: `metric <name> <value> <unit>`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"skiff.dev/skiff/internal/etcdtest"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	etcdstore "skiff.dev/skiff/internal/storage/etcd"
)

var (
	duration   = flag.Duration("duration", 3*time.Second, "how long each configuration writes")
	valueSize  = flag.Int("value-size", 1024, "bytes per value")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
	backends   = flag.String("backends", "embedded,etcd", "which backends to measure")
	writerSets = []int{1, 16, 64}
)

type result struct {
	backend      string
	writers      int
	writes       int
	perSec       float64
	p50, p99     time.Duration
	watchP50     time.Duration
	watchP99     time.Duration
	watchMissing int
}

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/storage:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx := context.Background()
	var results []result
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	if strings.Contains(*backends, "embedded") {
		rs, err := measureEmbedded(ctx)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	if strings.Contains(*backends, "etcd") {
		rs, err := measureEtcd(ctx)
		if err != nil {
			return err
		}
		results = append(results, rs...)
	}
	report(results)
	return nil
}

func measureEmbedded(ctx context.Context) ([]result, error) {
	dir, err := os.MkdirTemp("", "skiff-bench-storage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	s, err := embedded.Open(dir, embedded.Options{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return measureAll(ctx, "embedded", s)
}

func measureEtcd(ctx context.Context) ([]result, error) {
	cluster, err := etcdtest.Start(ctx, etcdtest.Options{Members: 1})
	if err != nil {
		return nil, err
	}
	defer cluster.Stop()
	s, err := etcdstore.New(ctx, etcdstore.Config{Endpoints: cluster.Endpoints()})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return measureAll(ctx, "etcd", s)
}

func measureAll(ctx context.Context, backend string, s storage.Store) ([]result, error) {
	var rs []result
	for _, n := range writerSets {
		r, err := measure(ctx, backend, s, n)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// measure runs n writers creating fresh keys for *duration while one watcher
// watches their prefix. Watch latency is from a write's acknowledgement to
// the watcher receiving its event (zero when the event arrives first).
func measure(ctx context.Context, backend string, s storage.Store, n int) (result, error) {
	prefix := fmt.Sprintf("/bench/%d/", n)
	rev, err := s.CurrentRevision(ctx)
	if err != nil {
		return result{}, err
	}
	w, err := s.Watch(ctx, prefix, rev)
	if err != nil {
		return result{}, err
	}
	defer w.Stop()

	var (
		seen    sync.Map // key → time the watcher received it
		watchWG sync.WaitGroup
		mu      sync.Mutex // guards count and target
		count   int
		target  = -1 // set once the writers are done
		caught  = make(chan struct{})
	)
	watchWG.Go(func() {
		for ev := range w.Events() {
			seen.Store(ev.KV.Key, time.Now())
			mu.Lock()
			if count++; count == target {
				close(caught)
			}
			mu.Unlock()
		}
	})

	value := make([]byte, *valueSize)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	type sample struct {
		key     string
		latency time.Duration
		acked   time.Time
	}
	samples := make([][]sample, n)
	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			for seq := 0; time.Now().Before(deadline); seq++ {
				key := fmt.Sprintf("%s%d/%d", prefix, i, seq)
				t0 := time.Now()
				if _, err := s.Create(ctx, key, value); err != nil {
					errs <- err
					return
				}
				t1 := time.Now()
				samples[i] = append(samples[i], sample{key: key, latency: t1.Sub(t0), acked: t1})
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, fmt.Errorf("%s, %d writers: %w", backend, n, err)
	}

	all := slices.Concat(samples...)
	// Let the watcher catch up (bounded) before reading its clock; what it
	// has not seen by then is reported as missed.
	mu.Lock()
	if target = len(all); count >= target {
		close(caught)
	}
	mu.Unlock()
	select {
	case <-caught:
	case <-time.After(10 * time.Second):
	}
	w.Stop()
	watchWG.Wait()

	lat := make([]time.Duration, 0, len(all))
	wlat := make([]time.Duration, 0, len(all))
	missing := 0
	for _, smp := range all {
		lat = append(lat, smp.latency)
		got, ok := seen.Load(smp.key)
		if !ok {
			missing++
			continue
		}
		wlat = append(wlat, max(got.(time.Time).Sub(smp.acked), 0))
	}
	return result{
		backend:      backend,
		writers:      n,
		writes:       len(all),
		perSec:       float64(len(all)) / elapsed.Seconds(),
		p50:          percentile(lat, 0.50),
		p99:          percentile(lat, 0.99),
		watchP50:     percentile(wlat, 0.50),
		watchP99:     percentile(wlat, 0.99),
		watchMissing: missing,
	}, nil
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[min(int(float64(len(ds))*p), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func report(rs []result) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\twriters\twrites\twrites/s\tp50 ms\tp99 ms\twatch p50 ms\twatch p99 ms\twatch missed\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f\t%.2f\t%.3f\t%.3f\t%d\t\n",
			r.backend, r.writers, r.writes, r.perSec, ms(r.p50), ms(r.p99), ms(r.watchP50), ms(r.watchP99), r.watchMissing)
	}
	tw.Flush()
	fmt.Println()
	byKey := map[string]result{}
	for _, r := range rs {
		byKey[fmt.Sprintf("%s_%d", r.backend, r.writers)] = r
		fmt.Printf("metric %s_writes_%d %.0f writes/s\n", r.backend, r.writers, r.perSec)
		fmt.Printf("metric %s_write_p99_ms_%d %.2f ms\n", r.backend, r.writers, ms(r.p99))
	}
	emb, et := byKey["embedded_64"], byKey["etcd_64"]
	if et.perSec > 0 {
		fmt.Printf("metric embedded_vs_etcd_64 %.2f x\n", emb.perSec/et.perSec)
	}
	fmt.Printf("metric watch_p99_ms %.3f ms\n", ms(emb.watchP99))
	fmt.Printf("metric etcd_watch_p99_ms %.3f ms\n", ms(et.watchP99))
}
