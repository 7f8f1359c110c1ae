package schema

import (
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"
)

// props parses a schema written as YAML, as it appears in a CRD manifest.
func props(t testing.TB, src string) *apiextensionsv1.JSONSchemaProps {
	t.Helper()
	var p apiextensionsv1.JSONSchemaProps
	if err := yaml.UnmarshalStrict([]byte(src), &p); err != nil {
		t.Fatalf("schema: %v", err)
	}
	return &p
}

// structural builds a Structural that must be valid.
func structural(t testing.TB, src string) *Structural {
	t.Helper()
	s, err := New(props(t, src))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// object decodes JSON the way the API server does (whole numbers as int64).
func object(t testing.TB, src string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := utiljson.Unmarshal([]byte(src), &m); err != nil {
		t.Fatalf("object: %v", err)
	}
	return m
}
