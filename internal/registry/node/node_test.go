package node_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry/node"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func TestResource(t *testing.T) {
	rs := node.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources", len(rs))
	}
	r := rs[0]
	if r.GVR != nodev1.SchemeGroupVersion.WithResource("runtimeclasses") || r.Kind != "RuntimeClass" || r.ListKind != "RuntimeClassList" ||
		r.Namespaced || len(r.ShortNames) != 0 || len(r.Subresources) != 0 {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*nodev1.RuntimeClass); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*nodev1.RuntimeClassList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func TestValidate(t *testing.T) {
	s := node.Resources()[0].Strategy
	tests := []struct {
		name   string
		mutate func(*nodev1.RuntimeClass)
		want   []FieldErr
	}{
		{name: "valid", mutate: func(*nodev1.RuntimeClass) {}},
		{name: "no handler", mutate: func(rc *nodev1.RuntimeClass) { rc.Handler = "" }, want: []FieldErr{Invalid("handler")}},
		{name: "handler not a DNS label", mutate: func(rc *nodev1.RuntimeClass) { rc.Handler = "run.sc" }, want: []FieldErr{Invalid("handler")}},
		{name: "negative overhead", mutate: func(rc *nodev1.RuntimeClass) { rc.Overhead.PodFixed[corev1.ResourceCPU] = resource.MustParse("-1") },
			want: []FieldErr{Invalid("overhead.podFixed[cpu]")}},
		{name: "bad resource name", mutate: func(rc *nodev1.RuntimeClass) { rc.Overhead.PodFixed["no good"] = resource.MustParse("1") },
			want: []FieldErr{Invalid("overhead.podFixed[no good]")}},
		{name: "bad node selector", mutate: func(rc *nodev1.RuntimeClass) { rc.Scheduling.NodeSelector["sandbox"] = "not ok" },
			want: []FieldErr{Invalid("scheduling.nodeSelector")}},
		{name: "toleration without key", mutate: func(rc *nodev1.RuntimeClass) { rc.Scheduling.Tolerations[0].Key = "" },
			want: []FieldErr{Invalid("scheduling.tolerations[0].operator")}},
		{name: "exists with value", mutate: func(rc *nodev1.RuntimeClass) {
			rc.Scheduling.Tolerations[0].Operator = corev1.TolerationOpExists
		}, want: []FieldErr{Invalid("scheduling.tolerations[0].operator")}},
		{name: "bad operator", mutate: func(rc *nodev1.RuntimeClass) { rc.Scheduling.Tolerations[0].Operator = "In" },
			want: []FieldErr{NotSupported("scheduling.tolerations[0].operator")}},
		{name: "bad effect", mutate: func(rc *nodev1.RuntimeClass) { rc.Scheduling.Tolerations[0].Effect = "Evict" },
			want: []FieldErr{NotSupported("scheduling.tolerations[0].effect")}},
		{name: "seconds without NoExecute", mutate: func(rc *nodev1.RuntimeClass) { rc.Scheduling.Tolerations[0].TolerationSeconds = ptr[int64](30) },
			want: []FieldErr{Invalid("scheduling.tolerations[0].effect")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := &nodev1.RuntimeClass{
				ObjectMeta: metav1.ObjectMeta{Name: "gvisor"},
				Handler:    "runsc",
				Overhead:   &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}},
				Scheduling: &nodev1.Scheduling{
					NodeSelector: map[string]string{"sandbox.example.com/gvisor": "true"},
					Tolerations:  []corev1.Toleration{{Key: "sandbox", Operator: corev1.TolerationOpEqual, Value: "gvisor", Effect: corev1.TaintEffectNoSchedule}},
				},
			}
			tt.mutate(rc)
			CheckErrors(t, s.Validate(ctx, rc), tt.want...)
		})
	}
}

func TestHandlerImmutable(t *testing.T) {
	s := node.Resources()[0].Strategy
	old := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "kata"}, Handler: "kata"}
	rc := old.DeepCopy()
	rc.Handler = "kata-qemu"
	CheckErrors(t, s.ValidateUpdate(ctx, rc, old), Invalid("handler"))
	rc = old.DeepCopy()
	rc.Overhead = &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m")}}
	CheckErrors(t, s.ValidateUpdate(ctx, rc, old))
}
