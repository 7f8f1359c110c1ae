package framework

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// The single-container shortcut gives what the general computation does,
// and leaves every other pod to it.
func TestSingleContainerResourcesMatchPodRequests(t *testing.T) {
	rl := func(kv ...string) corev1.ResourceList {
		l := corev1.ResourceList{}
		for i := 0; i < len(kv); i += 2 {
			l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
		}
		return l
	}
	one := func(req corev1.ResourceList) *corev1.Pod {
		return &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: req}}}}}
	}
	for name, pod := range map[string]*corev1.Pod{
		"cpu and memory":      one(rl("cpu", "10m", "memory", "16Mi")),
		"nothing":             one(nil),
		"memory only":         one(rl("memory", "1Gi")),
		"zero cpu":            one(rl("cpu", "0", "memory", "1")),
		"storage and devices": one(rl("cpu", "1.5", "ephemeral-storage", "2Gi", "example.com/gpu", "2", "hugepages-2Mi", "4Mi")),
		"sub-millicore":       one(rl("cpu", "0.1m")),
	} {
		got, ok := singleContainerResources(pod)
		if !ok {
			t.Errorf("%s: not taken", name)
			continue
		}
		if want := (podResources{PodRequests(pod), nonZeroRequests(pod)}); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	withInit := one(rl("cpu", "1"))
	withInit.Spec.InitContainers = []corev1.Container{{Name: "i"}}
	overhead := one(rl("cpu", "1"))
	overhead.Spec.Overhead = rl("cpu", "100m")
	resized := one(rl("cpu", "1"))
	resized.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "c", Resources: &corev1.ResourceRequirements{Requests: rl("cpu", "2")}}}
	two := one(rl("cpu", "1"))
	two.Spec.Containers = append(two.Spec.Containers, corev1.Container{Name: "d"})
	for name, pod := range map[string]*corev1.Pod{"init containers": withInit, "overhead": overhead, "resized": resized, "two containers": two} {
		if _, ok := singleContainerResources(pod); ok {
			t.Errorf("%s: taken by the shortcut", name)
		}
	}
}
