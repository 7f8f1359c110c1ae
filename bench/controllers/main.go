// Command controllers benchmarks skiff's workload controllers as a user
// sees them: it builds the skiff binary, starts `skiff up --nodes 0`
// (API server, scheduler and controllers on the embedded store) on a free
// loopback port and a `skiff node --runtime simulated --count N` agent
// beside it (or, with -embedded-nodes, `skiff up --nodes N` in one
// process), for more than 256 nodes with a --cluster-cidr wide enough to
// give each a /24, waits for the N nodes, then
//
//  1. creates -deployments Deployments of -replicas replicas each
//     (RollingUpdate, upstream's defaults of 25% surge and unavailable)
//     and waits until every pod is Ready and every Deployment reports it;
//
//  2. changes every Deployment's pod template (an annotation) and waits
//     until every rollout is complete: updatedReplicas, readyReplicas and
//     availableReplicas equal replicas, status.replicas too (no old pods
//     counted), observedGeneration current, and every old ReplicaSet
//     scaled to 0 with no pods.
//
//     go run ./bench/controllers [-deployments 100] [-replicas 100] [-nodes 1000]
//
// The benchmark learns all of it from watches (client-go informers on
// pods, ReplicaSets and Deployments, on a connection of their own), never
// by polling.
//
// Figures:
//
//   - deploy_10k_ready_s: from the first Deployment create request until
//     every Deployment reports all its replicas updated, Ready and
//     available and the watch has seen every pod Ready;
//   - rollout_10k_s: from the first template change until every rollout
//     is complete as above;
//   - rss_mib: the server's peak resident set over the run (VmHWM; API
//     server, scheduler and controllers, and the nodes with
//     -embedded-nodes); agent_rss_mib is the agent's;
//   - server_cpu_s, agent_cpu_s: CPU seconds used during the two phases.
//
// The table breaks each phase down by the pods the watch saw: first pod
// created, all created (the ReplicaSet controller's pace), all bound (the
// scheduler's), all Ready (the agent's), and the Deployments' status
// catching up (the Deployment controller's), with Ready pods per second
// and the CPU seconds of the server, the agent, the benchmark and every
// other process sharing the cores.
//
// To explain the figures, the table also gives the growth of the
// server's request counters (by resource, verb and failure code) in each
// phase; -cpuprofile and -heapprofile fetch the server's profiles from
// /debug/pprof, and -stall-dump its goroutines whenever no pod has turned
// Ready for -stall-after (the agent of -embedded-nodes included; a
// separate `skiff node` serves no profiles).
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
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/bench/internal/skiffproc"
)

var (
	nDeploy   = flag.Int("deployments", 100, "Deployments to create")
	replicas  = flag.Int("replicas", 100, "replicas of each Deployment")
	nodes     = flag.Int("nodes", 1000, "simulated nodes")
	embedded  = flag.Bool("embedded-nodes", false, "run the nodes inside `skiff up` (--nodes N) instead of a separate `skiff node` agent")
	skiffArgs = flag.String("skiff-args", "", "extra `skiff up` flags, space-separated")
	nodeArgs  = flag.String("node-args", "", "extra `skiff node` flags, space-separated")
	workers   = flag.Int("workers", 10, "concurrent create/patch workers")
	cpuReq    = flag.String("cpu", "10m", "cpu request of each pod")
	memReq    = flag.String("memory", "16Mi", "memory request of each pod")
	timeout   = flag.Duration("timeout", 5*time.Minute, "give up on a phase after this long")
	keep      = flag.Bool("keep", false, "keep the temp dir (binary, data dir, logs) for inspection")
	profile   = flag.String("cpuprofile", "", "write the server's CPU profile of each phase's first -profile-seconds to PREFIX-deploy.pprof and PREFIX-rollout.pprof")
	heapProf  = flag.String("heapprofile", "", "write the server's heap profile after the rollout to this file")
	profSec   = flag.Int("profile-seconds", 30, "length of the -cpuprofile profiles")
	stallDump = flag.String("stall-dump", "", "when no pod has turned Ready for -stall-after, write the server's goroutines to PREFIX-<phase>-<n>.txt (at most 5)")
	stallFor  = flag.Duration("stall-after", 3*time.Second, "see -stall-dump")
)

