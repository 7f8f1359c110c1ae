package e2e

import (
	"strings"
	"testing"
)

// TestNamespaceDeletesEverything: deleting a namespace deletes its custom
// resources, ConfigMaps and Deployment (and so its pods); while a custom
// resource's finalizer holds it, the namespace is Terminating and says so
// in its conditions; once the finalizer goes, the namespace goes.
func TestNamespaceDeletesEverything(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyCRD(t, s, "widgets.yaml", "widgets.yourco.io")
	s.MustKubectl("create", "namespace", "gone")
	dir := t.TempDir()
	s.MustKubectl("apply", "-n", "gone", "-f", writeFile(t, dir, "w.yaml", `apiVersion: yourco.io/v1
kind: Widget
metadata:
  name: held
  finalizers: [yourco.io/hold]
spec: {name: held, size: small, replicas: 1}
---
apiVersion: yourco.io/v1
kind: Widget
metadata:
  name: free
spec: {name: free, size: large, replicas: 2}
`))
	s.MustKubectl("create", "configmap", "cfg", "-n", "gone", "--from-literal=k=v")
	s.MustKubectl("create", "deployment", "web", "-n", "gone", "--image=registry.example/web:1", "--replicas=2")
	s.MustKubectl("rollout", "status", "-n", "gone", "deployment/web", "--timeout=30s")

	s.MustKubectl("delete", "namespace", "gone", "--wait=false")
	eventually(t, "everything but the held widget deleted, and the namespace saying why it stays", func() (bool, string) {
		left := s.MustKubectl("get", "all,configmaps,widgets", "-n", "gone", "-o", "name")
		conds := s.MustKubectl("get", "namespace", "gone", "-o",
			`jsonpath={range .status.conditions[?(@.status=="True")]}{.type}: {.message}{"\n"}{end}`)
		return strings.TrimSpace(left) == "widget.yourco.io/held" &&
				strings.Contains(conds, "NamespaceContentRemaining: Some resources are remaining: widgets.yourco.io has 1 resource instances") &&
				strings.Contains(conds, "NamespaceFinalizersRemaining: Some content in the namespace has finalizers remaining: yourco.io/hold in 1 resource instances"),
			"left: " + left + "conditions: " + conds
	})
	s.MustKubectl("patch", "widget", "held", "-n", "gone", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	eventually(t, "the namespace gone", func() (bool, string) {
		_, stderr, err := s.Kubectl("get", "namespace", "gone")
		return err != nil && strings.Contains(stderr, "NotFound"), stderr
	})
	if out := s.MustKubectl("get", "widgets", "-A", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("widgets left after the namespace went: %q", out)
	}
}
