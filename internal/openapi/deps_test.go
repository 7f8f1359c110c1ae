package openapi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoServerDependencies keeps the package off the upstream servers skiff
// replaces: their API types are fine, their machinery is not.
func TestNoServerDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not in PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		forbidden := strings.HasPrefix(dep, "k8s.io/apiserver/") ||
			strings.HasPrefix(dep, "k8s.io/kubernetes/") ||
			(strings.HasPrefix(dep, "k8s.io/apiextensions-apiserver/") && !strings.HasPrefix(dep, "k8s.io/apiextensions-apiserver/pkg/apis/"))
		if forbidden {
			t.Errorf("internal/openapi depends on %s", dep)
		}
	}
}
