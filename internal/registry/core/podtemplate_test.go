package core_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newPodTemplate() *corev1.PodTemplate {
	return &corev1.PodTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: "t", Namespace: "default"},
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
		},
	}
}

func TestPodTemplateDefaultAndGeneration(t *testing.T) {
	s := workload(t, "podtemplates")
	ctx := context.Background()
	pt := newPodTemplate()
	pt.Template.Spec.Containers[0].Resources.Limits = rl("cpu", "1")
	s.Default(pt)
	s.PrepareForCreate(ctx, pt)
	c := pt.Template.Spec.Containers[0]
	if pt.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("template not defaulted: %+v", pt.Template.Spec)
	}
	// Templates do not get the Pod-only defaults.
	if c.Resources.Requests != nil || pt.Template.Spec.EnableServiceLinks != nil {
		t.Errorf("template got pod-only defaults: %+v", pt.Template.Spec)
	}
	if pt.Generation != 1 {
		t.Errorf("generation = %d, want 1", pt.Generation)
	}
	upd := pt.DeepCopy()
	upd.Labels = map[string]string{"x": "y"}
	s.PrepareForUpdate(ctx, upd, pt, "")
	if upd.Generation != 1 {
		t.Errorf("generation after metadata change = %d, want 1", upd.Generation)
	}
	upd = pt.DeepCopy()
	upd.Template.Spec.Containers[0].Image = "nginx:1.28"
	s.PrepareForUpdate(ctx, upd, pt, "")
	if upd.Generation != 2 {
		t.Errorf("generation after template change = %d, want 2", upd.Generation)
	}
}

func TestPodTemplateValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.PodTemplate)
		want   []fieldErr
	}{
		{"valid", func(*corev1.PodTemplate) {}, nil},
		{"no containers", func(pt *corev1.PodTemplate) { pt.Template.Spec.Containers = nil },
			[]fieldErr{required("template.spec.containers")}},
		{"template labels", func(pt *corev1.PodTemplate) { pt.Template.Labels = map[string]string{"app": "bad value"} },
			[]fieldErr{invalid("template.metadata.labels")}},
		{"volume mount", func(pt *corev1.PodTemplate) {
			pt.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []fieldErr{{Type: "FieldValueNotFound", Field: "template.spec.containers[0].volumeMounts[0].name"}}},
	}
	s := workload(t, "podtemplates")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt := newPodTemplate()
			tt.modify(pt)
			s.Default(pt)
			checkErrs(t, s.Validate(context.Background(), pt), tt.want...)
			checkErrs(t, s.ValidateUpdate(context.Background(), pt, newPodTemplate()), tt.want...)
		})
	}
}
