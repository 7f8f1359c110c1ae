// Command nodes measures what simulated nodes cost: it builds skiff,
// starts `skiff up --nodes 0` on a free loopback port with a fresh data
// dir (or uses the server of -kubeconfig), then starts
// `skiff node --count N` as a separate process and reports
//
//   - how long until all N nodes are registered and Ready and all N leases
//     exist;
//
//   - the agent's RSS and CPU while idle over -idle (at least one lease
//     period, so every lease is renewed in the window), and its peak RSS;
//
//   - that every lease was renewed during the idle window;
//
//   - with -pods P: P pods created (64 clients) bound round-robin to the
//     nodes, the time until all are Running, and the agent's RSS then.
//
//     go run ./bench/nodes [-count 1000] [-idle 30s] [-kubeconfig FILE]
//
// It prints a table, then `metric <name> <value> <unit>` lines.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/internal/client"
)

var (
	count      = flag.Int("count", 1000, "simulated nodes to run")
	idle       = flag.Duration("idle", 30*time.Second, "idle window to measure CPU and RSS over (at least the 10 s lease period)")
	kubeconfig = flag.String("kubeconfig", "", "use the running server of this kubeconfig instead of starting `skiff up`")
	skiffBin   = flag.String("skiff", "", "skiff binary (default: build ./cmd/skiff)")
	pods       = flag.Int("pods", 0, "then create this many pods bound round-robin to the nodes and time until all are Running")
)

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/nodes:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "skiff-bench-nodes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := *skiffBin
	if bin == "" {
		bin = filepath.Join(dir, "skiff")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/skiff")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/skiff: %w\n%s", err, out)
		}
	}
	kc := *kubeconfig
	var server *exec.Cmd
	if kc == "" {
		server, kc, err = startServer(ctx, bin, dir)
		if err != nil {
			return err
		}
		defer stop(server)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		return err
	}
	cfg.QPS = -1
	core, err := client.NewCore(cfg)
	if err != nil {
		return err
	}
	coord, err := client.NewGroup(cfg, coordinationv1.SchemeGroupVersion)
	if err != nil {
		return err
	}

	prefix := fmt.Sprintf("bench-%d", time.Now().Unix())
	agent := exec.Command(bin, "node", "--kubeconfig", kc, "--count", strconv.Itoa(*count), "--name-prefix", prefix)
	agent.Stderr, _ = os.Create(filepath.Join(dir, "agent.log"))
	agent.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := agent.Start(); err != nil {
		return err
	}
	defer stop(agent)

	ours := func(name string) bool { return strings.HasPrefix(name, prefix+"-") }
	var leases []coordinationv1.Lease
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		nodes, err := core.Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for _, n := range nodes.Items {
			if ours(n.Name) && nodeReady(&n) {
				ready++
			}
		}
		if ready < *count {
			return false, nil
		}
		ls, err := coord.Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		leases = leases[:0]
		for _, l := range ls.Items {
			if ours(l.Name) {
				leases = append(leases, l)
			}
		}
		return len(leases) >= *count, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for %d nodes and leases: %w", *count, err)
	}
	registered := time.Since(start)
	renewedBefore := map[string]time.Time{}
	for _, l := range leases {
		renewedBefore[l.Name] = l.Spec.RenewTime.Time
	}

	// Let registration's garbage go, then measure an idle window.
	settle := 5 * time.Second
	time.Sleep(settle)
	pid := agent.Process.Pid
	cpu0, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	time.Sleep(*idle)
	cpu1, err := cpuTicks(pid)
	if err != nil {
		return err
	}
	elapsed := time.Since(t0)
	rss, err := procStatus(pid, "VmRSS")
	if err != nil {
		return err
	}
	hwm, err := procStatus(pid, "VmHWM")
	if err != nil {
		return err
	}
	cpuPct := float64(cpu1-cpu0) / float64(clockTicks) / elapsed.Seconds() * 100

	ls, err := coord.Leases(corev1.NamespaceNodeLease).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	renewed := 0
	for _, l := range ls.Items {
		if before, ok := renewedBefore[l.Name]; ok && l.Spec.RenewTime != nil && l.Spec.RenewTime.After(before) {
			renewed++
		}
	}

	fmt.Printf("%-34s %12s\n", "figure", "value")
	fmt.Printf("%-34s %12d\n", "nodes", *count)
	fmt.Printf("%-34s %11.2fs\n", "all registered, Ready, leased", registered.Seconds())
	fmt.Printf("%-34s %8.1f MiB\n", "agent RSS, idle", float64(rss)/1024)
	fmt.Printf("%-34s %8.1f MiB\n", "agent peak RSS (registration)", float64(hwm)/1024)
	fmt.Printf("%-34s %11.2f%%\n", fmt.Sprintf("agent CPU, idle %s", idle.Round(time.Second)), cpuPct)
	fmt.Printf("%-34s %7d/%d\n", "leases renewed in the idle window", renewed, *count)
	fmt.Printf("metric nodes_registered_s %.2f s\n", registered.Seconds())
	fmt.Printf("metric agent_idle_rss_mib %.1f MiB\n", float64(rss)/1024)
	fmt.Printf("metric agent_peak_rss_mib %.1f MiB\n", float64(hwm)/1024)
	fmt.Printf("metric agent_idle_cpu_pct %.2f %%\n", cpuPct)
	fmt.Printf("metric leases_renewed %d count\n", renewed)

	if *pods > 0 {
		serverPID := 0
		if server != nil {
			serverPID = server.Process.Pid
		}
		if err := runPods(ctx, core, coord, prefix, pid, serverPID); err != nil {
			return err
		}
	}

	// Remove what the run created from a server we did not start.
	if server == nil {
		stop(agent)
		for i := range *count {
			name := fmt.Sprintf("%s-%d", prefix, i)
			_ = core.Nodes().Delete(ctx, name, metav1.DeleteOptions{})
			_ = coord.Leases(corev1.NamespaceNodeLease).Delete(ctx, name, metav1.DeleteOptions{})
		}
	}
	return nil
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// startServer starts `skiff up --nodes 0` and returns once it printed its
// kubeconfig.
func startServer(ctx context.Context, bin, dir string) (*exec.Cmd, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(bin, "up", "--nodes", "0", "--data-dir", filepath.Join(dir, "data"), "--listen", "127.0.0.1:"+port)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr, _ = os.Create(filepath.Join(dir, "server.log"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if kc, ok := strings.CutPrefix(lines.Text(), "export KUBECONFIG="); ok {
			go func() {
				for lines.Scan() {
				}
			}()
			return cmd, kc, nil
		}
	}
	stop(cmd)
	return nil, "", errors.New("skiff up exited before it was ready; see its log")
}

func stop(cmd *exec.Cmd) {
	if cmd.Process == nil || cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
