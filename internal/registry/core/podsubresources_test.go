package core_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/registrytest"
)

// updatePod runs an update of pod through subresource sub as the store
// does: defaults, prepare, validate. It returns the pod as it would be
// stored and the validation errors.
func updatePod(t *testing.T, sub string, pod, old *corev1.Pod) (*corev1.Pod, field.ErrorList) {
	t.Helper()
	s := workload(t, "pods")
	ctx := registry.WithSubresource(context.Background(), sub)
	pod = pod.DeepCopy()
	s.Default(pod)
	s.PrepareForUpdate(ctx, pod, old, sub)
	return pod, s.ValidateUpdate(ctx, pod, old)
}

func debugger(name string) corev1.EphemeralContainer {
	return corev1.EphemeralContainer{EphemeralContainerCommon: corev1.EphemeralContainerCommon{
		Name: name, Image: "busybox", ImagePullPolicy: corev1.PullAlways,
		TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile,
	}}
}

func TestEphemeralContainersSubresource(t *testing.T) {
	old := createPod(t, newPod(corev1.Container{Name: "app"}))
	old.ResourceVersion = "5"
	withTarget := debugger("debug")
	withTarget.TargetContainerName = "app"
	withPorts := debugger("debug")
	withPorts.Ports = []corev1.ContainerPort{{ContainerPort: 80}}
	withProbe := debugger("debug")
	withProbe.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
	withResources := debugger("debug")
	withResources.Resources = corev1.ResourceRequirements{Limits: rl("cpu", "1")}
	withLifecycle := debugger("debug")
	withLifecycle.Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"x"}}}}
	badTarget := debugger("debug")
	badTarget.TargetContainerName = "nope"
	subPath := debugger("debug")
	subPath.VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v", SubPath: "x"}}
	noImage := debugger("debug")
	noImage.Image = ""
	badEnv := debugger("debug")
	badEnv.Env = []corev1.EnvVar{{Name: ""}}

	tests := []struct {
		name string
		ecs  []corev1.EphemeralContainer
		want []registrytest.FieldErr
	}{
		{"add one", []corev1.EphemeralContainer{debugger("debug")}, nil},
		{"add with target", []corev1.EphemeralContainer{withTarget}, nil},
		{"name of a container", []corev1.EphemeralContainer{debugger("app")}, []registrytest.FieldErr{registrytest.Duplicate("spec.ephemeralContainers[0].name")}},
		{"same name twice", []corev1.EphemeralContainer{debugger("d"), debugger("d")}, []registrytest.FieldErr{registrytest.Duplicate("spec.ephemeralContainers[1].name")}},
		{"ports", []corev1.EphemeralContainer{withPorts}, []registrytest.FieldErr{registrytest.Forbidden("spec.ephemeralContainers[0].ports")}},
		{"probe", []corev1.EphemeralContainer{withProbe}, []registrytest.FieldErr{registrytest.Forbidden("spec.ephemeralContainers[0].readinessProbe")}},
		{"resources", []corev1.EphemeralContainer{withResources}, []registrytest.FieldErr{registrytest.Forbidden("spec.ephemeralContainers[0].resources")}},
		{"lifecycle", []corev1.EphemeralContainer{withLifecycle}, []registrytest.FieldErr{registrytest.Forbidden("spec.ephemeralContainers[0].lifecycle")}},
		{"unknown target", []corev1.EphemeralContainer{badTarget}, []registrytest.FieldErr{{Type: field.ErrorTypeNotFound, Field: "spec.ephemeralContainers[0].targetContainerName"}}},
		{"subPath", []corev1.EphemeralContainer{subPath}, []registrytest.FieldErr{
			registrytest.Forbidden("spec.ephemeralContainers[0].volumeMounts[0].subPath"),
			{Type: field.ErrorTypeNotFound, Field: "spec.ephemeralContainers[0].volumeMounts[0].name"},
		}},
		{"no image", []corev1.EphemeralContainer{noImage}, []registrytest.FieldErr{registrytest.Required("spec.ephemeralContainers[0].image")}},
		{"env without name", []corev1.EphemeralContainer{badEnv}, []registrytest.FieldErr{registrytest.Required("spec.ephemeralContainers[0].env[0].name")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := old.DeepCopy()
			pod.Spec.EphemeralContainers = tt.ecs
			_, errs := updatePod(t, core.SubresourceEphemeralContainers, pod, old)
			registrytest.CheckErrors(t, errs, tt.want...)
		})
	}

	t.Run("only ephemeral containers change", func(t *testing.T) {
		pod := old.DeepCopy()
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debug")}
		pod.Spec.Containers[0].Image = "nginx:2"
		pod.Labels = map[string]string{"sneaky": "yes"}
		got, errs := updatePod(t, core.SubresourceEphemeralContainers, pod, old)
		registrytest.CheckErrors(t, errs)
		if got.Spec.Containers[0].Image != old.Spec.Containers[0].Image || got.Labels != nil {
			t.Errorf("a write through ephemeralcontainers changed more: image %s, labels %v", got.Spec.Containers[0].Image, got.Labels)
		}
		if len(got.Spec.EphemeralContainers) != 1 || got.Generation != old.Generation+1 {
			t.Errorf("ephemeral containers %v, generation %d", got.Spec.EphemeralContainers, got.Generation)
		}
	})

	t.Run("existing ones may not be removed or changed", func(t *testing.T) {
		with := old.DeepCopy()
		with.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debug")}
		removed := with.DeepCopy()
		removed.Spec.EphemeralContainers = nil
		_, errs := updatePod(t, core.SubresourceEphemeralContainers, removed, with)
		registrytest.CheckErrors(t, errs, registrytest.Forbidden("spec.ephemeralContainers"))
		changed := with.DeepCopy()
		changed.Spec.EphemeralContainers[0].Image = "alpine"
		_, errs = updatePod(t, core.SubresourceEphemeralContainers, changed, with)
		registrytest.CheckErrors(t, errs, registrytest.Forbidden("spec.ephemeralContainers"))
	})

	t.Run("not through the main resource", func(t *testing.T) {
		pod := old.DeepCopy()
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debug")}
		_, errs := updatePod(t, "", pod, old)
		registrytest.CheckErrors(t, errs, registrytest.Forbidden("spec"))
	})

	t.Run("not on create", func(t *testing.T) {
		s := workload(t, "pods")
		pod := newPod(corev1.Container{Name: "app"})
		pod.Spec.EphemeralContainers = []corev1.EphemeralContainer{debugger("debug")}
		s.Default(pod)
		registrytest.CheckErrors(t, s.Validate(context.Background(), pod), registrytest.Forbidden("spec.ephemeralContainers"))
	})
}

