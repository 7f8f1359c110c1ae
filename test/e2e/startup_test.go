package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

var systemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// TestStartupReady runs alone (not parallel) so the startup time it measures
// is the server's, not the machine's load from other tests.
func TestStartupReady(t *testing.T) {
	s := startSkiff(t)
	// The issue asks for "ready in well under a second"; the benchmark target is 200 ms.
	if s.StartupTime > time.Second {
		t.Errorf("skiff took %v from exec to its ready line, want well under a second", s.StartupTime)
	}
	t.Logf("startup: %v (race detector: %v)", s.StartupTime, raceEnabled)

	c := s.AnonymousHTTPClient()
	for _, path := range []string{"/readyz", "/livez", "/healthz"} {
		r := doHTTP(t, c, http.MethodGet, s.URL(path), "", nil, nil)
		if r.Code != http.StatusOK || strings.TrimSpace(string(r.Body)) != "ok" {
			t.Errorf("GET %s without credentials right after the ready line = %d %q, want 200 \"ok\"", path, r.Code, r.Body)
		}
	}
}

func TestSystemNamespacesExist(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	out := s.MustKubectl("get", "namespaces", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase}{"\n"}{end}`)
	got := map[string]string{}
	for _, line := range strings.Fields(out) {
		name, phase, _ := strings.Cut(line, "=")
		got[name] = phase
	}
	for _, ns := range systemNamespaces {
		phase, ok := got[ns]
		if !ok {
			t.Errorf("namespace %s missing; kubectl get namespaces:\n%s", ns, out)
			continue
		}
		if phase != "Active" {
			t.Errorf("namespace %s has status.phase %q, want Active", ns, phase)
		}
	}
}

func TestSystemNamespacesCannotBeDeleted(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	for _, ns := range systemNamespaces {
		stdout, stderr, err := s.Kubectl("delete", "namespace", ns, "--wait=false")
		if err == nil {
			t.Errorf("kubectl delete namespace %s succeeded (%q), want Forbidden", ns, stdout)
		} else if !strings.Contains(stderr, "Error from server (Forbidden)") {
			t.Errorf("kubectl delete namespace %s: stderr %q, want a Forbidden error from the server", ns, stderr)
		}
		out := s.MustKubectl("get", "namespace", ns, "-o", "jsonpath={.status.phase},{.metadata.deletionTimestamp}")
		if out != "Active," {
			t.Errorf("after the refused delete, namespace %s has phase,deletionTimestamp = %q, want \"Active,\"", ns, out)
		}
	}

	r := s.Do(http.MethodDelete, "/api/v1/namespaces/default", "", nil)
	st := expectStatus(t, r, http.StatusForbidden, metav1.StatusReasonForbidden)
	if st.Details == nil || st.Details.Name != "default" || st.Details.Kind != "namespaces" {
		t.Errorf("DELETE namespace default: Status details %+v, want name default, kind namespaces", st.Details)
	}
}

// TestResumeOnSameDataDir: a second `skiff up` on the same data directory
// serves the same objects, and the kubeconfig written by the first still works.
func TestResumeOnSameDataDir(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "keep", "--from-literal=k=v")
	before := s.MustKubectl("get", "configmap", "keep", "-o", "jsonpath={.metadata.uid} {.metadata.resourceVersion} {.data.k}")
	nsBefore := s.MustKubectl("get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}")

	kc, err := os.ReadFile(s.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	oldKubeconfig := writeFile(t, t.TempDir(), "old-kubeconfig", string(kc))

	s.Restart() // SIGTERM, then a second `skiff up` on the same data dir and port

	old := kubectlRun{kubeconfig: oldKubeconfig}
	after, stderr, err := s.kubectl(old, "get", "configmap", "keep", "-o", "jsonpath={.metadata.uid} {.metadata.resourceVersion} {.data.k}")
	if err != nil {
		t.Fatalf("kubectl with the first start's kubeconfig after a restart: %v\n%s", err, stderr)
	}
	if after != before {
		t.Errorf("configmap after restart = %q, before = %q (uid resourceVersion data)", after, before)
	}
	if nsAfter, _, _ := s.kubectl(old, "get", "namespace", "kube-system", "-o", "jsonpath={.metadata.uid}"); nsAfter != nsBefore {
		t.Errorf("namespace kube-system uid changed across restart: %q → %q (recreated?)", nsBefore, nsAfter)
	}

	// New writes continue the revision sequence.
	if _, stderr, err := s.kubectl(old, "create", "configmap", "later", "--from-literal=k=v"); err != nil {
		t.Fatalf("create after restart: %v\n%s", err, stderr)
	}
	later, _, _ := s.kubectl(old, "get", "configmap", "later", "-o", "jsonpath={.metadata.resourceVersion}")
	oldRV, _ := strconv.ParseUint(strings.Fields(before)[1], 10, 64)
	newRV, err := strconv.ParseUint(later, 10, 64)
	if err != nil || newRV <= oldRV {
		t.Errorf("resourceVersion of a write after restart = %q, want a number greater than %d", later, oldRV)
	}
}

// TestResumeAfterKill: every acknowledged write survives SIGKILL.
func TestResumeAfterKill(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	const n = 50
	want := map[string]string{}
	for i := range n {
		cm := &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("acked-%02d", i)},
			Data:       map[string]string{"i": strconv.Itoa(i)},
		}
		got, err := cs.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want[got.Name] = got.ResourceVersion
	}

	s.Kill()
	s.Start()

	list, err := s.ClientSet().CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list after kill -9 and restart: %v", err)
	}
	got := map[string]string{}
	for _, cm := range list.Items {
		if strings.HasPrefix(cm.Name, "acked-") {
			got[cm.Name] = cm.ResourceVersion
		}
	}
	for name, rv := range want {
		if got[name] != rv {
			t.Errorf("after SIGKILL: configmap %s has resourceVersion %q, want %q (acknowledged before the kill)", name, got[name], rv)
		}
	}
}

// TestSIGTERMEndsWatches: on SIGTERM open watches end and the process exits
// cleanly (the harness fails the test if it needs SIGKILL or exits non-zero).
func TestSIGTERMEndsWatches(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := s.ClientSet().CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	stopped := time.Now()
	s.Stop()
	t.Logf("SIGTERM to exit with one open watch: %v", time.Since(stopped))

	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			if ev.Type != watch.Error {
				t.Errorf("unexpected %s event on shutdown", ev.Type)
			}
		case <-timeout:
			t.Fatal("the watch stayed open after the server exited")
		}
	}
}

func TestUnauthenticatedRequests(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	c := s.AnonymousHTTPClient()

	for _, path := range []string{"/api/v1/namespaces", "/api/v1/namespaces/default/configmaps", "/apis", "/api"} {
		r := doHTTP(t, c, http.MethodGet, s.URL(path), "", nil, nil)
		expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
	}

	// A bearer token the server does not know is no better.
	r := doHTTP(t, c, http.MethodGet, s.URL("/api/v1/namespaces"), "", nil,
		http.Header{"Authorization": {"Bearer not-a-real-token"}})
	expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)

	// An unauthenticated write stores nothing.
	body := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"sneaky"}}`)
	r = doHTTP(t, c, http.MethodPost, s.URL("/api/v1/namespaces/default/configmaps"), "application/json", body, nil)
	expectStatus(t, r, http.StatusUnauthorized, metav1.StatusReasonUnauthorized)
	if got := s.Do(http.MethodGet, "/api/v1/namespaces/default/configmaps/sneaky", "", nil); got.Code != http.StatusNotFound {
		t.Errorf("GET the configmap an unauthenticated POST tried to create = %d, want 404", got.Code)
	}

	// Health and version stay public.
	for _, path := range []string{"/version", "/healthz", "/readyz", "/livez"} {
		if r := doHTTP(t, c, http.MethodGet, s.URL(path), "", nil, nil); r.Code != http.StatusOK {
			t.Errorf("GET %s without credentials = %d %s, want 200", path, r.Code, r.Body)
		}
	}
}

