package podspec_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry/podspec"
	"skiff.dev/skiff/internal/registry/registrytest"
)

type fieldErr = registrytest.FieldErr

var (
	required     = registrytest.Required
	invalid      = registrytest.Invalid
	forbidden    = registrytest.Forbidden
	notSupported = registrytest.NotSupported
	duplicate    = registrytest.Duplicate
)

type (
	metaSelector    = metav1.LabelSelector
	metaRequirement = metav1.LabelSelectorRequirement
)

func notFound(path string) fieldErr { return fieldErr{Type: field.ErrorTypeNotFound, Field: path} }

func ptr[T any](v T) *T { return &v }

func q(s string) resource.Quantity { return resource.MustParse(s) }

// validSpec is a defaulted spec that passes validation; each case changes
// one thing.
func validSpec() *corev1.PodSpec {
	s := &corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:         "app",
			Image:        "nginx:1.27",
			Ports:        []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}},
		}},
		Volumes: []corev1.Volume{{Name: "data"}},
	}
	podspec.DefaultSpec(s)
	return s
}

func TestDefaultSpec(t *testing.T) {
	s := &corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:          "app",
			Image:         "nginx",
			LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
				PeriodSeconds: 5,
			},
			Env:       []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: q("1")}},
		}},
		Volumes: []corev1.Volume{
			{Name: "empty"},
			{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: ptr[int32](0o400)}}},
			{Name: "down", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
			{Name: "proj", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}}}}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
		},
	}
	podspec.DefaultSpec(s)
	c := s.Containers[0]
	wantLiveness := &corev1.Probe{
		ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP}},
		TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"livenessProbe", c.LivenessProbe, wantLiveness},
		{"readinessProbe.periodSeconds kept", c.ReadinessProbe.PeriodSeconds, int32(5)},
		{"readinessProbe.timeoutSeconds", c.ReadinessProbe.TimeoutSeconds, int32(1)},
		{"env fieldRef apiVersion", c.Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"template requests not defaulted", c.Resources.Requests, corev1.ResourceList(nil)},
		{"emptyDir", s.Volumes[0].EmptyDir, &corev1.EmptyDirVolumeSource{}},
		{"configMap defaultMode", s.Volumes[1].ConfigMap.DefaultMode, ptr[int32](0o644)},
		{"secret defaultMode kept", s.Volumes[2].Secret.DefaultMode, ptr[int32](0o400)},
		{"downwardAPI defaultMode", s.Volumes[3].DownwardAPI.DefaultMode, ptr[int32](0o644)},
		{"projected defaultMode", s.Volumes[4].Projected.DefaultMode, ptr[int32](0o644)},
		{"token expirationSeconds", s.Volumes[4].Projected.Sources[0].ServiceAccountToken.ExpirationSeconds, ptr[int64](3600)},
		{"hostPath type", s.Volumes[5].HostPath.Type, ptr(corev1.HostPathUnset)},
		{"enableServiceLinks not on templates", s.EnableServiceLinks, (*bool)(nil)},
	}
	for _, c := range checks {
		if !apiequality.Semantic.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if errs := podspec.ValidateSpec(s, field.NewPath("spec")); len(errs) > 0 {
		t.Errorf("defaulted spec invalid: %v", errs)
	}
}

