package client

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestScalableResource(t *testing.T) {
	list := []metav1.APIResource{
		{Name: "widgets", Kind: "Widget"}, {Name: "widgets/status", Kind: "Widget"}, {Name: "widgets/scale", Kind: "Scale"},
		{Name: "gadgets", Kind: "Gadget"}, {Name: "gadgets/status", Kind: "Gadget"},
	}
	for kind, want := range map[string]string{"Widget": "widgets", "Gadget": "", "Gizmo": ""} {
		if got := scalableResource(list, kind); got != want {
			t.Errorf("scalableResource(%s) = %q, want %q", kind, got, want)
		}
	}
}
