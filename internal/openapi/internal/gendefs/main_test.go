package main

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/skiff/internal/openapi/generated"
)

// TestSchemeMatchesGenerated keeps schemeBuilder and generate.sh's package
// list in step: every package with definitions has registered kinds and
// the other way round.
func TestSchemeMatchesGenerated(t *testing.T) {
	pkg := func(name string) string { return name[:strings.LastIndex(name, ".")] }
	api := func(name string) bool {
		return strings.HasPrefix(name, "io.k8s.api.") || strings.HasPrefix(name, "io.k8s.apiextensions-apiserver.")
	}
	defined := map[string]bool{}
	for name := range generated.GetOpenAPIDefinitions(func(string) (r spec.Ref) { return r }) {
		if name = restFriendly(name); api(name) {
			defined[pkg(name)] = true
		}
	}
	byKind, err := kinds()
	if err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	for name := range byKind {
		if api(name) {
			registered[pkg(name)] = true
		}
	}
	if !reflect.DeepEqual(defined, registered) {
		t.Errorf("packages with definitions %v\n!= packages with registered kinds %v", sorted(defined), sorted(registered))
	}
}

// TestFileCurrent: ../../generated/definitions.jsonl is what gendefs
// writes now. When it fails, run go generate ./internal/openapi/.
func TestFileCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "definitions.jsonl")
	if err := write(out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "generated", "definitions.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("generated/definitions.jsonl is stale (run go generate ./internal/openapi/); line %d:\nfile: %.300s\nnow:  %.300s", i+1, wl[i], gl[i])
			}
		}
		t.Fatalf("generated/definitions.jsonl is stale (run go generate ./internal/openapi/): %d lines, gendefs writes %d", len(wl), len(gl))
	}
}

func sorted(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
