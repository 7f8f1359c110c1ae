package openapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	protomodels "k8s.io/kube-openapi/pkg/util/proto"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/internal/openapi/generated"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// get serves one request and returns the recorded response.
func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func mustNew(t *testing.T, rs []Resource, extra ...common.GetOpenAPIDefinitions) *Service {
	t.Helper()
	s, err := New(rs, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// v3Doc fetches and decodes the v3 document key through the index, as
// client-go does.
func v3Doc(t *testing.T, h http.Handler, key string) (*spec3.OpenAPI, []byte) {
	t.Helper()
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	rec := get(t, h, "/openapi/v3")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi/v3: %d %s", rec.Code, rec.Body)
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	entry, ok := index.Paths[key]
	if !ok {
		t.Fatalf("index has no %q: %s", key, rec.Body)
	}
	rec = get(t, h, entry.ServerRelativeURL, "Accept", "application/json")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", entry.ServerRelativeURL, rec.Code, rec.Body)
	}
	var doc spec3.OpenAPI
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return &doc, rec.Body.Bytes()
}

func TestGoldenCoreV1Paths(t *testing.T) {
	s := mustNew(t, []Resource{
		res("", "v1", "ConfigMap", "configmaps", true, allVerbs),
		res("", "v1", "Namespace", "namespaces", false, []string{"create", "delete", "get", "list", "patch", "update", "watch"}, "finalize", "status"),
	})
	_, raw := v3Doc(t, s, "api/v1")
	var doc struct {
		Paths json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := json.Indent(&got, doc.Paths, "", "  "); err != nil {
		t.Fatal(err)
	}
	got.WriteByte('\n')
	golden := filepath.Join("testdata", "v3_api_v1_paths.json")
	if *update {
		if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("v3 api/v1 paths differ from %s; review the diff and rerun with -update:\n%s", golden, firstDiff(string(want), got.String()))
	}
}

// firstDiff shows a few lines around the first line where a and b differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		if i >= len(al) || i >= len(bl) || al[i] != bl[i] {
			lo := max(0, i-3)
			return "want:\n" + strings.Join(al[lo:min(len(al), i+3)], "\n") + "\ngot:\n" + strings.Join(bl[lo:min(len(bl), i+3)], "\n")
		}
	}
	return ""
}

