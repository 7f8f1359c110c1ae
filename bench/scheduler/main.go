// Command scheduler benchmarks skiff's scheduler and simulated nodes as a
// user sees them: it builds the skiff binary, starts `skiff up --nodes N`
// (API server, scheduler and N simulated nodes in one process) on a free
// loopback port, waits for the N nodes, then creates -pods pods with small
// requests from -workers concurrent client-go workers and watches them
// until every one is Running.
//
//	go run ./bench/scheduler [-nodes 1000] [-pods 10000] [-workers 64]
//
// Figures:
//
//   - schedule_pods_per_s: the scheduling throughput, bindings per second
//     over the window in which the scheduler had pods to schedule: from
//     the first pod bound to the last (a binding is a pod's spec.nodeName
//     seen on the watch). Like scheduler_perf's SchedulingThroughput it
//     counts pods scheduled, not pods created; the time to create the
//     first pod and have it reach the scheduler is outside the window.
//     Pods are created while earlier ones are scheduled, so the scheduler
//     can never bind faster than pods arrive: the table gives the create
//     rate alongside, with the per-second binding rates and the largest
//     backlog seen (pods on the watch not yet bound). A small backlog
//     means the scheduler kept up and the figure is bounded by creation,
//     not by scheduling. The table also counts the bindings in each
//     second by the server's clock (PodScheduled transition times, one
//     second resolution), which do not depend on the benchmark's watch;
//   - create_pods_per_s: pods / time from the first create request to the
//     last one's response;
//   - all_running_s: from the first create request until the last pod
//     reported phase Running;
//   - rss_mib: the skiff process's resident set after all pods run (the
//     API server, scheduler and nodes are all in it); its peak is in the
//     table.
//
// Pods are created once every node is Ready and without the
// node.kubernetes.io/not-ready:NoSchedule taint registration gets (the
// simulated agent removes it, as a node lifecycle controller would; the
// benchmark removes any it still finds).
//
// The benchmark and the server share the machine: the table gives the
// CPU seconds used by the server, by the benchmark and by every other
// process during the pod phase.
//
// It prints a table, then one line per figure: `metric <name> <value> <unit>`.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

var (
	nodes    = flag.Int("nodes", 1000, "simulated nodes")
	pods     = flag.Int("pods", 10000, "pods to create")
	workers  = flag.Int("workers", 64, "concurrent create workers")
	cpuReq   = flag.String("cpu", "10m", "cpu request of each pod")
	memReq   = flag.String("memory", "16Mi", "memory request of each pod")
	timeout  = flag.Duration("timeout", 5*time.Minute, "give up waiting for pods after this long")
	keep     = flag.Bool("keep", false, "keep the temp dir (binary, data dir, server log) for inspection")
	profile  = flag.String("cpuprofile", "", "write the server's CPU profile of the pod phase (first -profile-seconds) to this file")
	heapProf = flag.String("heapprofile", "", "write the server's heap profile after all pods run to this file")
	profSec  = flag.Int("profile-seconds", 10, "length of the -cpuprofile profile")
)

const namespace = "bench"

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/scheduler:", err)
		os.Exit(1)
	}
}

type report struct {
	nodesReady       time.Duration
	created          time.Duration
	firstScheduled   time.Duration
	maxBacklog       int
	bindsPerSecond   []int
	serverBinds      []int
	lastScheduled    time.Duration
	lastRunning      time.Duration
	scheduled        int
	running          int
	createErrors     int
	cpu              skiffproc.CPUTimes
	rssKiB, hwmKiB   int64
	anonKiB, fileKiB int64 // the RSS's anonymous (heap, stacks) and file-backed (mapped files) parts
	loadBefore       string
	perNodeMin, max  int
	rewatches        int
	writes           string
	goMemory         string
	commits          uint64  // storage commits (each one fdatasync)
	batch            float64 // writes per commit
}

func run(ctx context.Context) (err error) {
	tmp, cleanup, err := skiffproc.WorkDir("scheduler", *keep)
	if err != nil {
		return err
	}
	defer cleanup()
	var r report
	r.loadBefore = skiffproc.LoadAvg()
	bin, err := skiffproc.Build(ctx, tmp)
	if err != nil {
		return err
	}
	t0 := time.Now()
	srv, err := skiffproc.Start(ctx, bin, tmp, append([]string{"--nodes", fmt.Sprint(*nodes)}, skiffproc.ClusterCIDRArgs(*nodes)...)...)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.Stop(); err == nil && serr != nil {
			err = serr
		}
	}()
	cfg, err := clientcmd.BuildConfigFromFlags("", srv.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS = -1
	// Pods are created as controllers create them (a ReplicaSet's, a
	// Job's): client-go speaking protobuf.
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := skiffproc.WaitNodes(ctx, cs, *nodes, 3*time.Minute); err != nil {
		return fmt.Errorf("%w%s", err, srv.LogTail())
	}
	r.nodesReady = time.Since(t0)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	// The watch that times the pods has a connection of its own (a config
	// with its own dialer gets its own transport): sharing the creates'
	// HTTP/2 connection, it fell seconds behind the server.
	watchCfg := rest.CopyConfig(cfg)
	watchCfg.Dial = (&net.Dialer{}).DialContext
	watcher, err := kubernetes.NewForConfig(watchCfg)
	if err != nil {
		return err
	}
	if err := measurePods(ctx, cs, watcher, srv, &r); err != nil {
		return fmt.Errorf("%w%s", err, srv.LogTail())
	}
	printReport(&r, srv)
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func benchPod(i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse(*cpuReq), corev1.ResourceMemory: resource.MustParse(*memReq),
			}},
		}}},
	}
}