func TestResizeSubresource(t *testing.T) {
	old := createPod(t, newPod(corev1.Container{Name: "app", Resources: res(rl("cpu", "1", "memory", "1Gi", "ephemeral-storage", "1Gi"), rl("cpu", "500m", "memory", "512Mi"))}))
	tests := []struct {
		name   string
		change func(*corev1.Pod)
		want   []registrytest.FieldErr
	}{
		{"more cpu", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = qty("800m") }, nil},
		{"resize policy", func(p *corev1.Pod) {
			p.Spec.Containers[0].ResizePolicy = []corev1.ContainerResizePolicy{{ResourceName: corev1.ResourceCPU, RestartPolicy: corev1.NotRequired}}
		}, nil},
		{"other resource", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Limits["ephemeral-storage"] = qty("2Gi") },
			[]registrytest.FieldErr{registrytest.Forbidden("spec.containers[0].resources")}},
		{"qos class", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests = rl("cpu", "1", "memory", "1Gi") },
			[]registrytest.FieldErr{registrytest.Invalid("spec.containers")}},
		{"request above limit", func(p *corev1.Pod) { p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = qty("2") },
			[]registrytest.FieldErr{registrytest.Invalid("spec.containers[0].resources.requests[cpu]")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := old.DeepCopy()
			tt.change(pod)
			_, errs := updatePod(t, core.SubresourceResize, pod, old)
			registrytest.CheckErrors(t, errs, tt.want...)
		})
	}
	t.Run("only resources change", func(t *testing.T) {
		pod := old.DeepCopy()
		pod.Spec.Containers[0].Image = "nginx:2"
		pod.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU] = qty("2")
		got, errs := updatePod(t, core.SubresourceResize, pod, old)
		registrytest.CheckErrors(t, errs)
		if got.Spec.Containers[0].Image != "nginx:1.27" {
			t.Errorf("image changed through resize: %s", got.Spec.Containers[0].Image)
		}
		if l := got.Spec.Containers[0].Resources.Limits[corev1.ResourceCPU]; l.Cmp(qty("2")) != 0 || got.Generation != old.Generation+1 {
			t.Errorf("cpu limit %s, generation %d", l.String(), got.Generation)
		}
	})
}

func qty(s string) resource.Quantity { return resource.MustParse(s) }
