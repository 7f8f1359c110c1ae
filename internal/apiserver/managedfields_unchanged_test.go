package apiserver_test

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/registry"
)

// trackedPod is a pod as a status update finds it: created by one manager,
// bound, its status written by another.
func trackedPod(t *testing.T, s *apiserver.Server, res *registry.Resource) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "p", Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
			Name: "c", Image: "i", Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}},
		}}, Tolerations: []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}},
	}
	if _, err := s.TrackCreate(res, "", p, "kubectl-create", false); err != nil {
		t.Fatal(err)
	}
	st := p.DeepCopy()
	st.Status = corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}
	if err := s.TrackUpdate(res, "status", st, p, "skiff-scheduler", true); err != nil {
		t.Fatal(err)
	}
	return st
}

// Leaving out what live and new share (the spec, in a status update; the
// status, in a main-resource update) tracks the same managed fields as
// the whole objects do.
func TestTrackingWithoutSharedFields(t *testing.T) {
	s, stores := allResources(t)
	pods := stores[corev1.SchemeGroupVersion.WithKind("Pod")].Resource
	ready := corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.5", PodIPs: []corev1.PodIP{{IP: "10.42.0.5"}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}}
	for _, tc := range []struct {
		name, sub, manager string
		change             func(obj, old *corev1.Pod)
		leftOut            bool // withoutShared leaves something out
	}{
		{"status update, spec shared", "status", "kubelet", func(obj, old *corev1.Pod) {
			obj.Spec = old.Spec
			obj.Status = ready
		}, true},
		{"status update, spec copied", "status", "kubelet", func(obj, old *corev1.Pod) { obj.Status = ready }, false},
		{"status update sending managed fields of its own", "status", "kubelet", func(obj, old *corev1.Pod) {
			obj.Spec = old.Spec
			obj.Status = ready
			obj.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "intruder", Operation: metav1.ManagedFieldsOperationUpdate,
				APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:phase":{}}}`)}}}
		}, true},
		{"status update dropping a condition, spec shared", "status", "kubelet", func(obj, old *corev1.Pod) {
			obj.Spec = old.Spec
			obj.Status.Conditions = nil
		}, true},
		{"spec and label update, status shared", "", "editor", func(obj, old *corev1.Pod) {
			obj.Status = old.Status
			obj.Labels["tier"] = "front"
			obj.Spec.Containers[0].Image = "j"
			obj.Spec.Tolerations = nil
		}, true},
		{"no change, all shared", "", "editor", func(obj, old *corev1.Pod) {
			obj.Spec, obj.Status = old.Spec, old.Status
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := trackedPod(t, s, pods)
			obj := old.DeepCopy()
			tc.change(obj, old)
			if l, o := apiserver.WithoutShared(old, obj); (l != runtime.Object(old)) != tc.leftOut || (o != runtime.Object(obj)) != tc.leftOut {
				t.Fatalf("withoutShared left something out: %v, want %v", l != runtime.Object(old), tc.leftOut)
			}
			whole := obj.DeepCopy()
			whole.Spec, whole.Status = obj.Spec, obj.Status // share as obj does
			if err := s.TrackUpdate(pods, tc.sub, obj, old, tc.manager, false); err != nil {
				t.Fatal(err)
			}
			if err := s.TrackUpdate(pods, tc.sub, whole, old, tc.manager, true); err != nil {
				t.Fatal(err)
			}
			fixed := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			for _, p := range []*corev1.Pod{obj, whole} {
				for i := range p.ManagedFields {
					p.ManagedFields[i].Time = &fixed
				}
			}
			if !equalJSON(t, obj, whole) {
				t.Errorf("managed fields without shared fields:\n%v\nwith the whole objects:\n%v", obj.ManagedFields, whole.ManagedFields)
			}
			if len(obj.ManagedFields) < 2 {
				t.Errorf("managed fields %v: the test tracks nothing", obj.ManagedFields)
			}
		})
	}
}

// Sharing is found through values held in place (a template's metadata,
// with its unexported time fields) without a panic, and a difference
// anywhere in them keeps the field.
func TestWithoutSharedNestedValues(t *testing.T) {
	old := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(time.Now()), Labels: map[string]string{"a": "b"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
	}}}
	obj := old.DeepCopy()
	obj.Spec = old.Spec
	if l, o := apiserver.WithoutShared(old, obj); l == runtime.Object(old) || o == runtime.Object(obj) {
		t.Fatal("a shared spec was compared")
	} else if l.(*appsv1.Deployment).Spec.Template.Labels != nil || old.Spec.Template.Labels == nil {
		t.Fatal("the copies kept the spec, or the objects lost it")
	}
	obj.Spec.Template.CreationTimestamp = metav1.NewTime(old.Spec.Template.CreationTimestamp.Add(time.Second))
	// (The status, zero in both, still is.)
	if l, _ := apiserver.WithoutShared(old, obj); l.(*appsv1.Deployment).Spec.Template.Labels == nil {
		t.Fatal("a spec that differs in its template's creationTimestamp was left out")
	}
}
