package e2e

import (
	"fmt"
	"strings"
	"testing"

	"skiff.dev/skiff/internal/etcdtest"
)

// schedNode is a Node manifest with the capacity and Ready condition a
// kubelet would report; the test plays the kubelet.
func schedNode(name, cpu, labels, taints string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: %[1]s
  labels: {kubernetes.io/hostname: %[1]s%[3]s}
spec:
  taints: [%[4]s]
status:
  capacity: {cpu: "%[2]s", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "%[2]s", memory: 8Gi, pods: "110"}
  conditions:
  - {type: Ready, status: "True", reason: KubeletReady, message: kubelet is posting ready status}
`, name, cpu, labels, taints)
}

// schedPod is a Pod manifest; spec is indented YAML added to its spec.
func schedPod(name, labels, cpu, spec string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata:
  name: %s
  labels: {%s}
spec:
  containers:
  - name: c
    image: registry.k8s.io/pause:3.10
    resources: {requests: {cpu: "%s"}}
%s`, name, labels, cpu, spec)
}

// untaintNotReady removes the not-ready NoSchedule taint that node
// registration gets (TaintNodesByCondition), as the node lifecycle
// controller does for a Ready node; a taint already gone is fine.
func untaintNotReady(t *testing.T, s *Skiff, node string) {
	t.Helper()
	_, stderr, err := s.Kubectl("taint", "node", node, "node.kubernetes.io/not-ready:NoSchedule-")
	if err != nil && !strings.Contains(stderr, "not found") {
		t.Fatalf("kubectl taint %s: %v: %s", node, err, stderr)
	}
}

func applyManifest(t *testing.T, s *Skiff, name, manifest string) {
	t.Helper()
	s.MustKubectl("apply", "-f", writeFile(t, t.TempDir(), name+".yaml", manifest))
}

func podField(s *Skiff, pod, jsonpath string) string {
	out, _, _ := s.Kubectl("get", "pod", pod, "-o", "jsonpath="+jsonpath)
	return out
}

func waitScheduled(t *testing.T, s *Skiff, pod string) string {
	t.Helper()
	var node string
	eventually(t, "pod "+pod+" bound", func() (bool, string) {
		node = podField(s, pod, "{.spec.nodeName}")
		return node != "", "spec.nodeName is empty; status: " + podField(s, pod, "{.status}")
	})
	return node
}

// failedScheduling waits for the pod's FailedScheduling event and returns
// its message.
func failedScheduling(t *testing.T, s *Skiff, pod string) string {
	t.Helper()
	var msg string
	eventually(t, "FailedScheduling event for "+pod, func() (bool, string) {
		msg, _, _ = s.Kubectl("get", "events", "--field-selector", "involvedObject.name="+pod+",reason=FailedScheduling",
			"-o", "jsonpath={.items[-1:].message}")
		return msg != "", "no event"
	})
	return msg
}

