package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry/policy"
)

// evictionFixture serves pods and PodDisruptionBudgets.
type evictionFixture struct {
	t    *testing.T
	url  string // .../namespaces/default
	pdbs string
}

func newEvictionFixture(t *testing.T) *evictionFixture {
	s, hs := newTestServer(t)
	for _, r := range policy.Resources() {
		if _, err := s.Register(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.WaitReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &evictionFixture{t: t, url: hs.URL + "/api/v1/namespaces/default", pdbs: hs.URL + "/apis/policy/v1/namespaces/default/poddisruptionbudgets"}
}

// runningPod creates a pod bound to a node, Running, Ready as asked.
func (f *evictionFixture) runningPod(name string, ready bool) {
	f.t.Helper()
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `","labels":{"app":"web"}},` +
		`"spec":{"nodeName":"n1","terminationGracePeriodSeconds":0,"containers":[{"name":"c","image":"nginx:1.27"}]}}`
	if code, _, b := do(f.t, "POST", f.url+"/pods", "application/json", "", []byte(body)); code != 201 {
		f.t.Fatalf("create pod: %d %s", code, b)
	}
	readyStatus := "False"
	if ready {
		readyStatus = "True"
	}
	status := `{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"` + readyStatus + `"}]}}`
	if code, _, b := do(f.t, "PATCH", f.url+"/pods/"+name+"/status", "application/merge-patch+json", "", []byte(status)); code != 200 {
		f.t.Fatalf("pod status: %d %s", code, b)
	}
}

// pdb creates a budget over app=web with the given status.
func (f *evictionFixture) pdb(name string, allowed, current, desired int32) {
	f.t.Helper()
	body := `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"` + name + `"},"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"}}}}`
	if code, _, b := do(f.t, "POST", f.pdbs, "application/json", "", []byte(body)); code != 201 {
		f.t.Fatalf("create pdb: %d %s", code, b)
	}
	status := fmt.Sprintf(`{"status":{"observedGeneration":1,"disruptionsAllowed":%d,"currentHealthy":%d,"desiredHealthy":%d,"expectedPods":%d}}`, allowed, current, desired, current)
	if code, _, b := do(f.t, "PATCH", f.pdbs+"/"+name+"/status", "application/merge-patch+json", "", []byte(status)); code != 200 {
		f.t.Fatalf("pdb status: %d %s", code, b)
	}
}

func (f *evictionFixture) evict(name, deleteOptions string) (int, metav1.Status) {
	f.t.Helper()
	body := `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"` + name + `","namespace":"default"}`
	if deleteOptions != "" {
		body += `,"deleteOptions":` + deleteOptions
	}
	body += "}"
	code, _, b := do(f.t, "POST", f.url+"/pods/"+name+"/eviction", "application/json", "application/json", []byte(body))
	var st metav1.Status
	if err := json.Unmarshal(b, &st); err != nil {
		f.t.Fatalf("eviction answer is not a Status: %v\n%s", err, b)
	}
	return code, st
}

func (f *evictionFixture) exists(name string) bool {
	f.t.Helper()
	code, _, _ := do(f.t, "GET", f.url+"/pods/"+name, "", "", nil)
	return code == http.StatusOK
}

func (f *evictionFixture) getPDB(name string) *policyv1.PodDisruptionBudget {
	f.t.Helper()
	_, _, b := do(f.t, "GET", f.pdbs+"/"+name, "", "", nil)
	pdb := &policyv1.PodDisruptionBudget{}
	if err := json.Unmarshal(b, pdb); err != nil {
		f.t.Fatal(err)
	}
	return pdb
}

func TestEvictionWithoutBudget(t *testing.T) {
	f := newEvictionFixture(t)
	f.runningPod("a", true)
	code, st := f.evict("a", "")
	if code != http.StatusCreated || st.Status != metav1.StatusSuccess || st.Kind != "Status" {
		t.Fatalf("eviction: %d %+v", code, st)
	}
	if f.exists("a") {
		t.Fatal("the evicted pod is still there")
	}
	if code, st := f.evict("a", ""); code != http.StatusNotFound {
		t.Fatalf("evicting a missing pod: %d %+v", code, st)
	}
	// The name in the body must be the URL's.
	f.runningPod("b", true)
	code, _, b := do(t, "POST", f.url+"/pods/b/eviction", "application/json", "", []byte(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}`))
	if code != http.StatusBadRequest || !strings.Contains(string(b), "name in URL does not match name in Eviction object") {
		t.Fatalf("mismatched name: %d %s", code, b)
	}
	// Delete preconditions are honoured.
	if code, st := f.evict("b", `{"preconditions":{"uid":"not-the-uid"}}`); code != http.StatusConflict {
		t.Fatalf("eviction with a wrong uid precondition: %d %+v", code, st)
	}
	// A dry run deletes nothing.
	code, _, b = do(t, "POST", f.url+"/pods/b/eviction?dryRun=All", "application/json", "", []byte(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"b"}}`))
	if code != http.StatusCreated || !f.exists("b") {
		t.Fatalf("dry-run eviction: %d %s; pod exists %v", code, b, f.exists("b"))
	}
	// policy/v1beta1 Evictions are accepted too.
	code, _, b = do(t, "POST", f.url+"/pods/b/eviction", "application/json", "", []byte(`{"apiVersion":"policy/v1beta1","kind":"Eviction","metadata":{"name":"b"}}`))
	if code != http.StatusCreated || f.exists("b") {
		t.Fatalf("v1beta1 eviction: %d %s", code, b)
	}
}

func TestEvictionHonoursBudget(t *testing.T) {
	f := newEvictionFixture(t)
	f.runningPod("a", true)
	f.runningPod("b", true)
	f.runningPod("c", true)
	f.pdb("web", 1, 3, 2)

	if code, st := f.evict("a", ""); code != http.StatusCreated {
		t.Fatalf("first eviction: %d %+v", code, st)
	}
	pdb := f.getPDB("web")
	if pdb.Status.DisruptionsAllowed != 0 {
		t.Errorf("disruptionsAllowed = %d, want 0", pdb.Status.DisruptionsAllowed)
	}
	if _, ok := pdb.Status.DisruptedPods["a"]; !ok {
		t.Errorf("disruptedPods = %v, want a", pdb.Status.DisruptedPods)
	}
	if c := findCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition); c == nil || c.Status != metav1.ConditionFalse || c.Reason != policyv1.InsufficientPodsReason {
		t.Errorf("DisruptionAllowed condition = %+v", c)
	}

	code, st := f.evict("b", "")
	if code != http.StatusTooManyRequests || st.Reason != metav1.StatusReasonTooManyRequests ||
		st.Message != "Cannot evict pod as it would violate the pod's disruption budget." ||
		st.Details == nil || len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != policyv1.DisruptionBudgetCause ||
		st.Details.Causes[0].Message != "The disruption budget web needs 2 healthy pods and has 3 currently" {
		t.Fatalf("eviction over budget: %d %+v", code, st)
	}
	if !f.exists("b") {
		t.Fatal("a refused eviction deleted the pod")
	}

	// A budget whose status is behind its spec refuses too.
	do(t, "PATCH", f.pdbs+"/web", "application/merge-patch+json", "", []byte(`{"spec":{"minAvailable":2}}`))
	do(t, "PATCH", f.pdbs+"/web/status", "application/merge-patch+json", "", []byte(`{"status":{"disruptionsAllowed":5}}`))
	code, st = f.evict("b", "")
	if code != http.StatusTooManyRequests || st.Details == nil || len(st.Details.Causes) != 1 ||
		st.Details.Causes[0].Message != "The disruption budget web is still being processed by the server." {
		t.Fatalf("eviction under an unobserved budget: %d %+v", code, st)
	}

	// Two budgets over one pod: upstream does not support that, with 500.
	f.pdb("web2", 1, 3, 2)
	code, st = f.evict("b", "")
	if code != http.StatusInternalServerError || st.Status != metav1.StatusFailure ||
		st.Message != "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support." {
		t.Fatalf("eviction under two budgets: %d %+v", code, st)
	}
}