func TestDefinitionsCanonical(t *testing.T) {
	defs := BuiltinDefinitions(refFunc(refV3))
	for name, def := range defs {
		if !strings.HasPrefix(name, "io.k8s.") {
			t.Errorf("definition %q is not canonically named", name)
		}
		for _, dep := range def.Dependencies {
			if _, ok := defs[dep]; !ok {
				t.Errorf("%s refers to %s, which has no definition: add its package to generate.sh", name, dep)
			}
		}
	}
	for obj, want := range map[runtime.Object]schema.GroupVersionKind{
		&corev1.ConfigMap{}:     {Version: "v1", Kind: "ConfigMap"},
		&appsv1.Deployment{}:    {Group: "apps", Version: "v1", Kind: "Deployment"},
		&metav1.Status{}:        {Version: "v1", Kind: "Status"},
		&metav1.DeleteOptions{}: {Group: "apps", Version: "v1", Kind: "DeleteOptions"},
	} {
		name := DefinitionName(obj)
		def, ok := defs[name]
		if !ok {
			t.Fatalf("no definition %q", name)
		}
		gvks, err := gvksOf(def.Schema.Extensions)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(gvks, want) {
			t.Errorf("%s: %s = %v, want it to contain %v", name, ExtensionGVK, gvks, want)
		}
	}
	if got := DefinitionName(&corev1.ConfigMap{}); got != "io.k8s.api.core.v1.ConfigMap" {
		t.Errorf("DefinitionName(ConfigMap) = %q", got)
	}
	if ref := defs["io.k8s.api.core.v1.ConfigMap"].Schema.Properties["metadata"]; !strings.Contains(jsonString(t, ref), "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta") {
		t.Errorf("ConfigMap.metadata does not refer to ObjectMeta as a v3 component: %s", jsonString(t, ref))
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPatchHasFieldValidation checks what kubectl's strict validation looks
// for: in the kind's own group-version document, a PATCH operation with the
// kind's GVK and an operation-level fieldValidation parameter.
func TestPatchHasFieldValidation(t *testing.T) {
	s := mustNew(t, builtinResources())
	docs := map[string]*spec3.OpenAPI{}
	for _, r := range builtinResources() {
		if !r.has("patch") {
			continue
		}
		key := groupVersionKey(r.GVK.GroupVersion())
		doc, ok := docs[key]
		if !ok {
			doc, _ = v3Doc(t, s, key)
			docs[key] = doc
		}
		found := false
		for path, item := range doc.Paths.Paths {
			op := item.Patch
			if op == nil {
				continue
			}
			var gvk map[string]string
			if err := op.Extensions.GetObject(ExtensionGVK, &gvk); err != nil || gvk["kind"] != r.GVK.Kind || gvk["group"] != r.GVK.Group || gvk["version"] != r.GVK.Version {
				continue
			}
			if !slices.ContainsFunc(op.Parameters, func(p *spec3.Parameter) bool { return p.Name == "fieldValidation" }) {
				t.Errorf("%s PATCH %s has no fieldValidation parameter", key, path)
			}
			found = true
		}
		if !found {
			t.Errorf("%s: no PATCH operation for %v", key, r.GVK)
		}
	}
}

func TestV2Protobuf(t *testing.T) {
	s := mustNew(t, builtinResources())
	rec := get(t, s, "/openapi/v2", "Accept", MediaV2Protobuf)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi/v2: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != MediaV2ProtobufCanonical {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc openapiv2.Document
	if err := proto.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
		t.Fatalf("decoding protobuf: %v", err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger = %q", doc.Swagger)
	}
	// kubectl's client-side validation reads the document through these models.
	models, err := protomodels.NewOpenAPIData(&doc)
	if err != nil {
		t.Fatalf("NewOpenAPIData: %v", err)
	}
	cm := models.LookupModel("io.k8s.api.core.v1.ConfigMap")
	if cm == nil {
		t.Fatal("no io.k8s.api.core.v1.ConfigMap model")
	}
	kind, ok := cm.(*protomodels.Kind)
	if !ok || kind.Fields["data"] == nil || !strings.Contains(kind.Fields["data"].GetDescription(), "Data contains the configuration data") {
		t.Errorf("ConfigMap model lacks a described data field: %#v", cm)
	}
	// Extensions arrive decoded from YAML: map[interface{}]interface{}.
	if got := fmt.Sprint(kind.GetExtensions()[ExtensionGVK]); got != "[map[group: kind:ConfigMap version:v1]]" {
		t.Errorf("ConfigMap %s = %s", ExtensionGVK, got)
	}
	paths := map[string]*openapiv2.PathItem{}
	for _, p := range doc.Paths.Path {
		paths[p.Name] = p.Value
	}
	item := paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]
	if item == nil || item.Patch == nil || item.Patch.OperationId != "patchCoreV1NamespacedConfigMap" {
		t.Fatalf("no patchCoreV1NamespacedConfigMap in v2 paths")
	}
	if got := item.Patch.Consumes; !reflect.DeepEqual(got, mediaPatch) {
		t.Errorf("PATCH consumes %v", got)
	}
	for _, p := range []string{"/api/v1/namespaces/{name}", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "/apis/apps/v1/watch/deployments", "/version/"} {
		if paths[p] == nil {
			t.Errorf("v2 has no path %s", p)
		}
	}

	// The JSON form is the same document.
	rec = get(t, s, "/openapi/v2")
	if ct := rec.Header().Get("Content-Type"); rec.Code != http.StatusOK || ct != MediaJSON {
		t.Fatalf("GET /openapi/v2 as JSON: %d %q", rec.Code, ct)
	}
	var sw spec.Swagger
	if err := json.Unmarshal(rec.Body.Bytes(), &sw); err != nil {
		t.Fatal(err)
	}
	if len(sw.Definitions) != len(doc.Definitions.AdditionalProperties) || len(sw.Paths.Paths) != len(doc.Paths.Path) {
		t.Errorf("JSON has %d definitions and %d paths, protobuf %d and %d",
			len(sw.Definitions), len(sw.Paths.Paths), len(doc.Definitions.AdditionalProperties), len(doc.Paths.Path))
	}
	if def := sw.Definitions["io.k8s.api.apps.v1.DeploymentSpec"]; def.Properties["replicas"].Default != nil {
		t.Errorf("v2 keeps defaults: %v", def.Properties["replicas"].Default)
	}
}

func TestHandler(t *testing.T) {
	s := mustNew(t, builtinResources())

	rec := get(t, s, "/openapi/v3")
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1", "version"} {
		if !strings.HasPrefix(index.Paths[key].ServerRelativeURL, "/openapi/v3/"+key+"?hash=") {
			t.Errorf("index entry %q = %q", key, index.Paths[key].ServerRelativeURL)
		}
	}
	url := index.Paths["apis/apps/v1"].ServerRelativeURL
	hash := url[strings.Index(url, "hash=")+len("hash="):]

	t.Run("immutable by hash", func(t *testing.T) {
		rec := get(t, s, url)
		if rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "public") {
			t.Errorf("Cache-Control = %q", cc)
		}
		if etag := rec.Header().Get("ETag"); etag != `"`+hash+`"` {
			t.Errorf("ETag = %s, hash %s", etag, hash)
		}
		if ct := rec.Header().Get("Content-Type"); ct != MediaJSON {
			t.Errorf("Content-Type = %q", ct)
		}
	})
	t.Run("no hash is not immutable", func(t *testing.T) {
		rec := get(t, s, "/openapi/v3/apis/apps/v1")
		if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "" {
			t.Errorf("%d Cache-Control %q", rec.Code, rec.Header().Get("Cache-Control"))
		}
	})
	t.Run("If-None-Match", func(t *testing.T) {
		for _, path := range []string{url, "/openapi/v3", "/openapi/v2"} {
			etag := get(t, s, path).Header().Get("ETag")
			if etag == "" {
				t.Fatalf("%s has no ETag", path)
			}
			if rec := get(t, s, path, "If-None-Match", etag); rec.Code != http.StatusNotModified {
				t.Errorf("%s with If-None-Match: %d", path, rec.Code)
			}
		}
	})
	t.Run("stale hash redirects", func(t *testing.T) {
		rec := get(t, s, "/openapi/v3/apis/apps/v1?hash=0123")
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != url {
			t.Errorf("%d Location %q, want %q", rec.Code, rec.Header().Get("Location"), url)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		for _, path := range []string{"/openapi/v3/apis/nope/v1", "/openapi/v3/apis/apps/v9", "/openapi/v4", "/openapi/v3/"} {
			if path == "/openapi/v3/" {
				continue // the index, tolerated with a slash
			}
			if rec := get(t, s, path); rec.Code != http.StatusNotFound {
				t.Errorf("%s: %d", path, rec.Code)
			}
		}
	})
	t.Run("not acceptable", func(t *testing.T) {
		if rec := get(t, s, "/openapi/v3", "Accept", "application/xml"); rec.Code != http.StatusNotAcceptable {
			t.Errorf("%d", rec.Code)
		}
	})
	t.Run("method", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openapi/v2", nil))
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d", rec.Code)
		}
	})
	t.Run("gzip", func(t *testing.T) {
		plain := get(t, s, url)
		rec := get(t, s, url, "Accept-Encoding", "gzip")
		if rec.Header().Get("Content-Encoding") != "gzip" || rec.Header().Get("ETag") == plain.Header().Get("ETag") {
			t.Fatalf("Content-Encoding %q, ETag %s", rec.Header().Get("Content-Encoding"), rec.Header().Get("ETag"))
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("gunzipped body differs (%v)", err)
		}
	})
	t.Run("v3 protobuf", func(t *testing.T) {
		rec := get(t, s, url, "Accept", MediaV3Protobuf)
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != MediaV3ProtobufCanonical {
			t.Fatalf("%d %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		var doc openapiv3.Document
		if err := proto.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Components.Schemas.AdditionalProperties) == 0 {
			t.Error("no schemas")
		}
	})
}

