package core_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

func newNode() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "worker-1"},
		Spec:       corev1.NodeSpec{PodCIDR: "10.244.1.0/24", PodCIDRs: []string{"10.244.1.0/24"}, ProviderID: "kind://docker/kind/worker-1"},
		Status: corev1.NodeStatus{
			Capacity:  rl("cpu", "4", "memory", "8Gi", "pods", "110", "attachable-volumes-csi-x", "39"),
			Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "172.18.0.2"}, {Type: corev1.NodeHostName, Address: "worker-1"}},
		},
	}
}

func TestNodeDefault(t *testing.T) {
	s := clusterStrategy(t, "nodes")
	n := newNode()
	n.Spec.PodCIDRs = []string{"fd00::/64", "10.1.0.0/24"}
	s.Default(n)
	if n.Spec.PodCIDR != "fd00::/64" {
		t.Errorf("podCIDR = %q, want the first of podCIDRs", n.Spec.PodCIDR)
	}
	n.Spec.PodCIDRs = nil
	s.Default(n)
	if len(n.Spec.PodCIDRs) != 1 || n.Spec.PodCIDRs[0] != "fd00::/64" {
		t.Errorf("podCIDRs = %q, want [podCIDR]", n.Spec.PodCIDRs)
	}
	n = newNode()
	s.Default(n)
	if !apiequality.Semantic.DeepEqual(n.Status.Allocatable, n.Status.Capacity) {
		t.Errorf("allocatable = %v, want capacity %v", n.Status.Allocatable, n.Status.Capacity)
	}
	n.Status.Allocatable["cpu"] = rl("cpu", "1")["cpu"]
	if n.Status.Capacity.Cpu().String() != "4" {
		t.Errorf("allocatable aliases capacity")
	}
	n = newNode()
	n.Status.Allocatable = rl("cpu", "3")
	s.Default(n)
	if n.Status.Allocatable.Cpu().String() != "3" || len(n.Status.Allocatable) != 1 {
		t.Errorf("set allocatable overwritten: %v", n.Status.Allocatable)
	}
}

func TestNodeValidate(t *testing.T) {
	taint := func(key, value string, effect corev1.TaintEffect) corev1.Taint {
		return corev1.Taint{Key: key, Value: value, Effect: effect}
	}
	tests := []struct {
		name   string
		modify func(*corev1.Node)
		want   []fieldErr
	}{
		{"valid", func(*corev1.Node) {}, nil},
		{"dual-stack", func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "fd00:10:244:1::/64") }, nil},
		{"taints", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{taint("node-role.kubernetes.io/control-plane", "", corev1.TaintEffectNoSchedule),
				taint("dedicated", "gpu", corev1.TaintEffectNoExecute), taint("dedicated", "gpu", corev1.TaintEffectNoSchedule)}
		}, nil},
		{"taint key", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{taint("bad key", "", corev1.TaintEffectNoSchedule)}
		},
			[]fieldErr{invalid("spec.taints[0].key")}},
		// An empty key breaks both rules of a name part.
		{"taint key empty", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{taint("", "", corev1.TaintEffectNoSchedule)} },
			[]fieldErr{invalid("spec.taints[0].key"), invalid("spec.taints[0].key")}},
		{"taint value", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{taint("k", "a b", corev1.TaintEffectNoSchedule)} },
			[]fieldErr{invalid("spec.taints[0].value")}},
		{"taint effect required", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{taint("k", "", "")} },
			[]fieldErr{required("spec.taints[0].effect")}},
		{"taint effect enum", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{taint("k", "", "Never")} },
			[]fieldErr{notSupported("spec.taints[0].effect")}},
		{"taint duplicate key and effect", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{taint("k", "a", corev1.TaintEffectNoSchedule), taint("k", "b", corev1.TaintEffectNoSchedule)}
		}, []fieldErr{duplicate("spec.taints[1]")}},
		{"podCIDR from an old client", func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.244.1.0", nil },
			[]fieldErr{invalid("spec.podCIDRs[0]")}},
		{"podCIDRs same family", func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "10.245.1.0/24") },
			[]fieldErr{invalid("spec.podCIDRs")}},
		{"podCIDRs three", func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "fd00::/64", "10.245.1.0/24") },
			[]fieldErr{invalid("spec.podCIDRs")}},
		{"podCIDRs duplicate", func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, n.Spec.PodCIDRs[0]) },
			[]fieldErr{invalid("spec.podCIDRs"), duplicate("spec.podCIDRs[1]")}},
		{"negative capacity", func(n *corev1.Node) { n.Status.Capacity, n.Status.Allocatable = rl("memory", "-1"), rl("memory", "0") },
			[]fieldErr{invalid("status.capacity.memory")}},
		{"fractional pods", func(n *corev1.Node) { n.Status.Allocatable = rl("pods", "1500m") },
			[]fieldErr{invalid("status.allocatable.pods")}},
	}
	s := clusterStrategy(t, "nodes")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode()
			tt.modify(n)
			s.Default(n)
			checkErrs(t, s.Validate(bg, n), tt.want...)
		})
	}
}

