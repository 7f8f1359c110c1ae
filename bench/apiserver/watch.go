package main

import (
	"context"
	"fmt"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
)

const (
	watchNamespace = "bench-watch"
	// sentKey is the data key carrying a write's send time (Unix ns).
	sentKey = "sent"
	// maxInFlightPatches bounds the writer; a tick that finds this many
	// patches unanswered is skipped and counted as late.
	maxInFlightPatches = 100 // below the server's default limit of 200 mutating requests
	// drainTimeout is how long after the last acknowledged write the
	// watchers may take to receive everything before the rest is missing.
	drainTimeout = 15 * time.Second
)

type watchResult struct {
	watchers, clientsets int
	conns                int64         // connections opened for the watches
	establish            time.Duration // to open every watch

	// The writer.
	ticks, acked, late int
	writeErrors        int
	writeFirstErr      string
	writeP50, writeP99 time.Duration
	writeElapsed       time.Duration

	// The watchers.
	expected, received int64
	p50, p99, max      time.Duration
	drain              time.Duration // last ack until the last event (or drainTimeout)
	errorEvents        int64         // watch.Error events
	otherEvents        int64         // events that were not MODIFIED
	closedEarly        int64         // watches the server ended while the writer ran
	firstWatchErr      string
	failures           failures
	cpu                skiffproc.CPUTimes // from the first write until the watches are stopped
}

