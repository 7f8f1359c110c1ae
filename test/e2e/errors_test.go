package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

const cmPath = "/api/v1/namespaces/default/configmaps"

// expectStatus checks that r is a metav1.Status failure with the given code
// and reason, and returns it.
func expectStatus(t *testing.T, r httpResult, code int, reason metav1.StatusReason) metav1.Status {
	t.Helper()
	var st metav1.Status
	if r.Code != code {
		t.Errorf("HTTP %d, want %d; body: %s", r.Code, code, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json; body: %s", ct, r.Body)
	}
	if err := json.Unmarshal(r.Body, &st); err != nil {
		t.Errorf("body is not a JSON Status: %v\n%s", err, r.Body)
		return st
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Errorf("kind/apiVersion = %q/%q, want Status/v1; body: %s", st.Kind, st.APIVersion, r.Body)
	}
	if st.Status != metav1.StatusFailure {
		t.Errorf("status = %q, want Failure; body: %s", st.Status, r.Body)
	}
	if int(st.Code) != code {
		t.Errorf("Status code = %d, want %d; body: %s", st.Code, code, r.Body)
	}
	if st.Reason != reason {
		t.Errorf("Status reason = %q, want %q; body: %s", st.Reason, reason, r.Body)
	}
	if st.Message == "" {
		t.Errorf("Status has no message; body: %s", r.Body)
	}
	return st
}

// expectAbsent checks that GET path is 404: a failed request stored nothing.
func expectAbsent(t *testing.T, s *Skiff, path string) {
	t.Helper()
	if r := s.Do(http.MethodGet, path, "", nil); r.Code != http.StatusNotFound {
		t.Errorf("GET %s = %d, want 404 (the failed request must store nothing); body: %s", path, r.Code, r.Body)
	}
}

func mustCreate(t *testing.T, s *Skiff, path, body string) map[string]any {
	t.Helper()
	r := s.Do(http.MethodPost, path, "application/json", []byte(body))
	if r.Code != http.StatusCreated {
		t.Fatalf("POST %s = %d, want 201: %s", path, r.Code, r.Body)
	}
	var obj map[string]any
	if err := json.Unmarshal(r.Body, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func TestErrorMalformedBody(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)

	r := s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"broken"},"data":{"a":`))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	expectAbsent(t, s, cmPath+"/broken")

	r = s.Do(http.MethodPost, cmPath, "application/yaml",
		[]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken-yaml\ndata: [\n"))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	expectAbsent(t, s, cmPath+"/broken-yaml")

	// A JSON value that is not an object.
	r = s.Do(http.MethodPost, cmPath, "application/json", []byte(`["not","an","object"]`))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
}

func TestErrorWrongKind(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)

	r := s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrong-kind"},"stringData":{"a":"b"}}`))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	expectAbsent(t, s, cmPath+"/wrong-kind")
	expectAbsent(t, s, "/api/v1/namespaces/default/secrets/wrong-kind")

	r = s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"coordination.k8s.io/v1","kind":"ConfigMap","metadata":{"name":"wrong-version"}}`))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	expectAbsent(t, s, cmPath+"/wrong-version")
}

func TestErrorNameOrNamespaceMismatch(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	created := mustCreate(t, s, cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"url-name"},"data":{"k":"orig"}}`)
	rv := created["metadata"].(map[string]any)["resourceVersion"].(string)

	// PUT to url-name with a body naming another object.
	r := s.Do(http.MethodPut, cmPath+"/url-name", "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"body-name","resourceVersion":"`+rv+`"},"data":{"k":"changed"}}`))
	st := expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	if !strings.Contains(st.Message, "body-name") || !strings.Contains(st.Message, "url-name") {
		t.Errorf("message %q should name both the URL's and the body's name", st.Message)
	}
	expectAbsent(t, s, cmPath+"/body-name")
	if got := s.MustKubectl("get", "cm", "url-name", "-o", "jsonpath={.data.k}"); got != "orig" {
		t.Errorf("url-name data.k = %q after the refused PUT, want orig", got)
	}

	// POST to namespace default with a body in kube-system.
	r = s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ns-mismatch","namespace":"kube-system"}}`))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	expectAbsent(t, s, cmPath+"/ns-mismatch")
	expectAbsent(t, s, "/api/v1/namespaces/kube-system/configmaps/ns-mismatch")
}

