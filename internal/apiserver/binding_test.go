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

// A pod a node runs is deleted gracefully: marked with a deletionTimestamp
// a grace period ahead, removed by a zero-grace delete (the node agent's).
// An unscheduled pod goes at once.
func TestPodGracefulDeletion(t *testing.T) {
	_, hs := newTestServer(t)
	pods := hs.URL + "/api/v1/namespaces/default/pods"
	create := func(name string) {
		t.Helper()
		body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"terminationGracePeriodSeconds":45,"containers":[{"name":"c","image":"nginx:1.27"}]}}`
		if code, _, b := do(t, "POST", pods, "application/json", "", []byte(body)); code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	create("unscheduled")
	if code, _, b := do(t, "DELETE", pods+"/unscheduled", "", "", nil); code != 200 {
		t.Fatalf("delete: %d %s", code, b)
	}
	if code, _, _ := do(t, "GET", pods+"/unscheduled", "", "", nil); code != http.StatusNotFound {
		t.Fatalf("an unscheduled pod stayed after delete: GET %d", code)
	}

	create("running")
	if code, _, b := do(t, "POST", pods+"/running/binding", "application/json", "", []byte(`{"apiVersion":"v1","kind":"Binding","metadata":{"name":"running"},"target":{"name":"n1"}}`)); code != 201 {
		t.Fatalf("binding: %d %s", code, b)
	}
	get := func() (int, corev1.Pod) {
		code, _, b := do(t, "GET", pods+"/running", "", "", nil)
		var p corev1.Pod
		json.Unmarshal(b, &p)
		return code, p
	}
	do(t, "DELETE", pods+"/running", "", "", nil)
	code, p := get()
	if code != 200 || p.DeletionTimestamp == nil || p.DeletionGracePeriodSeconds == nil || *p.DeletionGracePeriodSeconds != 45 ||
		p.DeletionTimestamp.Time.Before(p.CreationTimestamp.Add(40e9)) {
		t.Fatalf("graceful delete: %d, deletionTimestamp %v, grace %v", code, p.DeletionTimestamp, p.DeletionGracePeriodSeconds)
	}
	// A second delete may shorten the period, never lengthen it.
	do(t, "DELETE", pods+"/running?gracePeriodSeconds=100", "", "", nil)
	if _, p := get(); *p.DeletionGracePeriodSeconds != 45 {
		t.Fatalf("a longer grace period replaced a shorter one: %d", *p.DeletionGracePeriodSeconds)
	}
	do(t, "DELETE", pods+"/running?gracePeriodSeconds=5", "", "", nil)
	if _, p := get(); *p.DeletionGracePeriodSeconds != 5 {
		t.Fatalf("grace period not shortened: %d", *p.DeletionGracePeriodSeconds)
	}
	if code, _, b := do(t, "DELETE", pods+"/running?gracePeriodSeconds=0", "", "", nil); code != 200 {
		t.Fatalf("zero-grace delete: %d %s", code, b)
	}
	if code, _ := get(); code != http.StatusNotFound {
		t.Fatalf("a zero-grace delete left the pod: GET %d", code)
	}
}
