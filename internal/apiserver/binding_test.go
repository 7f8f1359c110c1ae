package apiserver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestPodBinding(t *testing.T) {
	_, hs := newTestServer(t)
	pods := hs.URL + "/api/v1/namespaces/default/pods"
	if code, _, b := do(t, "POST", pods, "application/json", "", []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`)); code != 201 {
		t.Fatalf("create pod: %d %s", code, b)
	}
	// An update may not set the node; only a binding may.
	code, _, b := do(t, "PATCH", pods+"/p", "application/merge-patch+json", "", []byte(`{"spec":{"nodeName":"n1"}}`))
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "spec.nodeName") {
		t.Fatalf("nodeName by patch: %d %s", code, b)
	}
	binding := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p","annotations":{"scheduled-by":"test"}},"target":{"kind":"Node","name":"n1"}}`
	if code, _, b := do(t, "POST", pods+"/p/binding", "application/json", "", []byte(binding)); code != http.StatusCreated || !strings.Contains(string(b), `"status":"Success"`) {
		t.Fatalf("binding: %d %s", code, b)
	}
	_, _, b = do(t, "GET", pods+"/p", "", "", nil)
	var pod corev1.Pod
	if err := json.Unmarshal(b, &pod); err != nil {
		t.Fatal(err)
	}
	scheduled := false
	for _, c := range pod.Status.Conditions {
		scheduled = scheduled || (c.Type == corev1.PodScheduled && c.Status == corev1.ConditionTrue)
	}
	if pod.Spec.NodeName != "n1" || !scheduled || pod.Annotations["scheduled-by"] != "test" || pod.Status.Phase != corev1.PodPending {
		t.Fatalf("bound pod: node %q, conditions %+v, annotations %v", pod.Spec.NodeName, pod.Status.Conditions, pod.Annotations)
	}
	// A bound pod cannot be bound again.
	if code, _, b := do(t, "POST", pods+"/p/binding", "application/json", "", []byte(strings.Replace(binding, "n1", "n2", 1))); code != http.StatusConflict || !strings.Contains(string(b), `already assigned to node \"n1\"`) {
		t.Fatalf("second binding: %d %s", code, b)
	}
	if code, _, b := do(t, "POST", pods+"/p/binding", "application/json", "", []byte(`{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{}}`)); code != http.StatusUnprocessableEntity || !strings.Contains(string(b), "target.name") {
		t.Fatalf("binding without a target: %d %s", code, b)
	}
}