func TestErrorBodyTooLarge(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	big := strings.Repeat("x", 3<<20+512<<10) // 3.5 MiB: over the 3 MiB request limit
	r := s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"too-big"},"data":{"k":"`+big+`"}}`))
	expectStatus(t, r, http.StatusRequestEntityTooLarge, metav1.StatusReasonRequestEntityTooLarge)
	expectAbsent(t, s, cmPath+"/too-big")
}

func TestErrorNamespaceMissing(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	r := s.Do(http.MethodPost, "/api/v1/namespaces/no-such-ns/configmaps", "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"orphan"}}`))
	st := expectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound)
	if st.Details == nil || st.Details.Name != "no-such-ns" || st.Details.Kind != "namespaces" {
		t.Errorf("details = %+v, want name no-such-ns, kind namespaces", st.Details)
	}
	expectAbsent(t, s, "/api/v1/namespaces/no-such-ns/configmaps/orphan")

	_, stderr, err := s.Kubectl("create", "configmap", "orphan", "-n", "no-such-ns")
	if err == nil || !strings.Contains(stderr, `namespaces "no-such-ns" not found`) {
		t.Errorf("kubectl create in a missing namespace: err %v, stderr %q; want namespaces \"no-such-ns\" not found", err, stderr)
	}
}

func TestErrorAlreadyExists(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	mustCreate(t, s, cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"k":"first"}}`)
	r := s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup"},"data":{"k":"second"}}`))
	st := expectStatus(t, r, http.StatusConflict, metav1.StatusReasonAlreadyExists)
	if st.Details == nil || st.Details.Name != "dup" || st.Details.Kind != "configmaps" {
		t.Errorf("details = %+v, want name dup, kind configmaps", st.Details)
	}
	if st.Message != `configmaps "dup" already exists` {
		t.Errorf("message = %q, want configmaps \"dup\" already exists", st.Message)
	}
	if got := s.MustKubectl("get", "cm", "dup", "-o", "jsonpath={.data.k}"); got != "first" {
		t.Errorf("data.k = %q after the refused duplicate create, want first", got)
	}

	_, stderr, err := s.Kubectl("create", "configmap", "dup")
	if err == nil || !strings.Contains(stderr, `configmaps "dup" already exists`) {
		t.Errorf("kubectl create of an existing configmap: err %v, stderr %q; want configmaps \"dup\" already exists", err, stderr)
	}
}

func TestErrorStaleResourceVersion(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	obj := mustCreate(t, s, cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"occ"},"data":{"k":"v1"}}`)
	rv1 := obj["metadata"].(map[string]any)["resourceVersion"].(string)

	put := func(rv, v string) httpResult {
		return s.Do(http.MethodPut, cmPath+"/occ", "application/json",
			[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"occ","resourceVersion":"`+rv+`"},"data":{"k":"`+v+`"}}`))
	}
	if r := put(rv1, "v2"); r.Code != http.StatusOK {
		t.Fatalf("PUT with the current resourceVersion = %d: %s", r.Code, r.Body)
	}
	st := expectStatus(t, put(rv1, "stale"), http.StatusConflict, metav1.StatusReasonConflict)
	if !strings.Contains(st.Message, "the object has been modified; please apply your changes to the latest version and try again") {
		t.Errorf("message %q lacks the standard conflict text", st.Message)
	}
	if st.Details == nil || st.Details.Name != "occ" || st.Details.Kind != "configmaps" {
		t.Errorf("details = %+v, want name occ, kind configmaps", st.Details)
	}
	if got := s.MustKubectl("get", "cm", "occ", "-o", "jsonpath={.data.k}"); got != "v2" {
		t.Errorf("data.k = %q after the refused stale PUT, want v2", got)
	}
}

func TestErrorInvalidObject(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)

	r := s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}`))
	st := expectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if st.Details == nil || st.Details.Kind != "ConfigMap" || st.Details.Name != "Not_Valid" {
		t.Errorf("details = %+v, want kind ConfigMap, name Not_Valid", st.Details)
	} else if !hasCause(st, "metadata.name") {
		t.Errorf("causes %+v do not name field metadata.name", st.Details.Causes)
	}
	if !strings.Contains(st.Message, `ConfigMap "Not_Valid" is invalid: metadata.name: Invalid value: "Not_Valid"`) {
		t.Errorf("message = %q", st.Message)
	}

	r = s.Do(http.MethodPost, cmPath, "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"bad-label","labels":{"app":"has spaces!"}}}`))
	st = expectStatus(t, r, http.StatusUnprocessableEntity, metav1.StatusReasonInvalid)
	if !hasCause(st, "metadata.labels") {
		t.Errorf("causes %+v do not name field metadata.labels", st.Details)
	}
	expectAbsent(t, s, cmPath+"/bad-label")

	if got := s.MustKubectl("get", "cm", "-o", "name"); strings.Contains(got, "Not_Valid") {
		t.Errorf("an invalid configmap was stored: %s", got)
	}
}

func hasCause(st metav1.Status, field string) bool {
	if st.Details == nil {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Field == field || strings.HasPrefix(c.Field, field+"[") || strings.HasPrefix(c.Field, field+".") {
			return true
		}
	}
	return false
}