const namespace = "bench"

func main() {
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/controllers:", err)
		os.Exit(1)
	}
}

// usage is CPU time used by each party, read from /proc.
type usage struct{ server, agent, bench, machine time.Duration }

func readUsage(srv, agent *skiffproc.Process) usage {
	u := usage{server: skiffproc.ProcCPU(fmt.Sprint(srv.PID())), bench: skiffproc.ProcCPU("self"), machine: skiffproc.MachineCPU()}
	if agent != nil {
		u.agent = skiffproc.ProcCPU(fmt.Sprint(agent.PID()))
	}
	return u
}

func (u usage) sub(o usage) usage {
	return usage{u.server - o.server, u.agent - o.agent, u.bench - o.bench, u.machine - o.machine}
}

func (u usage) other() time.Duration { return max(u.machine-u.server-u.agent-u.bench, 0) }

type phaseReport struct {
	stats    phaseStats
	cpu      usage
	applied  time.Duration // all create/patch requests answered
	load     string        // load average at the end
	rss, hwm [2]int64      // server, agent KiB at the end
	requests requestCounts // the server's request counters' growth
}

type report struct {
	loadBefore string
	nodesReady time.Duration
	phase      [phases]phaseReport
	lists      int64 // by the informers, the first three included
	watches    int64
}

