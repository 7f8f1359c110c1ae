package openapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
)

// kubectlServer is a minimal API server front: hand-written discovery for
// the given resources plus the Service under test, logging every request.
type kubectlServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []string // "Accept-less" request URIs in arrival order
}

func (k *kubectlServer) log() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.requests)
}

func startKubectlServer(t *testing.T, rs []Resource) *kubectlServer {
	t.Helper()
	svc := mustNew(t, rs)
	k := &kubectlServer{}
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.Handle("/openapi/", svc)
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, version.Info{Major: "1", Minor: "37", GitVersion: "v1.37.2", Platform: "linux/amd64"})
	})
	mux.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"}})
	})
	byGV := map[string][]metav1.APIResource{}
	groups := map[string]bool{}
	for _, r := range rs {
		gv := r.GVK.GroupVersion().String()
		byGV[gv] = append(byGV[gv], metav1.APIResource{
			Name: r.Resource, SingularName: strings.ToLower(r.GVK.Kind), Namespaced: r.Namespaced,
			Kind: r.GVK.Kind, Verbs: r.Verbs,
		})
		if r.GVK.Group != "" {
			groups[r.GVK.Group] = true
		}
	}
	apis := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
	for g := range groups {
		v := metav1.GroupVersionForDiscovery{GroupVersion: g + "/v1", Version: "v1"}
		apis.Groups = append(apis.Groups, metav1.APIGroup{Name: g, Versions: []metav1.GroupVersionForDiscovery{v}, PreferredVersion: v})
	}
	mux.HandleFunc("/apis", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, apis) })
	for gv, resources := range byGV {
		path := "/apis/" + gv
		if !strings.Contains(gv, "/") {
			path = "/api/" + gv
		}
		list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv, APIResources: resources}
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, list) })
	}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		k.requests = append(k.requests, r.URL.RequestURI()+" Accept="+r.Header.Get("Accept"))
		k.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(k.Close)
	return k
}

// kubectl runs the real kubectl against srv with a private kubeconfig and
// cache, returning combined output.
func kubectl(t *testing.T, srv *kubectlServer, stdin string, args ...string) (string, error) {
	t.Helper()
	bin, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl not found (%v): make test installs what tests need; kubectl is part of every skiff machine", err)
	}
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: skiff
  cluster:
    server: %s
contexts:
- name: skiff
  context:
    cluster: skiff
    user: skiff
    namespace: default
users:
- name: skiff
  user:
    token: test
current-context: skiff
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--cache-dir", filepath.Join(dir, "cache")}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig, "HOME="+dir)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var kubectlResources = []Resource{
	res("", "v1", "ConfigMap", "configmaps", true, allVerbs),
	res("apps", "v1", "Deployment", "deployments", true, allVerbs, statusScale...),
}

func TestKubectlExplain(t *testing.T) {
	srv := startKubectlServer(t, kubectlResources)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"explain", "configmap.data"}, []string{"KIND:", "ConfigMap", "FIELD:", "data", "Data contains the configuration data"}},
		{[]string{"explain", "deployment.spec.replicas", "--api-version=apps/v1"}, []string{"KIND:", "Deployment", "GROUP:", "apps", "replicas", "Number of desired pods"}},
	} {
		out, err := kubectl(t, srv, "", tc.args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s\nrequests:\n%s", strings.Join(tc.args, " "), err, out, strings.Join(srv.log(), "\n"))
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("kubectl %s: output lacks %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
	if !slices.ContainsFunc(srv.log(), func(r string) bool { return strings.HasPrefix(r, "/openapi/v3/api/v1?hash=") }) {
		t.Errorf("kubectl did not fetch the api/v1 document by hash; requests:\n%s", strings.Join(srv.log(), "\n"))
	}
}

const configMapWithUnknownField = `apiVersion: v1
kind: ConfigMap
metadata:
  name: strict
data:
  key: value
bogus: field
`

// TestKubectlFieldValidation: with a PATCH operation carrying
// fieldValidation in v3, kubectl leaves strict validation to the server and
// never asks for v2.
func TestKubectlFieldValidation(t *testing.T) {
	srv := startKubectlServer(t, kubectlResources)
	out, err := kubectl(t, srv, configMapWithUnknownField, "create", "--dry-run=client", "-o", "yaml", "--validate=strict", "-f", "-")
	if err != nil {
		t.Fatalf("kubectl create: %v\n%s\nrequests:\n%s", err, out, strings.Join(srv.log(), "\n"))
	}
	if !strings.Contains(out, "name: strict") {
		t.Errorf("output:\n%s", out)
	}
	log := srv.log()
	if !slices.ContainsFunc(log, func(r string) bool { return strings.HasPrefix(r, "/openapi/v3/api/v1?hash=") }) {
		t.Errorf("kubectl did not fetch the api/v1 v3 document; requests:\n%s", strings.Join(log, "\n"))
	}
	if slices.ContainsFunc(log, func(r string) bool { return strings.HasPrefix(r, "/openapi/v2") }) {
		t.Errorf("kubectl fell back to v2, so it found no fieldValidation in v3; requests:\n%s", strings.Join(log, "\n"))
	}
}

// TestKubectlClientSideValidation: without a PATCH operation kubectl cannot
// rely on the server and validates against the v2 document, fetched as
// protobuf, rejecting the unknown field itself.
func TestKubectlClientSideValidation(t *testing.T) {
	noPatch := res("", "v1", "ConfigMap", "configmaps", true, []string{"create", "delete", "get", "list", "update", "watch"})
	srv := startKubectlServer(t, []Resource{noPatch})
	out, err := kubectl(t, srv, configMapWithUnknownField, "create", "--dry-run=client", "-o", "yaml", "--validate=strict", "-f", "-")
	if err == nil {
		t.Fatalf("kubectl accepted an unknown field:\n%s", out)
	}
	if !strings.Contains(out, `unknown field "bogus"`) {
		t.Errorf("kubectl failed for another reason: %v\n%s\nrequests:\n%s", err, out, strings.Join(srv.log(), "\n"))
	}
	if !slices.ContainsFunc(srv.log(), func(r string) bool {
		return strings.HasPrefix(r, "/openapi/v2") && strings.Contains(r, MediaV2Protobuf)
	}) {
		t.Errorf("kubectl did not fetch v2 as protobuf; requests:\n%s", strings.Join(srv.log(), "\n"))
	}
	// A valid manifest passes the same validation.
	valid := strings.Replace(configMapWithUnknownField, "bogus: field\n", "", 1)
	if out, err := kubectl(t, srv, valid, "create", "--dry-run=client", "-o", "yaml", "--validate=strict", "-f", "-"); err != nil {
		t.Errorf("kubectl rejected a valid ConfigMap: %v\n%s", err, out)
	}
}