func TestDocumentShape(t *testing.T) {
	s := mustNew(t, builtinResources())
	doc, _ := v3Doc(t, s, "apis/apps/v1")
	scale := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
	if scale == nil || scale.Put == nil || scale.Put.OperationId != "replaceAppsV1NamespacedDeploymentScale" {
		t.Fatalf("no replaceAppsV1NamespacedDeploymentScale")
	}
	if got := jsonString(t, scale.Put.Responses.StatusCodeResponses[200].Content["application/json"].Schema); !strings.Contains(got, "io.k8s.api.autoscaling.v1.Scale") {
		t.Errorf("scale PUT returns %s", got)
	}
	var gvk map[string]string
	if err := scale.Put.Extensions.GetObject(ExtensionGVK, &gvk); err != nil || gvk["kind"] != "Scale" || gvk["group"] != "autoscaling" {
		t.Errorf("scale %s = %v", ExtensionGVK, gvk)
	}
	list := doc.Paths.Paths["/apis/apps/v1/deployments"]
	if list == nil || list.Get == nil || list.Get.OperationId != "listAppsV1DeploymentForAllNamespaces" {
		t.Fatal("no listAppsV1DeploymentForAllNamespaces")
	}
	var action string
	if err := list.Get.Extensions.GetObject("x-kubernetes-action", &action); err != nil || action != "list" {
		t.Errorf("x-kubernetes-action = %q", action)
	}
	for _, name := range []string{"io.k8s.api.apps.v1.Deployment", "io.k8s.api.apps.v1.DeploymentList", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "io.k8s.api.autoscaling.v1.Scale"} {
		if doc.Components.Schemas[name] == nil {
			t.Errorf("apps/v1 has no schema %s", name)
		}
	}
	if doc.Components.Schemas["io.k8s.api.core.v1.ConfigMap"] != nil {
		t.Error("apps/v1 carries unreachable io.k8s.api.core.v1.ConfigMap")
	}
	rbac, _ := v3Doc(t, s, "apis/rbac.authorization.k8s.io/v1")
	if op := rbac.Paths.Paths["/apis/rbac.authorization.k8s.io/v1/clusterroles"]; op == nil || op.Get.OperationId != "listRbacAuthorizationV1ClusterRole" || op.Get.Tags[0] != "rbacAuthorization_v1" {
		t.Errorf("clusterroles list: %+v", op)
	}
}

