package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// TestKubectlDebugEphemeralContainer: kubectl debug adds an ephemeral
// container through pods/ephemeralcontainers (a strategic merge patch).
func TestKubectlDebugEphemeralContainer(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("run", "app", "--image=nginx:1.27")

	s.MustKubectl("debug", "app", "--image=busybox:1.36", "--target=app", "-c", "dbg")
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "pod", "app", "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	if len(pod.Spec.EphemeralContainers) != 1 {
		t.Fatalf("ephemeral containers = %+v, want the debugger", pod.Spec.EphemeralContainers)
	}
	ec := pod.Spec.EphemeralContainers[0]
	if ec.Name != "dbg" || ec.Image != "busybox:1.36" || ec.TargetContainerName != "app" ||
		ec.TerminationMessagePolicy != corev1.TerminationMessageReadFile || ec.ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("ephemeral container = %+v", ec)
	}
	if len(pod.Spec.Containers) != 1 || pod.Spec.Containers[0].Image != "nginx:1.27" {
		t.Errorf("containers changed: %+v", pod.Spec.Containers)
	}

	// A second debugger is added next to the first.
	s.MustKubectl("debug", "app", "--image=busybox:1.36", "-c", "dbg2")
	if got := s.MustKubectl("get", "pod", "app", "-o", "jsonpath={.spec.ephemeralContainers[*].name}"); got != "dbg dbg2" {
		t.Errorf("ephemeral containers after a second debug = %q, want dbg dbg2", got)
	}

	// Names are unique across every container of the pod.
	_, stderr, err := s.Kubectl("debug", "app", "--image=busybox:1.36", "-c", "app")
	if err == nil || !strings.Contains(stderr, "spec.ephemeralContainers[2].name: Duplicate value") {
		t.Errorf("debug container named like the app's: err %v, stderr %s", err, stderr)
	}
	// The main resource does not take ephemeral containers.
	_, stderr, err = s.Kubectl("patch", "pod", "app", "--type=json", `-p=[{"op":"remove","path":"/spec/ephemeralContainers/0"}]`)
	if err == nil || !strings.Contains(stderr, "Forbidden") {
		t.Errorf("removing an ephemeral container through the pod: err %v, stderr %s", err, stderr)
	}
	// Nor may the subresource remove one.
	_, stderr, err = s.Kubectl("patch", "pod", "app", "--subresource=ephemeralcontainers", "--type=json", `-p=[{"op":"remove","path":"/spec/ephemeralContainers/0"}]`)
	if err == nil || !strings.Contains(stderr, `existing ephemeral containers "dbg" may not be removed`) {
		t.Errorf("removing an ephemeral container through the subresource: err %v, stderr %s", err, stderr)
	}
}

const drainNode = `apiVersion: v1
kind: Node
metadata:
  name: NODE
  labels:
    kubernetes.io/hostname: NODE
`

// drainPod is a pod bound to a node at create.
func drainPod(name, node, labels, extra string) string {
	return `apiVersion: v1
kind: Pod
metadata:
  name: ` + name + `
  labels: {` + labels + `}
` + extra + `spec:
  nodeName: ` + node + `
  containers:
  - name: c
    image: nginx:1.27
`
}

// running marks a pod Running and Ready, as a node agent would.
func running(t *testing.T, s *Skiff, pod string) {
	t.Helper()
	s.MustKubectl("patch", "pod", pod, "--subresource=status", "--type=merge",
		`-p={"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}`)
}