// semver is the Semantic Versioning 2.0 grammar with the leading "v" Kubernetes uses.
var semver = regexp.MustCompile(`^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)` +
	`(-((0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(\.(0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?` +
	`(\+([0-9a-zA-Z-]+(\.[0-9a-zA-Z-]+)*))?$`)

func TestVersion(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	r := doHTTP(t, s.AnonymousHTTPClient(), http.MethodGet, s.URL("/version"), "", nil, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("GET /version = %d %s", r.Code, r.Body)
	}
	var v struct{ Major, Minor, GitVersion, Platform string }
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("/version is not JSON: %v\n%s", err, r.Body)
	}
	m := semver.FindStringSubmatch(v.GitVersion)
	if m == nil {
		t.Fatalf("/version gitVersion %q is not valid semver", v.GitVersion)
	}
	if v.Major != m[1] || strings.TrimSuffix(v.Minor, "+") != m[2] {
		t.Errorf("/version major.minor = %q.%q, gitVersion %q", v.Major, v.Minor, v.GitVersion)
	}

	// kubectl reads the same document.
	out := s.MustKubectl("version", "-o", "json")
	var kv struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal([]byte(out), &kv); err != nil {
		t.Fatalf("kubectl version -o json: %v\n%s", err, out)
	}
	if kv.ServerVersion.GitVersion != v.GitVersion {
		t.Errorf("kubectl version serverVersion.gitVersion = %q, /version says %q", kv.ServerVersion.GitVersion, v.GitVersion)
	}
}