// A running pod is marked as a disruption target before it is deleted; a
// finalizer keeps it to be seen.
func TestEvictionMarksDisruptionTarget(t *testing.T) {
	f := newEvictionFixture(t)
	f.runningPod("a", true)
	if code, _, b := do(t, "PATCH", f.url+"/pods/a", "application/merge-patch+json", "", []byte(`{"metadata":{"finalizers":["example.com/keep"]}}`)); code != 200 {
		t.Fatalf("finalizer: %d %s", code, b)
	}
	if code, st := f.evict("a", ""); code != http.StatusCreated {
		t.Fatalf("eviction: %d %+v", code, st)
	}
	_, _, b := do(t, "GET", f.url+"/pods/a", "", "", nil)
	var pod corev1.Pod
	if err := json.Unmarshal(b, &pod); err != nil {
		t.Fatal(err)
	}
	var target *corev1.PodCondition
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.DisruptionTarget {
			target = &pod.Status.Conditions[i]
		}
	}
	if pod.DeletionTimestamp == nil || target == nil || target.Status != corev1.ConditionTrue || target.Reason != "EvictionByEvictionAPI" {
		t.Fatalf("evicted pod: deletionTimestamp %v, DisruptionTarget %+v", pod.DeletionTimestamp, target)
	}
	// Evicting it again deletes nothing more and succeeds: it is going.
	if code, st := f.evict("a", ""); code != http.StatusCreated {
		t.Fatalf("second eviction: %d %+v", code, st)
	}
}