// TestKubectlDrain: kubectl drain cordons the node and evicts its pods
// through pods/eviction, skipping DaemonSet pods, and a
// PodDisruptionBudget with no disruption left stops it. The budget's
// status and the DaemonSet's pod are set by hand, so the disruption and
// DaemonSet controllers (tested on their own) do not run.
func TestKubectlDrain(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, "--controllers", "*,-disruption,-daemonset")
	dir := t.TempDir()
	for _, n := range []string{"worker-1", "worker-2"} {
		s.MustKubectl("apply", noValidate, "-f", writeFile(t, dir, n+".yaml", strings.ReplaceAll(drainNode, "NODE", n)))
	}
	s.MustKubectl("apply", noValidate, "-f", writeFile(t, dir, "ds.yaml", `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: busybox:1.36
`))
	dsUID := s.MustKubectl("get", "ds", "agent", "-o", "jsonpath={.metadata.uid}")
	owned := "  ownerReferences:\n  - {apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: " + dsUID + ", controller: true}\n"
	pods := map[string]string{
		"standalone": drainPod("standalone", "worker-1", "app: web", ""),
		"scratch": strings.Replace(drainPod("scratch", "worker-1", "app: web", ""), "  containers:",
			"  volumes:\n  - {name: tmp, emptyDir: {}}\n  containers:", 1),
		"agent-x":   drainPod("agent-x", "worker-1", "app: agent", owned),
		"elsewhere": drainPod("elsewhere", "worker-2", "app: web", ""),
	}
	for name, manifest := range pods {
		s.MustKubectl("apply", noValidate, "-f", writeFile(t, dir, name+".yaml", manifest))
		running(t, s, name)
	}

	out := s.MustKubectl("drain", "worker-1", "--ignore-daemonsets", "--force", "--delete-emptydir-data", "--grace-period=0", "--timeout=60s")
	for _, want := range []string{"node/worker-1 cordoned", "evicting pod default/standalone", "evicting pod default/scratch",
		"pod/standalone evicted", "pod/scratch evicted", "node/worker-1 drained"} {
		if !strings.Contains(out, want) {
			t.Errorf("drain output lacks %q:\n%s", want, out)
		}
	}
	if got := s.MustKubectl("get", "node", "worker-1", "-o", "jsonpath={.spec.unschedulable}"); got != "true" {
		t.Errorf("worker-1 unschedulable = %q, want true", got)
	}
	if got := s.MustKubectl("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"); got != "agent-x elsewhere" {
		t.Errorf("pods after the drain = %q, want the DaemonSet's and worker-2's", got)
	}

	// A budget with no disruption left holds the pod on worker-2.
	s.MustKubectl("apply", noValidate, "-f", writeFile(t, dir, "pdb.yaml", `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: 1
  selector:
    matchLabels: {app: web}
`))
	setBudget := func(allowed string) {
		t.Helper()
		s.MustKubectl("patch", "pdb", "web", "--subresource=status", "--type=merge",
			`-p={"status":{"observedGeneration":1,"disruptionsAllowed":`+allowed+`,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}`)
	}
	setBudget("0")
	_, stderr, err := s.Kubectl("drain", "worker-2", "--ignore-daemonsets", "--force", "--grace-period=0", "--timeout=2s")
	if err == nil || !strings.Contains(stderr, "Cannot evict pod as it would violate the pod's disruption budget.") {
		t.Errorf("drain against the budget: err %v\n%s", err, stderr)
	}
	if _, _, err := s.Kubectl("get", "pod", "elsewhere"); err != nil {
		t.Fatalf("the budget did not keep the pod: %v", err)
	}

	// Once the budget allows one disruption, the drain goes through and
	// the budget records it.
	setBudget("1")
	s.MustKubectl("drain", "worker-2", "--ignore-daemonsets", "--force", "--grace-period=0", "--timeout=60s")
	if _, _, err := s.Kubectl("get", "pod", "elsewhere"); err == nil {
		t.Error("the pod on worker-2 is still there after the drain")
	}
	var pdb policyv1.PodDisruptionBudget
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "pdb", "web", "-o", "json")), &pdb); err != nil {
		t.Fatal(err)
	}
	if _, ok := pdb.Status.DisruptedPods["elsewhere"]; pdb.Status.DisruptionsAllowed != 0 || !ok {
		t.Errorf("budget status after the eviction = %+v", pdb.Status)
	}
}

