package core_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/registrytest"
)

// clusterResource returns the resource core.ClusterResources registers
// as name, so that the tests also check the wiring.
func clusterResource(t *testing.T, name string) *registry.Resource {
	t.Helper()
	for _, r := range core.ClusterResources() {
		if r.GVR.Resource == name {
			return r
		}
	}
	t.Fatalf("core.ClusterResources has no %q", name)
	return nil
}

func clusterStrategy(t *testing.T, name string) registry.Strategy {
	t.Helper()
	return clusterResource(t, name).Strategy
}

var duplicate = registrytest.Duplicate

func TestClusterResources(t *testing.T) {
	tests := []struct {
		resource, kind string
		shortName      string
		namespaced     bool
		status         bool
		obj            runtime.Object
	}{
		{"nodes", "Node", "no", false, true, &corev1.Node{}},
		{"endpoints", "Endpoints", "ep", true, false, &corev1.Endpoints{}},
		{"persistentvolumes", "PersistentVolume", "pv", false, true, &corev1.PersistentVolume{}},
		{"persistentvolumeclaims", "PersistentVolumeClaim", "pvc", true, true, &corev1.PersistentVolumeClaim{}},
		{"limitranges", "LimitRange", "limits", true, false, &corev1.LimitRange{}},
		{"resourcequotas", "ResourceQuota", "quota", true, true, &corev1.ResourceQuota{}},
	}
	if n := len(core.ClusterResources()); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
	for _, tt := range tests {
		r := clusterResource(t, tt.resource)
		if r.GVR.Group != "" || r.GVR.Version != "v1" || r.Kind != tt.kind || r.ListKind != tt.kind+"List" ||
			r.Namespaced != tt.namespaced || r.HasSubresource("status") != tt.status ||
			len(r.ShortNames) != 1 || r.ShortNames[0] != tt.shortName {
			t.Errorf("%s: %+v", tt.resource, r)
		}
		if got := r.Strategy.New(); typeOf(got) != typeOf(tt.obj) {
			t.Errorf("%s: New() = %T", tt.resource, got)
		}
		if got := r.Strategy.NewList(); typeOf(got) != typeOf(tt.obj)+"List" {
			t.Errorf("%s: NewList() = %T", tt.resource, got)
		}
	}
}

func typeOf(o runtime.Object) string { return fmt.Sprintf("%T", o) }

var bg = context.Background()
