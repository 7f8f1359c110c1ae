package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func TestNodeName(t *testing.T) {
	tests := []struct {
		name     string
		nodeName string
		code     framework.Code
		reasons  []string
	}{
		{"unset matches any node", "", framework.Success, nil},
		{"same node", "n1", framework.Success, nil},
		{"other node", "n2", framework.UnschedulableAndUnresolvable, []string{framework.ReasonNodeName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pod("p", func(p *corev1.Pod) { p.Spec.NodeName = tt.nodeName })
			checkStatus(t, framework.NodeName(p, framework.NewNodeInfo(node("n1"))), tt.code, tt.reasons...)
		})
	}
}

func TestFiltersWithoutNode(t *testing.T) {
	ni := framework.NewNodeInfo(nil)
	for _, f := range framework.DefaultFilters {
		if f.Name == framework.NodePortsName {
			continue // needs only the used ports
		}
		checkStatus(t, f.Filter(pod("p"), ni), framework.Error, "node not found")
	}
}

func TestNodeUnschedulable(t *testing.T) {
	cordon := func(n *corev1.Node) { n.Spec.Unschedulable = true }
	tolerate := func(tol corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = []corev1.Toleration{tol} }
	}
	tests := []struct {
		name    string
		node    *corev1.Node
		pod     *corev1.Pod
		code    framework.Code
		reasons []string
	}{
		{"schedulable node", node("n"), pod("p"), framework.Success, nil},
		{"cordoned node", node("n", cordon), pod("p"),
			framework.UnschedulableAndUnresolvable, []string{framework.ReasonNodeUnschedulable}},
		{"tolerates the unschedulable taint", node("n", cordon),
			pod("p", tolerate(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})),
			framework.Success, nil},
		{"tolerates everything", node("n", cordon),
			pod("p", tolerate(corev1.Toleration{Operator: corev1.TolerationOpExists})), framework.Success, nil},
		{"toleration for another effect", node("n", cordon),
			pod("p", tolerate(corev1.Toleration{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})),
			framework.UnschedulableAndUnresolvable, []string{framework.ReasonNodeUnschedulable}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, framework.NodeUnschedulable(tt.pod, framework.NewNodeInfo(tt.node)), tt.code, tt.reasons...)
		})
	}
}

func TestTaintToleration(t *testing.T) {
	taints := func(ts ...corev1.Taint) func(*corev1.Node) {
		return func(n *corev1.Node) { n.Spec.Taints = ts }
	}
	tolerations := func(ts ...corev1.Toleration) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Tolerations = ts }
	}
	gpu := corev1.Taint{Key: "gpu", Value: "true", Effect: corev1.TaintEffectNoSchedule}
	evict := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute}
	soft := corev1.Taint{Key: "soft", Value: "x", Effect: corev1.TaintEffectPreferNoSchedule}
	tests := []struct {
		name    string
		node    *corev1.Node
		pod     *corev1.Pod
		code    framework.Code
		reasons []string
	}{
		{"no taints", node("n"), pod("p"), framework.Success, nil},
		{"untolerated NoSchedule", node("n", taints(gpu)), pod("p"),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {gpu: true}"}},
		{"untolerated NoExecute", node("n", taints(evict)), pod("p"),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {dedicated: db}"}},
		{"PreferNoSchedule is not a filter", node("n", taints(soft)), pod("p"), framework.Success, nil},
		{"Equal toleration", node("n", taints(gpu)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpEqual, Value: "true", Effect: corev1.TaintEffectNoSchedule})),
			framework.Success, nil},
		{"empty operator means Equal", node("n", taints(gpu)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Value: "true"})), framework.Success, nil},
		{"Equal with another value", node("n", taints(gpu)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Value: "false"})),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {gpu: true}"}},
		{"Exists toleration for the key", node("n", taints(gpu)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists})), framework.Success, nil},
		{"toleration for another effect", node("n", taints(gpu)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute})),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {gpu: true}"}},
		{"reports the first untolerated taint", node("n", taints(soft, gpu, evict)),
			pod("p", tolerations(corev1.Toleration{Key: "gpu", Operator: corev1.TolerationOpExists})),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {dedicated: db}"}},
		{"Gt is not enabled", node("n", taints(corev1.Taint{Key: "level", Value: "5", Effect: corev1.TaintEffectNoSchedule})),
			pod("p", tolerations(corev1.Toleration{Key: "level", Operator: "Gt", Value: "3"})),
			framework.UnschedulableAndUnresolvable, []string{"node(s) had untolerated taint {level: 5}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, framework.TaintToleration(tt.pod, framework.NewNodeInfo(tt.node)), tt.code, tt.reasons...)
		})
	}
}

