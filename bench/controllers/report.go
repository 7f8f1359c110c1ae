package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"skiff.dev/skiff/bench/internal/skiffproc"
)

// done is when a phase ended: the Deployments done and every pod Ready.
func (s *phaseStats) doneAfter() time.Duration { return max(s.deploymentsDone, s.allReady) }

func printReport(r *report, srv, agent *skiffproc.Process) {
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	secs := func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Seconds()) }
	mib := func(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }
	want := *nDeploy * *replicas

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "load average before\t%s\n", r.loadBefore)
	where := "a separate `skiff node` agent"
	if agent == nil {
		where = "inside `skiff up`"
	}
	fmt.Fprintf(tw, "nodes\t%d simulated, %s (start to all Ready: %s)\n", *nodes, where, ms(r.nodesReady))
	fmt.Fprintf(tw, "deployments\t%d × %d replicas = %d pods (%d request workers; pod requests cpu %s memory %s)\n",
		*nDeploy, *replicas, want, *workers, *cpuReq, *memReq)
	for p := range phases {
		pr := &r.phase[p]
		s := &pr.stats
		verb := "created"
		if p == rollout {
			verb = "template changed"
		}
		fmt.Fprintf(tw, "%s\t\n", strings.ToUpper(phaseName(p)))
		fmt.Fprintf(tw, "  all Deployments %s after\t%s\n", verb, ms(pr.applied))
		fmt.Fprintf(tw, "  first / last new pod created after\t%s / %s (%.0f pods/s between them)\n",
			ms(s.firstPod), ms(s.allCreated), rate(want, s.allCreated-s.firstPod))
		fmt.Fprintf(tw, "  all new pods bound after\t%s\n", ms(s.allScheduled))
		server := "-"
		if !s.lastReadyServer.IsZero() {
			server = s.lastReadyServer.Sub(s.start.Truncate(time.Second)).String()
		}
		fmt.Fprintf(tw, "  all new pods Ready after\t%s (by the server's clock, 1 s resolution: %s)\n", ms(s.allReady), server)
		fmt.Fprintf(tw, "  pods Ready per second\t%s\n", skiffproc.PerSecond(s.readyPerSecond))
		fmt.Fprintf(tw, "    in each second\t%v\n", s.readyPerSecond)
		fmt.Fprintf(tw, "  by the server's clock, per second\t\n")
		fmt.Fprintf(tw, "    created\t%v\n", s.serverCreated)
		fmt.Fprintf(tw, "    bound\t%v\n", s.serverBound)
		fmt.Fprintf(tw, "    Ready\t%v\n", s.serverReady)
		fmt.Fprintf(tw, "  all Deployments done after\t%s\n", ms(s.deploymentsDone))
		if p == rollout {
			gone := "not all within 30 s of the end"
			if s.oldGone != 0 {
				gone = "last after " + ms(s.oldGone)
			}
			fmt.Fprintf(tw, "  old pods deleted\t%d of %d, %s\n", s.oldDeleted, want, gone)
		}
		fmt.Fprintf(tw, "  CPU s server/agent/bench/other\t%s/%s/%s/%s (of %s s wall × 2 cores)\n",
			secs(pr.cpu.server), secs(pr.cpu.agent), secs(pr.cpu.bench), secs(pr.cpu.other()), secs(s.doneAfter()))
		fmt.Fprintf(tw, "  RSS at the end (peak so far)\tserver %s (%s)", mib(pr.rss[0]), mib(pr.hwm[0]))
		if agent != nil {
			fmt.Fprintf(tw, ", agent %s (%s)", mib(pr.rss[1]), mib(pr.hwm[1]))
		}
		fmt.Fprintln(tw)
		fmt.Fprintf(tw, "  load average at the end\t%s\n", pr.load)
		for i, l := range pr.requests.lines() {
			label := ""
			if i == 0 {
				label = "  requests served (non-2xx codes)"
			}
			fmt.Fprintf(tw, "%s\t%s\n", label, l)
		}
	}
	fmt.Fprintf(tw, "benchmark's informers\t%d lists, %d watches (3 watches and at most 3 lists if none was re-established)\n", r.lists, r.watches)
	ls := srv.LogSummary()
	fmt.Fprintf(tw, "server log\t%d errors, %d warnings\n", ls.Errors, ls.Warnings)
	var as skiffproc.LogSummary
	if agent != nil {
		as = agent.LogSummary()
		fmt.Fprintf(tw, "agent log\t%d errors, %d warnings\n", as.Errors, as.Warnings)
	}
	tw.Flush()
	for _, e := range ls.Examples {
		fmt.Fprintln(os.Stderr, "  server log:", e)
	}
	for _, e := range as.Examples {
		fmt.Fprintln(os.Stderr, "  agent log:", e)
	}

	d, ro := &r.phase[deploy], &r.phase[rollout]
	fmt.Printf("metric deploy_10k_ready_s %.2f s\n", d.stats.doneAfter().Seconds())
	fmt.Printf("metric rollout_10k_s %.2f s\n", ro.stats.doneAfter().Seconds())
	fmt.Printf("metric rss_mib %.0f MiB\n", float64(ro.hwm[0])/1024)
	if agent != nil {
		fmt.Printf("metric agent_rss_mib %.0f MiB\n", float64(ro.hwm[1])/1024)
	}
	fmt.Printf("metric server_cpu_s %.1f s\n", (d.cpu.server + ro.cpu.server).Seconds())
	if agent != nil {
		fmt.Printf("metric agent_cpu_s %.1f s\n", (d.cpu.agent + ro.cpu.agent).Seconds())
	}
}

func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n-1) / d.Seconds()
}
