package node

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func requesting(uid, cpu, mem string) *corev1.Pod {
	req := corev1.ResourceList{}
	if cpu != "" {
		req[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		req[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{UID: types.UID(uid)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}}}},
	}
}

func TestAdmission(t *testing.T) {
	capacity := usage{pods: 3, milliCPU: 4000, memory: 8 << 30, storage: 1 << 40}
	var a admission
	for _, tt := range []struct {
		pod    *corev1.Pod
		reason string
		msg    string
	}{
		{requesting("a", "3", "1Gi"), "", ""},
		{requesting("b", "2", ""), "OutOfcpu", "Node didn't have enough resource: cpu, requested: 2000, used: 3000, capacity: 4000"},
		{requesting("c", "1", "8Gi"), "OutOfmemory", "Node didn't have enough resource: memory, requested: 8589934592, used: 1073741824, capacity: 8589934592"},
		{requesting("a", "3", "1Gi"), "", ""}, // admitted already: not counted twice
		{requesting("d", "", ""), "", ""},
		{requesting("e", "", ""), "", ""},
		{requesting("f", "", ""), "OutOfpods", "Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3"},
	} {
		r := a.admit(tt.pod, capacity)
		switch {
		case tt.reason == "" && r != nil:
			t.Errorf("pod %s rejected: %+v", tt.pod.UID, r)
		case tt.reason != "" && (r == nil || r.Reason != tt.reason || r.Message != tt.msg):
			t.Errorf("pod %s: %+v, want %s %q", tt.pod.UID, r, tt.reason, tt.msg)
		}
	}
	a.release("a")
	if r := a.admit(requesting("b", "2", ""), capacity); r != nil {
		t.Errorf("released room not reused: %+v", r)
	}
	if a.used != (usage{pods: 3, milliCPU: 2000}) {
		t.Errorf("used = %+v", a.used)
	}
}
