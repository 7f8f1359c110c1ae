package cel

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"skiff.dev/skiff/internal/crd/schema"
)

// realWorldCRDs compiles every CRD in a file that ships with
// apiextensions-apiserver (so kube-apiserver accepts them): every rule must
// compile within the cost limits. It returns validators and schemas by
// kind/version.
func realWorldCRDs(t *testing.T, file string, minRules int) (map[string]*Validator, map[string]*schema.Structural) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "k8s.io/apiextensions-apiserver").Output()
	if err != nil {
		t.Fatalf("locating apiextensions-apiserver: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), file))
	if err != nil {
		t.Fatal(err)
	}
	validators := map[string]*Validator{}
	schemas := map[string]*schema.Structural{}
	rules := 0
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.Unmarshal(doc, &crd); err != nil {
			t.Fatal(err)
		}
		if crd.Kind != "CustomResourceDefinition" {
			continue
		}
		for i, v := range crd.Spec.Versions {
			s, err := schema.New(v.Schema.OpenAPIV3Schema)
			if err != nil {
				t.Fatalf("%s %s: %v", crd.Name, v.Name, err)
			}
			rules += countRules(s)
			val, errs := Compile(s, field.NewPath("spec", "versions").Index(i).Child("schema", "openAPIV3Schema"))
			if len(errs) > 0 {
				t.Errorf("%s %s: %v", crd.Name, v.Name, errs.ToAggregate())
			}
			validators[crd.Spec.Names.Kind+"/"+v.Name] = val
			schemas[crd.Spec.Names.Kind+"/"+v.Name] = s
		}
	}
	if rules < minRules {
		t.Fatalf("found %d rules in %s, want at least %d; the file changed?", rules, file, minRules)
	}
	return validators, schemas
}

func TestAPIExportCRD(t *testing.T) {
	realWorldCRDs(t, "pkg/test/example/apiexports_crd.yaml", 2)
}

// TestGatewayAPICRDs checks Gateway API's CRDs (the copy
// apiextensions-apiserver's integration tests use), and that a minimal
// HTTPRoute passes their rules while a relative path does not.
func TestGatewayAPICRDs(t *testing.T) {
	validators, schemas := realWorldCRDs(t, "test/integration/ratcheting_test_cases/crds/standard-install.yaml", 40)
	route := map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1",
		"kind":       "HTTPRoute",
		"metadata":   map[string]any{"name": "r"},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "gw"}},
			"rules": []any{map[string]any{
				"matches":     []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/api"}}},
				"backendRefs": []any{map[string]any{"name": "svc", "port": int64(80)}},
			}},
		},
	}
	v := validators["HTTPRoute/v1"]
	if v == nil {
		t.Fatal("no HTTPRoute/v1")
	}
	// The API server defaults before it validates; rules rely on it
	// (backendRefs[].group defaults to "").
	schema.Default(route, schemas["HTTPRoute/v1"])
	if errs := schema.Validate(schemas["HTTPRoute/v1"], route, nil); len(errs) > 0 {
		t.Errorf("HTTPRoute schema: %v", errs)
	}
	if errs := v.Validate(context.Background(), nil, route, nil); len(errs) > 0 {
		t.Errorf("HTTPRoute rules: %v", errs)
	}
	// A path value must be absolute: one of the CRD's rules says so.
	route["spec"].(map[string]any)["rules"].([]any)[0].(map[string]any)["matches"].([]any)[0].(map[string]any)["path"].(map[string]any)["value"] = "api"
	got := v.Validate(context.Background(), nil, route, nil)
	want := `spec.rules[0].matches[0].path: Invalid value: value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']`
	if len(got) != 1 || got[0].Error() != want {
		t.Errorf("relative path: got %v, want %s", got, want)
	}
}

func countRules(s *schema.Structural) int {
	if s == nil {
		return 0
	}
	n := 0
	if s.Props != nil {
		n = len(s.Props.XValidations)
	}
	n += countRules(s.Items) + countRules(s.AdditionalProperties)
	for _, p := range s.Properties {
		n += countRules(p)
	}
	return n
}
