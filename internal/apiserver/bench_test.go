package apiserver

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// BenchmarkCreateConfigMap measures the server's create path in process
// (client cost included): 1 KiB ConfigMaps, parallel clients. cpu-ns/op is
// the process's CPU time per create, what it costs a busy machine.
func BenchmarkCreateConfigMap(b *testing.B) {
	_, hs := newTestServer(b)
	value := strings.Repeat("x", 1024)
	var n atomic.Int64
	b.SetParallelism(32)
	cpu0 := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c%d"},"data":{"k":%q}}`, n.Add(1), value)
			if code, _, resp := do(b, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "application/json", []byte(body)); code != 201 {
				b.Fatalf("create: %d %s", code, resp)
			}
		}
	})
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkManagedFieldsCreate measures managed-fields tracking of one
// create (a POST's or a PUT-create's, not an apply), with the OpenAPI type
// converters as `skiff up` uses them. The object is copied each op.
func BenchmarkManagedFieldsCreate(b *testing.B) {
	s, _ := newTestServer(b)
	if err := s.PublishOpenAPI(); err != nil {
		b.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default", Labels: map[string]string{"app": "web", "tier": "frontend"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27",
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
			Env:   []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
		}}},
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: "default"},
		Data:       map[string]string{"k": strings.Repeat("x", 1024)},
	}
	for _, tc := range []struct {
		resource string
		obj      runtime.Object
	}{{"configmaps", cm}, {"pods", pod}} {
		b.Run(tc.resource, func(b *testing.B) {
			st, ok := s.Store(corev1.SchemeGroupVersion.WithResource(tc.resource))
			if !ok {
				b.Fatalf("%s not served", tc.resource)
			}
			st.Resource.Strategy.Default(tc.obj)
			mutate := s.managedFieldsMutator(st.Resource, "bench", "create", "")
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				obj := tc.obj.DeepCopyObject()
				if err := mutate(ctx, obj, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkManagedFieldsUpdate measures managed-fields tracking of an
// update (a PUT) of a 1 KiB ConfigMap that one manager created and another
// now changes. The object is copied each op.
func BenchmarkManagedFieldsUpdate(b *testing.B) {
	s, _ := newTestServer(b)
	if err := s.PublishOpenAPI(); err != nil {
		b.Fatal(err)
	}
	st, _ := s.Store(corev1.SchemeGroupVersion.WithResource("configmaps"))
	ctx := context.Background()
	old := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "c1", Namespace: "default", UID: "u1", ResourceVersion: "7", Labels: map[string]string{"app": "x"}},
		Data:       map[string]string{"k": strings.Repeat("x", 1024), "l": "1"},
	}
	if err := s.managedFieldsMutator(st.Resource, "creator", "create", "")(ctx, old, nil); err != nil {
		b.Fatal(err)
	}
	updated := old.DeepCopy()
	updated.Data["l"] = "2"
	updated.Data["m"] = "3"
	mutate := s.managedFieldsMutator(st.Resource, "updater", "update", "")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		obj := updated.DeepCopyObject()
		if err := mutate(ctx, obj, old); err != nil {
			b.Fatal(err)
		}
	}
}

func statusTestPods() (created, running *corev1.Pod) {
	created = &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-0", Namespace: "default", UID: "u1", ResourceVersion: "3",
			Labels: map[string]string{"app": "web"}},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{
			Name: "web", Image: "nginx:1.27", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}}},
	}
	running = created.DeepCopy()
	running.Status = corev1.PodStatus{
		Phase: corev1.PodRunning, PodIP: "10.42.0.7", HostIP: "172.16.0.1",
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
			{Type: corev1.PodReady, Status: corev1.ConditionTrue},
		},
		ContainerStatuses: []corev1.ContainerStatus{{Name: "web", Ready: true, Image: "nginx:1.27",
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
	}
	return created, running
}

// BenchmarkManagedFieldsStatus measures managed-fields tracking of a
// node's status write of a running pod.
func BenchmarkManagedFieldsStatus(b *testing.B) {
	s, _ := newTestServer(b)
	if err := s.PublishOpenAPI(); err != nil {
		b.Fatal(err)
	}
	st, _ := s.Store(corev1.SchemeGroupVersion.WithResource("pods"))
	ctx := context.Background()
	created, running := statusTestPods()
	// As admission and defaulting leave a pod: a service account token
	// volume, default tolerations, defaulted fields.
	sec := int64(300)
	created.Spec.Tolerations = []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &sec},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &sec}}
	expiry := int64(3607)
	created.Spec.Volumes = []corev1.Volume{{Name: "kube-api-access-x", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &expiry}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
		}}}}}
	created.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "kube-api-access-x", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true}}
	st.Resource.Strategy.Default(created)
	running.Spec = created.Spec
	if err := s.managedFieldsMutator(st.Resource, "kube-controller-manager", "create", "")(ctx, created, nil); err != nil {
		b.Fatal(err)
	}
	running.ManagedFields = created.ManagedFields
	mutate := s.managedFieldsMutator(st.Resource, "kubelet", "update", "status")
	b.ReportAllocs()
	for b.Loop() {
		obj := running.DeepCopyObject()
		if err := mutate(ctx, obj, created); err != nil {
			b.Fatal(err)
		}
	}
}
