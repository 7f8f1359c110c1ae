package apiserver

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	sigsyaml "sigs.k8s.io/yaml"

	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/coordination"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/events"
	"skiff.dev/skiff/internal/storage/embedded"
)

var update = flag.Bool("update", false, "rewrite golden files")

// newTestServer serves the first kinds on a fresh embedded store.
func newTestServer(t testing.TB) (*Server, *httptest.Server) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := New(st, VersionInfo{GitVersion: "v1.37.2+skiff"})
	var coreEvents *registry.Resource
	for _, r := range core.Resources() {
		if _, err := s.Register(r); err != nil {
			t.Fatal(err)
		}
		if r.GVR.Resource == "events" {
			coreEvents = r
		}
	}
	for _, r := range append(append(coordination.Resources(), events.Resources(coreEvents)...), core.WorkloadResources()...) {
		if _, err := s.Register(r); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	if err := s.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	nsStore, _ := s.Store(corev1.SchemeGroupVersion.WithResource("namespaces"))
	if _, err := nsStore.Create(context.Background(), "", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs
}

func do(t testing.TB, method, url, contentType, accept string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	pretty = append(pretty, '\n')
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(want, pretty) {
		t.Errorf("%s differs from the golden file (run with -update and review the diff):\n%s", name, pretty)
	}
}

func TestDiscoveryGolden(t *testing.T) {
	_, hs := newTestServer(t)
	for _, tc := range []struct{ name, path, accept, contentType string }{
		{"api.json", "/api", "application/json", "application/json"},
		{"apis.json", "/apis", "application/json", "application/json"},
		{"api_v1.json", "/api/v1", "", "application/json"},
		{"apis_coordination_v1.json", "/apis/coordination.k8s.io/v1", "", "application/json"},
		{"aggregated_api.json", "/api", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", aggregatedMediaType},
		{"aggregated_apis.json", "/apis", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json", aggregatedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := do(t, "GET", hs.URL+tc.path, "", tc.accept, nil)
			if code != 200 || h.Get("Content-Type") != tc.contentType {
				t.Fatalf("GET %s: %d %s\n%s", tc.path, code, h.Get("Content-Type"), body)
			}
			// The server address is the test server's random port.
			body = bytes.ReplaceAll(body, []byte(strings.TrimPrefix(hs.URL, "http://")), []byte("HOST:PORT"))
			golden(t, tc.name, body)
		})
	}
}

// FuzzCreateBody sends arbitrary bodies as creates: the server must answer
// with a Status error or a created object, never panic or answer 5xx.
func FuzzCreateBody(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`), "application/json", "Strict")
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"), "application/yaml", "")
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`), "application/json", "Warn")
	f.Add([]byte(`{"metadata":{"name":"x","name":"y"}}`), "application/json", "Strict")
	f.Add([]byte("k8s\x00\x0a\x0c"), "application/vnd.kubernetes.protobuf", "")
	_, hs := newTestServer(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType, validation string) {
		if strings.IndexFunc(contentType, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }) >= 0 {
			return // not a header value a client can send
		}
		url := hs.URL + "/api/v1/namespaces/default/configmaps?fieldValidation=" + neturl.QueryEscape(validation)
		code, _, resp := do(t, "POST", url, contentType, "application/json", body)
		if code >= 500 {
			t.Fatalf("POST answered %d: %s", code, resp)
		}
		if code != http.StatusCreated {
			var st struct{ Kind, Reason string }
			if err := json.Unmarshal(resp, &st); err != nil || st.Kind != "Status" {
				t.Fatalf("POST answered %d without a Status: %s", code, resp)
			}
		}
	})
}

