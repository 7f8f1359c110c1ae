package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestDefaultTolerationSeconds(t *testing.T) {
	secs := func(s int64) *int64 { return &s }
	notReady := corev1.Toleration{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs(300)}
	unreachable := corev1.Toleration{Key: "node.kubernetes.io/unreachable", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs(300)}
	tests := []struct {
		name string
		have []corev1.Toleration
		want []corev1.Toleration
	}{{
		name: "both added",
		want: []corev1.Toleration{notReady, unreachable},
	}, {
		name: "an own not-ready NoExecute toleration is kept",
		have: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs(60)}},
		want: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: secs(60)}, unreachable},
	}, {
		name: "empty key with Exists tolerates everything",
		have: []corev1.Toleration{{Operator: "Exists"}},
		want: []corev1.Toleration{{Operator: "Exists"}},
	}, {
		name: "empty key with NoExecute covers both",
		have: []corev1.Toleration{{Operator: "Exists", Effect: "NoExecute"}},
		want: []corev1.Toleration{{Operator: "Exists", Effect: "NoExecute"}},
	}, {
		name: "empty effect covers NoExecute of that key",
		have: []corev1.Toleration{{Key: "node.kubernetes.io/unreachable", Operator: "Exists"}},
		want: []corev1.Toleration{{Key: "node.kubernetes.io/unreachable", Operator: "Exists"}, notReady},
	}, {
		name: "a NoSchedule toleration does not cover NoExecute",
		have: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoSchedule"}},
		want: []corev1.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: "Exists", Effect: "NoSchedule"}, notReady, unreachable},
	}, {
		name: "other keys do not matter",
		have: []corev1.Toleration{{Key: "dedicated", Operator: "Equal", Value: "gpu", Effect: "NoExecute"}},
		want: []corev1.Toleration{{Key: "dedicated", Operator: "Equal", Value: "gpu", Effect: "NoExecute"}, notReady, unreachable},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPod("web", func(p *corev1.Pod) { p.Spec.Tolerations = tt.have })
			if err := (DefaultTolerationSeconds{}).Admit(context.Background(), create(podsResource, p)); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(p.Spec.Tolerations, tt.want) {
				t.Errorf("tolerations\n got %+v\nwant %+v", p.Spec.Tolerations, tt.want)
			}
		})
	}
}

func TestDefaultTolerationSecondsOnlyPods(t *testing.T) {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n"}}
	if err := (DefaultTolerationSeconds{}).Admit(context.Background(), create(nodesResource, n)); err != nil {
		t.Fatal(err)
	}
	a := create(podsResource, newPod("web"))
	a.Subresource = "status"
	if err := (DefaultTolerationSeconds{}).Admit(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if p := a.Object.(*corev1.Pod); len(p.Spec.Tolerations) != 0 {
		t.Errorf("a status write got tolerations %+v", p.Spec.Tolerations)
	}
}

func TestTaintNodesByCondition(t *testing.T) {
	notReady := corev1.Taint{Key: "node.kubernetes.io/not-ready", Effect: "NoSchedule"}
	tests := []struct {
		name string
		op   Operation
		have []corev1.Taint
		want []corev1.Taint
	}{
		{name: "new node tainted", op: Create, want: []corev1.Taint{notReady}},
		{name: "other taints kept", op: Create,
			have: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: "NoSchedule"}},
			want: []corev1.Taint{{Key: "dedicated", Value: "gpu", Effect: "NoSchedule"}, notReady}},
		{name: "not duplicated", op: Create, have: []corev1.Taint{notReady}, want: []corev1.Taint{notReady}},
		{name: "a NoExecute not-ready taint is another taint", op: Create,
			have: []corev1.Taint{{Key: "node.kubernetes.io/not-ready", Effect: "NoExecute"}},
			want: []corev1.Taint{{Key: "node.kubernetes.io/not-ready", Effect: "NoExecute"}, notReady}},
		{name: "updates untouched", op: Update},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: tt.have}}
			a := create(nodesResource, n)
			if tt.op == Update {
				a = update(nodesResource, n, n.DeepCopy())
			}
			if err := (TaintNodesByCondition{}).Admit(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(n.Spec.Taints, tt.want) {
				t.Errorf("taints = %+v, want %+v", n.Spec.Taints, tt.want)
			}
		})
	}
}

// TestDefaultTolerationSecondsConfigured: the kube-apiserver flags'
// values replace 300, each for its own taint.
func TestDefaultTolerationSecondsConfigured(t *testing.T) {
	notReady, unreachable := int64(30), int64(2)
	p := newPod("web", func(*corev1.Pod) {})
	if err := (DefaultTolerationSeconds{NotReady: &notReady, Unreachable: &unreachable}).Admit(context.Background(), create(podsResource, p)); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, tol := range p.Spec.Tolerations {
		got[tol.Key] = *tol.TolerationSeconds
	}
	if got["node.kubernetes.io/not-ready"] != 30 || got["node.kubernetes.io/unreachable"] != 2 {
		t.Errorf("tolerationSeconds = %v, want not-ready 30, unreachable 2", got)
	}
}