func TestInvalidResources(t *testing.T) {
	for name, rs := range map[string][]Resource{
		"unknown kind":  {res("", "v1", "Gadget", "gadgets", true, allVerbs)},
		"no plural":     {res("", "v1", "ConfigMap", "", true, allVerbs)},
		"no version":    {res("", "", "ConfigMap", "configmaps", true, allVerbs)},
		"served twice":  {res("", "v1", "ConfigMap", "configmaps", true, allVerbs), res("", "v1", "ConfigMap", "configmaps", true, allVerbs)},
		"bad list kind": {{GVK: schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, Resource: "configmaps", Verbs: allVerbs, ListKind: "Nope"}},
	} {
		if _, err := New(rs); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

// widgetDefinitions stands in for a custom resource's schema, the way the
// CRD code will supply one.
func widgetDefinitions(description string) common.GetOpenAPIDefinitions {
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		gvk := func(kind string) spec.Extensions {
			return spec.Extensions{ExtensionGVK: []any{map[string]any{"group": "example.com", "version": "v1", "kind": kind}}}
		}
		return map[string]common.OpenAPIDefinition{
			"com.example.v1.Widget": {
				Schema: spec.Schema{
					SchemaProps: spec.SchemaProps{
						Type:        []string{"object"},
						Description: description,
						Properties: map[string]spec.Schema{
							"apiVersion": {SchemaProps: spec.SchemaProps{Type: []string{"string"}}},
							"kind":       {SchemaProps: spec.SchemaProps{Type: []string{"string"}}},
							"metadata":   {SchemaProps: spec.SchemaProps{Ref: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta")}},
							"spec": {SchemaProps: spec.SchemaProps{Type: []string{"object"}, Properties: map[string]spec.Schema{
								"size": {SchemaProps: spec.SchemaProps{Type: []string{"integer"}, Description: "size of the widget"}},
							}}},
						},
					},
					VendorExtensible: spec.VendorExtensible{Extensions: gvk("Widget")},
				},
				Dependencies: []string{"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"},
			},
			"com.example.v1.WidgetList": {
				Schema: spec.Schema{
					SchemaProps: spec.SchemaProps{
						Type: []string{"object"},
						Properties: map[string]spec.Schema{
							"items":    {SchemaProps: spec.SchemaProps{Type: []string{"array"}, Items: &spec.SchemaOrArray{Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Ref: ref("com.example.v1.Widget")}}}}},
							"metadata": {SchemaProps: spec.SchemaProps{Ref: ref("io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta")}},
						},
					},
					VendorExtensible: spec.VendorExtensible{Extensions: gvk("WidgetList")},
				},
				Dependencies: []string{"com.example.v1.Widget", "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"},
			},
		}
	}
}

func TestUpdate(t *testing.T) {
	base := builtinResources()
	s := mustNew(t, base)
	before := indexURLs(t, s)
	if _, ok := before["apis/example.com/v1"]; ok {
		t.Fatal("custom group-version served before Update")
	}
	widgets := res("example.com", "v1", "Widget", "widgets", true, allVerbs, "status", "scale")

	// Readers keep reading while documents are swapped.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range []string{"/openapi/v3", "/openapi/v3/api/v1", "/openapi/v3/apis/example.com/v1"} {
					if rec := get(t, s, p); rec.Code != http.StatusOK && rec.Code != http.StatusNotFound {
						t.Errorf("%s: %d", p, rec.Code)
					}
				}
				if pod, ok := s.Definition("io.k8s.api.core.v1.Pod"); !ok || pod.Schema.Extensions[ExtensionGVK] == nil {
					t.Errorf("Definition(Pod) = %v, %v; want one with %s", pod, ok, ExtensionGVK)
				}
			}
		}()
	}
	for i := range 3 {
		desc := "a widget, generation " + string(rune('0'+i))
		if err := s.Update(append(slices.Clone(base), widgets), widgetDefinitions(desc)); err != nil {
			t.Fatal(err)
		}
		doc, _ := v3Doc(t, s, "apis/example.com/v1")
		if got := doc.Components.Schemas["com.example.v1.Widget"].Description; got != desc {
			t.Errorf("Widget description %q, want %q", got, desc)
		}
	}
	close(stop)
	wg.Wait()

	after := indexURLs(t, s)
	if after["api/v1"] != before["api/v1"] || after["apis/apps/v1"] != before["apis/apps/v1"] {
		t.Error("unchanged group-versions changed hash")
	}
	if _, ok := after["apis/example.com/v1"]; !ok {
		t.Fatal("custom group-version not in the index")
	}
	if _, ok := after["apis/example.com"]; !ok {
		t.Fatal("custom group not in the index")
	}
	doc, _ := v3Doc(t, s, "apis/example.com/v1")
	patch := doc.Paths.Paths["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]
	if patch == nil || patch.Patch == nil || patch.Patch.OperationId != "patchExampleComV1NamespacedWidget" {
		t.Fatalf("no patchExampleComV1NamespacedWidget")
	}
	if _, ok := s.Definition("com.example.v1.Widget"); !ok {
		t.Error("Definition lacks the custom definition")
	}

	// A failed Update leaves the documents alone.
	if err := s.Update(append(slices.Clone(base), res("example.com", "v1", "Gadget", "gadgets", true, allVerbs))); err == nil {
		t.Fatal("Update with an undefined kind succeeded")
	}
	if got := indexURLs(t, s); !reflect.DeepEqual(got, after) {
		t.Error("failed Update changed the documents")
	}
	// Defining a name twice is an error.
	if err := s.Update(base, widgetDefinitions("x"), widgetDefinitions("y")); err == nil {
		t.Error("Update with a definition given twice succeeded")
	}

	// Removing the custom resource removes its documents.
	if err := s.Update(base); err != nil {
		t.Fatal(err)
	}
	if got := indexURLs(t, s); !reflect.DeepEqual(got, before) {
		t.Errorf("after removing the custom resource the index differs")
	}
	if rec := get(t, s, "/openapi/v3/apis/example.com/v1"); rec.Code != http.StatusNotFound {
		t.Errorf("removed group-version: %d", rec.Code)
	}
}