func TestDefaultPod(t *testing.T) {
	s := &corev1.PodSpec{
		HostNetwork: true,
		Containers: []corev1.Container{{
			Name: "app", Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("1Gi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: q("500m")},
			},
		}},
		InitContainers: []corev1.Container{{
			Name: "init", Image: "busybox",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: q("64Mi")}},
		}},
	}
	podspec.DefaultPod(s)
	if got, want := s.Containers[0].Resources.Requests, (corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("1Gi")}); !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("requests = %v, want %v", got, want)
	}
	if got, want := s.InitContainers[0].Resources.Requests, (corev1.ResourceList{corev1.ResourceMemory: q("64Mi")}); !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("init requests = %v, want %v", got, want)
	}
	if s.EnableServiceLinks == nil || !*s.EnableServiceLinks {
		t.Errorf("enableServiceLinks = %v, want true", s.EnableServiceLinks)
	}
	if p := s.Containers[0].Ports[0]; p.HostPort != 8080 {
		t.Errorf("hostNetwork hostPort = %d, want 8080", p.HostPort)
	}
	if s.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("DefaultPod did not apply DefaultSpec")
	}
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name   string
		modify func(s *corev1.PodSpec)
		want   []fieldErr
	}{
		{"valid", func(*corev1.PodSpec) {}, nil},

		// volumes
		{"volume name required", func(s *corev1.PodSpec) { s.Volumes[0].Name = "" },
			[]fieldErr{required("spec.volumes[0].name"), notFound("spec.containers[0].volumeMounts[0].name")}},
		{"volume name DNS label", func(s *corev1.PodSpec) { s.Volumes = append(s.Volumes, emptyDir("Bad_Name")) },
			[]fieldErr{invalid("spec.volumes[1].name")}},
		{"volume name unique", func(s *corev1.PodSpec) { s.Volumes = append(s.Volumes, emptyDir("data")) },
			[]fieldErr{duplicate("spec.volumes[1].name")}},
		{"volume needs a source", func(s *corev1.PodSpec) { s.Volumes[0].EmptyDir = nil },
			[]fieldErr{required("spec.volumes[0]")}},
		{"volume has one source", func(s *corev1.PodSpec) {
			s.Volumes[0].HostPath = &corev1.HostPathVolumeSource{Path: "/x"}
		}, []fieldErr{forbidden("spec.volumes[0].emptyDir")}},
		{"configMap name required", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}}
		}, []fieldErr{required("spec.volumes[0].configMap.name")}},
		{"secret defaultMode range", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s", DefaultMode: ptr[int32](0o1000)}}}
		}, []fieldErr{invalid("spec.volumes[0].secret.defaultMode")}},
		{"secret items relative paths", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s",
				Items: []corev1.KeyToPath{{Key: "a", Path: "/etc/a"}, {Key: "b", Path: "../b"}, {Path: "c"}}}}}
		}, []fieldErr{invalid("spec.volumes[0].secret.items[0].path"), invalid("spec.volumes[0].secret.items[1].path"), required("spec.volumes[0].secret.items[2].key")}},
		{"pvc claimName required", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}}}
		}, []fieldErr{required("spec.volumes[0].persistentVolumeClaim.claimName")}},
		{"hostPath type enum", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x", Type: ptr(corev1.HostPathType("Dir"))}}}
		}, []fieldErr{notSupported("spec.volumes[0].hostPath.type")}},
		{"projected source exactly one", func(s *corev1.PodSpec) {
			s.Volumes[0] = corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{}, {ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "t", ExpirationSeconds: ptr[int64](60)}}}}}}
		}, []fieldErr{required("spec.volumes[0].projected.sources[0]"), invalid("spec.volumes[0].projected.sources[1].serviceAccountToken.expirationSeconds")}},

		// volumeMounts
		{"mount names a volume", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].Name = "other" },
			[]fieldErr{notFound("spec.containers[0].volumeMounts[0].name")}},
		{"mountPath required", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].MountPath = "" },
			[]fieldErr{required("spec.containers[0].volumeMounts[0].mountPath")}},
		{"mountPath absolute", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].MountPath = "data" },
			[]fieldErr{invalid("spec.containers[0].volumeMounts[0].mountPath")}},
		{"mountPath windows absolute", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].MountPath = `C:\data` }, nil},
		{"mountPath unique", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = append(s.Containers[0].VolumeMounts, corev1.VolumeMount{Name: "data", MountPath: "/data"})
		}, []fieldErr{invalid("spec.containers[0].volumeMounts[1].mountPath")}},
		{"subPath relative", func(s *corev1.PodSpec) { s.Containers[0].VolumeMounts[0].SubPath = "../etc" },
			[]fieldErr{invalid("spec.containers[0].volumeMounts[0].subPath")}},

		// resources
		{"requests <= limits", func(s *corev1.PodSpec) {
			s.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: q("500m"), corev1.ResourceMemory: q("1Gi")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: q("1"), corev1.ResourceMemory: q("1Gi")},
			}
		}, []fieldErr{invalid("spec.containers[0].resources.requests[cpu]")}},
		{"negative quantity", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: q("-1")}
		}, []fieldErr{invalid("spec.containers[0].resources.limits[memory]")}},
		{"unknown native resource", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{"gpu": q("1")}
		}, []fieldErr{invalid("spec.containers[0].resources.requests[gpu]")}},
		{"extended resource needs equal limit", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": q("1")}
		}, []fieldErr{required("spec.containers[0].resources.limits[example.com/gpu]")}},
		{"extended resource whole", func(s *corev1.PodSpec) {
			s.Containers[0].Resources.Limits = corev1.ResourceList{"example.com/gpu": q("500m")}
		}, []fieldErr{invalid("spec.containers[0].resources.limits[example.com/gpu]")}},
		{"extended resource ok", func(s *corev1.PodSpec) {
			s.Containers[0].Resources = corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"example.com/gpu": q("2")}, Requests: corev1.ResourceList{"example.com/gpu": q("2")}}
		}, nil},
		{"pod-level resources", func(s *corev1.PodSpec) {
			s.Resources = &corev1.ResourceRequirements{
				Limits: corev1.ResourceList{corev1.ResourceMemory: q("1Gi")}, Requests: corev1.ResourceList{corev1.ResourceMemory: q("2Gi")}}
		}, []fieldErr{invalid("spec.resources.requests[memory]")}},

		// probes
		{"probe needs a handler", func(s *corev1.PodSpec) { s.Containers[0].LivenessProbe = probe(corev1.ProbeHandler{}) },
			[]fieldErr{required("spec.containers[0].livenessProbe")}},
		{"probe one handler", func(s *corev1.PodSpec) {
			s.Containers[0].ReadinessProbe = probe(corev1.ProbeHandler{
				Exec: &corev1.ExecAction{Command: []string{"true"}}, TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}})
		}, []fieldErr{forbidden("spec.containers[0].readinessProbe.tcpSocket")}},
		{"probe periods", func(s *corev1.PodSpec) {
			p := probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromString("http"), Scheme: "HTTP"}})
			p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold, p.InitialDelaySeconds = 0, -1, 0, -1
			s.Containers[0].ReadinessProbe = p
		}, []fieldErr{invalid("spec.containers[0].readinessProbe.periodSeconds"), invalid("spec.containers[0].readinessProbe.timeoutSeconds"),
			invalid("spec.containers[0].readinessProbe.failureThreshold"), invalid("spec.containers[0].readinessProbe.initialDelaySeconds")}},
		{"readiness successThreshold may exceed 1", func(s *corev1.PodSpec) {
			p := probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}})
			p.SuccessThreshold = 3
			s.Containers[0].ReadinessProbe = p
		}, nil},
		{"liveness and startup successThreshold 1", func(s *corev1.PodSpec) {
			p := probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}})
			p.SuccessThreshold = 2
			s.Containers[0].LivenessProbe = p
			s.Containers[0].StartupProbe = p.DeepCopy()
		}, []fieldErr{invalid("spec.containers[0].livenessProbe.successThreshold"), invalid("spec.containers[0].startupProbe.successThreshold")}},
		{"probe port", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = probe(corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(0), Scheme: "FTP"}})
		}, []fieldErr{invalid("spec.containers[0].livenessProbe.httpGet.port"), notSupported("spec.containers[0].livenessProbe.httpGet.scheme")}},
		{"exec command required", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{}})
		}, []fieldErr{required("spec.containers[0].livenessProbe.exec.command")}},
		{"lifecycle hook one handler", func(s *corev1.PodSpec) {
			s.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{}}
		}, []fieldErr{required("spec.containers[0].lifecycle.preStop")}},

		// env
		{"env name", func(s *corev1.PodSpec) { s.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}, {}} },
			[]fieldErr{invalid("spec.containers[0].env[0].name"), required("spec.containers[0].env[1].name")}},
		{"env valueFrom needs a source", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{}}}
		}, []fieldErr{invalid("spec.containers[0].env[0].valueFrom")}},
		{"env valueFrom one source", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				FieldRef:        &corev1.ObjectFieldSelector{FieldPath: "metadata.name"},
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "k"},
			}}}
		}, []fieldErr{invalid("spec.containers[0].env[0].valueFrom")}},
		{"env value and valueFrom", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
		}, []fieldErr{invalid("spec.containers[0].env[0].valueFrom")}},
		{"env fieldRef path", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{
				{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.containers"}}},
				{Name: "B", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			}
		}, []fieldErr{notSupported("spec.containers[0].env[0].valueFrom.fieldRef.fieldPath")}},
		{"env secretKeyRef", func(s *corev1.PodSpec) {
			s.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{}}}}
		}, []fieldErr{required("spec.containers[0].env[0].valueFrom.secretKeyRef.name"), required("spec.containers[0].env[0].valueFrom.secretKeyRef.key")}},
		{"envFrom one source", func(s *corev1.PodSpec) { s.Containers[0].EnvFrom = []corev1.EnvFromSource{{}} },
			[]fieldErr{invalid("spec.containers[0].envFrom[0]")}},

		// pod-level fields
		{"imagePullSecrets name", func(s *corev1.PodSpec) {
			s.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "regcred"}, {Name: "Reg_Cred"}}
		}, []fieldErr{invalid("spec.imagePullSecrets[1].name")}},
		{"nodeSelector labels", func(s *corev1.PodSpec) {
			s.NodeSelector = map[string]string{"kubernetes.io/os": "linux", "bad key": "x", "zone": "bad value"}
		}, []fieldErr{invalid("spec.nodeSelector"), invalid("spec.nodeSelector")}},
		{"tolerations", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{
				{Key: "a", Operator: "Equal", Value: "b", Effect: "NoSchedule"},
				{Operator: "Exists"},
				{Key: "c", Operator: "Like"},
				{Key: "d", Effect: "Sometimes"},
				{Operator: "Equal"},
				{Key: "e", Operator: "Exists", Value: "x"},
				{Key: "f", Effect: "NoSchedule", TolerationSeconds: ptr[int64](30)},
			}
		}, []fieldErr{notSupported("spec.tolerations[2].operator"), notSupported("spec.tolerations[3].effect"),
			invalid("spec.tolerations[4].operator"), invalid("spec.tolerations[5].operator"), invalid("spec.tolerations[6].effect")}},
		{"node affinity", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
					MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: "In"}, {Key: "x", Operator: "Near"}},
				}}},
				PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 0}},
			}}
		}, []fieldErr{
			required("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"),
			invalid("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].operator"),
			invalid("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"),
		}},
		{"pod anti-affinity selector", func(s *corev1.PodSpec) {
			s.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
					LabelSelector: &metaSelector{MatchExpressions: []metaRequirement{{Key: "app", Operator: "In"}}},
				}},
			}}
		}, []fieldErr{
			required("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values"),
			required("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"),
		}},
		{"hostname and subdomain", func(s *corev1.PodSpec) { s.Hostname, s.Subdomain = "web.0", "Svc" },
			[]fieldErr{invalid("spec.hostname"), invalid("spec.subdomain")}},
		{"scheduling gates unique", func(s *corev1.PodSpec) {
			s.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}, {Name: "example.com/a"}}
		}, []fieldErr{duplicate("spec.schedulingGates[1].name")}},

		// ports
		{"port name IANA_SVC_NAME", func(s *corev1.PodSpec) { s.Containers[0].Ports[0].Name = "http-web-server-1" },
			[]fieldErr{invalid("spec.containers[0].ports[0].name")}},
		{"port name unique", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = append(s.Containers[0].Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: "TCP"})
		}, []fieldErr{duplicate("spec.containers[0].ports[1].name")}},
		{"hostPort range and unique", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{
				{ContainerPort: 80, HostPort: 8080, Protocol: "TCP"},
				{ContainerPort: 81, HostPort: 8080, Protocol: "TCP"},
				{ContainerPort: 82, HostPort: 8080, Protocol: "UDP"},
				{ContainerPort: 83, HostPort: 70000, Protocol: "TCP"},
			}
		}, []fieldErr{duplicate("spec.containers[0].ports[1].hostPort"), invalid("spec.containers[0].ports[3].hostPort")}},
		{"hostNetwork hostPort matches", func(s *corev1.PodSpec) {
			s.HostNetwork = true
			s.Containers[0].Ports[0].HostPort = 8080
		}, []fieldErr{invalid("spec.containers[0].ports[0].containerPort")}},

		// sidecars
		{"sidecar init container", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "proxy", Image: "envoy", RestartPolicy: ptr(corev1.ContainerRestartPolicyAlways),
				ReadinessProbe: probe(corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(15000)}})}}
		}, nil},
		{"init restartPolicy Always only", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", RestartPolicy: ptr(corev1.ContainerRestartPolicy("OnFailure"))}}
		}, []fieldErr{notSupported("spec.initContainers[0].restartPolicy")}},
		{"plain init container has no probes", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "init", Image: "busybox",
				LivenessProbe: probe(corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}})}}
		}, []fieldErr{forbidden("spec.initContainers[0].livenessProbe")}},
		{"no restartPolicy on regular containers", func(s *corev1.PodSpec) {
			s.Containers[0].RestartPolicy = ptr(corev1.ContainerRestartPolicyAlways)
		}, []fieldErr{forbidden("spec.containers[0].restartPolicy")}},
		{"container names unique across init", func(s *corev1.PodSpec) {
			s.InitContainers = []corev1.Container{{Name: "app", Image: "busybox"}}
		}, []fieldErr{duplicate("spec.containers[0].name")}},
		{"imagePullPolicy enum", func(s *corev1.PodSpec) { s.Containers[0].ImagePullPolicy = "Sometimes" },
			[]fieldErr{notSupported("spec.containers[0].imagePullPolicy")}},
		{"activeDeadlineSeconds positive", func(s *corev1.PodSpec) { s.ActiveDeadlineSeconds = ptr[int64](0) },
			[]fieldErr{invalid("spec.activeDeadlineSeconds")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.modify(s)
			registrytest.CheckErrors(t, podspec.ValidateSpec(s, field.NewPath("spec")), tt.want...)
		})
	}
}

func emptyDir(name string) corev1.Volume {
	return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
}

// probe returns a defaulted probe with handler h.
func probe(h corev1.ProbeHandler) *corev1.Probe {
	return &corev1.Probe{ProbeHandler: h, TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3}
}