// measurePods creates the pods while a watch records when each is bound
// and when it runs.
func measurePods(ctx context.Context, cs, watcher *kubernetes.Clientset, srv *skiffproc.Process, r *report) error {
	w, err := watcher.CoreV1().Pods(namespace).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	defer func() { w.Stop() }()
	m0, err := skiffproc.ReadMetrics(ctx, cs.CoreV1().RESTClient())
	if err != nil {
		return err
	}
	cpu0 := skiffproc.ReadCPU(srv.PID())
	start := time.Now()
	if *profile != "" {
		go func() {
			b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", fmt.Sprint(*profSec)).DoRaw(ctx)
			if err == nil {
				err = os.WriteFile(*profile, b, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench/scheduler: cpu profile:", err)
			}
		}()
	}
	var next atomic.Int64
	var createErrs atomic.Int64
	var firstErr error
	var errMu sync.Mutex
	createDone := make(chan struct{})
	go func() {
		defer close(createDone)
		var wg sync.WaitGroup
		for range *workers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= *pods || ctx.Err() != nil {
						return
					}
					if _, err := cs.CoreV1().Pods(namespace).Create(ctx, benchPod(i), metav1.CreateOptions{}); err != nil {
						createErrs.Add(1)
						errMu.Lock()
						firstErr = cmpErr(firstErr, err)
						errMu.Unlock()
					}
				}
			})
		}
		wg.Wait()
		r.created = time.Since(start)
	}()

	seen := map[string]bool{}
	scheduledAt := map[string]time.Duration{}
	runningAt := map[string]time.Duration{}
	perNode := map[string]int{}
	observe := func(p *corev1.Pod) {
		now := time.Since(start)
		seen[p.Name] = true
		if _, bound := scheduledAt[p.Name]; !bound && p.Spec.NodeName != "" {
			scheduledAt[p.Name] = now
			perNode[p.Spec.NodeName]++
		}
		r.maxBacklog = max(r.maxBacklog, len(seen)-len(scheduledAt))
		if _, seen := runningAt[p.Name]; !seen && p.Status.Phase == corev1.PodRunning {
			runningAt[p.Name] = now
		}
	}
	deadline := time.After(*timeout)
	rewatches := 0
	for len(runningAt) < *pods {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("after %v: %d of %d pods scheduled, %d running (create errors %d, first: %v)",
				*timeout, len(scheduledAt), *pods, len(runningAt), createErrs.Load(), firstErr)
		case ev, ok := <-w.ResultChan():
			if !ok {
				// The server closes a watcher that falls behind; list
				// (recording what was missed, a little late) and watch on.
				rewatches++
				list, err := watcher.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
				if err != nil {
					return err
				}
				for i := range list.Items {
					observe(&list.Items[i])
				}
				if w, err = watcher.CoreV1().Pods(namespace).Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion}); err != nil {
					return err
				}
				continue
			}
			if ev.Type != watch.Added && ev.Type != watch.Modified {
				continue
			}
			if p, ok := ev.Object.(*corev1.Pod); ok {
				observe(p)
			}
		}
	}
	r.rewatches = rewatches
	<-createDone
	r.cpu = skiffproc.ReadCPU(srv.PID()).Sub(cpu0)
	m1, err := skiffproc.ReadMetrics(ctx, cs.CoreV1().RESTClient())
	if err != nil {
		return err
	}
	r.writes = m1.Requests().Writes(m0.Requests())
	r.goMemory = m1.GoMemory()
	n0, sum0 := m0.Histogram("skiff_storage_commit_batch_size")
	n1, sum1 := m1.Histogram("skiff_storage_commit_batch_size")
	if n1 > n0 {
		r.commits, r.batch = n1-n0, (sum1-sum0)/float64(n1-n0)
	}
	r.createErrors = int(createErrs.Load())
	r.scheduled, r.running = len(scheduledAt), len(runningAt)
	times := make([]time.Duration, 0, len(scheduledAt))
	for _, d := range scheduledAt {
		times = append(times, d)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	r.firstScheduled, r.lastScheduled = times[0], times[len(times)-1]
	r.bindsPerSecond = make([]int, int((r.lastScheduled-r.firstScheduled)/time.Second)+1)
	for _, d := range times {
		r.bindsPerSecond[int((d-r.firstScheduled)/time.Second)]++
	}
	for _, d := range runningAt {
		r.lastRunning = max(r.lastRunning, d)
	}
	r.perNodeMin = *pods
	for _, n := range perNode {
		r.perNodeMin = min(r.perNodeMin, n)
		r.max = max(r.max, n)
	}
	if len(perNode) < *nodes {
		r.perNodeMin = 0
	}
	if r.serverBinds, err = serverBindsPerSecond(ctx, cs); err != nil {
		return err
	}
	if r.rssKiB, err = skiffproc.ProcStatusKiB(srv.PID(), "VmRSS"); err != nil {
		return err
	}
	r.hwmKiB, _ = skiffproc.ProcStatusKiB(srv.PID(), "VmHWM")
	r.anonKiB, _ = skiffproc.ProcStatusKiB(srv.PID(), "RssAnon")
	r.fileKiB, _ = skiffproc.ProcStatusKiB(srv.PID(), "RssFile")
	if *heapProf != "" {
		b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/heap").DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(*heapProf, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/scheduler: heap profile:", err)
		}
	}
	return nil
}

