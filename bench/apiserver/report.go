package main

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"text/tabwriter"
	"time"
)

// report is everything measured, printed at the end.
type report struct {
	startup skiffproc.StartupTimes
	idleRSS int64 // KiB

	crud    []opResult
	crudRSS int64 // KiB, VmRSS after the crud phase

	openapi openapiResult

	listSetup    listSetup
	lists        []listResult
	listBaseRSS  int64 // KiB, before the lists
	listPeakRSS  int64 // KiB, VmHWM after the lists
	listPeakNote string

	watch watchResult

	crd crdResult

	cpu           skiffproc.CPUTimes // from the end of startup to the end of the last phase
	shutdown      time.Duration
	serverLog     skiffproc.LogSummary
	serverMetrics []string
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(kib int64) float64 { return float64(kib) / 1024 }

// print writes the table and the metric lines to stdout, and anything that
// went wrong on the way to stderr.
func (r *report) print() {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "measurement\tconfiguration\tn\tper s\tp50 ms\tp99 ms\tmax ms\tvalue\tCPU s server/bench/other\tHTTP failures")
	row := func(what, config, n, perSec, p50, p99, maxMs, value, failures string, cpu ...skiffproc.CPUTimes) {
		cpuCol := "-"
		if len(cpu) > 0 {
			cpuCol = cpu[0].String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", what, config, n, perSec, p50, p99, maxMs, value, cpuCol, failures)
	}
	f2 := func(d time.Duration) string { return fmt.Sprintf("%.2f", ms(d)) }

	row("startup: /readyz 200", "fresh data dir", fmt.Sprint(r.startup.Polls), "-", "-", "-", "-",
		fmt.Sprintf("%.1f ms", ms(r.startup.Ready)), "-")
	row("startup: export line", "stdout", "-", "-", "-", "-", "-", fmt.Sprintf("%.1f ms", ms(r.startup.Export)), "-")
	row("idle RSS", fmt.Sprintf("after %s idle", *idle), "-", "-", "-", "-", "-", fmt.Sprintf("%.1f MiB", mib(r.idleRSS)), "-")
	if o := r.openapi; o.v3Docs > 0 {
		row("openapi: first GET v2", "protobuf", "1", "-", "-", "-", "-", fmt.Sprintf("%.0f ms", ms(o.v2)), o.failures.String())
		row("openapi: first GET v3", "index + every document", fmt.Sprint(o.v3Docs+1), "-", "-", "-", "-",
			fmt.Sprintf("%.0f ms", ms(o.v3)), o.failures.String())
		row("RSS after openapi", fmt.Sprintf("VmRSS, %.1f MiB fetched", float64(o.bytes)/(1<<20)), "-", "-", "-", "-", "-",
			fmt.Sprintf("%.1f MiB", mib(o.rssAfter)), "-")
	}
	for _, c := range r.crud {
		row(fmt.Sprintf("%s %d B ConfigMap", c.op, *valueSize),
			fmt.Sprintf("%d workers, %d clientset(s), %d conn(s)", c.workers, c.clientsets, c.dials),
			fmt.Sprint(c.n), fmt.Sprintf("%.0f", c.perSec), f2(c.p50), f2(c.p99), f2(c.max),
			fmt.Sprintf("%d errors", c.errors), c.failures.String(), c.cpu)
	}
	if len(r.crud) > 0 {
		row("RSS after crud", "VmRSS", "-", "-", "-", "-", "-", fmt.Sprintf("%.1f MiB", mib(r.crudRSS)), "-")
	}
	if s := r.listSetup; s.objects > 0 {
		row("list setup: create", fmt.Sprintf("%d workers", setupWorkers), fmt.Sprint(s.objects),
			fmt.Sprintf("%.0f", float64(s.objects)/s.elapsed.Seconds()), "-", "-", "-",
			fmt.Sprintf("%.2f s", s.elapsed.Seconds()), s.failures.String(), s.cpu)
	}
	for _, l := range r.lists {
		enc := ""
		if l.encoding != "" {
			enc = ", " + l.encoding
		}
		row(fmt.Sprintf("LIST %d, %s", l.items, l.mode),
			fmt.Sprintf("JSON %.1f MiB%s", float64(l.bytes)/(1<<20), enc),
			fmt.Sprint(len(l.runs)), "-", f2(percentile(l.runs, 0.5)), "-", f2(slices.Max(l.runs)),
			fmt.Sprintf("min %.2f ms", ms(l.runs[0])), l.failures.String(), l.cpu)
	}
	if len(r.lists) > 0 {
		row("LIST peak RSS", fmt.Sprintf("VmHWM, from %.1f MiB before", mib(r.listBaseRSS)), "-", "-", "-", "-", "-",
			fmt.Sprintf("%.1f MiB", mib(r.listPeakRSS)), "-")
	}
	if w := r.watch; w.watchers > 0 {
		row("watch: open watches", fmt.Sprintf("%d clientset(s), %d conn(s)", w.clientsets, w.conns),
			fmt.Sprint(w.watchers), fmt.Sprintf("%.0f", float64(w.watchers)/w.establish.Seconds()), "-", "-", "-",
			fmt.Sprintf("%.0f ms", ms(w.establish)), "-")
		row("watch: writer (merge patch)", fmt.Sprintf("%.0f/s for %s", *watchRate, *watchDuration),
			fmt.Sprint(w.acked), fmt.Sprintf("%.0f", float64(w.acked)/w.writeElapsed.Seconds()),
			f2(w.writeP50), f2(w.writeP99), "-",
			fmt.Sprintf("%d errors, %d late", w.writeErrors, w.late), "-")
		row("watch: event latency", fmt.Sprintf("%d watchers, 1 namespace", w.watchers),
			fmt.Sprintf("%d/%d", w.received, w.expected), fmt.Sprintf("%.0f", float64(w.received)/w.writeElapsed.Seconds()),
			f2(w.p50), f2(w.p99), f2(w.max),
			fmt.Sprintf("%d missed, %d closed early, drain %.0f ms", w.expected-w.received, w.closedEarly, ms(w.drain)),
			w.failures.String(), w.cpu)
	}
	if c := r.crd; len(c.established) > 0 {
		p50, mx := c.durations(c.established)
		row("crd: Established seen", "watch, from the create's response", fmt.Sprint(len(c.established)), "-", f2(p50), "-", f2(mx), "-", "-")
		p50, mx = c.durations(c.served)
		row("crd: resource served", "first 200 LIST, from the create's response", fmt.Sprint(len(c.served)), "-", f2(p50), "-", f2(mx), "-", "-")
		cr := c.creates
		row("create custom resource", fmt.Sprintf("%d workers, dynamic client", cr.workers), fmt.Sprint(cr.n), fmt.Sprintf("%.0f", cr.perSec),
			f2(cr.p50), f2(cr.p99), f2(cr.max), fmt.Sprintf("%d errors", cr.errors), cr.failures.String(), cr.cpu)
	}
	row("shutdown", "SIGTERM to exit", "-", "-", "-", "-", "-", fmt.Sprintf("%.0f ms", ms(r.shutdown)), "-")
	tw.Flush()
	fmt.Println()

	fmt.Printf("metric ready_ms %.1f ms\n", ms(r.startup.Ready))
	fmt.Printf("metric export_ms %.1f ms\n", ms(r.startup.Export))
	fmt.Printf("metric idle_rss_mib %.1f MiB\n", mib(r.idleRSS))
	if o := r.openapi; o.v3Docs > 0 {
		fmt.Printf("metric openapi_v2_first_ms %.0f ms\n", ms(o.v2))
		fmt.Printf("metric openapi_v3_all_first_ms %.0f ms\n", ms(o.v3))
		fmt.Printf("metric rss_after_openapi_mib %.1f MiB\n", mib(o.rssAfter))
	}
	for _, c := range r.crud {
		fmt.Printf("metric %ss_per_s_%d %.0f %ss/s\n", c.op, c.workers, c.perSec, c.op)
		fmt.Printf("metric %s_p50_ms_%d %.2f ms\n", c.op, c.workers, ms(c.p50))
		fmt.Printf("metric %s_p99_ms_%d %.2f ms\n", c.op, c.workers, ms(c.p99))
	}
	if len(r.crud) > 0 {
		fmt.Printf("metric rss_after_crud_mib %.1f MiB\n", mib(r.crudRSS))
	}
	k := fmt.Sprintf("%gk", float64(*listObjects)/1000)
	for _, l := range r.lists {
		name := map[string]string{"rv=0": "rv0", "consistent": "consistent"}[l.mode]
		fmt.Printf("metric list_%s_%s_ms %.2f ms\n", k, name, ms(percentile(l.runs, 0.5)))
	}
	if len(r.lists) > 0 {
		fmt.Printf("metric list_peak_rss_mib %.1f MiB\n", mib(r.listPeakRSS))
	}
	if w := r.watch; w.watchers > 0 {
		fmt.Printf("metric watch_p99_ms %.2f ms\n", ms(w.p99))
		fmt.Printf("metric watch_p50_ms %.2f ms\n", ms(w.p50))
		fmt.Printf("metric watch_missed_events %d events\n", w.expected-w.received)
	}
	if c := r.crd; len(c.established) > 0 {
		p50, mx := c.durations(c.established)
		fmt.Printf("metric crd_established_p50_ms %.2f ms\n", ms(p50))
		fmt.Printf("metric crd_established_max_ms %.2f ms\n", ms(mx))
		p50, mx = c.durations(c.served)
		fmt.Printf("metric crd_served_p50_ms %.2f ms\n", ms(p50))
		fmt.Printf("metric crd_served_max_ms %.2f ms\n", ms(mx))
		fmt.Printf("metric cr_creates_per_s_16 %.0f creates/s\n", c.creates.perSec)
	}
	fmt.Printf("metric other_cpu_s %.1f s\n", r.cpu.Other.Seconds())

	r.printProblems()
}

// printProblems tells, on stderr, everything that failed or looked wrong.
func (r *report) printProblems() {
	say := func(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench/apiserver: "+format+"\n", args...) }
	fails := func(phase string, f failures) {
		for _, k := range slices.Sorted(maps.Keys(f.counts)) {
			say("%s: %d × %s, e.g. %s", phase, f.counts[k], k, f.examples[k])
		}
	}
	// Other processes taking more than a tenth of the machine make the
	// figures unreliable: the server and this benchmark had less of it.
	if all := r.cpu.Server + r.cpu.Bench + r.cpu.Other; all > 0 && r.cpu.Other > all/10 {
		say("other processes used %.1f CPU-s of the %d cores while this ran (server %.1f, benchmark %.1f): the machine was not quiet, figures are pessimistic",
			r.cpu.Other.Seconds(), runtime.NumCPU(), r.cpu.Server.Seconds(), r.cpu.Bench.Seconds())
	}
	for _, c := range r.crud {
		phase := fmt.Sprintf("%s, %d workers", c.op, c.workers)
		if c.errors > 0 {
			say("%s: %d failed, first: %s", phase, c.errors, c.firstErr)
		}
		fails(phase, c.failures)
	}
	fails("openapi", r.openapi.failures)
	fails("list setup", r.listSetup.failures)
	for _, l := range r.lists {
		fails("LIST "+l.mode, l.failures)
	}
	if r.listPeakNote != "" {
		say("%s", r.listPeakNote)
	}
	w := r.watch
	if w.writeErrors > 0 {
		say("watch writer: %d patches failed, first: %s", w.writeErrors, w.writeFirstErr)
	}
	if w.late > 0 {
		say("watch writer: %d of %d ticks skipped, %d patches were in flight", w.late, w.ticks, maxInFlightPatches)
	}
	if w.expected != w.received {
		say("watch: %d of %d events not received within %s of the last write", w.expected-w.received, w.expected, drainTimeout)
	}
	if w.closedEarly > 0 {
		say("watch: the server ended %d watches while they were in use", w.closedEarly)
	}
	if w.errorEvents > 0 || w.otherEvents > 0 {
		say("watch: %d ERROR events, %d unexpected events; first error: %s", w.errorEvents, w.otherEvents, w.firstWatchErr)
	}
	fails("watch", w.failures)
	for _, m := range r.serverMetrics {
		say("server /metrics: %s", m)
	}
	if l := r.serverLog; l.Errors+l.Warnings > 0 {
		say("server log: %d ERROR and %d WARN lines; first:", l.Errors, l.Warnings)
		for _, e := range l.Examples {
			fmt.Fprintln(os.Stderr, "  "+e)
		}
	}
}
