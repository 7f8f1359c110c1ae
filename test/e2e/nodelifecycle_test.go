package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The node lifecycle, taint eviction and node IPAM controllers, with
// their timeouts shortened by flags: a node agent killed with SIGKILL
// goes silent, its node turns Unknown and gets the unreachable NoExecute
// taint, its pods are evicted after the (shortened) default toleration
// and replaced on the other node; when the agent comes back the taints
// go.

// lifecycleFlags shorten the node controllers' timeouts: health checked
// every 200 ms, Unknown after 3 s of silence, pods evicted 2 s after the
// taint.
var lifecycleFlags = []string{"--nodes", "0", "--node-monitor-period", "200ms", "--node-monitor-grace-period", "3s",
	"--default-unreachable-toleration-seconds", "2", "--default-not-ready-toleration-seconds", "2"}

// agentFlags make the agent renew its lease every 500 ms, well within
// the 3 s grace period.
func agentFlags(s *Skiff, prefix string) []string {
	return []string{"--runtime", "simulated", "--kubeconfig", s.Kubeconfig, "--count", "1", "--name-prefix", prefix,
		"--node-lease-duration-seconds", "2"}
}

// startKillableAgent runs `skiff node` for a test that kills it; it is
// killed at the end if still running.
func startKillableAgent(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	agent := exec.Command(skiffBin, append([]string{"node"}, args...)...)
	out := &syncBuffer{}
	agent.Stdout, agent.Stderr = out, out
	if err := agent.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = agent.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = agent.Process.Kill()
		<-exited
	})
	return agent, out
}

func nodeCondition(n corev1.Node, typ corev1.NodeConditionType) corev1.NodeCondition {
	for _, c := range n.Status.Conditions {
		if c.Type == typ {
			return c
		}
	}
	return corev1.NodeCondition{}
}

func taintKeys(n corev1.Node) string {
	var ks []string
	for _, tn := range n.Spec.Taints {
		ks = append(ks, tn.Key+":"+string(tn.Effect))
	}
	return strings.Join(ks, ",")
}

func listPods(t *testing.T, s *Skiff, selector string) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "pods", "-l", selector, "-o", "json")), &l); err != nil {
		t.Fatal(err)
	}
	return l.Items
}

func TestNodeLifecycleEvictsFromSilentNode(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, lifecycleFlags...)
	keepOut := startNodeAgent(t, agentFlags(s, "keep")...)
	victim, victimOut := startKillableAgent(t, agentFlags(s, "gone")...)
	for _, name := range []string{"keep-0", "gone-0"} {
		eventually(t, name+" is Ready with no taints", func() (bool, string) {
			out, _, err := s.Kubectl("get", "node", name, "-o", "json")
			if err != nil {
				return false, err.Error() + keepOut.String() + victimOut.String()
			}
			var n corev1.Node
			if err := json.Unmarshal([]byte(out), &n); err != nil {
				return false, err.Error()
			}
			// The not-ready NoSchedule taint admission gave the node is
			// lifted by the node lifecycle controller once it is Ready.
			return nodeCondition(n, corev1.NodeReady).Status == corev1.ConditionTrue && len(n.Spec.Taints) == 0,
				fmt.Sprintf("Ready %s taints %s", nodeCondition(n, corev1.NodeReady).Status, taintKeys(n))
		})
	}
	// The control plane gave each node its own pod CIDR from
	// --cluster-cidr, and pod addresses come from it.
	keep, gone := getNode(t, s, "keep-0"), getNode(t, s, "gone-0")
	cluster := netip.MustParsePrefix("10.42.0.0/16")
	for _, n := range []corev1.Node{keep, gone} {
		p, err := netip.ParsePrefix(n.Spec.PodCIDR)
		if err != nil || p.Bits() != 24 || !cluster.Contains(p.Addr()) || len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != n.Spec.PodCIDR {
			t.Errorf("%s: podCIDR %q podCIDRs %v, want one /24 of %s", n.Name, n.Spec.PodCIDR, n.Spec.PodCIDRs, cluster)
		}
	}
	if keep.Spec.PodCIDR == gone.Spec.PodCIDR {
		t.Fatalf("both nodes have pod CIDR %s", keep.Spec.PodCIDR)
	}

	applyStdin(t, s, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 30
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: web}}}
      containers:
      - {name: app, image: registry.k8s.io/pause:3.10}
