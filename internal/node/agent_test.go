package node_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	testingclock "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/controlplane/controlplanetest"
	"skiff.dev/skiff/internal/node"
)

// t0 is where the fake clock starts: whole seconds, so the times the API
// keeps (seconds) compare exactly.
var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// startControlPlane runs a control plane without nodes in the test
// process and returns its config.
func startControlPlane(t *testing.T) *rest.Config {
	t.Helper()
	return controlplanetest.Start(t, controlplane.Config{})
}

// startAgent runs an agent until the test ends or the returned stop is
// called.
func startAgent(t *testing.T, cfg *rest.Config, opts node.Options) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.RunSimulated(ctx, cfg, opts) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func until(t *testing.T, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	var msg string
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		var ok bool
		ok, msg = cond(ctx)
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within 20s: %s", what, msg)
	}
}

func renewTime(ctx context.Context, cs kubernetes.Interface, name string) time.Time {
	l, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
	if err != nil || l.Spec.RenewTime == nil {
		return time.Time{}
	}
	return l.Spec.RenewTime.Time
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readyHeartbeat(ctx context.Context, cs kubernetes.Interface, name string) time.Time {
	n, err := cs.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return time.Time{}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.LastHeartbeatTime.Time
		}
	}
	return time.Time{}
}

// TestLeaseWheel: leases are renewed one wheel slot per tick, so three
// nodes are renewed on three different ticks of the 10 s period; status
// is posted only when the report period has passed.
func TestLeaseWheel(t *testing.T) {
	cfg := startControlPlane(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	clk := testingclock.NewFakeClock(t0)
	startAgent(t, cfg, node.Options{Count: 3, NamePrefix: "w", Clock: clk, StatusReportFrequency: 5 * time.Second})
	names := []string{"w-0", "w-1", "w-2"}
	// Registered, with pod CIDRs from the control plane (posted Ready
	// at t0 when they came), before the clock moves.
	until(t, "all leases created and nodes Ready at t0", func(ctx context.Context) (bool, string) {
		for _, n := range names {
			if !renewTime(ctx, cs, n).Equal(t0) {
				return false, n + " not renewed at t0"
			}
			if nd, err := cs.CoreV1().Nodes().Get(ctx, n, metav1.GetOptions{}); err != nil || nd.Spec.PodCIDR == "" || !nodeReady(nd) {
				return false, n + " has no pod CIDR or is not Ready"
			}
		}
		return true, ""
	})
	// Tick k of the wheel (every second) renews the nodes of slot k.
	for tick := 1; tick <= 10; tick++ {
		clk.Step(time.Second)
		now := t0.Add(time.Duration(tick) * time.Second)
		until(t, fmt.Sprintf("tick %d renews its slot", tick), func(ctx context.Context) (bool, string) {
			for i, n := range names {
				want := t0
				switch {
				case i != 0 && tick >= i:
					want = t0.Add(time.Duration(i) * time.Second)
				case i == 0 && tick == 10:
					want = now
				}
				if got := renewTime(ctx, cs, n); !got.Equal(want) {
					return false, fmt.Sprintf("%s renewed at %v, want %v", n, got, want)
				}
			}
			return true, ""
		})
	}
	// At t0+10s only w-0's slot came round after the 5 s report period.
	until(t, "w-0 posted a heartbeat", func(ctx context.Context) (bool, string) {
		got := readyHeartbeat(ctx, cs, "w-0")
		return got.Equal(t0.Add(10 * time.Second)), fmt.Sprintf("heartbeat %v", got)
	})
	if got := readyHeartbeat(context.Background(), cs, "w-1"); !got.Equal(t0) {
		t.Errorf("w-1 heartbeat at %v before its slot came round after the report period", got)
	}
}

func boundPod(name, nodeName string, policy corev1.RestartPolicy, ann map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Annotations: ann},
		Spec: corev1.PodSpec{
			NodeName: nodeName, RestartPolicy: policy,
			Containers: []corev1.Container{{Name: "app", Image: "app:1"}},
		},
	}
}

func podPhase(ctx context.Context, cs kubernetes.Interface, name string) (*corev1.Pod, corev1.PodPhase) {
	p, err := cs.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, ""
	}
	return p, p.Status.Phase
}