// TestSchedulerPlacement drives the scheduler of `skiff up` with kubectl
// over three nodes the test registers: resources, taints and
// tolerations, node affinity, pod anti-affinity, and other schedulers.
func TestSchedulerPlacement(t *testing.T) {
	s := startSkiff(t, "--nodes", "0")
	// With no nodes at all the pod waits, and the first node retries it.
	applyManifest(t, s, "early", schedPod("early", "", "100m", ""))
	if msg := failedScheduling(t, s, "early"); msg != "no nodes available to schedule pods" {
		t.Fatalf("with no nodes: FailedScheduling %q", msg)
	}
	applyManifest(t, s, "nodes", strings.Join([]string{
		schedNode("n1", "2", ", topology.kubernetes.io/zone: a", ""),
		schedNode("n2", "2", ", topology.kubernetes.io/zone: b", "{key: dedicated, value: gpu, effect: NoSchedule}"),
		schedNode("n3", "2", ", topology.kubernetes.io/zone: c, disk: ssd", ""),
	}, "---\n"))
	// Registration taints nodes not-ready (TaintNodesByCondition); the
	// node lifecycle controller's part, removing it from Ready nodes, is
	// played here.
	for _, n := range []string{"n1", "n2", "n3"} {
		untaintNotReady(t, s, n)
	}

	if node := waitScheduled(t, s, "early"); node == "" {
		t.Fatal("early pod not bound once nodes exist")
	}

	t.Run("too large stays pending with upstream's message", func(t *testing.T) {
		applyManifest(t, s, "big", schedPod("big", "", "16", `  tolerations: [{key: dedicated, operator: Exists}]
`))
		msg := failedScheduling(t, s, "big")
		if want := "0/3 nodes are available: 3 Insufficient cpu. preemption: "; !strings.HasPrefix(msg, want) {
			t.Fatalf("FailedScheduling message %q, want prefix %q", msg, want)
		}
		if !strings.Contains(msg, "preemption: 0/3 nodes are available: 3 ") {
			t.Errorf("message %q does not say why preemption cannot help", msg)
		}
		eventually(t, "PodScheduled=False/Unschedulable", func() (bool, string) {
			got := podField(s, "big", `{.status.conditions[?(@.type=="PodScheduled")].status}/{.status.conditions[?(@.type=="PodScheduled")].reason}/{.status.conditions[?(@.type=="PodScheduled")].message}`)
			return got == "False/Unschedulable/"+msg, got
		})
		if got := podField(s, "big", "{.status.phase}/{.spec.nodeName}"); got != "Pending/" {
			t.Fatalf("phase/nodeName = %q, want Pending/", got)
		}
		src, _, _ := s.Kubectl("get", "events", "--field-selector", "involvedObject.name=big,reason=FailedScheduling",
			"-o", "jsonpath={.items[0].type}/{.items[0].source.component}/{.items[0].reportingComponent}")
		if src != "Warning/default-scheduler/default-scheduler" {
			t.Errorf("event type/source/reportingComponent = %q", src)
		}
	})

	t.Run("taints and tolerations", func(t *testing.T) {
		// Pinned to n2 by hostname: only a toleration of its taint lets it in.
		pin := `  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [n2]}]
`
		applyManifest(t, s, "tolerating", schedPod("tolerating", "", "100m", pin+`  tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]
`))
		applyManifest(t, s, "intolerant", schedPod("intolerant", "", "100m", pin))
		if node := waitScheduled(t, s, "tolerating"); node != "n2" {
			t.Fatalf("tolerating pod on %s, want n2", node)
		}
		msg := failedScheduling(t, s, "intolerant")
		want := "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector."
		if !strings.HasPrefix(msg, want) {
			t.Fatalf("message %q, want prefix %q", msg, want)
		}
	})

	t.Run("node affinity", func(t *testing.T) {
		applyManifest(t, s, "ssd", schedPod("ssd", "", "100m", `  nodeSelector: {disk: ssd}
`))
		if node := waitScheduled(t, s, "ssd"); node != "n3" {
			t.Fatalf("nodeSelector disk=ssd pod on %s, want n3", node)
		}
	})

	t.Run("pod anti-affinity spreads over hosts", func(t *testing.T) {
		spec := `  tolerations: [{key: dedicated, operator: Exists}]
  affinity:
    podAntiAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: spread}}
        topologyKey: kubernetes.io/hostname
`
		var manifests []string
		for i := range 4 {
			manifests = append(manifests, schedPod(fmt.Sprintf("spread-%d", i), "app: spread", "100m", spec))
		}
		applyManifest(t, s, "spread", strings.Join(manifests, "---\n"))
		// Three fit, one per node; which three is the scheduler's choice.
		eventually(t, "three spread pods bound to three nodes", func() (bool, string) {
			out, _, _ := s.Kubectl("get", "pods", "-l", "app=spread", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{" "}{end}`)
			nodes := map[string]bool{}
			for _, n := range strings.Fields(out) {
				nodes[n] = true
			}
			return len(strings.Fields(out)) == 3 && len(nodes) == 3, out
		})
		out := s.MustKubectl("get", "pods", "-l", "app=spread", "--field-selector", "spec.nodeName=", "-o", "jsonpath={.items[*].metadata.name}")
		pending := strings.Fields(out)
		if len(pending) != 1 {
			t.Fatalf("unbound spread pods %v, want one", pending)
		}
		msg := failedScheduling(t, s, pending[0])
		if !strings.Contains(msg, "3 node(s) didn't match pod anti-affinity rules") {
			t.Fatalf("message %q does not give the anti-affinity reason for all 3 nodes", msg)
		}
	})

	t.Run("pods of other schedulers are left alone", func(t *testing.T) {
		applyManifest(t, s, "other", schedPod("other", "", "100m", `  schedulerName: my-scheduler
`))
		// A pod queued after it is placed: the scheduler has seen both.
		applyManifest(t, s, "after-other", schedPod("after-other", "", "100m", ""))
		waitScheduled(t, s, "after-other")
		if got := podField(s, "other", "{.spec.nodeName}/{.status.conditions}"); got != "/" {
			t.Fatalf("other scheduler's pod touched: nodeName/conditions = %q", got)
		}
		if ev := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=other", "-o", "name"); ev != "" {
			t.Fatalf("events for the other scheduler's pod: %s", ev)
		}
	})

	t.Run("a new node retries unschedulable pods", func(t *testing.T) {
		applyManifest(t, s, "needs-gpu", schedPod("needs-gpu", "", "100m", `  nodeSelector: {accelerator: tpu}
`))
		failedScheduling(t, s, "needs-gpu")
		applyManifest(t, s, "n4", schedNode("n4", "2", ", accelerator: tpu", ""))
		untaintNotReady(t, s, "n4")
		if node := waitScheduled(t, s, "needs-gpu"); node != "n4" {
			t.Fatalf("pod on %s, want the new node n4", node)
		}
		eventually(t, "Scheduled event", func() (bool, string) {
			msg, _, _ := s.Kubectl("get", "events", "--field-selector", "involvedObject.name=needs-gpu,reason=Scheduled", "-o", "jsonpath={.items[0].message}")
			return msg == "Successfully assigned default/needs-gpu to n4", msg
		})
	})
}

// TestSchedulerPreemption: a high-priority pod that fits nowhere evicts a
// lower-priority one on the simulated node of `skiff up` and takes its
// place.
func TestSchedulerPreemption(t *testing.T) {
	s := startSkiff(t, "--nodes", "1")
	eventually(t, "the simulated node registered", func() (bool, string) {
		out, _, _ := s.Kubectl("get", "nodes", "-o", "name")
		return strings.TrimSpace(out) == "node/skiff-node-0", out
	})
	untaintNotReady(t, s, "skiff-node-0")
	applyManifest(t, s, "classes", `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
`)
	// The simulated node has 8 cpu: each pod takes 6.
	applyManifest(t, s, "victim", schedPod("victim", "", "6", `  priorityClassName: low
  terminationGracePeriodSeconds: 1
`))
	eventually(t, "victim running", func() (bool, string) {
		got := podField(s, "victim", "{.status.phase}")
		return got == "Running", got
	})
	victimUID := podField(s, "victim", "{.metadata.uid}")
	applyManifest(t, s, "preemptor", schedPod("preemptor", "", "6", `  priorityClassName: high
`))
	eventually(t, "preemptor nominated to the node", func() (bool, string) {
		got := podField(s, "preemptor", "{.status.nominatedNodeName}")
		return got == "skiff-node-0", got
	})
	if node := waitScheduled(t, s, "preemptor"); node != "skiff-node-0" {
		t.Fatalf("preemptor on %q", node)
	}
	// The binding clears the nomination, as kube-apiserver's does
	// (ClearingNominatedNodeNameAfterBinding).
	if got := podField(s, "preemptor", "{.status.nominatedNodeName}"); got != "" {
		t.Errorf("bound preemptor still nominated to %q", got)
	}
	eventually(t, "victim gone", func() (bool, string) {
		uid := podField(s, "victim", "{.metadata.uid}")
		return uid != victimUID, "victim still there"
	})
	msg, _, _ := s.Kubectl("get", "events", "--field-selector", "involvedObject.name=victim,reason=Preempted", "-o", "jsonpath={.items[0].message}")
	if want := "Preempted by pod " + podField(s, "preemptor", "{.metadata.uid}") + " on node skiff-node-0"; msg != want {
		t.Errorf("Preempted event %q, want %q", msg, want)
	}
	first := failedScheduling(t, s, "preemptor")
	if !strings.HasPrefix(first, "0/1 nodes are available: 1 Insufficient cpu.") {
		t.Errorf("preemptor's FailedScheduling %q", first)
	}
	// A low-priority pod cannot preempt the high-priority one.
	applyManifest(t, s, "late-low", schedPod("late-low", "", "6", `  priorityClassName: low
`))
	failedScheduling(t, s, "late-low")
	if got := podField(s, "late-low", "{.spec.nodeName}"); got != "" {
		t.Fatalf("low-priority pod bound to %s", got)
	}
}

// TestSchedulerLeaderElection: two `skiff server` processes on one etcd
// run one scheduler between them, elected through the kube-scheduler
// Lease; every pod is bound once, and when the leader shuts down the other
// takes over at once (the Lease is released, not left to expire).
func TestSchedulerLeaderElection(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.StartCluster(t, 1)
	a := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-sched")
	b := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-sched")
	const acquired = `msg="leader election: acquired lease"`
	var leader, follower *Skiff
	eventually(t, "one server leads", func() (bool, string) {
		la, lb := strings.Contains(a.output.String(), acquired), strings.Contains(b.output.String(), acquired)
		switch {
		case la && lb:
			t.Fatal("both servers acquired the scheduler lease")
		case la:
			leader, follower = a, b
		case lb:
			leader, follower = b, a
		}
		return leader != nil, "no lease acquired yet"
	})
	holder := a.MustKubectl("get", "lease", "-n", "kube-system", "kube-scheduler", "-o", "jsonpath={.spec.holderIdentity}")
	if holder == "" {
		t.Fatal("the kube-scheduler Lease has no holder")
	}

	applyManifest(t, a, "node", schedNode("n1", "8", "", ""))
	untaintNotReady(t, a, "n1")
	var pods []string
	for i := range 10 {
		pods = append(pods, schedPod(fmt.Sprintf("p%d", i), "batch: one", "10m", ""))
	}
	applyManifest(t, b, "pods", strings.Join(pods, "---\n"))
	eventually(t, "ten pods bound", func() (bool, string) {
		out, _, _ := a.Kubectl("get", "pods", "-l", "batch=one", "--field-selector", "spec.nodeName=n1", "-o", "name")
		return len(strings.Fields(out)) == 10, out
	})
	eventually(t, "ten Scheduled events", func() (bool, string) {
		out, _, _ := a.Kubectl("get", "events", "--field-selector", "reason=Scheduled", "-o", "name")
		return len(strings.Fields(out)) == 10, out
	})
	// A second scheduler binding the same pods would have failed and
	// reported it.
	if out := a.MustKubectl("get", "events", "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[*].message}"); out != "" {
		t.Fatalf("FailedScheduling events with two servers: %s", out)
	}
	if strings.Contains(follower.output.String(), acquired) {
		t.Fatal("the follower acquired the lease while the leader ran")
	}

	leader.Stop()
	eventually(t, "the other server takes over", func() (bool, string) {
		return strings.Contains(follower.output.String(), acquired), "not yet"
	})
	applyManifest(t, follower, "after", schedPod("after", "", "10m", ""))
	if node := waitScheduled(t, follower, "after"); node != "n1" {
		t.Fatalf("pod bound to %q after the takeover", node)
	}
}
