package core_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
)

func newRC() *corev1.ReplicationController {
	return &corev1.ReplicationController{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: corev1.ReplicationControllerSpec{
			Template: &corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
			},
		},
	}
}

func TestReplicationControllerDefault(t *testing.T) {
	s := workload(t, "replicationcontrollers")
	rc := newRC()
	s.Default(rc)
	labels := map[string]string{"app": "web", "tier": "front"}
	if rc.Spec.Replicas == nil || *rc.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want 1", rc.Spec.Replicas)
	}
	if !apiequality.Semantic.DeepEqual(rc.Spec.Selector, labels) || !apiequality.Semantic.DeepEqual(rc.Labels, labels) {
		t.Errorf("selector %v, labels %v, want the template's %v", rc.Spec.Selector, rc.Labels, labels)
	}
	// The defaults are copies: changing the template later leaves them.
	rc.Spec.Template.Labels["app"] = "other"
	if rc.Spec.Selector["app"] != "web" || rc.Labels["app"] != "web" {
		t.Errorf("selector or labels alias the template's labels")
	}
	if rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || rc.Spec.Template.Spec.Containers[0].TerminationMessagePath == "" {
		t.Errorf("template not defaulted: %+v", rc.Spec.Template.Spec)
	}

	// Set values stay.
	rc = newRC()
	rc.Labels = map[string]string{"owner": "me"}
	rc.Spec.Selector = map[string]string{"app": "web"}
	rc.Spec.Replicas = ptr[int32](0)
	s.Default(rc)
	if *rc.Spec.Replicas != 0 || len(rc.Spec.Selector) != 1 || rc.Labels["owner"] != "me" || len(rc.Labels) != 1 {
		t.Errorf("defaults overwrote set values: %+v", rc)
	}
}

func TestReplicationControllerValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.ReplicationController)
		want   []fieldErr
	}{
		{"valid", func(*corev1.ReplicationController) {}, nil},
		{"selector subset of labels", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "web"} }, nil},
		{"selector does not match", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"app": "db"} },
			[]fieldErr{invalid("spec.template.metadata.labels")}},
		{"selector empty", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Labels = nil
			rc.Spec.Selector = nil
		}, []fieldErr{required("spec.selector")}},
		{"negative replicas", func(rc *corev1.ReplicationController) { rc.Spec.Replicas = ptr[int32](-1) },
			[]fieldErr{invalid("spec.replicas")}},
		{"negative minReadySeconds", func(rc *corev1.ReplicationController) { rc.Spec.MinReadySeconds = -1 },
			[]fieldErr{invalid("spec.minReadySeconds")}},
		{"template required", func(rc *corev1.ReplicationController) {
			rc.Spec.Selector = map[string]string{"app": "web"}
			rc.Spec.Template = nil
		}, []fieldErr{required("spec.template")}},
		{"template restartPolicy Always", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		},
			[]fieldErr{notSupported("spec.template.spec.restartPolicy")}},
		{"template activeDeadlineSeconds", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.ActiveDeadlineSeconds = ptr[int64](30) },
			[]fieldErr{forbidden("spec.template.spec.activeDeadlineSeconds")}},
		{"template spec checked", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.Containers[0].Name = "App" },
			[]fieldErr{invalid("spec.template.spec.containers[0].name")}},
	}
	s := workload(t, "replicationcontrollers")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newRC()
			tt.modify(rc)
			s.Default(rc)
			checkErrs(t, s.Validate(context.Background(), rc), tt.want...)
		})
	}
}

func TestReplicationControllerStatus(t *testing.T) {
	s := workload(t, "replicationcontrollers")
	ctx := context.Background()
	old := newRC()
	old.Status.Replicas = 5
	s.Default(old)
	s.PrepareForCreate(ctx, old)
	if old.Generation != 1 || !apiequality.Semantic.DeepEqual(old.Status, corev1.ReplicationControllerStatus{}) {
		t.Errorf("create: generation %d, status %+v", old.Generation, old.Status)
	}

	// Main resource: status kept; spec changes bump the generation.
	rc := old.DeepCopy()
	rc.Spec.Replicas = ptr[int32](3)
	rc.Status.Replicas = 3
	s.PrepareForUpdate(ctx, rc, old, "")
	if rc.Status.Replicas != 0 || rc.Generation != 2 {
		t.Errorf("main update: status %+v generation %d", rc.Status, rc.Generation)
	}
	rc = old.DeepCopy()
	rc.Annotations = map[string]string{"a": "b"}
	s.PrepareForUpdate(ctx, rc, old, "")
	if rc.Generation != 1 {
		t.Errorf("metadata update bumped generation to %d", rc.Generation)
	}

	// Status: spec kept, status written.
	rc = old.DeepCopy()
	rc.Spec.Replicas = ptr[int32](9)
	rc.Status = corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 1, ObservedGeneration: 1}
	s.PrepareForUpdate(ctx, rc, old, "status")
	if *rc.Spec.Replicas != 1 || rc.Status.Replicas != 1 || rc.Generation != 1 {
		t.Errorf("status update: spec %+v status %+v generation %d", rc.Spec, rc.Status, rc.Generation)
	}
	checkErrs(t, s.ValidateUpdate(ctx, rc, old))

	tests := []struct {
		name   string
		status corev1.ReplicationControllerStatus
		want   []fieldErr
	}{
		// As upstream, a negative replicas count also puts every other
		// count above it.
		{"negative", corev1.ReplicationControllerStatus{Replicas: -1, ObservedGeneration: -1},
			[]fieldErr{invalid("status.replicas"), invalid("status.observedGeneration"),
				invalid("status.fullyLabeledReplicas"), invalid("status.readyReplicas"), invalid("status.availableReplicas")}},
		{"ready above replicas", corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 2, FullyLabeledReplicas: 2},
			[]fieldErr{invalid("status.readyReplicas"), invalid("status.fullyLabeledReplicas")}},
		{"available above ready", corev1.ReplicationControllerStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 2},
			[]fieldErr{invalid("status.availableReplicas")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := old.DeepCopy()
			rc.Status = tt.status
			checkErrs(t, s.ValidateUpdate(ctx, rc, old), tt.want...)
		})
	}

	rc = old.DeepCopy()
	rc.Status.Replicas = 4
	if got, want := s.SelectableFields(rc), (fields.Set{"status.replicas": "4"}); !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("SelectableFields = %v, want %v", got, want)
	}
}