// An unready pod goes without taking from a budget that is met without it.
func TestEvictionOfUnreadyPod(t *testing.T) {
	f := newEvictionFixture(t)
	f.runningPod("a", true)
	f.runningPod("b", true)
	f.runningPod("sick", false)
	f.pdb("web", 0, 2, 2)
	if code, st := f.evict("sick", ""); code != http.StatusCreated {
		t.Fatalf("evicting an unready pod: %d %+v", code, st)
	}
	if f.exists("sick") || f.getPDB("web").Status.DisruptedPods != nil {
		t.Fatalf("pod exists %v, disruptedPods %v", f.exists("sick"), f.getPDB("web").Status.DisruptedPods)
	}
}

// Pending pods disrupt nothing: budgets are not consulted.
func TestEvictionOfPendingPod(t *testing.T) {
	f := newEvictionFixture(t)
	f.pdb("web", 0, 0, 1)
	body := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`
	do(t, "POST", f.url+"/pods", "application/json", "", []byte(body))
	if code, st := f.evict("p", ""); code != http.StatusCreated || f.exists("p") {
		t.Fatalf("evicting a pending pod: %d %+v", code, st)
	}
}

// Concurrent evictions never take more disruptions than the budget has.
func TestEvictionConcurrent(t *testing.T) {
	f := newEvictionFixture(t)
	const pods, allowed = 8, 3
	for i := range pods {
		f.runningPod(fmt.Sprintf("p%d", i), true)
	}
	f.pdb("web", allowed, pods, pods-allowed)
	var wg sync.WaitGroup
	codes := make([]int, pods)
	for i := range pods {
		wg.Go(func() { codes[i], _ = f.evict(fmt.Sprintf("p%d", i), "") })
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case http.StatusCreated:
			ok++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("eviction answered %d", c)
		}
	}
	pdb := f.getPDB("web")
	if ok != allowed || pdb.Status.DisruptionsAllowed != 0 || len(pdb.Status.DisruptedPods) != allowed {
		t.Fatalf("%d evictions succeeded, budget now %d allowed with %d disrupted; want %d", ok, pdb.Status.DisruptionsAllowed, len(pdb.Status.DisruptedPods), allowed)
	}
}

func findCondition(cs []metav1.Condition, typ string) *metav1.Condition {
	for i := range cs {
		if cs[i].Type == typ {
			return &cs[i]
		}
	}
	return nil
}
