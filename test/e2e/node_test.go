package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
)

// The simulated node agent: `skiff up` runs one node (skiff-node-0) by
// default; pods here name their node (spec.nodeName), as a pod that needs
// no scheduler does.

func getNode(t *testing.T, s *Skiff, name string) corev1.Node {
	t.Helper()
	var n corev1.Node
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "node", name, "-o", "json")), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func getLease(t *testing.T, s *Skiff, name string) (coordinationv1.Lease, bool) {
	t.Helper()
	out, _, err := s.Kubectl("get", "lease", name, "-n", "kube-node-lease", "-o", "json")
	if err != nil {
		return coordinationv1.Lease{}, false
	}
	var l coordinationv1.Lease
	if err := json.Unmarshal([]byte(out), &l); err != nil {
		t.Fatal(err)
	}
	return l, true
}

// waitNodeReady waits until the node exists and is Ready (the agent
// registers it shortly after the server is up; kubectl wait fails on a
// node that does not exist yet).
func waitNodeReady(t *testing.T, s *Skiff, name string) {
	t.Helper()
	eventually(t, name+" is Ready", func() (bool, string) {
		o, stderr, err := s.Kubectl("get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
		return err == nil && o == "True", o + stderr
	})
}

func nodePod(name, node string, annotations map[string]string, restartPolicy string) string {
	var ann strings.Builder
	for k, v := range annotations {
		fmt.Fprintf(&ann, "    %s: %q\n", k, v)
	}
	m := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n", name)
	if ann.Len() > 0 {
		m += "  annotations:\n" + ann.String()
	}
	m += fmt.Sprintf("spec:\n  nodeName: %s\n  restartPolicy: %s\n  terminationGracePeriodSeconds: 30\n  containers:\n  - name: app\n    image: registry.example/app:1\n", node, restartPolicy)
	return m
}

// TestNodeRegistersWithLease: the built-in node registers Ready, as a
// kubelet does, and renews its lease in kube-node-lease.
func TestNodeRegistersWithLease(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	waitNodeReady(t, s, "skiff-node-0")
	// Admission taints a new node not-ready; the node lifecycle controller
	// lifts the taint once it sees the node Ready, a moment after the agent
	// reports it.
	eventually(t, "skiff-node-0 loses its not-ready taint", func() (bool, string) {
		o, stderr, err := s.Kubectl("get", "node", "skiff-node-0", "-o", "jsonpath={.spec.taints}")
		return err == nil && o == "", o + stderr
	})

	n := getNode(t, s, "skiff-node-0")
	for k, want := range map[string]string{
		"kubernetes.io/hostname": "skiff-node-0", "kubernetes.io/os": "linux", "node.kubernetes.io/instance-type": "simulated",
	} {
		if got := n.Labels[k]; got != want {
			t.Errorf("label %s = %q, want %q", k, got, want)
		}
	}
	if n.Labels["kubernetes.io/arch"] == "" {
		t.Errorf("no kubernetes.io/arch label: %v", n.Labels)
	}
	if _, err := netip.ParsePrefix(n.Spec.PodCIDR); err != nil || len(n.Spec.PodCIDRs) != 1 {
		t.Errorf("podCIDR %q podCIDRs %v", n.Spec.PodCIDR, n.Spec.PodCIDRs)
	}
	if n.Status.Capacity.Cpu().String() != "8" || n.Status.Capacity.Pods().String() != "110" || n.Status.Allocatable.Memory().String() != "32Gi" {
		t.Errorf("capacity %v allocatable %v", n.Status.Capacity, n.Status.Allocatable)
	}
	if !strings.HasPrefix(n.Status.NodeInfo.ContainerRuntimeVersion, "simulated://") || n.Status.NodeInfo.KubeletVersion == "" {
		t.Errorf("nodeInfo = %+v", n.Status.NodeInfo)
	}
	conds := map[corev1.NodeConditionType]corev1.NodeCondition{}
	for _, c := range n.Status.Conditions {
		conds[c.Type] = c
	}
	for typ, want := range map[corev1.NodeConditionType]string{
		corev1.NodeReady: "True/KubeletReady", corev1.NodeMemoryPressure: "False/KubeletHasSufficientMemory",
		corev1.NodeDiskPressure: "False/KubeletHasNoDiskPressure", corev1.NodePIDPressure: "False/KubeletHasSufficientPID",
	} {
		if c := conds[typ]; string(c.Status)+"/"+c.Reason != want {
			t.Errorf("condition %s = %s/%s, want %s", typ, c.Status, c.Reason, want)
		}
	}
	var internalIP string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			internalIP = a.Address
		}
	}
	if internalIP == "" {
		t.Errorf("no InternalIP in %v", n.Status.Addresses)
	}
	// kubectl's wide output shows what the node reports.
	if out := s.MustKubectl("get", "nodes", "-o", "wide"); !strings.Contains(out, internalIP) || !strings.Contains(out, "simulated://") {
		t.Errorf("kubectl get nodes -o wide:\n%s", out)
	}

	var first coordinationv1.Lease
	eventually(t, "the node's lease exists", func() (bool, string) {
		l, ok := getLease(t, s, "skiff-node-0")
		first = l
		return ok && l.Spec.RenewTime != nil, fmt.Sprintf("%+v", l.Spec)
	})
	if h := first.Spec.HolderIdentity; h == nil || *h != "skiff-node-0" {
		t.Errorf("holderIdentity = %v", h)
	}
	if d := first.Spec.LeaseDurationSeconds; d == nil || *d != 40 {
		t.Errorf("leaseDurationSeconds = %v", d)
	}
	if len(first.OwnerReferences) != 1 || first.OwnerReferences[0].Kind != "Node" || first.OwnerReferences[0].UID != n.UID {
		t.Errorf("ownerReferences = %+v, want the node", first.OwnerReferences)
	}
	// Renewed every 10 s.
	eventually(t, "the lease is renewed", func() (bool, string) {
		l, _ := getLease(t, s, "skiff-node-0")
		return l.Spec.RenewTime != nil && l.Spec.RenewTime.After(first.Spec.RenewTime.Time),
			fmt.Sprintf("renewTime still %v", l.Spec.RenewTime)
	})
}

