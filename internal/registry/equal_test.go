package registry

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func equalPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: map[string]string{"a": "1", "b": "2"}, CreationTimestamp: metav1.Unix(100, 0)},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i", Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		}}}},
	}
}

// EqualEncoded agrees with apiequality.Semantic on what it is used for:
// equal objects, the differences Semantic ignores, and real changes.
func TestEqualEncoded(t *testing.T) {
	for _, c := range []struct {
		name   string
		change func(p *corev1.Pod)
		equal  bool
	}{
		{"same", func(*corev1.Pod) {}, true},
		{"a quantity in another form", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("1000m")
		}, true},
		{"an empty list for none", func(p *corev1.Pod) { p.Spec.Volumes = []corev1.Volume{} }, true},
		{"the same instant elsewhere", func(p *corev1.Pod) {
			p.CreationTimestamp = metav1.NewTime(time.Unix(100, 0).In(time.FixedZone("x", 3600)))
		}, true},
		{"a label", func(p *corev1.Pod) { p.Labels["b"] = "3" }, false},
		{"a quantity", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse("2")
		}, false},
		{"a node name", func(p *corev1.Pod) { p.Spec.NodeName = "n" }, false},
		{"an empty struct for none", func(p *corev1.Pod) { p.Spec.SecurityContext = &corev1.PodSecurityContext{} }, false},
	} {
		a, b := equalPod(), equalPod()
		c.change(b)
		if got := EqualEncoded(a, b); got != c.equal {
			t.Errorf("%s: EqualEncoded = %v, want %v", c.name, got, c.equal)
		}
		if sem := apiequality.Semantic.DeepEqual(equalPod(), b); sem != c.equal {
			t.Errorf("%s: test case disagrees with Semantic (%v)", c.name, sem)
		}
	}
	// Not protobuf: the reflective comparison.
	u1 := &unstructured.Unstructured{Object: map[string]any{"a": "b"}}
	u2 := &unstructured.Unstructured{Object: map[string]any{"a": "b"}}
	if !EqualEncoded(u1, u2) {
		t.Error("equal unstructured objects differ")
	}
	u2.Object["a"] = "c"
	if EqualEncoded(u1, u2) {
		t.Error("different unstructured objects are equal")
	}
}
