package daemonset

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/controller/replicaset"
)

func TestTrimPod(t *testing.T) {
	yes := true
	full := func(kind string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", ResourceVersion: "7", Labels: map[string]string{"app": "x"},
				Annotations:     map[string]string{corev1.LastAppliedConfigAnnotation: "{}", "keep": "1"},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: "o", UID: "ou", Controller: &yes}},
				ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "m"}}},
			Spec: corev1.PodSpec{NodeName: "n", Affinity: nodeNameAffinity(nil, "n"), Containers: []corev1.Container{{Name: "c"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "c"}}},
		}
	}
	o, _ := trimPod(full("DaemonSet"))
	p := o.(*corev1.Pod)
	if p.Labels["app"] != "x" || p.Annotations["keep"] != "1" || p.Annotations[corev1.LastAppliedConfigAnnotation] != "" || p.ManagedFields != nil ||
		TargetNode(p) != "n" || len(p.Spec.Containers) != 0 || !replicaset.IsPodReady(p) || p.Status.ContainerStatuses != nil {
		t.Errorf("daemon pod trimmed to %+v", p)
	}
	o, _ = trimPod(full("ReplicaSet"))
	p = o.(*corev1.Pod)
	if p.Labels != nil || p.Spec.NodeName != "" || p.ResourceVersion != "7" || metav1.GetControllerOf(p).Kind != "ReplicaSet" {
		t.Errorf("another controller's pod trimmed to %+v", p)
	}
	orphan := full("DaemonSet")
	orphan.OwnerReferences = nil
	o, _ = trimPod(orphan)
	if p = o.(*corev1.Pod); p.Labels["app"] != "x" || p.Spec.NodeName != "n" {
		t.Errorf("an orphan trimmed to %+v", p)
	}
}

func TestTrimNode(t *testing.T) {
	n := node("n", map[string]string{"zone": "a"}, taint("k", corev1.TaintEffectNoSchedule))
	n.Status.Images = []corev1.ContainerImage{{Names: []string{"i"}}}
	o, _ := trimNode(n)
	got := o.(*corev1.Node)
	if got.Labels["zone"] != "a" || len(got.Spec.Taints) != 1 || got.Status.Images != nil {
		t.Errorf("node trimmed to %+v", got)
	}
}

func TestExpectations(t *testing.T) {
	e := newExpectations()
	if !e.Satisfied("k", t0) {
		t.Fatal("nothing recorded: not satisfied")
	}
	e.Expect("k", 2, []string{"ns/a"}, t0)
	e.CreationObserved("k")
	if e.Satisfied("k", t0) {
		t.Fatal("satisfied with a creation and a deletion outstanding")
	}
	e.CreationObserved("k")
	e.DeletionObserved("k", "ns/a")
	e.DeletionObserved("k", "ns/a") // the update, then the delete
	if !e.Satisfied("k", t0) {
		t.Fatal("not satisfied once all were seen")
	}
	e.Expect("k", 1, nil, t0)
	if e.Satisfied("k", t0.Add(time.Minute)) || !e.Satisfied("k", t0.Add(replicaset.ExpectationsTimeout+time.Second)) {
		t.Error("expectations do not expire after ExpectationsTimeout")
	}
	e.Delete("k")
	if !e.Satisfied("k", t0) {
		t.Error("a deleted key is not satisfied")
	}
}