func measureWatch(ctx context.Context, c *clients, srv *skiffproc.Process, r *report) error {
	setup, err := c.clientsets(1, requestTimeout)
	if err != nil {
		return err
	}
	cs := setup[0]
	if err := createNamespace(ctx, cs, watchNamespace); err != nil {
		return err
	}
	pad := strings.Repeat("x", *watchValueSize)
	for i := range *watchObjects {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("w-%03d", i)},
			Data:       map[string]string{sentKey: "0"},
		}
		if pad != "" {
			cm.Data["pad"] = pad
		}
		if _, err := cs.CoreV1().ConfigMaps(watchNamespace).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	list, err := cs.CoreV1().ConfigMaps(watchNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	rv := list.ResourceVersion
	c.codes.take()

	res := watchResult{watchers: *watchers, clientsets: max(*watchClientsets, 1)}
	wcs, err := c.clientsets(res.clientsets, 0)
	if err != nil {
		return err
	}
	wctx, stopWatches := context.WithCancel(ctx)
	defer stopWatches()
	total := int(*watchRate * watchDuration.Seconds())

	// Open every watch from the listed revision, so no initial events come.
	// Each clientset opens its watches one after another, so its HTTP/2
	// connections fill up to the server's stream limit in turn instead of
	// racing to dial extra ones.
	dials0 := c.dials.Load()
	ws := make([]watch.Interface, *watchers)
	var (
		openErr error
		openMu  sync.Mutex
		openWG  sync.WaitGroup
	)
	t0 := time.Now()
	for k, wc := range wcs {
		openWG.Go(func() {
			for i := k; i < len(ws); i += len(wcs) {
				w, err := wc.CoreV1().ConfigMaps(watchNamespace).Watch(wctx, metav1.ListOptions{ResourceVersion: rv})
				if err != nil {
					openMu.Lock()
					openErr = fmt.Errorf("opening watch %d: %w", i, err)
					openMu.Unlock()
					return
				}
				ws[i] = w
			}
		})
	}
	openWG.Wait()
	res.establish = time.Since(t0)
	res.conns = c.dials.Load() - dials0
	defer func() {
		for _, w := range ws {
			if w != nil {
				w.Stop()
			}
		}
	}()
	if openErr != nil {
		return openErr
	}

	// Watchers: one goroutine per watch, as one informer per watch would.
	var (
		received    atomic.Int64
		errorEvents atomic.Int64
		otherEvents atomic.Int64
		closedEarly atomic.Int64
		lastEvent   atomic.Int64 // Unix ns
		stopping    atomic.Bool
		errOnce     sync.Once
		watchWG     sync.WaitGroup
	)
	samples := make([][]time.Duration, len(ws))
	for i, w := range ws {
		samples[i] = make([]time.Duration, 0, total)
		watchWG.Go(func() {
			for ev := range w.ResultChan() {
				now := time.Now()
				switch ev.Type {
				case watch.Modified:
					cm, ok := ev.Object.(*corev1.ConfigMap)
					if !ok {
						otherEvents.Add(1)
						continue
					}
					sent, err := strconv.ParseInt(cm.Data[sentKey], 10, 64)
					if err != nil {
						otherEvents.Add(1)
						continue
					}
					samples[i] = append(samples[i], now.Sub(time.Unix(0, sent)))
					received.Add(1)
					lastEvent.Store(now.UnixNano())
				case watch.Error:
					if stopping.Load() {
						continue // client-go reports its own cancellation as an error
					}
					errorEvents.Add(1)
					errOnce.Do(func() { res.firstWatchErr = apierrors.FromObject(ev.Object).Error() })
				default:
					otherEvents.Add(1)
				}
			}
			if !stopping.Load() {
				closedEarly.Add(1)
			}
		})
	}

	// The writer: open loop at -watch-rate, so a slow answer does not slow
	// the rate; each patch runs in its own goroutine.
	var (
		writeMu   sync.Mutex
		writeLat  []time.Duration
		writeWG   sync.WaitGroup
		inFlight  = make(chan struct{}, maxInFlightPatches)
		interval  = time.Duration(float64(time.Second) / *watchRate)
		lastAckAt time.Time
	)
	cpu0 := skiffproc.ReadCPU(srv.PID())
	start := time.Now()
	for k := range total {
		if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		res.ticks++
		select {
		case inFlight <- struct{}{}:
		default:
			res.late++
			continue
		}
		name := fmt.Sprintf("w-%03d", k%*watchObjects)
		writeWG.Go(func() {
			defer func() { <-inFlight }()
			sent := time.Now()
			patch := fmt.Appendf(nil, `{"data":{%q:"%d"}}`, sentKey, sent.UnixNano())
			_, err := cs.CoreV1().ConfigMaps(watchNamespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
			ack := time.Now()
			writeMu.Lock()
			defer writeMu.Unlock()
			if err != nil {
				res.writeErrors++
				if res.writeFirstErr == "" {
					res.writeFirstErr = err.Error()
				}
				return
			}
			writeLat = append(writeLat, ack.Sub(sent))
			if ack.After(lastAckAt) {
				lastAckAt = ack
			}
		})
	}
	writeWG.Wait()
	res.writeElapsed = time.Since(start)
	res.acked = len(writeLat)
	slices.Sort(writeLat)
	res.writeP50, res.writeP99 = percentile(writeLat, 0.50), percentile(writeLat, 0.99)

	// Every watcher should see every acknowledged write once.
	res.expected = int64(res.acked) * int64(len(ws))
	deadline := time.Now().Add(drainTimeout)
	for received.Load() < res.expected && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	stopping.Store(true)
	stopWatches()
	for _, w := range ws {
		w.Stop()
	}
	watchWG.Wait()
	res.cpu = skiffproc.ReadCPU(srv.PID()).Sub(cpu0)
	if err := ctx.Err(); err != nil {
		return err
	}
	res.received = received.Load()
	res.errorEvents, res.otherEvents, res.closedEarly = errorEvents.Load(), otherEvents.Load(), closedEarly.Load()
	if last := lastEvent.Load(); last != 0 && !lastAckAt.IsZero() {
		res.drain = max(time.Unix(0, last).Sub(lastAckAt), 0)
	}
	all := slices.Concat(samples...)
	slices.Sort(all)
	res.p50, res.p99 = percentile(all, 0.50), percentile(all, 0.99)
	if len(all) > 0 {
		res.max = all[len(all)-1]
	}
	res.failures = c.codes.take()
	r.watch = res
	return nil
}
