package resourcequota

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/quota"
)

// The monitor's slim pods must cost what the full pods cost, and be in
// the same scopes.
func TestSlimPodKeepsUsageAndScopes(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	deadline := int64(30)
	res := func(cpu string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")},
		}
	}
	full := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", Labels: map[string]string{"a": "b"}},
		Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{
				{Name: "sidecar", Image: "x", RestartPolicy: &always, Resources: res("100m")},
				{Name: "setup", Image: "x", Resources: res("2")},
			},
			Containers:            []corev1.Container{{Name: "app", Image: "x", Env: []corev1.EnvVar{{Name: "A"}}, Resources: res("500m")}},
			Overhead:              corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")},
			ActiveDeadlineSeconds: &deadline,
			PriorityClassName:     "high",
			Affinity: &corev1.Affinity{PodAffinity: &corev1.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{
				Namespaces: []string{"other"}, TopologyKey: "zone",
			}}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	obj, _ := slimPod(full.DeepCopy())
	slim := obj.(*corev1.Pod)
	if got, want := quota.Usage(quota.Pods, slim, true, time.Now()), quota.Usage(quota.Pods, full, true, time.Now()); !quota.Equal(got, want) {
		t.Errorf("slim usage %v, full %v", got, want)
	}
	for _, s := range []corev1.ResourceQuotaScope{
		corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeBestEffort,
		corev1.ResourceQuotaScopeNotBestEffort, corev1.ResourceQuotaScopeCrossNamespacePodAffinity,
	} {
		q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Scopes: []corev1.ResourceQuotaScope{s}}}
		if quota.Matches(q, quota.Pods, slim) != quota.Matches(q, quota.Pods, full) {
			t.Errorf("scope %s: slim and full pods disagree", s)
		}
	}
	if slim.Labels != nil || slim.Spec.Containers[0].Env != nil {
		t.Errorf("slim pod keeps what quotas do not read: %+v", slim)
	}
}
