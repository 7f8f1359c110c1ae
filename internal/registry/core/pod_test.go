package core_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
)

// workload returns the strategy core.WorkloadResources registers for
// resource.
func workload(t *testing.T, resource string) registry.Strategy {
	t.Helper()
	for _, r := range core.WorkloadResources() {
		if r.GVR.Resource == resource {
			return r.Strategy
		}
	}
	t.Fatalf("core.WorkloadResources has no %q", resource)
	return nil
}

func TestWorkloadResources(t *testing.T) {
	tests := []struct {
		resource, kind string
		shortNames     []string
		subresources   []string
		obj, list      runtime.Object
	}{
		{"pods", "Pod", []string{"po"}, []string{"binding", "ephemeralcontainers", "eviction", "resize", "status"}, &corev1.Pod{}, &corev1.PodList{}},
		{"podtemplates", "PodTemplate", nil, nil, &corev1.PodTemplate{}, &corev1.PodTemplateList{}},
		{"replicationcontrollers", "ReplicationController", []string{"rc"}, []string{"status", "scale"},
			&corev1.ReplicationController{}, &corev1.ReplicationControllerList{}},
	}
	rs := core.WorkloadResources()
	if len(rs) != len(tests) {
		t.Fatalf("WorkloadResources has %d resources, want %d", len(rs), len(tests))
	}
	for i, tt := range tests {
		r := rs[i]
		if r.GVR.Group != "" || r.GVR.Version != "v1" || r.GVR.Resource != tt.resource || r.Kind != tt.kind ||
			r.ListKind != tt.kind+"List" || !r.Namespaced ||
			!apiequality.Semantic.DeepEqual(r.ShortNames, tt.shortNames) || !apiequality.Semantic.DeepEqual(r.Subresources, tt.subresources) {
			t.Errorf("%s: %+v", tt.resource, r)
		}
		if got := r.Strategy.New(); !apiequality.Semantic.DeepEqual(got, tt.obj) {
			t.Errorf("%s: New() = %T", tt.resource, got)
		}
		if got := r.Strategy.NewList(); !apiequality.Semantic.DeepEqual(got, tt.list) {
			t.Errorf("%s: NewList() = %T", tt.resource, got)
		}
	}
}

func res(limits, requests corev1.ResourceList) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Limits: limits, Requests: requests}
}

func rl(kv ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(kv); i += 2 {
		l[corev1.ResourceName(kv[i])] = resource.MustParse(kv[i+1])
	}
	return l
}

func newPod(containers ...corev1.Container) *corev1.Pod {
	for i := range containers {
		if containers[i].Name == "" {
			containers[i].Name = string(rune('a' + i))
		}
		containers[i].Image = "nginx:1.27"
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}, Spec: corev1.PodSpec{Containers: containers}}
}

// createPod runs a pod through what the store does on create.
func createPod(t *testing.T, pod *corev1.Pod) *corev1.Pod {
	t.Helper()
	s := workload(t, "pods")
	s.Default(pod)
	s.PrepareForCreate(context.Background(), pod)
	if errs := s.Validate(context.Background(), pod); len(errs) > 0 {
		t.Fatalf("Validate: %v", errs)
	}
	return pod
}

func TestPodQOSClass(t *testing.T) {
	tests := []struct {
		name       string
		containers []corev1.Container
		podLevel   *corev1.ResourceRequirements
		want       corev1.PodQOSClass
	}{
		{"nothing", []corev1.Container{{}}, nil, corev1.PodQOSBestEffort},
		{"zero requests", []corev1.Container{{Resources: res(nil, rl("cpu", "0"))}}, nil, corev1.PodQOSBestEffort},
		{"extended only", []corev1.Container{{Resources: res(rl("example.com/gpu", "1"), nil)}}, nil, corev1.PodQOSBestEffort},
		{"limits only: requests default to them", []corev1.Container{{Resources: res(rl("cpu", "1", "memory", "1Gi"), nil)}}, nil, corev1.PodQOSGuaranteed},
		{"equal", []corev1.Container{
			{Resources: res(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "1", "memory", "1Gi"))},
			{Resources: res(rl("cpu", "200m", "memory", "64Mi"), nil)},
		}, nil, corev1.PodQOSGuaranteed},
		{"request below limit", []corev1.Container{{Resources: res(rl("cpu", "1", "memory", "1Gi"), rl("cpu", "500m"))}}, nil, corev1.PodQOSBurstable},
		{"only cpu limit", []corev1.Container{{Resources: res(rl("cpu", "1"), nil)}}, nil, corev1.PodQOSBurstable},
		{"one container without", []corev1.Container{{Resources: res(rl("cpu", "1", "memory", "1Gi"), nil)}, {}}, nil, corev1.PodQOSBurstable},
		{"requests only", []corev1.Container{{Resources: res(nil, rl("memory", "1Gi"))}}, nil, corev1.PodQOSBurstable},
		{"pod-level", []corev1.Container{{}}, &corev1.ResourceRequirements{Limits: rl("cpu", "1", "memory", "1Gi")}, corev1.PodQOSGuaranteed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pod := newPod(tt.containers...)
			pod.Spec.Resources = tt.podLevel
			createPod(t, pod)
			if pod.Status.QOSClass != tt.want {
				t.Errorf("qosClass = %s, want %s", pod.Status.QOSClass, tt.want)
			}
		})
	}
}