func TestErrorUnknownResource(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	for _, path := range []string{
		"/api/v1/namespaces/default/widgets",
		"/api/v1/widgets",
		"/apis/example.com/v1/widgets",
		"/apis/coordination.k8s.io/v1/namespaces/default/widgets",
	} {
		r := s.Do(http.MethodGet, path, "", nil)
		expectStatus(t, r, http.StatusNotFound, metav1.StatusReasonNotFound)
	}
	_, stderr, err := s.Kubectl("get", "widgets")
	if err == nil || !strings.Contains(stderr, `the server doesn't have a resource type "widgets"`) {
		t.Errorf("kubectl get widgets: err %v, stderr %q", err, stderr)
	}
}

func TestErrorUnsupportedMediaType(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	mustCreate(t, s, cmPath, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"media"},"data":{"k":"v"}}`)

	r := s.Do(http.MethodPatch, cmPath+"/media", "text/plain", []byte(`{"data":{"k":"x"}}`))
	expectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
	r = s.Do(http.MethodPost, cmPath, "text/plain", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"plain"}}`))
	expectStatus(t, r, http.StatusUnsupportedMediaType, metav1.StatusReasonUnsupportedMediaType)
	expectAbsent(t, s, cmPath+"/plain")
}

func TestErrorNotAcceptable(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	r := doHTTP(t, s.HTTPClient(), http.MethodGet, s.URL(cmPath), "", nil,
		http.Header{"Accept": {"application/json;as=NoSuchThing;v=v1;g=meta.k8s.io"}})
	expectStatus(t, r, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable)
}

// TestFieldValidation drives fieldValidation=Strict|Warn|Ignore through the API.
func TestFieldValidation(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	body := func(name string) []byte {
		return []byte(`{"apiVersion":"v1","kind":"ConfigMap",` +
			`"metadata":{"name":"` + name + `","unknownMeta":1},` +
			`"data":{"k":"first"},"data":{"k":"second"},"unknownField":"x"}`)
	}

	r := s.Do(http.MethodPost, cmPath+"?fieldValidation=Strict", "application/json", body("strict"))
	st := expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
	for _, want := range []string{
		"strict decoding error",
		`unknown field "unknownField"`,
		`unknown field "metadata.unknownMeta"`,
		`duplicate field "data"`,
	} {
		if !strings.Contains(st.Message, want) {
			t.Errorf("Strict: message %q lacks %q", st.Message, want)
		}
	}
	expectAbsent(t, s, cmPath+"/strict")

	for _, mode := range []string{"Warn", ""} { // Warn is the default
		name := "warn" + strings.ToLower(mode)
		q := ""
		if mode != "" {
			q = "?fieldValidation=" + mode
		}
		r = s.Do(http.MethodPost, cmPath+q, "application/json", body(name))
		if r.Code != http.StatusCreated {
			t.Errorf("fieldValidation=%q: %d %s, want 201", mode, r.Code, r.Body)
			continue
		}
		warnings := warningTexts(t, r)
		for _, want := range []string{`unknown field "unknownField"`, `unknown field "metadata.unknownMeta"`, `duplicate field "data"`} {
			if !strings.Contains(warnings, want) {
				t.Errorf("fieldValidation=%q: Warning headers %q lack %q", mode, warnings, want)
			}
		}
		if got := s.MustKubectl("get", "cm", name, "-o", "jsonpath={.data.k}"); got != "second" {
			t.Errorf("fieldValidation=%q: data.k = %q, want the last duplicate, second", mode, got)
		}
	}

	r = s.Do(http.MethodPost, cmPath+"?fieldValidation=Ignore", "application/json", body("ignore"))
	if r.Code != http.StatusCreated {
		t.Errorf("fieldValidation=Ignore: %d %s, want 201", r.Code, r.Body)
	}
	if w := r.Header.Values("Warning"); len(w) != 0 {
		t.Errorf("fieldValidation=Ignore: Warning headers %q, want none", w)
	}

	r = s.Do(http.MethodPost, cmPath+"?fieldValidation=Sometimes", "application/json", body("bogus"))
	expectStatus(t, r, http.StatusBadRequest, metav1.StatusReasonBadRequest)
}

func warningTexts(t *testing.T, r httpResult) string {
	t.Helper()
	ws, errs := utilnet.ParseWarningHeaders(r.Header.Values("Warning"))
	if len(errs) > 0 {
		t.Errorf("malformed Warning headers %q: %v", r.Header.Values("Warning"), errs)
	}
	var texts []string
	for _, w := range ws {
		if w.Code != 299 {
			t.Errorf("Warning code %d, want 299", w.Code)
		}
		texts = append(texts, w.Text)
	}
	return strings.Join(texts, "\n")
}