func TestNodeAffinity(t *testing.T) {
	labels := func(kv ...string) func(*corev1.Node) {
		return func(n *corev1.Node) {
			for i := 0; i < len(kv); i += 2 {
				n.Labels[kv[i]] = kv[i+1]
			}
		}
	}
	selector := func(kv ...string) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{}
			for i := 0; i < len(kv); i += 2 {
				p.Spec.NodeSelector[kv[i]] = kv[i+1]
			}
		}
	}
	required := func(terms ...corev1.NodeSelectorTerm) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: terms},
			}}
		}
	}
	expr := func(key string, op corev1.NodeSelectorOperator, values ...string) corev1.NodeSelectorTerm {
		return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	zoneA := node("n1", labels("zone", "a", "disk", "ssd"))
	miss := []string{framework.ReasonNodeAffinity}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		code    framework.Code
		reasons []string
	}{
		{"no constraints", pod("p"), framework.Success, nil},
		{"nodeSelector matches", pod("p", selector("zone", "a")), framework.Success, nil},
		{"nodeSelector misses", pod("p", selector("zone", "b")), framework.UnschedulableAndUnresolvable, miss},
		{"nodeSelector needs every label", pod("p", selector("zone", "a", "disk", "hdd")), framework.UnschedulableAndUnresolvable, miss},
		{"In matches", pod("p", required(expr("zone", corev1.NodeSelectorOpIn, "a", "b"))), framework.Success, nil},
		{"NotIn excludes", pod("p", required(expr("zone", corev1.NodeSelectorOpNotIn, "a"))), framework.UnschedulableAndUnresolvable, miss},
		{"DoesNotExist", pod("p", required(expr("gpu", corev1.NodeSelectorOpDoesNotExist))), framework.Success, nil},
		{"terms are ORed", pod("p", required(expr("zone", corev1.NodeSelectorOpIn, "b"), expr("disk", corev1.NodeSelectorOpExists))),
			framework.Success, nil},
		{"metadata.name field", pod("p", required(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}})), framework.Success, nil},
		{"selector and affinity are ANDed", pod("p", selector("zone", "b"), required(expr("zone", corev1.NodeSelectorOpIn, "a"))),
			framework.UnschedulableAndUnresolvable, miss},
		{"invalid term matches nothing", pod("p", required(expr("zone", corev1.NodeSelectorOpGt, "a", "b"))),
			framework.UnschedulableAndUnresolvable, miss},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, framework.NodeAffinity(tt.pod, framework.NewNodeInfo(zoneA)), tt.code, tt.reasons...)
		})
	}
}

func TestNodePorts(t *testing.T) {
	withPorts := func(ports ...corev1.ContainerPort) func(*corev1.Pod) {
		return func(p *corev1.Pod) { p.Spec.Containers = []corev1.Container{container(nil, ports...)} }
	}
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(port int32) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			c := container(nil, corev1.ContainerPort{ContainerPort: port, HostPort: port})
			c.RestartPolicy = &always
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
		}
	}
	hp := func(ip string, proto corev1.Protocol, port int32) corev1.ContainerPort {
		return corev1.ContainerPort{HostIP: ip, Protocol: proto, ContainerPort: port, HostPort: port}
	}
	busy := []string{framework.ReasonNodePorts}
	tests := []struct {
		name     string
		existing []*corev1.Pod
		pod      *corev1.Pod
		code     framework.Code
		reasons  []string
	}{
		{"no host ports", []*corev1.Pod{pod("a", withPorts(hp("", "", 80)))}, pod("p"), framework.Success, nil},
		{"container port only", []*corev1.Pod{pod("a", withPorts(hp("", "", 80)))},
			pod("p", withPorts(corev1.ContainerPort{ContainerPort: 80})), framework.Success, nil},
		{"free port", []*corev1.Pod{pod("a", withPorts(hp("", "", 80)))}, pod("p", withPorts(hp("", "", 81))), framework.Success, nil},
		{"same port, default protocol is TCP", []*corev1.Pod{pod("a", withPorts(hp("", corev1.ProtocolTCP, 80)))},
			pod("p", withPorts(hp("", "", 80))), framework.Unschedulable, busy},
		{"same port, other protocol", []*corev1.Pod{pod("a", withPorts(hp("", "", 53)))},
			pod("p", withPorts(hp("", corev1.ProtocolUDP, 53))), framework.Success, nil},
		{"different specific IPs", []*corev1.Pod{pod("a", withPorts(hp("10.0.0.1", "", 80)))},
			pod("p", withPorts(hp("10.0.0.2", "", 80))), framework.Success, nil},
		{"wildcard against specific IP", []*corev1.Pod{pod("a", withPorts(hp("10.0.0.1", "", 80)))},
			pod("p", withPorts(hp("", "", 80))), framework.Unschedulable, busy},
		{"specific IP against wildcard", []*corev1.Pod{pod("a", withPorts(hp("0.0.0.0", "", 80)))},
			pod("p", withPorts(hp("10.0.0.1", "", 80))), framework.Unschedulable, busy},
		// Upstream looks only at regular containers.
		{"sidecar ports are not held", []*corev1.Pod{pod("a", sidecar(9090))},
			pod("p", withPorts(hp("", "", 9090))), framework.Success, nil},
		{"pod's sidecar ports are not checked", []*corev1.Pod{pod("a", withPorts(hp("", "", 9090)))},
			pod("p", sidecar(9090)), framework.Success, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkStatus(t, framework.NodePorts(tt.pod, framework.NewNodeInfo(node("n"), tt.existing...)), tt.code, tt.reasons...)
		})
	}
}