// TestNodePodRuns: a pod bound to the node goes Running and Ready with an
// address from the node's pod CIDR.
func TestNodePodRuns(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, nodePod("web", "skiff-node-0", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/web", "--timeout=20s")

	pod := getPod(t, s, "default", "web")
	n := getNode(t, s, "skiff-node-0")
	cidr := netip.MustParsePrefix(n.Spec.PodCIDR)
	ip, err := netip.ParseAddr(pod.Status.PodIP)
	if err != nil || !cidr.Contains(ip) {
		t.Errorf("podIP %q not in the node's pod CIDR %s", pod.Status.PodIP, cidr)
	}
	if len(pod.Status.PodIPs) != 1 || pod.Status.PodIPs[0].IP != pod.Status.PodIP {
		t.Errorf("podIPs = %v", pod.Status.PodIPs)
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Status.StartTime == nil || pod.Status.HostIP == "" {
		t.Errorf("phase %s startTime %v hostIP %q", pod.Status.Phase, pod.Status.StartTime, pod.Status.HostIP)
	}
	for _, typ := range []corev1.PodConditionType{corev1.PodReadyToStartContainers, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady, corev1.PodScheduled} {
		found := false
		for _, c := range pod.Status.Conditions {
			if c.Type == typ {
				found = c.Status == corev1.ConditionTrue
			}
		}
		if !found {
			t.Errorf("condition %s is not True: %+v", typ, pod.Status.Conditions)
		}
	}
	if len(pod.Status.ContainerStatuses) != 1 {
		t.Fatalf("containerStatuses = %+v", pod.Status.ContainerStatuses)
	}
	cs := pod.Status.ContainerStatuses[0]
	if cs.State.Running == nil || !cs.Ready || cs.Started == nil || !*cs.Started || cs.RestartCount != 0 ||
		!strings.HasPrefix(cs.ContainerID, "simulated://") || cs.Image != "registry.example/app:1" || cs.ImageID == "" {
		t.Errorf("container status = %+v", cs)
	}
	// kubectl shows the pod as users know it.
	if out := s.MustKubectl("get", "pod", "web", "-o", "wide"); !strings.Contains(out, "1/1") || !strings.Contains(out, "Running") || !strings.Contains(out, pod.Status.PodIP) {
		t.Errorf("kubectl get pod -o wide:\n%s", out)
	}

	// The node records what the kubelet records, as kubectl describe shows.
	eventually(t, "the kubelet's events", func() (bool, string) {
		out, _, _ := s.Kubectl("describe", "pod", "web")
		return strings.Contains(out, `Container image "registry.example/app:1" already present on machine`) &&
			strings.Contains(out, "Started container app") && strings.Contains(out, "kubelet"), out
	})

	// A second pod gets another address.
	applyStdin(t, s, nodePod("web2", "skiff-node-0", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/web2", "--timeout=20s")
	if ip2 := getPod(t, s, "default", "web2").Status.PodIP; ip2 == pod.Status.PodIP {
		t.Errorf("two pods share the address %s", ip2)
	}
}

// TestNodePodExitCode: a restartPolicy Never pod whose container exits 3
// ends Failed with that exit code; one that exits 0 ends Succeeded.
func TestNodePodExitCode(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, nodePod("fails", "skiff-node-0", map[string]string{"skiff.dev/simulate-exit-code": "3"}, "Never"))
	applyStdin(t, s, nodePod("works", "skiff-node-0", map[string]string{"skiff.dev/simulate-duration": "2s"}, "Never"))
	s.MustKubectl("wait", "--for=jsonpath={.status.phase}=Failed", "pod/fails", "--timeout=20s")
	s.MustKubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/works", "--timeout=20s")

	pod := getPod(t, s, "default", "fails")
	term := pod.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 3 || term.Reason != "Error" {
		t.Errorf("fails: state = %+v", pod.Status.ContainerStatuses[0].State)
	}
	if out := s.MustKubectl("get", "pod", "fails"); !strings.Contains(out, "Error") {
		t.Errorf("kubectl get pod fails:\n%s", out)
	}
	works := getPod(t, s, "default", "works")
	term = works.Status.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != 0 || term.Reason != "Completed" {
		t.Fatalf("works: state = %+v", works.Status.ContainerStatuses[0].State)
	}
	if ran := term.FinishedAt.Sub(term.StartedAt.Time); ran < 2*time.Second {
		t.Errorf("works ran %s, want the 2s it asked for", ran)
	}
}

// TestNodePodRestarts: an OnFailure pod whose container fails is
// restarted: restartCount counts and lastState keeps the failure.
func TestNodePodRestarts(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, nodePod("crash", "skiff-node-0", map[string]string{"skiff.dev/simulate-exit-code": "1", "skiff.dev/simulate-duration": "0s"}, "OnFailure"))
	eventually(t, "the container is restarted after its back-off", func() (bool, string) {
		var pod corev1.Pod
		out, _, err := s.Kubectl("get", "pod", "crash", "-o", "json")
		if err != nil || json.Unmarshal([]byte(out), &pod) != nil || len(pod.Status.ContainerStatuses) == 0 {
			return false, out
		}
		cs := pod.Status.ContainerStatuses[0]
		lt := cs.LastTerminationState.Terminated
		return cs.RestartCount >= 1 && lt != nil && lt.ExitCode == 1 && pod.Status.Phase == corev1.PodRunning,
			fmt.Sprintf("phase %s restartCount %d lastState %+v state %+v", pod.Status.Phase, cs.RestartCount, cs.LastTerminationState, cs.State)
	})
}

// TestNodePodDelete: `kubectl delete pod` returns once the node has
// stopped the pod and removed it, well before the 30 s grace period.
func TestNodePodDelete(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, nodePod("doomed", "skiff-node-0", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/doomed", "--timeout=20s")
	start := time.Now()
	s.MustKubectl("delete", "pod", "doomed", "--timeout=20s")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("delete took %s", took)
	}
	if _, stderr, err := s.Kubectl("get", "pod", "doomed"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("pod still there after delete: %v %s", err, stderr)
	}
}

// TestNodeAdoptsAfterRestart: a restarted skiff up keeps its node, and
// its running pods keep their addresses.
func TestNodeAdoptsAfterRestart(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, nodePod("keeper", "skiff-node-0", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/keeper", "--timeout=20s")
	before := getPod(t, s, "default", "keeper")
	uid := getNode(t, s, "skiff-node-0").UID

	s.Restart()
	waitNodeReady(t, s, "skiff-node-0")
	if got := getNode(t, s, "skiff-node-0").UID; got != uid {
		t.Errorf("node was re-created: uid %s, was %s", got, uid)
	}
	applyStdin(t, s, nodePod("newcomer", "skiff-node-0", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/newcomer", "--timeout=20s")
	after := getPod(t, s, "default", "keeper")
	if after.Status.PodIP != before.Status.PodIP || after.Status.Phase != corev1.PodRunning {
		t.Errorf("keeper: %s %s, was %s %s", after.Status.Phase, after.Status.PodIP, before.Status.Phase, before.Status.PodIP)
	}
	if ip := getPod(t, s, "default", "newcomer").Status.PodIP; ip == before.Status.PodIP {
		t.Errorf("newcomer got keeper's address %s", ip)
	}
}

// startNodeAgent runs `skiff node args...` until the test ends, when it
// must stop cleanly on SIGTERM; its output is returned for diagnostics.
func startNodeAgent(t *testing.T, args ...string) *syncBuffer {
	t.Helper()
	agent := exec.Command(skiffBin, append([]string{"node"}, args...)...)
	out := &syncBuffer{}
	agent.Stdout, agent.Stderr = out, out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- agent.Wait() }()
	t.Cleanup(func() {
		_ = agent.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("skiff node exited with %v\n%s", err, out.String())
			}
		case <-time.After(stopTimeout):
			_ = agent.Process.Kill()
			t.Errorf("skiff node did not stop on SIGTERM\n%s", out.String())
		}
	})
	return out
}

// TestNodeAgentJoinsWithToken: `skiff node --server --token-file` joins
// with a bearer token, trusting the cluster's CA.
func TestNodeAgentJoinsWithToken(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokens := writeFile(t, dir, "tokens.csv", "s3cr3t-node-token,node-agent,uid-node-agent,\"system:masters\"\n")
	s := startSkiff(t, "--nodes", "0", "--token-auth-file", tokens)
	tokenFile := writeFile(t, dir, "token", "s3cr3t-node-token\n")
	out := startNodeAgent(t, "--server", "https://"+s.Addr, "--token-file", tokenFile,
		"--certificate-authority", filepath.Join(s.DataDir, "pki", "ca.crt"), "--name-prefix", "tok")
	eventually(t, "tok-0 is Ready", func() (bool, string) {
		o, _, err := s.Kubectl("get", "node", "tok-0", "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
		return err == nil && o == "True", o + out.String()
	})
}

// TestNodeAgentJoins: `skiff node --count 3`, a separate process, joins
// three simulated nodes to a server that runs none, spread over zones.
func TestNodeAgentJoins(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, "--nodes", "0")
	out := startNodeAgent(t, "--runtime", "simulated", "--kubeconfig", s.Kubeconfig,
		"--count", "3", "--name-prefix", "joined", "--zones", "a,b", "--capacity-cpu", "4", "--max-pods", "20",
		"--node-labels", "team=sim", "--register-with-taints", "dedicated=sim:NoSchedule")

	for _, name := range []string{"joined-0", "joined-1", "joined-2"} {
		eventually(t, name+" is Ready", func() (bool, string) {
			o, _, err := s.Kubectl("get", "node", name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
			return err == nil && o == "True", o + out.String()
		})
	}
	zones := map[string]int{}
	cidrs := map[string]bool{}
	for _, name := range []string{"joined-0", "joined-1", "joined-2"} {
		n := getNode(t, s, name)
		zones[n.Labels["topology.kubernetes.io/zone"]]++
		cidrs[n.Spec.PodCIDR] = true
		if n.Status.Capacity.Cpu().String() != "4" || n.Status.Capacity.Pods().String() != "20" {
			t.Errorf("%s capacity = %v", name, n.Status.Capacity)
		}
		if n.Labels["team"] != "sim" || len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "dedicated" || n.Spec.Taints[0].Effect != corev1.TaintEffectNoSchedule {
			t.Errorf("%s labels %v taints %v", name, n.Labels, n.Spec.Taints)
		}
	}
	if zones["a"] != 2 || zones["b"] != 1 {
		t.Errorf("zones = %v, want a:2 b:1", zones)
	}
	if len(cidrs) != 3 {
		t.Errorf("pod CIDRs not distinct: %v", cidrs)
	}
	if o := s.MustKubectl("get", "leases", "-n", "kube-node-lease", "-o", "name"); strings.Count(o, "lease.coordination.k8s.io/joined-") != 3 {
		t.Errorf("leases:\n%s", o)
	}
	applyStdin(t, s, nodePod("remote", "joined-2", nil, "Always"))
	s.MustKubectl("wait", "--for=condition=Ready", "pod/remote", "--timeout=20s")
}

// TestNodeRejectsPodThatDoesNotFit: a pod that names a node without room
// for it fails there, as the kubelet's admission refuses it.
func TestNodeRejectsPodThatDoesNotFit(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, `apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  nodeName: skiff-node-0
  containers:
  - name: app
    image: registry.example/app:1
    resources: {requests: {cpu: "9"}}
`)
	s.MustKubectl("wait", "--for=jsonpath={.status.phase}=Failed", "pod/huge", "--timeout=20s")
	pod := getPod(t, s, "default", "huge")
	if pod.Status.Reason != "OutOfcpu" || pod.Status.Message != "Pod was rejected: Node didn't have enough resource: cpu, requested: 9000, used: 0, capacity: 8000" {
		t.Errorf("reason %q message %q", pod.Status.Reason, pod.Status.Message)
	}
	if out := s.MustKubectl("get", "pod", "huge"); !strings.Contains(out, "OutOfcpu") {
		t.Errorf("kubectl get pod huge:\n%s", out)
	}
}