// TestKubectlAutoscale: kubectl autoscale writes an HPA that reads back
// through both autoscaling/v1 and v2.
func TestKubectlAutoscale(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "deployment", "web", "--image=nginx:1.27")
	if out := s.MustKubectl("autoscale", "deployment", "web", "--cpu-percent=50", "--min=1", "--max=5"); strings.TrimSpace(out) != "horizontalpodautoscaler.autoscaling/web autoscaled" {
		t.Errorf("autoscale printed %q", out)
	}
	if got := s.MustKubectl("get", "horizontalpodautoscalers.v1.autoscaling", "web", "-o", "jsonpath={.spec.targetCPUUtilizationPercentage} {.spec.minReplicas} {.spec.maxReplicas}"); got != "50 1 5" {
		t.Errorf("v1 spec = %q, want 50 1 5", got)
	}
	var hpa autoscalingv2.HorizontalPodAutoscaler
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "json")), &hpa); err != nil {
		t.Fatal(err)
	}
	m := hpa.Spec.Metrics
	if len(m) != 1 || m[0].Resource == nil || m[0].Resource.Name != corev1.ResourceCPU ||
		m[0].Resource.Target.Type != autoscalingv2.UtilizationMetricType || *m[0].Resource.Target.AverageUtilization != 50 {
		t.Errorf("v2 metrics = %+v", m)
	}
	lines := strings.Split(strings.TrimSpace(s.MustKubectl("get", "hpa")), "\n")
	if len(lines) != 2 {
		t.Fatalf("kubectl get hpa:\n%s", strings.Join(lines, "\n"))
	}
	if h := strings.Fields(lines[0]); strings.Join(h, " ") != "NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE" {
		t.Errorf("hpa columns = %v", h)
	}
	if !strings.Contains(lines[1], "Deployment/web") || !strings.Contains(lines[1], "cpu: <unknown>/50%") {
		t.Errorf("hpa row = %q", lines[1])
	}

	// A v2 metric v1 cannot express survives an edit through v1.
	s.MustKubectl("patch", "horizontalpodautoscalers.v2.autoscaling", "web", "--type=merge", `-p={"spec":{"metrics":[`+
		`{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}},`+
		`{"type":"Resource","resource":{"name":"memory","target":{"type":"AverageValue","averageValue":"200Mi"}}}]}}`)
	s.MustKubectl("patch", "horizontalpodautoscalers.v1.autoscaling", "web", "--type=merge", `-p={"spec":{"maxReplicas":7}}`)
	if got := s.MustKubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "-o", "jsonpath={.spec.maxReplicas} {.spec.metrics[*].resource.name}"); got != "7 memory cpu" {
		// The CPU target goes last: upstream's conversion puts it after
		// the metrics v1 keeps in its annotation.
		t.Errorf("v2 after a v1 edit = %q, want 7 memory cpu", got)
	}
	// Writes through both versions keep their managed fields: the field
	// manager converts between the versions.
	if out := s.output.String(); strings.Contains(out, "SHOULD NOT HAPPEN") {
		t.Errorf("the server failed to track managed fields:\n%s", out)
	}
	managers := s.MustKubectl("get", "horizontalpodautoscalers.v2.autoscaling", "web", "--show-managed-fields", "-o", "jsonpath={.metadata.managedFields[*].manager}")
	for _, want := range []string{"kubectl-autoscale", "kubectl-patch"} {
		if !strings.Contains(managers, want) {
			t.Errorf("managedFields managers = %q, want %s among them", managers, want)
		}
	}
}

// TestKubectlPatchResize: pods/resize changes container resources in
// place, and nothing else.
func TestKubectlPatchResize(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("run", "app", "--image=nginx:1.27", `--overrides={"spec":{"containers":[{"name":"app","image":"nginx:1.27","resources":{"requests":{"cpu":"250m","memory":"64Mi"},"limits":{"cpu":"500m","memory":"128Mi"}}}]}}`)
	s.MustKubectl("patch", "pod", "app", "--subresource=resize",
		`-p={"spec":{"containers":[{"name":"app","image":"nginx:2","resources":{"requests":{"cpu":"400m"}}}]}}`)
	if got := s.MustKubectl("get", "pod", "app", "-o", "jsonpath={.spec.containers[0].resources.requests.cpu} {.spec.containers[0].image} {.metadata.generation}"); got != "400m nginx:1.27 2" {
		t.Errorf("after a resize: %q, want the new cpu request, the old image, generation 2", got)
	}
	_, stderr, err := s.Kubectl("patch", "pod", "app", "--subresource=resize",
		`-p={"spec":{"containers":[{"name":"app","resources":{"requests":{"cpu":"500m","memory":"128Mi"}}}]}}`)
	if err == nil || !strings.Contains(stderr, "Pod QOS Class may not change as a result of resizing") {
		t.Errorf("a resize to Guaranteed: err %v, stderr %s", err, stderr)
	}
}