// FuzzPatch applies arbitrary patches of each type to one object: never a
// panic or a 5xx.
func FuzzPatch(f *testing.F) {
	f.Add([]byte(`{"data":{"k":"v2"}}`), uint8(0))
	f.Add([]byte(`[{"op":"add","path":"/data/x","value":"y"}]`), uint8(1))
	f.Add([]byte(`{"data":{"$patch":"replace"}}`), uint8(2))
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p"},"data":{"a":"b"}}`), uint8(3))
	_, hs := newTestServer(f)
	code, _, body := do(f, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"p"}}`))
	if code != http.StatusCreated {
		f.Fatalf("create: %d %s", code, body)
	}
	types := []string{"application/merge-patch+json", "application/json-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"}
	f.Fuzz(func(t *testing.T, patch []byte, kind uint8) {
		ct := types[int(kind)%len(types)]
		code, _, resp := do(t, "PATCH", hs.URL+"/api/v1/namespaces/default/configmaps/p?fieldManager=fuzz", ct, "application/json", patch)
		if code >= 500 {
			t.Fatalf("PATCH %s answered %d: %s", ct, code, resp)
		}
	})
}

func TestErrorsAreStatuses(t *testing.T) {
	_, hs := newTestServer(t)
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}`
	for _, tc := range []struct {
		name, method, path, contentType, body string
		code                                  int
		reason                                string
	}{
		{"malformed", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"apiVersion":`, 400, "BadRequest"},
		{"wrong kind", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`, 400, "BadRequest"},
		{"namespace mismatch", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","namespace":"other"}}`, 400, "BadRequest"},
		{"missing namespace", "POST", "/api/v1/namespaces/nope/configmaps", "application/json", cm, 404, "NotFound"},
		{"invalid name", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}`, 422, "Invalid"},
		{"unsupported media", "POST", "/api/v1/namespaces/default/configmaps", "text/plain", cm, 415, "UnsupportedMediaType"},
		{"unknown resource", "GET", "/api/v1/namespaces/default/widgets", "", "", 404, "NotFound"},
		{"not found", "GET", "/api/v1/namespaces/default/configmaps/none", "", "", 404, "NotFound"},
		{"strict unknown field", "POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict", "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"s"},"spec":{"unknownField":1}}`, 400, "BadRequest"},
		{"too large", "POST", "/api/v1/namespaces/default/configmaps", "application/json", `{"data":{"k":"` + strings.Repeat("x", MaxRequestBodyBytes) + `"}}`, 413, "RequestEntityTooLarge"},
		{"protected namespace", "DELETE", "/api/v1/namespaces/default", "", "", 403, "Forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, h, body := do(t, tc.method, hs.URL+tc.path, tc.contentType, "", []byte(tc.body))
			var st struct {
				Kind, APIVersion, Status, Reason, Message string
				Code                                      int
			}
			if err := json.Unmarshal(body, &st); err != nil {
				t.Fatalf("body is not JSON: %v\n%s", err, body)
			}
			if code != tc.code || st.Code != tc.code || st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Reason != tc.reason || h.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %+v, want %d %s", code, st, tc.code, tc.reason)
			}
		})
	}
	// Nothing of those was stored.
	_, _, body := do(t, "GET", hs.URL+"/api/v1/configmaps", "", "", nil)
	if strings.Contains(string(body), `"name":"a"`) || strings.Contains(string(body), `"name":"s"`) {
		t.Fatalf("a refused write was stored: %s", body)
	}
}

func TestReportedVerb(t *testing.T) {
	for _, tc := range []struct {
		method, path, contentType, want string
	}{
		{"GET", "/api/v1/namespaces/ns/pods", "", "LIST"},
		{"GET", "/api/v1/namespaces/ns/pods?watch=1", "", "WATCH"},
		{"GET", "/api/v1/namespaces/ns/pods/p", "", "GET"},
		{"POST", "/api/v1/namespaces/ns/pods", "application/json", "POST"},
		{"POST", "/api/v1/namespaces/ns/pods/p/binding", "application/json", "POST"},
		{"PUT", "/api/v1/namespaces/ns/pods/p/status", "application/json", "PUT"},
		{"PATCH", "/api/v1/namespaces/ns/pods/p", "application/strategic-merge-patch+json", "PATCH"},
		{"PATCH", "/api/v1/namespaces/ns/pods/p", "application/apply-patch+yaml", "APPLY"},
		{"DELETE", "/api/v1/namespaces/ns/pods/p", "", "DELETE"},
		{"DELETE", "/api/v1/namespaces/ns/pods", "", "DELETECOLLECTION"},
		{"GET", "/api/v1/namespaces/ns/pods/p/log", "", "CONNECT"},
		{"POST", "/api/v1/namespaces/ns/pods/p/exec", "", "CONNECT"},
	} {
		r := httptest.NewRequest(tc.method, tc.path, nil)
		r.Header.Set("Content-Type", tc.contentType)
		if got := reportedVerb(ParseRequestInfo(r), r); got != tc.want {
			t.Errorf("%s %s (%s): verb %q, want %q", tc.method, tc.path, tc.contentType, got, tc.want)
		}
	}
}