func TestPodCreate(t *testing.T) {
	pod := newPod(corev1.Container{})
	pod.Generation = 7
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", Message: "set by client"}
	createPod(t, pod)
	want := corev1.PodStatus{Phase: corev1.PodPending, QOSClass: corev1.PodQOSBestEffort}
	if !apiequality.Semantic.DeepEqual(pod.Status, want) {
		t.Errorf("status = %+v, want %+v", pod.Status, want)
	}
	if pod.Generation != 1 {
		t.Errorf("generation = %d, want 1", pod.Generation)
	}
	if pod.Spec.EnableServiceLinks == nil || !*pod.Spec.EnableServiceLinks || pod.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("pod not defaulted: %+v", pod.Spec)
	}

	gated := newPod(corev1.Container{})
	gated.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota"}}
	createPod(t, gated)
	if c := gated.Status.Conditions; len(c) != 1 || c[0].Type != corev1.PodScheduled || c[0].Status != corev1.ConditionFalse || c[0].Reason != corev1.PodReasonSchedulingGated {
		t.Errorf("gated pod conditions = %+v", c)
	}
}

func TestPodPrepareForUpdate(t *testing.T) {
	s := workload(t, "pods")
	ctx := context.Background()
	old := createPod(t, newPod(corev1.Container{}))
	old.Labels = map[string]string{"app": "web"}
	old.Status.PodIP = "10.0.0.1"

	// Main resource: status is kept, a spec change bumps the generation.
	pod := old.DeepCopy()
	pod.Spec.Containers[0].Image = "nginx:1.28"
	pod.Status.Phase = corev1.PodSucceeded
	s.PrepareForUpdate(ctx, pod, old, "")
	if !apiequality.Semantic.DeepEqual(pod.Status, old.Status) {
		t.Errorf("main update changed status to %+v", pod.Status)
	}
	if pod.Generation != 2 {
		t.Errorf("generation after spec change = %d, want 2", pod.Generation)
	}
	pod = old.DeepCopy()
	pod.Labels = map[string]string{"app": "db"}
	s.PrepareForUpdate(ctx, pod, old, "")
	if pod.Generation != 1 {
		t.Errorf("generation after label change = %d, want 1", pod.Generation)
	}

	// Status: spec and metadata are kept, status written, qosClass kept.
	pod = old.DeepCopy()
	pod.Spec.NodeName = "node-1"
	pod.Labels = map[string]string{"app": "db"}
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.2"}
	s.PrepareForUpdate(ctx, pod, old, "status")
	if !apiequality.Semantic.DeepEqual(pod.Spec, old.Spec) || pod.Labels["app"] != "web" {
		t.Errorf("status update changed spec or labels: %+v %v", pod.Spec, pod.Labels)
	}
	if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP != "10.0.0.2" || pod.Status.QOSClass != corev1.PodQOSBestEffort {
		t.Errorf("status = %+v", pod.Status)
	}
	if pod.Generation != 1 {
		t.Errorf("generation after status update = %d, want 1", pod.Generation)
	}
}