// TestMetrics: /metrics of the whole control plane scrapes cleanly, with a
// storage-objects gauge per resource (once for a resource served in two
// versions) and the request counters.
func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "m1", "--from-literal=a=b")
	r := s.Do("GET", "/metrics", "", nil)
	if r.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d\n%s", r.Code, r.Body)
	}
	body := string(r.Body)
	for _, want := range []string{
		`apiserver_storage_objects{resource="configmaps"}`,
		`apiserver_storage_objects{resource="horizontalpodautoscalers.autoscaling"}`,
		// Verbs as kube-apiserver labels them: kubectl create is a POST
		// (as are the root CA publisher's creates of kube-root-ca.crt).
		`apiserver_request_total{code="201",group="",resource="configmaps",subresource="",verb="POST"} `,
	} {
		if n := strings.Count(body, want); n == 0 || (strings.HasPrefix(want, "apiserver_storage_objects") && n != 1) {
			t.Errorf("/metrics has %d lines with %s, want one", n, want)
		}
	}
}

// TestKubernetesService: default/kubernetes points at the API server, as
// kubectl cluster-info and in-cluster clients expect: the first address of
// the service range on port 443, and Endpoints at --advertise-address and
// the port skiff listens on.
func TestKubernetesService(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, "--advertise-address", "192.0.2.10", "--service-cluster-ip-range", "10.96.0.0/12")
	_, port, _ := net.SplitHostPort(s.Addr)
	if got := s.MustKubectl("get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP} {.spec.ports[0].port} {.spec.ports[0].targetPort}"); got != "10.96.0.1 443 "+port {
		t.Errorf("service kubernetes = %q, want 10.96.0.1 443 %s", got, port)
	}
	if got := s.MustKubectl("get", "endpoints", "kubernetes", "-o", "jsonpath={.subsets[0].addresses[0].ip} {.subsets[0].ports[0].port}"); got != "192.0.2.10 "+port {
		t.Errorf("endpoints kubernetes = %q, want 192.0.2.10 %s", got, port)
	}
	if out := s.MustKubectl("cluster-info"); !strings.Contains(out, "Kubernetes control plane") || !strings.Contains(out, s.Addr) {
		t.Errorf("kubectl cluster-info:\n%s", out)
	}
}