func TestMetricsCountRequests(t *testing.T) {
	_, hs := newTestServer(t)
	do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps", "", "", nil)
	do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps/none", "", "", nil)
	_, _, body := do(t, "GET", hs.URL+"/metrics", "", "", nil)
	for _, want := range []string{
		`apiserver_request_total{code="200",group="",resource="configmaps",subresource="",verb="LIST"} 1`,
		`apiserver_request_total{code="404",group="",resource="configmaps",subresource="",verb="GET"} 1`,
		`apiserver_request_duration_seconds_bucket{group="",resource="configmaps",subresource="",verb="LIST",le="+Inf"} 1`,
		`apiserver_storage_objects{resource="namespaces"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestOverloadAnswers429(t *testing.T) {
	s, hs := newTestServer(t)
	s.SetInflightLimits(0, 0) // every slot taken
	code, h, body := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps", "", "", nil)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") != "1" || !strings.Contains(string(body), `"reason":"TooManyRequests"`) {
		t.Fatalf("got %d Retry-After %q: %s", code, h.Get("Retry-After"), body)
	}
}

// system:masters is beyond the limits, as API Priority and Fairness
// exempts it; others still get 429.
func TestOverloadExemptsMasters(t *testing.T) {
	s, _ := newTestServer(t)
	s.SetInflightLimits(0, 0) // every slot taken
	for _, tc := range []struct {
		user *auth.User
		want int
	}{
		{&auth.User{Name: "admin", Groups: []string{auth.GroupMasters, auth.GroupAuthenticated}}, http.StatusOK},
		{&auth.User{Name: "alice", Groups: []string{auth.GroupAuthenticated}}, http.StatusTooManyRequests},
	} {
		req := httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps", nil)
		req = req.WithContext(auth.WithUser(req.Context(), tc.user))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: got %d, want %d: %s", tc.user.Name, rec.Code, tc.want, rec.Body)
		}
	}
}

// controller-runtime's typed client sends protobuf bodies for built-in
// kinds; the server must read them and answer in protobuf when asked.
func TestProtobufRoundTrip(t *testing.T) {
	_, hs := newTestServer(t)
	info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mediaProtobuf)
	if !ok {
		t.Fatal("no protobuf serializer")
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pb", Labels: map[string]string{"a": "b"}}, Data: map[string]string{"k": "v"}}
	var buf bytes.Buffer
	if err := Codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion).Encode(cm, &buf); err != nil {
		t.Fatal(err)
	}
	code, _, body := do(t, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", mediaProtobuf, mediaProtobuf+", application/json", buf.Bytes())
	if code != http.StatusCreated {
		t.Fatalf("protobuf create: %d %s", code, body)
	}
	code, h, body := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps/pb", "", mediaProtobuf, nil)
	if code != 200 || h.Get("Content-Type") != mediaProtobuf {
		t.Fatalf("protobuf get: %d %s", code, h.Get("Content-Type"))
	}
	out := &corev1.ConfigMap{}
	if _, _, err := Codecs.UniversalDecoder(corev1.SchemeGroupVersion).Decode(body, nil, out); err != nil {
		t.Fatal(err)
	}
	if out.Data["k"] != "v" || out.Labels["a"] != "b" || out.UID == "" || out.ResourceVersion == "" {
		t.Fatalf("decoded %+v", out)
	}
}

// Kinds without a spec have no generation, as upstream: the generic create
// sets none, strategies of kinds that track spec changes do.
func TestNoGenerationForKindsWithoutSpec(t *testing.T) {
	_, hs := newTestServer(t)
	code, _, body := do(t, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"g","generation":7},"data":{"k":"v"}}`))
	if code != http.StatusCreated || strings.Contains(string(body), `"generation"`) {
		t.Fatalf("create: %d %s", code, body)
	}
}

// The authorization stage sits in the request path: a denial is a 403
// Status naming the user, verb and resource, and nothing is written.
func TestAuthorizationStage(t *testing.T) {
	s, hs := newTestServer(t)
	s.SetAuthorizer(auth.AuthorizerFunc(func(_ context.Context, a auth.Attributes) (auth.Decision, string, error) {
		if a.Verb == "create" && a.Resource == "configmaps" {
			return auth.Deny, "", nil
		}
		return auth.Allow, "", nil
	}))
	code, _, body := do(t, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"denied"}}`))
	if code != http.StatusForbidden || !strings.Contains(string(body), `cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\"`) {
		t.Fatalf("denied create: %d %s", code, body)
	}
	if code, _, _ := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps/denied", "", "", nil); code != http.StatusNotFound {
		t.Fatalf("a denied create was stored: GET answered %d", code)
	}
}

// A JSON list is written from the items' shared encodings; it must decode
// to the same list as the regular encoder's (YAML here).
func TestJSONListFastPathMatchesEncoder(t *testing.T) {
	_, hs := newTestServer(t)
	for i := range 5 {
		body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"l%d","labels":{"i":"%d"}},"data":{"k":"v%d"}}`, i, i, i)
		if code, _, b := do(t, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "", []byte(body)); code != 201 {
			t.Fatalf("create: %d %s", code, b)
		}
	}
	for _, q := range []string{"", "?limit=2", "?labelSelector=i%3D3"} {
		_, _, fast := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps"+q, "", "application/json", nil)
		_, _, slow := do(t, "GET", hs.URL+"/api/v1/namespaces/default/configmaps"+q, "", "application/yaml", nil)
		var a, b corev1.ConfigMapList
		if err := json.Unmarshal(fast, &a); err != nil {
			t.Fatalf("%s: fast JSON does not decode: %v\n%s", q, err, fast)
		}
		if err := sigsyaml.Unmarshal(slow, &b); err != nil {
			t.Fatal(err)
		}
		if !apiequality.Semantic.DeepEqual(a, b) || a.Kind != "ConfigMapList" || a.APIVersion != "v1" || len(a.Items) == 0 {
			t.Fatalf("%s: fast list\n%+v\ndiffers from\n%+v", q, a, b)
		}
	}
}
