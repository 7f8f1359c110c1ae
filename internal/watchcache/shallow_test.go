package watchcache

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Setting the kind of a shallow copy, as encoders do, leaves the original
// alone; the copy shares what lies below the top level.
func TestShallowCopy(t *testing.T) {
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	u := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"size": int64(1)}}}
	cu := shallowCopy(u).(*unstructured.Unstructured)
	cu.SetGroupVersionKind(gvk)
	if u.GetKind() != "" || cu.GetKind() != "Widget" {
		t.Errorf("kinds: original %q, copy %q", u.GetKind(), cu.GetKind())
	}
	if cu.Object["spec"].(map[string]any)["size"] != int64(1) {
		t.Error("the copy lost the spec")
	}

	cm := &corev1.ConfigMap{Data: map[string]string{"k": "v"}}
	ccm := shallowCopy(cm).(*corev1.ConfigMap)
	ccm.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ConfigMap"))
	if cm.Kind != "" || ccm.Kind != "ConfigMap" || ccm == cm || ccm.Data["k"] != "v" {
		t.Errorf("typed copy: original kind %q, copy kind %q, data %v", cm.Kind, ccm.Kind, ccm.Data)
	}
}