func run(ctx context.Context) (err error) {
	tmp, cleanup, err := skiffproc.WorkDir("controllers", *keep)
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
	upNodes := 0
	if *embedded {
		upNodes = *nodes
	}
	upArgs := append([]string{"--nodes", fmt.Sprint(upNodes)}, skiffproc.ClusterCIDRArgs(*nodes)...)
	srv, err := skiffproc.Start(ctx, bin, tmp, append(upArgs, strings.Fields(*skiffArgs)...)...)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.Stop(); err == nil && serr != nil {
			err = serr
		}
	}()
	var agent *skiffproc.Process
	if !*embedded {
		args := append([]string{"--runtime", "simulated", "--count", fmt.Sprint(*nodes), "--name-prefix", "bench-node"}, strings.Fields(*nodeArgs)...)
		if agent, err = skiffproc.StartNode(bin, tmp, srv.Kubeconfig, args...); err != nil {
			return err
		}
		// Stopped before the server (defers run last first), so that
		// it does not log the server going away.
		defer func() {
			if aerr := agent.Stop(); err == nil && aerr != nil {
				err = aerr
			}
		}()
	}
	tails := func() string {
		s := srv.LogTail()
		if agent != nil {
			s += strings.Replace(agent.LogTail(), "skiff log", "skiff node log", 1)
		}
		return s
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", srv.Kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS = -1 // no client-side rate limit
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	if err := skiffproc.WaitNodes(ctx, cs, *nodes, 3*time.Minute); err != nil {
		return fmt.Errorf("%w%s", err, tails())
	}
	r.nodesReady = time.Since(t0)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{}); err != nil {
		return err
	}

	// The watches have a connection of their own (a config with its own
	// dialer gets its own transport), so requests never queue them.
	watchCfg := rest.CopyConfig(cfg)
	watchCfg.Dial = (&net.Dialer{}).DialContext
	wc, err := kubernetes.NewForConfig(watchCfg)
	if err != nil {
		return err
	}
	tr := newTracker(*nDeploy, *replicas)
	if *stallDump != "" {
		var dumps atomic.Int64
		tr.stallAfter = *stallFor
		tr.onStall = func(p, pending int) {
			n := dumps.Add(1)
			if n > 5 {
				return
			}
			path := fmt.Sprintf("%s-%s-%d.txt", *stallDump, phaseName(p), n)
			b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/goroutine").Param("debug", "2").DoRaw(ctx)
			if err == nil {
				err = os.WriteFile(path, b, 0o644)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench/controllers: goroutine dump:", err)
				return
			}
			fmt.Fprintf(os.Stderr, "bench/controllers: no pod Ready for %v (%d pending, %s after the %s phase began); server goroutines in %s\n",
				*stallFor, pending, time.Since(tr.stats[p].start).Round(time.Second), phaseName(p), path)
		}
	}
	var calls callCounter
	infCtx, stopInformers := context.WithCancel(ctx)
	defer stopInformers()
	if err := startInformers(infCtx, wc, tr, &calls); err != nil {
		return err
	}

	exited := make(chan string, 2)
	go func() {
		select {
		case <-srv.Exited():
			exited <- "skiff up"
		case <-infCtx.Done():
		}
	}()
	if agent != nil {
		go func() {
			select {
			case <-agent.Exited():
				exited <- "skiff node"
			case <-infCtx.Done():
			}
		}()
	}
	wait := func(p int) error {
		select {
		case <-tr.stats[p].done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case who := <-exited:
			return fmt.Errorf("%s exited during the %s phase%s", who, phaseName(p), tails())
		case <-time.After(*timeout):
			c, s, rd, old, dd := tr.progress()
			return fmt.Errorf("%s phase: after %v, %d of %d pods created, %d bound, %d Ready, %d old pods deleted, %d of %d Deployments done%s",
				phaseName(p), *timeout, c, tr.want, s, rd, old, dd, *nDeploy, tails())
		}
	}
	var profiles sync.WaitGroup
	defer profiles.Wait()

	for p := range phases {
		pr := &r.phase[p]
		req0, err := scrapeRequests(ctx, cs)
		if err != nil {
			return fmt.Errorf("reading /metrics: %w", err)
		}
		u0 := readUsage(srv, agent)
		tr.begin(p)
		if *profile != "" {
			profiles.Go(func() { cpuProfile(ctx, cs, fmt.Sprintf("%s-%s.pprof", *profile, phaseName(p))) })
		}
		if p == deploy {
			err = parallel(*nDeploy, func(i int) error {
				_, err := cs.AppsV1().Deployments(namespace).Create(ctx, benchDeployment(i), metav1.CreateOptions{})
				return err
			})
		} else {
			err = parallel(*nDeploy, func(i int) error {
				d, err := cs.AppsV1().Deployments(namespace).Patch(ctx, deploymentName(i), types.StrategicMergePatchType,
					[]byte(`{"spec":{"template":{"metadata":{"annotations":{"bench.skiff.dev/rollout":"1"}}}}}`), metav1.PatchOptions{})
				if err == nil {
					tr.setPatched(d.Name, d.Generation)
				}
				return err
			})
		}
		pr.applied = time.Since(tr.stats[p].start)
		if err != nil {
			return fmt.Errorf("%s phase: %w", phaseName(p), err)
		}
		if err := wait(p); err != nil {
			return err
		}
		pr.cpu = readUsage(srv, agent).sub(u0)
		req1, err := scrapeRequests(ctx, cs)
		if err != nil {
			return fmt.Errorf("reading /metrics: %w", err)
		}
		pr.requests = req1.sub(req0)
		pr.load = skiffproc.LoadAvg()
		pr.rss[0], _ = skiffproc.ProcStatusKiB(srv.PID(), "VmRSS")
		pr.hwm[0], _ = skiffproc.ProcStatusKiB(srv.PID(), "VmHWM")
		if agent != nil {
			pr.rss[1], _ = skiffproc.ProcStatusKiB(agent.PID(), "VmRSS")
			pr.hwm[1], _ = skiffproc.ProcStatusKiB(agent.PID(), "VmHWM")
		}
	}
	// The old pods go after the rollout is complete as far as the
	// Deployments tell (their status does not count terminating pods);
	// give them a little longer to be reported.
	select {
	case <-tr.oldGone():
	case <-time.After(30 * time.Second):
	}
	for p := range phases {
		r.phase[p].stats = tr.snapshot(p)
	}
	r.lists, r.watches = calls.lists.Load(), calls.watches.Load()
	if *heapProf != "" {
		b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/heap").DoRaw(ctx)
		if err == nil {
			err = os.WriteFile(*heapProf, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/controllers: heap profile:", err)
		}
	}
	stopInformers()
	printReport(&r, srv, agent)
	return nil
}

func phaseName(p int) string {
	if p == deploy {
		return "deploy"
	}
	return "rollout"
}

