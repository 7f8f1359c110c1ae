package quota

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// objects is a Reader over objects by group-resource, all in one
// namespace; widgets.example.com is not served.
type objects map[schema.GroupResource][]runtime.Object

func (o objects) List(_ context.Context, gvr schema.GroupVersionResource, _ string) ([]runtime.Object, error) {
	return o[gvr.GroupResource()], nil
}

func (o objects) Served(gr schema.GroupResource) (schema.GroupVersionResource, bool) {
	return gr.WithVersion("v1"), gr.Group != "example.com"
}

func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for i := 0; i < len(pairs); i += 2 {
		l[corev1.ResourceName(pairs[i])] = resource.MustParse(pairs[i+1])
	}
	return l
}

func pod(name string, req, lim corev1.ResourceList, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "app", Resources: corev1.ResourceRequirements{Requests: req, Limits: lim},
	}}}}
	for _, m := range mods {
		m(p)
	}
	return p
}

func TestUsed(t *testing.T) {
	five := int64(5)
	objs := objects{
		Pods: {
			pod("web", rl("cpu", "250m", "memory", "64Mi"), rl("cpu", "500m", "memory", "128Mi")),
			pod("batch", rl("cpu", "1"), nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = &five }),
			pod("idle", nil, nil, func(p *corev1.Pod) { p.Spec.PriorityClassName = "low" }),
			pod("done", rl("cpu", "4"), nil, func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }),
			// Past its deletion grace period: a lost node's pod.
			pod("stuck", rl("cpu", "4"), nil, func(p *corev1.Pod) {
				p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &metav1.Time{Time: now.Add(-time.Minute)}, ptr(int64(30))
			}),
			// Still within it.
			pod("going", rl("cpu", "2"), nil, func(p *corev1.Pod) {
				p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &metav1.Time{Time: now.Add(-10 * time.Second)}, ptr(int64(30))
			}),
		},
		Services: {
			&corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}},
			&corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80}, {Port: 443}}}},
		},
		PVCs: {
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{StorageClassName: ptr("gold"),
				Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "1Gi")}}},
			&corev1.PersistentVolumeClaim{Spec: corev1.PersistentVolumeClaimSpec{
				Resources: corev1.VolumeResourceRequirements{Requests: rl("storage", "512Mi")}}},
		},
		{Resource: "configmaps"}:                 {&metav1.PartialObjectMetadata{}, &metav1.PartialObjectMetadata{}},
		{Group: "apps", Resource: "deployments"}: {&metav1.PartialObjectMetadata{}},
	}
	tests := []struct {
		name string
		q    corev1.ResourceQuotaSpec
		want corev1.ResourceList
	}{{
		name: "object counts",
		q: corev1.ResourceQuotaSpec{Hard: rl("pods", "10", "count/pods", "10", "services", "5", "services.loadbalancers", "1",
			"services.nodeports", "9", "configmaps", "9", "count/deployments.apps", "3", "count/widgets.example.com", "3", "secrets", "1")},
		want: rl("pods", "4", "count/pods", "6", "services", "2", "services.loadbalancers", "1", "services.nodeports", "2",
			"configmaps", "2", "count/deployments.apps", "1", "count/widgets.example.com", "0", "secrets", "0"),
	}, {
		name: "compute, finished pods left out",
		q:    corev1.ResourceQuotaSpec{Hard: rl("requests.cpu", "8", "cpu", "8", "limits.cpu", "8", "requests.memory", "1Gi", "limits.memory", "1Gi", "memory", "1Gi")},
		want: rl("requests.cpu", "3250m", "cpu", "3250m", "limits.cpu", "500m", "requests.memory", "64Mi", "limits.memory", "128Mi", "memory", "64Mi"),
	}, {
		name: "storage by class",
		q: corev1.ResourceQuotaSpec{Hard: rl("requests.storage", "10Gi", "persistentvolumeclaims", "5",
			"gold.storageclass.storage.k8s.io/requests.storage", "5Gi", "gold.storageclass.storage.k8s.io/persistentvolumeclaims", "2")},
		want: rl("requests.storage", "1536Mi", "persistentvolumeclaims", "2",
			"gold.storageclass.storage.k8s.io/requests.storage", "1Gi", "gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1"),
	}, {
		name: "terminating scope",
		q:    corev1.ResourceQuotaSpec{Hard: rl("pods", "9", "requests.cpu", "9"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeTerminating}},
		want: rl("pods", "1", "requests.cpu", "1"),
	}, {
		name: "not terminating and best effort",
		q: corev1.ResourceQuotaSpec{Hard: rl("pods", "9"), Scopes: []corev1.ResourceQuotaScope{
			corev1.ResourceQuotaScopeNotTerminating, corev1.ResourceQuotaScopeBestEffort}},
		want: rl("pods", "1"),
	}, {
		name: "not best effort",
		q:    corev1.ResourceQuotaSpec{Hard: rl("pods", "9"), Scopes: []corev1.ResourceQuotaScope{corev1.ResourceQuotaScopeNotBestEffort}},
		want: rl("pods", "3"),
	}, {
		name: "priority class selector",
		q: corev1.ResourceQuotaSpec{Hard: rl("pods", "9", "services", "9"), ScopeSelector: &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{{
			ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn, Values: []string{"low"}}}}},
		want: rl("pods", "1", "services", "0"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q"}, Spec: tt.q}
			var names []corev1.ResourceName
			for n := range tt.q.Hard {
				names = append(names, n)
			}
			got, err := Used(context.Background(), objs, q, "ns", names, now)
			if err != nil {
				t.Fatal(err)
			}
			if !Equal(got, tt.want) {
				t.Errorf("Used = %v, want %v", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