func printReport(r *report, srv *skiffproc.Process) {
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "load average before\t%s\n", r.loadBefore)
	fmt.Fprintf(tw, "nodes\t%d (start to all Ready and untainted: %v)\n", *nodes, r.nodesReady.Round(time.Millisecond))
	fmt.Fprintf(tw, "pods\t%d (%d create workers, requests cpu %s memory %s)\n", *pods, *workers, *cpuReq, *memReq)
	fmt.Fprintf(tw, "all created after\t%v (%.0f creates/s, %d errors)\n", r.created.Round(time.Millisecond), float64(*pods)/r.created.Seconds(), r.createErrors)
	fmt.Fprintf(tw, "first / last bound after\t%v / %v (%.0f binds/s between them)\n", r.firstScheduled.Round(time.Millisecond), r.lastScheduled.Round(time.Millisecond), scheduleRate(r))
	fmt.Fprintf(tw, "binds per second\t%s; largest backlog %d pods\n", skiffproc.PerSecond(r.bindsPerSecond), r.maxBacklog)
	fmt.Fprintf(tw, "binds in each second\t%v\n", r.bindsPerSecond)
	fmt.Fprintf(tw, "  by the server's clock\t%v\n", r.serverBinds)
	fmt.Fprintf(tw, "all Running after\t%v (benchmark's watch re-established %d times)\n", r.lastRunning.Round(time.Millisecond), r.rewatches)
	fmt.Fprintf(tw, "pods per node\tmin %d, max %d\n", r.perNodeMin, r.max)
	fmt.Fprintf(tw, "CPU s server/bench/other\t%s\n", r.cpu)
	fmt.Fprintf(tw, "writes in the pod phase\t%s\n", r.writes)
	fmt.Fprintf(tw, "storage commits\t%d (%.1f writes each)\n", r.commits, r.batch)
	fmt.Fprintf(tw, "Go memory\t%s\n", r.goMemory)
	fmt.Fprintf(tw, "skiff RSS (peak)\t%.0f MiB (%.0f MiB); anonymous %.0f MiB, mapped files %.0f MiB\n",
		float64(r.rssKiB)/1024, float64(r.hwmKiB)/1024, float64(r.anonKiB)/1024, float64(r.fileKiB)/1024)
	ls := srv.LogSummary()
	fmt.Fprintf(tw, "server log\t%d errors, %d warnings\n", ls.Errors, ls.Warnings)
	tw.Flush()
	for _, e := range ls.Examples {
		fmt.Fprintln(os.Stderr, "  server log:", e)
	}
	fmt.Printf("metric schedule_pods_per_s %.0f pods/s\n", scheduleRate(r))
	fmt.Printf("metric create_pods_per_s %.0f pods/s\n", float64(*pods)/r.created.Seconds())
	fmt.Printf("metric all_running_s %.2f s\n", r.lastRunning.Seconds())
	fmt.Printf("metric rss_mib %.0f MiB\n", float64(r.rssKiB)/1024)
}

// scheduleRate is the bindings after the first one over the time from the
// first to the last: the rate while the scheduler had pods to schedule.
func scheduleRate(r *report) float64 {
	if r.scheduled < 2 || r.lastScheduled <= r.firstScheduled {
		return 0
	}
	return float64(r.scheduled-1) / (r.lastScheduled - r.firstScheduled).Seconds()
}

// serverBindsPerSecond counts the pods bound in each second by the
// server's clock (their PodScheduled condition's transition time, which
// has a resolution of one second), from the first such second to the
// last. Unlike the watch's timings it does not move when the benchmark's
// own watch falls behind and is re-established.
func serverBindsPerSecond(ctx context.Context, cs *kubernetes.Clientset) ([]int, error) {
	list, err := cs.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var secs []int64
	for _, p := range list.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue {
				secs = append(secs, c.LastTransitionTime.Unix())
			}
		}
	}
	if len(secs) == 0 {
		return nil, nil
	}
	first, last := slices.Min(secs), slices.Max(secs)
	out := make([]int, last-first+1)
	for _, t := range secs {
		out[t-first]++
	}
	return out, nil
}