func indexURLs(t *testing.T, s *Service) map[string]string {
	t.Helper()
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(get(t, s, "/openapi/v3").Body.Bytes(), &index); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range index.Paths {
		out[k] = v.ServerRelativeURL
	}
	return out
}

// TestTypeConverter checks the schemas serve server-side apply: the type
// converter of each kind accepts its schemas and types built-in and custom
// objects of that kind.
func TestTypeConverter(t *testing.T) {
	s := mustNew(t, append(builtinResources(), res("example.com", "v1", "Widget", "widgets", true, allVerbs)), widgetDefinitions("a widget"))
	converter := func(gvk schema.GroupVersionKind) managedfields.TypeConverter {
		t.Helper()
		schemas, err := s.KindSchemas(gvk)
		if err != nil {
			t.Fatalf("KindSchemas(%v): %v", gvk, err)
		}
		tc, err := managedfields.NewTypeConverter(schemas, false)
		if err != nil {
			t.Fatalf("NewTypeConverter(%v): %v", gvk, err)
		}
		return tc
	}
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default", Labels: map[string]string{"a": "b"}},
		Data:       map[string]string{"key": "value"},
	}
	cmConverter := converter(cm.GroupVersionKind())
	tv, err := cmConverter.ObjectToTyped(cm)
	if err != nil {
		t.Fatalf("ObjectToTyped(ConfigMap): %v", err)
	}
	fields, err := tv.ToFieldSet()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fields.String(), ".data.key") {
		t.Errorf("field set %s lacks .data.key", fields)
	}
	deploy := &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "nginx", Ports: []corev1.ContainerPort{{ContainerPort: 80, Protocol: "TCP"}},
			}}}},
		},
	}
	if _, err := converter(deploy.GroupVersionKind()).ObjectToTyped(deploy); err != nil {
		t.Errorf("ObjectToTyped(Deployment): %v", err)
	}
	// A converter knows its own kind only, in every version.
	if _, err := cmConverter.ObjectToTyped(deploy); err == nil {
		t.Error("the ConfigMap converter typed a Deployment")
	}
	hpaConverter := converter(schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "HorizontalPodAutoscaler"})
	for _, version := range []string{"v1", "v2"} {
		hpa := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "autoscaling/" + version, "kind": "HorizontalPodAutoscaler", "metadata": map[string]any{"name": "h"}}}
		if _, err := hpaConverter.ObjectToTyped(hpa); err != nil {
			t.Errorf("the autoscaling/v1 HorizontalPodAutoscaler converter: ObjectToTyped(%s): %v", version, err)
		}
	}
	// A field the schema does not know is rejected.
	bad := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}, "bogus": int64(1)}}
	if _, err := cmConverter.ObjectToTyped(bad); err == nil {
		t.Error("ObjectToTyped accepted an unknown field")
	}
	widget := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": map[string]any{"name": "w"}, "spec": map[string]any{"size": int64(3)}}}
	if _, err := converter(widget.GroupVersionKind()).ObjectToTyped(widget); err != nil {
		t.Errorf("ObjectToTyped(Widget): %v", err)
	}
	if _, err := s.KindSchemas(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Gadget"}); err == nil {
		t.Error("KindSchemas of an undefined kind succeeded")
	}
}

