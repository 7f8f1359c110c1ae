package cel

import (
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"skiff.dev/skiff/internal/crd/schema"
)

// structural parses a schema written as YAML, as in a CRD manifest, and
// builds its Structural, which must be valid.
func structural(t testing.TB, src string) *schema.Structural {
	t.Helper()
	var p apiextensionsv1.JSONSchemaProps
	if err := yaml.UnmarshalStrict([]byte(src), &p); err != nil {
		t.Fatalf("schema: %v", err)
	}
	s, err := schema.New(&p)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// object decodes JSON as the API server does (whole numbers as int64);
// "" is nil, for no old object.
func object(t testing.TB, src string) any {
	if src == "" {
		return nil
	}
	var m map[string]any
	if err := utiljson.Unmarshal([]byte(src), &m); err != nil {
		if t == nil {
			panic(err)
		}
		t.Fatalf("object: %v", err)
	}
	return m
}

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	slices.Sort(out)
	return out
}

// compileOK compiles a schema whose rules must all compile.
func compileOK(t testing.TB, src string) *Validator {
	t.Helper()
	v, errs := Compile(structural(t, src), field.NewPath("openAPIV3Schema"))
	if len(errs) > 0 {
		t.Fatalf("Compile: %v", errs)
	}
	return v
}