func TestPodValidateUpdate(t *testing.T) {
	s := workload(t, "pods")
	base := func() *corev1.Pod {
		pod := newPod(corev1.Container{}, corev1.Container{})
		pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
		pod.Spec.ActiveDeadlineSeconds = ptr[int64](600)
		pod.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "Exists", Effect: "NoExecute", TolerationSeconds: ptr[int64](300)}}
		pod.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}, {Name: "example.com/b"}}
		return createPod(t, pod)
	}
	tests := []struct {
		name   string
		modify func(p *corev1.Pod)
		want   []fieldErr
	}{
		{"no change", func(*corev1.Pod) {}, nil},
		{"images", func(p *corev1.Pod) {
			p.Spec.Containers[1].Image = "nginx:1.28"
			p.Spec.InitContainers[0].Image = "busybox:1.36"
		}, nil},
		{"image required", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]fieldErr{required("spec.containers[0].image")}},
		{"activeDeadlineSeconds decreased", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr[int64](60) }, nil},
		{"activeDeadlineSeconds increased", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = ptr[int64](601) },
			[]fieldErr{invalid("spec.activeDeadlineSeconds")}},
		{"activeDeadlineSeconds unset", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			[]fieldErr{invalid("spec.activeDeadlineSeconds")}},
		{"toleration added", func(p *corev1.Pod) {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "gpu", Operator: "Exists"})
		}, nil},
		{"tolerationSeconds changed", func(p *corev1.Pod) { p.Spec.Tolerations[0].TolerationSeconds = ptr[int64](60) }, nil},
		{"toleration removed", func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			[]fieldErr{forbidden("spec.tolerations")}},
		{"toleration modified", func(p *corev1.Pod) {
			p.Spec.Tolerations[0].Effect = "NoSchedule"
			p.Spec.Tolerations[0].TolerationSeconds = nil
		},
			[]fieldErr{forbidden("spec.tolerations")}},
		{"scheduling gate removed", func(p *corev1.Pod) { p.Spec.SchedulingGates = p.Spec.SchedulingGates[1:] }, nil},
		{"scheduling gate added", func(p *corev1.Pod) {
			p.Spec.SchedulingGates = append(p.Spec.SchedulingGates, corev1.PodSchedulingGate{Name: "example.com/c"})
		}, []fieldErr{forbidden("spec.schedulingGates")}},
		{"nodeName set", func(p *corev1.Pod) { p.Spec.NodeName = "node-1" },
			[]fieldErr{forbidden("spec.nodeName")}},
		{"other spec field", func(p *corev1.Pod) { p.Spec.Containers[0].Args = []string{"-v"} },
			[]fieldErr{forbidden("spec")}},
		{"restartPolicy", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]fieldErr{forbidden("spec")}},
		{"container added", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "c", Image: "x", ImagePullPolicy: "Always",
				TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: "File"})
		}, []fieldErr{forbidden("spec.containers")}},
		{"status podIP", func(p *corev1.Pod) { p.Status.PodIP = "10.0.0.300" },
			[]fieldErr{invalid("status.podIP")}},
		{"status podIPs match podIP", func(p *corev1.Pod) {
			p.Status.PodIP = "10.0.0.1"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.2"}, {IP: "fd00::1"}}
		}, []fieldErr{invalid("status.podIPs[0].ip")}},
		{"status qosClass immutable", func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSGuaranteed },
			[]fieldErr{invalid("status.qosClass")}},
		{"status nominatedNodeName", func(p *corev1.Pod) { p.Status.NominatedNodeName = "Node_1" },
			[]fieldErr{invalid("status.nominatedNodeName")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := base()
			pod := old.DeepCopy()
			tt.modify(pod)
			s.Default(pod)
			checkErrs(t, s.ValidateUpdate(context.Background(), pod, old), tt.want...)
		})
	}
}

func TestPodSelectableFields(t *testing.T) {
	pod := createPod(t, newPod(corev1.Container{}))
	pod.Spec.NodeName = "node-1"
	pod.Spec.ServiceAccountName = "builder"
	pod.Status.PodIP = "10.0.0.1"
	pod.Status.NominatedNodeName = "node-2"
	want := fields.Set{
		"spec.nodeName":            "node-1",
		"spec.restartPolicy":       "Always",
		"spec.schedulerName":       "default-scheduler",
		"spec.serviceAccountName":  "builder",
		"spec.hostNetwork":         "false",
		"status.phase":             "Pending",
		"status.podIP":             "10.0.0.1",
		"status.nominatedNodeName": "node-2",
	}
	if got := workload(t, "pods").SelectableFields(pod); !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("SelectableFields = %v, want %v", got, want)
	}
}