// TestEmbeddedDefinitions checks generated/definitions.jsonl, the built-in
// definitions skiff serves, says what openapi-gen's code in package
// generated says, in both reference forms. When it fails after a change of
// k8s.io/api, run go generate ./internal/openapi/.
func TestEmbeddedDefinitions(t *testing.T) {
	for _, prefix := range []string{refV2, refV3} {
		want := generated.GetOpenAPIDefinitions(func(name string) spec.Ref { return refFunc(prefix)(restFriendly(name)) })
		table := builtins()
		if len(want) != len(*table) {
			t.Errorf("%d definitions embedded, %d generated", len(*table), len(want))
		}
		for name, w := range want {
			name = restFriendly(name)
			got, ok := builtinDefinition(table, name, prefix)
			if !ok {
				t.Errorf("%s is not embedded", name)
				continue
			}
			delete(got.Schema.Extensions, ExtensionGVK)
			if len(got.Schema.Extensions) == 0 {
				got.Schema.Extensions = nil
			}
			if g, w := jsonString(t, got.Schema), jsonString(t, w.Schema); g != w {
				t.Errorf("%s (%s): embedded schema differs from the generated one:\n%s", name, prefix, firstDiff(w, g))
			}
			deps := make([]string, len(w.Dependencies))
			for i, d := range w.Dependencies {
				deps[i] = restFriendly(d)
			}
			if !slices.Equal(got.Dependencies, deps) && len(deps)+len(got.Dependencies) > 0 {
				t.Errorf("%s: embedded dependencies %v, generated %v", name, got.Dependencies, deps)
			}
			if v2, ok := w.Schema.Extensions[common.ExtensionV2Schema]; ok {
				if _, same := got.Schema.Extensions[common.ExtensionV2Schema].(spec.Schema); !same {
					t.Errorf("%s: %s is a %T, want a spec.Schema like the generated %T", name, common.ExtensionV2Schema, got.Schema.Extensions[common.ExtensionV2Schema], v2)
				}
			}
		}
	}
}