func deploymentName(i int) string { return fmt.Sprintf("web-%03d", i) }

func benchDeployment(i int) *appsv1.Deployment {
	name := deploymentName(i)
	labels := map[string]string{"app": name}
	n := int32(*replicas)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &n,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "registry.k8s.io/pause:3.10",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceCPU: resource.MustParse(*cpuReq), corev1.ResourceMemory: resource.MustParse(*memReq),
					}},
				}}},
			},
		},
	}
}

// parallel runs do(0..n-1) on -workers goroutines and returns the first
// error.
func parallel(n int, do func(i int) error) error {
	work := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range *workers {
		wg.Go(func() {
			for i := range work {
				if err := do(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return firstErr
}

func cpuProfile(ctx context.Context, cs *kubernetes.Clientset, path string) {
	b, err := cs.CoreV1().RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", fmt.Sprint(*profSec)).DoRaw(ctx)
	if err == nil {
		err = os.WriteFile(path, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/controllers: cpu profile:", err)
	}
}

// startInformers watches the namespace's pods, ReplicaSets and
// Deployments into tr and returns once their first lists are in.
func startInformers(ctx context.Context, cs *kubernetes.Clientset, tr *tracker, rw *callCounter) error {
	pods := cache.NewSharedIndexInformer(rw.wrap(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.CoreV1().Pods(namespace).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.CoreV1().Pods(namespace).Watch(ctx, o)
		},
	}), &corev1.Pod{}, 0, cache.Indexers{})
	// The benchmark keeps only what it reads of 10,000s of pods.
	pods.SetTransform(func(obj any) (any, error) {
		p, ok := obj.(*corev1.Pod)
		if !ok {
			return obj, nil
		}
		slim := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.Name, Namespace: p.Namespace, UID: p.UID,
			ResourceVersion: p.ResourceVersion, CreationTimestamp: p.CreationTimestamp}}
		slim.Spec.NodeName = p.Spec.NodeName
		for _, typ := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodReady} {
			if c := podCondition(p, typ); c != nil {
				slim.Status.Conditions = append(slim.Status.Conditions, *c)
			}
		}
		return slim, nil
	})
	pods.AddEventHandler(handlers(tr.onPod, tr.onPodDeleted, func(p *corev1.Pod) string { return p.Name }))

	rss := cache.NewSharedIndexInformer(rw.wrap(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().ReplicaSets(namespace).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.AppsV1().ReplicaSets(namespace).Watch(ctx, o)
		},
	}), &appsv1.ReplicaSet{}, 0, cache.Indexers{})
	rss.AddEventHandler(handlers(tr.onReplicaSet, tr.onReplicaSetDeleted, func(rs *appsv1.ReplicaSet) string { return rs.Name }))

	deps := cache.NewSharedIndexInformer(rw.wrap(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return cs.AppsV1().Deployments(namespace).List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return cs.AppsV1().Deployments(namespace).Watch(ctx, o)
		},
	}), &appsv1.Deployment{}, 0, cache.Indexers{})
	deps.AddEventHandler(handlers(tr.onDeployment, func(string) {}, func(d *appsv1.Deployment) string { return d.Name }))

	for _, inf := range []cache.SharedIndexInformer{pods, rss, deps} {
		go inf.RunWithContext(ctx)
	}
	if !cache.WaitForCacheSync(ctx.Done(), pods.HasSynced, rss.HasSynced, deps.HasSynced) {
		return fmt.Errorf("informers did not sync: %w", ctx.Err())
	}
	return nil
}

// callCounter counts the informers' lists and watches: more than one each
// means the server closed a watch (one that fell behind, say) and the
// informer listed or watched again.
type callCounter struct{ lists, watches atomic.Int64 }

func (c *callCounter) wrap(lw *cache.ListWatch) *cache.ListWatch {
	list, watchFn := lw.ListWithContextFunc, lw.WatchFuncWithContext
	lw.ListWithContextFunc = func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		c.lists.Add(1)
		return list(ctx, o)
	}
	lw.WatchFuncWithContext = func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
		c.watches.Add(1)
		return watchFn(ctx, o)
	}
	return lw
}
