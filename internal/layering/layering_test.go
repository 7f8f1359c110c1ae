package layering

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// forbiddenEverywhere are the parts of Kubernetes that are the system
// skiff is: their API types are fine, their machinery is not.
func forbiddenEverywhere(dep string) bool {
	return strings.HasPrefix(dep, "k8s.io/apiserver/") ||
		strings.HasPrefix(dep, "k8s.io/kubernetes/") ||
		strings.HasPrefix(dep, "k8s.io/controller-manager/") ||
		strings.HasPrefix(dep, "k8s.io/kube-scheduler/") ||
		strings.HasPrefix(dep, "k8s.io/kubelet/") ||
		(strings.HasPrefix(dep, "k8s.io/apiextensions-apiserver/") && !strings.HasPrefix(dep, "k8s.io/apiextensions-apiserver/pkg/apis/"))
}

// layers: a package under the key may not depend on any package under the
// values. Storage knows nothing of the API; the registry nothing of HTTP.
var layers = map[string][]string{
	"skiff.dev/skiff/internal/storage":    {"skiff.dev/skiff/internal/registry", "skiff.dev/skiff/internal/apiserver", "skiff.dev/skiff/internal/controlplane", "skiff.dev/skiff/internal/controller"},
	"skiff.dev/skiff/internal/registry":   {"skiff.dev/skiff/internal/apiserver", "skiff.dev/skiff/internal/controlplane", "skiff.dev/skiff/internal/controller"},
	"skiff.dev/skiff/internal/controller": {"skiff.dev/skiff/internal/apiserver", "skiff.dev/skiff/internal/registry", "skiff.dev/skiff/internal/storage"},
}

// deps maps each package of the module to its transitive dependencies.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "skiff.dev/skiff/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	// Guard against a listing that silently covers nothing.
	for _, must := range []string{"skiff.dev/skiff/internal/storage", "skiff.dev/skiff/internal/registry", "skiff.dev/skiff/internal/apiserver"} {
		if _, ok := m[must]; !ok {
			t.Fatalf("go list did not report %s", must)
		}
	}
	return m
}

func TestNoUpstreamServerPackages(t *testing.T) {
	for pkg, ds := range deps(t) {
		for _, d := range ds {
			if forbiddenEverywhere(d) {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}

func TestLayers(t *testing.T) {
	for pkg, ds := range deps(t) {
		for lower, higher := range layers {
			if pkg != lower && !strings.HasPrefix(pkg, lower+"/") {
				continue
			}
			for _, d := range ds {
				for _, h := range higher {
					if d == h || strings.HasPrefix(d, h+"/") {
						t.Errorf("%s (layer %s) depends on %s", pkg, lower, d)
					}
				}
			}
		}
	}
}

// notInBinary are packages the skiff binary must not link, and why. A
// binary's code and data are resident memory (the kernel maps touched file
// pages in large folios, so nearly all of it), and the skiff binary runs as
// every control-plane process. Tests and test/e2e may use them freely.
var notInBinary = map[string]string{
	// The clientset, its informers and discovery client, and the scheme
	// they share link code for every API group Kubernetes has: the
	// generated typed clients, listers, informers and apply configurations
	// of ~56 group-versions, or the types, conversions and protobuf code of
	// each. Controllers use a rest.RESTClient with a codec for the kinds
	// they need (see internal/controller/namespace), client-go's metadata
	// or dynamic clients, and cache.NewSharedIndexInformer over a ListWatch.
	"k8s.io/client-go/kubernetes":        "links every API group's clients; use a small client",
	"k8s.io/client-go/kubernetes/scheme": "registers every API group's kinds; register the ones you use",
	"k8s.io/client-go/informers":         "links every API group's informers; use cache.NewSharedIndexInformer",
	"k8s.io/client-go/discovery":         "links client-go's scheme; GET the discovery documents",
	// Importing an API group-version links all its types (their protobuf
	// registration keeps every method); printers copies the few strings it
	// needs from these.
	"k8s.io/api/extensions/v1beta1": "an unserved group-version; copy the strings you need",
	"k8s.io/api/apps/v1beta1":       "an unserved group-version; copy the strings you need",
	"k8s.io/api/batch/v1beta1":      "an unserved group-version; copy the strings you need",
	"k8s.io/api/rbac/v1beta1":       "an unserved group-version; copy the strings you need",
	// openapi-gen's Go code is ~2.5 MiB of instructions; internal/openapi
	// embeds the same definitions as data (generated/definitions.jsonl).
	"skiff.dev/skiff/internal/openapi/generated": "the OpenAPI definitions as code; internal/openapi embeds them as data",
	// strfmt's init compiles dozens of regular expressions (~6 MB of the
	// binary's idle RSS together with validate, which needs it).
	"k8s.io/kube-openapi/pkg/validation/validate": "kube-openapi's value validator; use crd/schema.Validate",
	"k8s.io/kube-openapi/pkg/validation/strfmt":   "compiles dozens of regexps at init; use crd/schema.CheckFormat",
}

func TestBinaryDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "skiff.dev/skiff/cmd/skiff").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	ds := strings.Fields(string(out))
	if !slices.Contains(ds, "k8s.io/client-go/rest") {
		t.Fatalf("go list -deps cmd/skiff does not list k8s.io/client-go/rest; is the listing right? %d packages", len(ds))
	}
	for _, d := range ds {
		if why, ok := notInBinary[d]; ok {
			t.Errorf("the skiff binary depends on %s: %s (go list -deps ./cmd/skiff; the Imports of each dependency say through what)", d, why)
		}
	}
}