// TestPodsWithFakeTime: simulated durations end when the clock says so,
// not before; deletion and adoption after a restart work without time
// passing.
func TestPodsWithFakeTime(t *testing.T) {
	cfg := startControlPlane(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	clk := testingclock.NewFakeClock(t0)
	opts := node.Options{Count: 2, NamePrefix: "f", Clock: clk}
	stop := startAgent(t, cfg, opts)

	for _, p := range []*corev1.Pod{
		boundPod("job", "f-1", corev1.RestartPolicyNever, map[string]string{"skiff.dev/simulate-duration": "30s"}),
		boundPod("server", "f-0", corev1.RestartPolicyAlways, nil),
		boundPod("foreign", "elsewhere", corev1.RestartPolicyAlways, nil),
		func() *corev1.Pod {
			p := boundPod("hostnet", "f-0", corev1.RestartPolicyAlways, nil)
			p.Spec.HostNetwork = true
			return p
		}(),
	} {
		if _, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"job", "server", "hostnet"} {
		until(t, name+" runs", func(ctx context.Context) (bool, string) {
			_, ph := podPhase(ctx, cs, name)
			return ph == corev1.PodRunning, string(ph)
		})
	}
	if hn, _ := podPhase(ctx, cs, "hostnet"); hn.Status.PodIP == "" || hn.Status.PodIP != hn.Status.HostIP {
		t.Errorf("a host-network pod has podIP %q, hostIP %q", hn.Status.PodIP, hn.Status.HostIP)
	}
	job, _ := podPhase(ctx, cs, "job")
	if job.Status.PodIP == "" || job.Status.HostIP == "" {
		t.Errorf("job has no addresses: %+v", job.Status)
	}
	clk.Step(29 * time.Second)
	clk.Step(time.Second)
	until(t, "job succeeds after 30 simulated seconds", func(ctx context.Context) (bool, string) {
		_, ph := podPhase(ctx, cs, "job")
		return ph == corev1.PodSucceeded, string(ph)
	})
	if foreign, _ := podPhase(ctx, cs, "foreign"); foreign == nil || foreign.Status.StartTime != nil {
		t.Errorf("a pod of another node was touched: %+v", foreign)
	}

	// A restarted agent adopts its nodes and the running pod.
	server, _ := podPhase(ctx, cs, "server")
	uid := func() string {
		n, err := cs.CoreV1().Nodes().Get(ctx, "f-0", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return string(n.UID)
	}
	nodeUID := uid()
	stop()
	startAgent(t, cfg, opts)
	if _, err := cs.CoreV1().Pods("default").Create(ctx, boundPod("second", "f-0", corev1.RestartPolicyAlways, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, "second runs", func(ctx context.Context) (bool, string) {
		_, ph := podPhase(ctx, cs, "second")
		return ph == corev1.PodRunning, string(ph)
	})
	second, _ := podPhase(ctx, cs, "second")
	if second.Status.PodIP == server.Status.PodIP {
		t.Errorf("the adopted pod's address %s was handed out again", server.Status.PodIP)
	}
	if uid() != nodeUID {
		t.Errorf("node f-0 was re-created")
	}

	// Deletion: stopped, then removed by the agent, within no simulated time.
	if err := cs.CoreV1().Pods("default").Delete(ctx, "server", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, "server is removed", func(ctx context.Context) (bool, string) {
		_, err := cs.CoreV1().Pods("default").Get(ctx, "server", metav1.GetOptions{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// TestStartDelay: with a start delay the pod is written Pending with its
// containers ContainerCreating, and starts when the clock has passed it.
func TestStartDelay(t *testing.T) {
	cfg := startControlPlane(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	clk := testingclock.NewFakeClock(t0)
	startAgent(t, cfg, node.Options{NamePrefix: "d", Clock: clk, StartDelay: 5 * time.Second})
	if _, err := cs.CoreV1().Pods("default").Create(context.Background(), boundPod("slow", "d-0", corev1.RestartPolicyAlways, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	until(t, "slow is ContainerCreating", func(ctx context.Context) (bool, string) {
		p, ph := podPhase(ctx, cs, "slow")
		if p == nil || len(p.Status.ContainerStatuses) == 0 {
			return false, "no container status"
		}
		w := p.Status.ContainerStatuses[0].State.Waiting
		return ph == corev1.PodPending && w != nil && w.Reason == "ContainerCreating" && p.Status.HostIP != "",
			fmt.Sprintf("%s %+v", ph, p.Status.ContainerStatuses[0].State)
	})
	clk.Step(4 * time.Second)
	clk.Step(time.Second)
	until(t, "slow runs after the delay", func(ctx context.Context) (bool, string) {
		p, ph := podPhase(ctx, cs, "slow")
		return ph == corev1.PodRunning && p.Status.PodIP != "", string(ph)
	})
}

// TestOwnPodCIDRsWithoutAllocator: with no node IPAM controller, nodes
// wait PodCIDRWait for a pod CIDR, not Ready, then pick their own, each a
// different one, and turn Ready.
func TestOwnPodCIDRsWithoutAllocator(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- controlplane.Run(ctx, controlplane.Config{
			DataDir: t.TempDir(), Listen: "127.0.0.1:0", Store: "embedded", DisableNodeCIDRAllocation: true,
			Ready: func(kubeconfig string) { ready <- kubeconfig },
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	cfg, err := clientcmd.BuildConfigFromFlags("", <-ready)
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	clk := testingclock.NewFakeClock(t0)
	startAgent(t, cfg, node.Options{Count: 3, NamePrefix: "own", Clock: clk, PodCIDRWait: 5 * time.Second})
	until(t, "nodes registered, not Ready, without a pod CIDR", func(ctx context.Context) (bool, string) {
		for i := range 3 {
			n, err := cs.CoreV1().Nodes().Get(ctx, fmt.Sprintf("own-%d", i), metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if n.Spec.PodCIDR != "" || nodeReady(n) {
				t.Fatalf("%s has pod CIDR %q, Ready %v before the wait ended", n.Name, n.Spec.PodCIDR, nodeReady(n))
			}
		}
		return true, ""
	})
	clk.Step(5 * time.Second)
	until(t, "each node picked its own pod CIDR and is Ready", func(ctx context.Context) (bool, string) {
		cidrs := map[string]bool{}
		for i := range 3 {
			n, err := cs.CoreV1().Nodes().Get(ctx, fmt.Sprintf("own-%d", i), metav1.GetOptions{})
			if err != nil || n.Spec.PodCIDR == "" || !nodeReady(n) || len(n.Status.Addresses) < 2 {
				return false, fmt.Sprintf("own-%d: %v", i, err)
			}
			cidrs[n.Spec.PodCIDR] = true
		}
		return len(cidrs) == 3, fmt.Sprint(cidrs)
	})
}
