package operator

import (
	"encoding/json"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The hand-written DeepCopy shares nothing with its source: mutating the
// copy's every pointer, slice and map leaves the original as it was.
func TestWidgetDeepCopyShares(t *testing.T) {
	three := int32(3)
	now := metav1.Now()
	orig := &Widget{
		ObjectMeta: metav1.ObjectMeta{Name: "w", Labels: map[string]string{"a": "b"}, Finalizers: []string{Finalizer}},
		Spec:       WidgetSpec{Name: "n", Size: "small", Replicas: &three},
		Status: WidgetStatus{
			State: "Ready", LastProvisioned: &now, ObservedGeneration: 2,
			Conditions: []metav1.Condition{{Type: ConditionReady, Status: metav1.ConditionTrue, ObservedGeneration: 2}},
		},
	}
	keep := orig.DeepCopy()
	for name, mutate := range map[string]func(w *Widget){
		"labels":          func(w *Widget) { w.Labels["a"] = "changed" },
		"finalizers":      func(w *Widget) { w.Finalizers[0] = "changed" },
		"replicas":        func(w *Widget) { *w.Spec.Replicas = 9 },
		"lastProvisioned": func(w *Widget) { w.Status.LastProvisioned.Time = w.Status.LastProvisioned.Add(1) },
		"conditions":      func(w *Widget) { w.Status.Conditions[0].Status = metav1.ConditionFalse },
	} {
		cp := orig.DeepCopyObject().(*Widget)
		mutate(cp)
		if !equality.Semantic.DeepEqual(orig, keep) {
			t.Errorf("mutating the copy's %s changed the original: %+v", name, orig)
		}
	}
	list := &WidgetList{Items: []Widget{*orig}}
	lcp := list.DeepCopyObject().(*WidgetList)
	lcp.Items[0].Spec.Name = "changed"
	if list.Items[0].Spec.Name != "n" {
		t.Errorf("mutating a copied list changed the original")
	}
}

func TestSchemeKnowsWidget(t *testing.T) {
	s, err := NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"Widget", "WidgetList"} {
		if !s.Recognizes(GroupVersion.WithKind(kind)) {
			t.Errorf("the scheme does not know %s", kind)
		}
	}
	if !s.Recognizes(schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}) {
		t.Errorf("the scheme does not know CustomResourceDefinition")
	}
	// The JSON shape is the CRD's.
	b, err := json.Marshal(Widget{Spec: WidgetSpec{Name: "n", Size: "large"}, Status: WidgetStatus{ObservedGeneration: 4}})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	spec, _ := m["spec"].(map[string]any)
	status, _ := m["status"].(map[string]any)
	if spec["name"] != "n" || spec["size"] != "large" || status["observedGeneration"] != float64(4) {
		t.Errorf("Widget JSON = %s", b)
	}
	if _, ok := WidgetCRD().Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["status"].Properties["conditions"]; !ok {
		t.Errorf("the CRD's status schema has no conditions")
	}
}
