package framework_test

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// rl builds a ResourceList from name, quantity pairs.
func rl(kv ...string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		out[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return out
}

func node(name string, mutate ...func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelHostname: name}},
		Status: corev1.NodeStatus{
			Allocatable: rl("cpu", "4", "memory", "8Gi", "pods", "110", "ephemeral-storage", "100Gi"),
		},
	}
	for _, m := range mutate {
		m(n)
	}
	return n
}

func container(requests corev1.ResourceList, ports ...corev1.ContainerPort) corev1.Container {
	return corev1.Container{Name: "c", Image: "i", Resources: corev1.ResourceRequirements{Requests: requests}, Ports: ports}
}

func pod(name string, mutate ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{container(nil)}},
	}
	for _, m := range mutate {
		m(p)
	}
	return p
}

func requests(kv ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Spec.Containers = []corev1.Container{container(rl(kv...))} }
}

// checkStatus compares a Status with a wanted code and reasons.
func checkStatus(t *testing.T, got *framework.Status, code framework.Code, reasons ...string) {
	t.Helper()
	if got.Code() != code || !slices.Equal(got.Reasons(), reasons) {
		t.Errorf("status = %v, want %v %q", got, code, reasons)
	}
}