`)
	var onGone []string
	eventually(t, "4 pods Running, 2 on each node", func() (bool, string) {
		perNode := map[string]int{}
		onGone = nil
		for _, p := range listPods(t, s, "app=web") {
			if p.Status.Phase != corev1.PodRunning {
				return false, p.Name + " is " + string(p.Status.Phase)
			}
			perNode[p.Spec.NodeName]++
			if p.Spec.NodeName == "gone-0" {
				onGone = append(onGone, p.Name)
			}
			if ip, err := netip.ParseAddr(p.Status.PodIP); err != nil || !netip.MustParsePrefix(map[string]string{"keep-0": keep.Spec.PodCIDR, "gone-0": gone.Spec.PodCIDR}[p.Spec.NodeName]).Contains(ip) {
				return false, fmt.Sprintf("%s on %s has podIP %q", p.Name, p.Spec.NodeName, p.Status.PodIP)
			}
		}
		return perNode["keep-0"] == 2 && perNode["gone-0"] == 2, fmt.Sprint(perNode)
	})
	// The default toleration the API server added is the flag's 2 s.
	if got := podField(s, onGone[0], `{.spec.tolerations[?(@.key=="node.kubernetes.io/unreachable")].tolerationSeconds}`); got != "2" {
		t.Errorf("unreachable tolerationSeconds = %q, want 2", got)
	}

	if err := victim.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "gone-0 is Unknown and tainted unreachable", func() (bool, string) {
		n := getNode(t, s, "gone-0")
		ready := nodeCondition(n, corev1.NodeReady)
		return ready.Status == corev1.ConditionUnknown && ready.Reason == "NodeStatusUnknown" &&
				ready.Message == "Kubelet stopped posting node status." &&
				strings.Contains(taintKeys(n), "node.kubernetes.io/unreachable:NoExecute") &&
				strings.Contains(taintKeys(n), "node.kubernetes.io/unreachable:NoSchedule"),
			fmt.Sprintf("Ready %s/%s taints %s", ready.Status, ready.Reason, taintKeys(n))
	})
	for _, typ := range []corev1.NodeConditionType{corev1.NodeMemoryPressure, corev1.NodeDiskPressure, corev1.NodePIDPressure} {
		if c := nodeCondition(getNode(t, s, "gone-0"), typ); c.Status != corev1.ConditionUnknown {
			t.Errorf("%s = %s, want Unknown", typ, c.Status)
		}
	}
	// Its pods are evicted (marked first) and replaced on keep-0.
	for _, name := range onGone {
		eventually(t, name+" evicted", func() (bool, string) {
			p := getPod(t, s, "default", name)
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByTaintManager" {
					return p.DeletionTimestamp != nil, "DisruptionTarget set but not deleted"
				}
			}
			return false, fmt.Sprintf("conditions %+v", p.Status.Conditions)
		})
		if ready := podField(s, name, `{.status.conditions[?(@.type=="Ready")].status}`); ready != "False" {
			t.Errorf("%s on the silent node: Ready %q, want False", name, ready)
		}
	}
	eventually(t, "4 live pods Running on keep-0", func() (bool, string) {
		n := 0
		for _, p := range listPods(t, s, "app=web") {
			if p.DeletionTimestamp == nil && p.Spec.NodeName == "keep-0" && p.Status.Phase == corev1.PodRunning {
				n++
			}
		}
		return n == 4, fmt.Sprintf("%d", n)
	})
	eventually(t, "TaintManagerEviction events", func() (bool, string) {
		out, _, _ := s.Kubectl("get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, "Marking for deletion Pod default/"+onGone[0]), out
	})
	if out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=gone-0", "-o", "jsonpath={.items[*].reason}"); !strings.Contains(out, "NodeNotReady") {
		t.Errorf("node events: %s, want NodeNotReady", out)
	}

	// The agent comes back: the node is Ready and untainted, and the
	// pods evicted from it are finished.
	backOut := startNodeAgent(t, agentFlags(s, "gone")...)
	eventually(t, "gone-0 is Ready again without taints", func() (bool, string) {
		n := getNode(t, s, "gone-0")
		return nodeCondition(n, corev1.NodeReady).Status == corev1.ConditionTrue && len(n.Spec.Taints) == 0,
			fmt.Sprintf("Ready %s taints %s\n%s", nodeCondition(n, corev1.NodeReady).Status, taintKeys(n), backOut.String())
	})
	if got := getNode(t, s, "gone-0").Spec.PodCIDR; got != gone.Spec.PodCIDR {
		t.Errorf("gone-0 pod CIDR %s after restart, was %s", got, gone.Spec.PodCIDR)
	}
}
