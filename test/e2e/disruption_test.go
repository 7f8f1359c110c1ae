package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The disruption controller keeps PodDisruptionBudgets' status, and the
// eviction subresource (what `kubectl drain` calls) lets pods go only as
// that status allows.

func pdbStatus(t *testing.T, s *Skiff, name string) (policyv1.PodDisruptionBudget, string) {
	t.Helper()
	var pdb policyv1.PodDisruptionBudget
	getJSON(t, s, &pdb, "pdb", name)
	b, _ := json.Marshal(pdb.Status)
	return pdb, string(b)
}

// evict POSTs an Eviction for pod and returns the HTTP status.
func evict(t *testing.T, s *Skiff, pod string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":%q,"namespace":"default"}}`, pod)
	r := s.Do(http.MethodPost, "/api/v1/namespaces/default/pods/"+pod+"/eviction", "application/json", []byte(body))
	return r.Code, string(r.Body)
}

// readyPodNames are the Ready pods labelled app=app, not being deleted.
func readyPodNames(t *testing.T, s *Skiff, app string) []string {
	t.Helper()
	var names []string
	for _, p := range activePods(t, s, app) {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

func TestDisruptionBudgets(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, deploymentManifest("web", 3, rollingOneOne, "registry.example/web:1"))
	applyStdin(t, s, deploymentManifest("api", 4, rollingOneOne, "registry.example/api:1"))
	applyStdin(t, s, jobManifest("batch", "", `skiff.dev/simulate-duration: "600s"`))
	applyStdin(t, s, `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: web}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: api}
spec:
  maxUnavailable: 25%
  selector: {matchLabels: {app: api}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: batch}
spec:
  maxUnavailable: 1
  selector: {matchLabels: {batch.kubernetes.io/job-name: batch}}
`)
	eventually(t, "pdb web allows one disruption of three healthy pods", func() (bool, string) {
		pdb, msg := pdbStatus(t, s, "web")
		st := pdb.Status
		c := meta.FindStatusCondition(st.Conditions, policyv1.DisruptionAllowedCondition)
		return st.ObservedGeneration == pdb.Generation && st.ExpectedPods == 3 && st.CurrentHealthy == 3 && st.DesiredHealthy == 2 &&
			st.DisruptionsAllowed == 1 && c != nil && c.Status == metav1.ConditionTrue && c.Reason == policyv1.SufficientPodsReason, msg
	})
	// A percentage of maxUnavailable is of the Deployment's scale.
	eventually(t, "pdb api takes its expected count from the deployment's scale", func() (bool, string) {
		pdb, msg := pdbStatus(t, s, "api")
		st := pdb.Status
		return st.ExpectedPods == 4 && st.DesiredHealthy == 3 && st.CurrentHealthy == 4 && st.DisruptionsAllowed == 1, msg
	})
	// A Job has no scale subresource: maxUnavailable cannot be computed.
	eventually(t, "pdb batch fails safe", func() (bool, string) {
		pdb, msg := pdbStatus(t, s, "batch")
		c := meta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
		return pdb.Status.DisruptionsAllowed == 0 && c != nil && c.Status == metav1.ConditionFalse && c.Reason == policyv1.SyncFailedReason &&
			strings.HasPrefix(c.Message, "found no controllers for pod \"batch-"), msg
	})

	pods := readyPodNames(t, s, "web")
	if len(pods) != 3 {
		t.Fatalf("ready web pods %v", pods)
	}
	if code, body := evict(t, s, pods[0]); code != http.StatusCreated {
		t.Fatalf("first eviction: %d %s", code, body)
	}
	// The budget is spent until the replacement is Ready.
	code, body := evict(t, s, pods[1])
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Cannot evict pod as it would violate the pod's disruption budget.") {
		t.Fatalf("second eviction: %d %s, want 429", code, body)
	}
	eventually(t, "the replacement is ready and the budget allows one disruption again", func() (bool, string) {
		pdb, msg := pdbStatus(t, s, "web")
		ready := readyPodNames(t, s, "web")
		return len(ready) == 3 && !slices.Contains(ready, pods[0]) && pdb.Status.DisruptionsAllowed == 1 && pdb.Status.CurrentHealthy == 3 &&
			len(pdb.Status.DisruptedPods) == 0, msg
	})
	if code, body := evict(t, s, pods[1]); code != http.StatusCreated {
		t.Fatalf("eviction after the replacement: %d %s", code, body)
	}

	// Raising minAvailable to the pod count allows none; the condition
	// says so, for the new generation.
	s.MustKubectl("patch", "pdb", "web", "--type=merge", "-p", `{"spec":{"minAvailable":3}}`)
	eventually(t, "pdb web allows nothing at minAvailable 3", func() (bool, string) {
		pdb, msg := pdbStatus(t, s, "web")
		c := meta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
		return pdb.Status.ObservedGeneration == pdb.Generation && pdb.Status.DesiredHealthy == 3 && pdb.Status.DisruptionsAllowed == 0 &&
			c != nil && c.Reason == policyv1.InsufficientPodsReason && c.ObservedGeneration == pdb.Generation, msg
	})
}
