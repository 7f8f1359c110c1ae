// Command apiserver benchmarks the skiff API server as its users see it: it
// builds the skiff binary, starts `skiff up` as a separate process on a free
// port with a fresh data dir, and drives it over HTTPS with client-go.
//
//	go run ./bench/apiserver [-duration 5s] [-clientsets 1] [-watch-rate 20]
//
// It measures, in order:
//
//   - startup: process start until /readyz answers 200 (polled every 1 ms),
//     and until the `export KUBECONFIG=` line appears on stdout;
//   - idle RSS of the skiff process after it has been idle for -idle;
//   - openapi: the time to fetch /openapi/v2 (protobuf) and /openapi/v3 with
//     every document it lists the first time, as kubectl does (skiff builds
//     each document on first request), and the RSS after, on the otherwise
//     idle server: what the documents cost once asked for;
//   - creates/s and gets/s of ConfigMaps with -value-size bytes of data, with
//     16 and 64 concurrent client-go workers, each for -duration, and the
//     skiff process's RSS after them (what was built on first use, e.g. the
//     server-side apply schemas of the kinds written, is in it; so are the
//     ConfigMaps written);
//   - LIST of -list-objects ConfigMaps in one namespace, with
//     resourceVersion "0" and consistent (resourceVersion unset), as JSON
//     over raw HTTP (the body is read, not decoded, so client-side decoding
//     does not count); the median of -list-runs, and the skiff process's
//     peak RSS (VmHWM, reset before the lists) while they ran;
//   - watch event latency with -watchers client-go watches on one namespace
//     while it is written at -watch-rate patches/s: receive time (the event
//     leaving client-go's ResultChan) minus the send time the writer put
//     in the object just before sending the patch.
//
// Every write reaches every watcher, so the watch phase delivers
// -watch-rate × -watchers events/s, all decoded by client-go in this
// process on the cores the server uses too. Each costs this benchmark
// more CPU than it costs the server, and the two together saturate a
// 2-core machine near 40,000 events/s; past that the latency measured is
// queueing in both, not the server's. The default, 20 writes/s to 1,000
// watchers (20,000 events/s), stays below that knee; -watch-rate 200
// shows the saturated case.
//
// Client-go runs with client-side rate limiting off (QPS < 0). By default
// all CRUD workers share one clientset, as the workers of one controller
// process do: one HTTP/2 connection carries every request. -clientsets N
// spreads the workers over N clientsets, each with its own connection
// (N = workers is one client process per worker). The watchers share
// -watch-clientsets clientsets; Go's HTTP/2 client opens another connection
// when the server's per-connection stream limit is reached, so the number
// of connections used is reported.
//
// The benchmark and the server share the machine, and so does anything
// else running on it: the table gives, per phase, the CPU seconds used by
// the server, by the benchmark and by every other process. Every HTTP
// response with a status >= 400, every transport error and every
// ERROR/WARN line in the server's log is reported on stderr.
//
// It prints a table, then one line per figure: `metric <name> <value> <unit>`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"strings"
	"syscall"
	"time"
)

var (
	duration        = flag.Duration("duration", 5*time.Second, "how long each create and get configuration runs")
	valueSize       = flag.Int("value-size", 1024, "bytes of data per ConfigMap (creates, gets, lists)")
	clientsets      = flag.Int("clientsets", 1, "clientsets the CRUD workers share round-robin (1: one shared HTTP/2 connection)")
	contentType     = flag.String("content-type", "application/json", "request body type of client-go (application/json or application/vnd.kubernetes.protobuf)")
	idle            = flag.Duration("idle", 2*time.Second, "idle time after startup before reading RSS")
	listObjects     = flag.Int("list-objects", 10000, "ConfigMaps in the listed namespace")
	listRuns        = flag.Int("list-runs", 5, "timed LIST runs per mode (after one untimed warm-up)")
	watchers        = flag.Int("watchers", 1000, "concurrent watches")
	watchClientsets = flag.Int("watch-clientsets", 1, "clientsets the watches share round-robin")
	watchRate       = flag.Float64("watch-rate", 20, "patches per second while watching (each reaches every watcher)")
	watchDuration   = flag.Duration("watch-duration", 5*time.Second, "how long to write while watching")
	watchObjects    = flag.Int("watch-objects", 100, "ConfigMaps the watch writer cycles through")
	watchValueSize  = flag.Int("watch-value-size", 0, "bytes of extra data per watched ConfigMap")
	phases          = flag.String("phases", "openapi,crud,list,watch,crd", "measurements to run after startup and idle RSS, in this order")
	skiffArgs       = flag.String("skiff-args", "", "extra `skiff up` flags, space-separated (e.g. \"--nodes 0 --disable-scheduler --controllers namespace,serviceaccount\" for the API server alone)")
	keep            = flag.Bool("keep", false, "keep the temp dir (binary, data dir, server log) for inspection")
)

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/apiserver:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) (err error) {
	if *listRuns < 1 || *watchRate <= 0 || *watchObjects < 1 || *watchers < 1 {
		return fmt.Errorf("-list-runs, -watch-rate, -watch-objects and -watchers must be positive")
	}
	tmp, cleanup, err := skiffproc.WorkDir("apiserver", *keep)
	if err != nil {
		return err
	}
	defer cleanup()

	bin, err := skiffproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	srv, err := skiffproc.Start(ctx, bin, tmp, strings.Fields(*skiffArgs)...)
	if err != nil {
		return err
	}
	// stop is idempotent: the deferred call only acts on the error path.
	defer func() {
		if serr := srv.Stop(); err == nil && serr != nil {
			err = serr
		}
	}()

	var r report
	r.startup = srv.Startup
	cpu0 := skiffproc.ReadCPU(srv.PID())
	if err := measureIdle(ctx, srv, &r); err != nil {
		return err
	}
	c, err := newClients(srv.Kubeconfig)
	if err != nil {
		return err
	}
	for _, m := range []struct {
		phase   string
		measure func(context.Context, *clients, *skiffproc.Process, *report) error
	}{
		{"openapi", measureOpenAPI},
		{"crud", measureCRUD},
		{"list", measureList},
		{"watch", measureWatch},
		{"crd", measureCRD},
	} {
		if !slices.Contains(strings.Split(*phases, ","), m.phase) {
			continue
		}
		if err := m.measure(ctx, c, srv, &r); err != nil {
			return fmt.Errorf("%s: %w", m.phase, err)
		}
	}
	r.serverMetrics = scrapeServerMetrics(ctx, c)
	r.cpu = skiffproc.ReadCPU(srv.PID()).Sub(cpu0)
	if err := srv.Stop(); err != nil {
		return err
	}
	r.shutdown = srv.ShutdownTime
	r.serverLog = srv.LogSummary()
	r.print()
	return nil
}

// measureIdle lets the server sit idle, then reads its resident set size.
func measureIdle(ctx context.Context, srv *skiffproc.Process, r *report) error {
	select {
	case <-time.After(*idle):
	case <-ctx.Done():
		return ctx.Err()
	case <-srv.Exited():
		return srv.ExitError()
	}
	rss, err := skiffproc.ProcStatusKiB(srv.PID(), "VmRSS")
	if err != nil {
		return err
	}
	r.idleRSS = rss
	return nil
}