func TestNodeValidateUpdate(t *testing.T) {
	unset := func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs, n.Spec.ProviderID = "", nil, "" }
	tests := []struct {
		name     string
		old, new func(*corev1.Node)
		want     []fieldErr
	}{
		{"unchanged", func(*corev1.Node) {}, func(*corev1.Node) {}, nil},
		{"cordon and taint", func(*corev1.Node) {}, func(n *corev1.Node) {
			n.Spec.Unschedulable = true
			n.Spec.Taints = []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}}
		}, nil},
		{"assign podCIDR and providerID", unset, func(*corev1.Node) {}, nil},
		{"change podCIDR", func(*corev1.Node) {}, func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "10.9.0.0/24", nil },
			[]fieldErr{forbidden("spec.podCIDRs")}},
		{"add second podCIDR", func(*corev1.Node) {}, func(n *corev1.Node) { n.Spec.PodCIDRs = append(n.Spec.PodCIDRs, "fd00::/64") },
			[]fieldErr{forbidden("spec.podCIDRs")}},
		{"clear podCIDR", func(*corev1.Node) {}, func(n *corev1.Node) { n.Spec.PodCIDR, n.Spec.PodCIDRs = "", nil },
			[]fieldErr{forbidden("spec.podCIDRs")}},
		{"duplicate address", func(*corev1.Node) {}, func(n *corev1.Node) { n.Status.Addresses = append(n.Status.Addresses, n.Status.Addresses[0]) },
			[]fieldErr{duplicate("status.addresses[2]")}},
		{"change providerID", func(*corev1.Node) {}, func(n *corev1.Node) { n.Spec.ProviderID = "aws:///i-1" },
			[]fieldErr{forbidden("spec.providerID")}},
	}
	s := clusterStrategy(t, "nodes")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, n := newNode(), newNode()
			tt.old(old)
			tt.new(n)
			s.Default(old)
			s.Default(n)
			checkErrs(t, s.ValidateUpdate(bg, n, old), tt.want...)
		})
	}
}

func TestNodePrepare(t *testing.T) {
	s := clusterStrategy(t, "nodes")
	n := newNode()
	s.PrepareForCreate(bg, n)
	if len(n.Status.Addresses) != 2 || n.Generation != 0 {
		t.Errorf("create changed the node: %+v", n)
	}
	old := newNode()
	n = newNode()
	n.Spec.Unschedulable = true
	n.Status.Phase = corev1.NodeRunning
	s.PrepareForUpdate(bg, n, old, "")
	if !n.Spec.Unschedulable || n.Status.Phase != "" {
		t.Errorf("main update: spec %+v status phase %q", n.Spec, n.Status.Phase)
	}
	n = newNode()
	n.Spec.Unschedulable = true
	n.Status.Phase = corev1.NodeRunning
	s.PrepareForUpdate(bg, n, old, "status")
	if n.Spec.Unschedulable || n.Status.Phase != corev1.NodeRunning {
		t.Errorf("status update: spec %+v status phase %q", n.Spec, n.Status.Phase)
	}
}

func TestNodeSelectableFields(t *testing.T) {
	s := clusterStrategy(t, "nodes")
	n := newNode()
	if got := s.SelectableFields(n); !apiequality.Semantic.DeepEqual(got, fields.Set{"spec.unschedulable": "false"}) {
		t.Errorf("fields = %v", got)
	}
	n.Spec.Unschedulable = true
	if got := s.SelectableFields(n)["spec.unschedulable"]; got != "true" {
		t.Errorf("spec.unschedulable = %q", got)
	}
}
