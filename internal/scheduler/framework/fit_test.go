package framework_test

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	init := func(requests corev1.ResourceList, sidecar bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			c := container(requests)
			if sidecar {
				c.RestartPolicy = &always
			}
			p.Spec.InitContainers = append(p.Spec.InitContainers, c)
		}
	}
	tests := []struct {
		name string
		pod  *corev1.Pod
		want framework.Resource
	}{
		{"no requests", pod("p"), framework.Resource{}},
		{"containers are summed", pod("p", func(p *corev1.Pod) {
			p.Spec.Containers = []corev1.Container{container(rl("cpu", "1", "memory", "1Gi")), container(rl("cpu", "500m"))}
		}), framework.Resource{MilliCPU: 1500, Memory: 1 << 30}},
		{"a larger init container dominates", pod("p", requests("cpu", "1"), init(rl("cpu", "3"), false)),
			framework.Resource{MilliCPU: 3000}},
		{"a smaller init container does not add", pod("p", requests("cpu", "1"), init(rl("cpu", "200m"), false)),
			framework.Resource{MilliCPU: 1000}},
		{"sidecars add to containers", pod("p", requests("cpu", "1"), init(rl("cpu", "500m"), true)),
			framework.Resource{MilliCPU: 1500}},
		{"init after a sidecar runs beside it", pod("p", requests("cpu", "1"), init(rl("cpu", "500m"), true), init(rl("cpu", "2"), false)),
			framework.Resource{MilliCPU: 2500}},
		{"overhead is added", pod("p", requests("cpu", "1"), func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu", "250m", "memory", "64Mi") }),
			framework.Resource{MilliCPU: 1250, Memory: 64 << 20}},
		{"extended, hugepages and storage", pod("p", requests("example.com/gpu", "2", "hugepages-2Mi", "4Mi", "ephemeral-storage", "1Gi", "unknown", "1")),
			framework.Resource{EphemeralStorage: 1 << 30, Scalar: map[corev1.ResourceName]int64{"example.com/gpu": 2, "hugepages-2Mi": 4 << 20}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := framework.PodRequests(tt.pod)
			if got.MilliCPU != tt.want.MilliCPU || got.Memory != tt.want.Memory || got.EphemeralStorage != tt.want.EphemeralStorage ||
				got.AllowedPodNumber != 0 || !maps.Equal(got.Scalar, tt.want.Scalar) {
				t.Errorf("PodRequests = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestNodeInfoAddRemove(t *testing.T) {
	a := pod("a", requests("cpu", "1", "memory", "1Gi", "example.com/gpu", "1"), func(p *corev1.Pod) {
		p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 80}}
	})
	b := pod("b", requests("cpu", "500m"))
	ni := framework.NewNodeInfo(node("n"), a, b)
	if got := ni.Requested; got.MilliCPU != 1500 || got.Memory != 1<<30 || got.Scalar["example.com/gpu"] != 1 {
		t.Fatalf("Requested = %+v", got)
	}
	if ni.Allocatable.MilliCPU != 4000 || ni.Allocatable.AllowedPodNumber != 110 {
		t.Fatalf("Allocatable = %+v", ni.Allocatable)
	}
	if !ni.UsedPorts.Conflicts("", "", 80) {
		t.Fatal("port 80 not marked used")
	}
	if !ni.RemovePod(a) {
		t.Fatal("RemovePod(a) = false")
	}
	if ni.RemovePod(a) {
		t.Fatal("second RemovePod(a) = true")
	}
	if got := ni.Requested; got.MilliCPU != 500 || got.Memory != 0 || got.Scalar["example.com/gpu"] != 0 {
		t.Fatalf("Requested after remove = %+v", got)
	}
	if ni.UsedPorts.Conflicts("", "", 80) || len(ni.UsedPorts) != 0 {
		t.Fatalf("UsedPorts after remove = %v", ni.UsedPorts)
	}
	if len(ni.Pods()) != 1 || ni.Pods()[0] != b {
		t.Fatalf("Pods = %v", ni.Pods())
	}
}

func TestNodeResourcesFit(t *testing.T) {
	small := func(n *corev1.Node) {
		n.Status.Allocatable = rl("cpu", "2", "memory", "2Gi", "pods", "3", "ephemeral-storage", "10Gi", "example.com/gpu", "2")
	}
	existing := []*corev1.Pod{pod("a", requests("cpu", "1500m", "memory", "1Gi", "example.com/gpu", "1"))}
	tests := []struct {
		name     string
		existing []*corev1.Pod
		pod      *corev1.Pod
		code     framework.Code
		reasons  []string
	}{
		{"fits", existing, pod("p", requests("cpu", "500m", "memory", "1Gi")), framework.Success, nil},
		{"no requests fits", existing, pod("p"), framework.Success, nil},
		{"insufficient cpu", existing, pod("p", requests("cpu", "600m")), framework.Unschedulable, []string{"Insufficient cpu"}},
		{"insufficient memory", existing, pod("p", requests("memory", "1025Mi")), framework.Unschedulable, []string{"Insufficient memory"}},
		{"insufficient ephemeral-storage", nil, pod("p", requests("ephemeral-storage", "11Gi")),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient ephemeral-storage"}},
		{"insufficient extended resource", existing, pod("p", requests("example.com/gpu", "2")),
			framework.Unschedulable, []string{"Insufficient example.com/gpu"}},
		{"extended resource the node lacks", nil, pod("p", requests("example.com/fpga", "1")),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient example.com/fpga"}},
		{"every reason, in order", existing, pod("p", requests("cpu", "1", "memory", "2Gi", "example.com/gpu", "2", "example.com/a", "1")),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient cpu", "Insufficient memory", "Insufficient example.com/a", "Insufficient example.com/gpu"}},
		{"more than the node has is unresolvable", nil, pod("p", requests("cpu", "3")),
			framework.UnschedulableAndUnresolvable, []string{"Insufficient cpu"}},
		{"too many pods", []*corev1.Pod{pod("a"), pod("b"), pod("c")}, pod("p"), framework.Unschedulable, []string{framework.ReasonTooManyPods}},
		{"too many pods and cpu", []*corev1.Pod{pod("a", requests("cpu", "2")), pod("b"), pod("c")}, pod("p", requests("cpu", "1")),
			framework.Unschedulable, []string{framework.ReasonTooManyPods, "Insufficient cpu"}},
		{"init container counts", existing, pod("p", requests("cpu", "100m"), func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{container(rl("cpu", "1"))}
		}), framework.Unschedulable, []string{"Insufficient cpu"}},
		{"overhead counts", existing, pod("p", requests("cpu", "500m"), func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu", "1m") }),
			framework.Unschedulable, []string{"Insufficient cpu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ni := framework.NewNodeInfo(node("n", small), tt.existing...)
			checkStatus(t, framework.NodeResourcesFit(tt.pod, ni), tt.code, tt.reasons...)
		})
	}
}

func TestRunFilters(t *testing.T) {
	n := node("n", func(n *corev1.Node) {
		n.Spec.Taints = []corev1.Taint{{Key: "k", Value: "v", Effect: corev1.TaintEffectNoSchedule}}
	})
	st := framework.RunFilters(framework.DefaultFilters, pod("p", requests("cpu", "100")), framework.NewNodeInfo(n))
	if st.Plugin() != framework.TaintTolerationName || st.Code() != framework.UnschedulableAndUnresolvable {
		t.Errorf("RunFilters = %v from %q, want the TaintToleration rejection", st, st.Plugin())
	}
	if st := framework.RunFilters(framework.DefaultFilters, pod("p"), framework.NewNodeInfo(node("m"))); st != nil {
		t.Errorf("RunFilters on a free node = %v, want nil", st)
	}
}
