package printers

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// apiResource is what the fake server serves for one resource of the core
// group: its discovery entry and the Table of its list.
type apiResource struct {
	kind       string
	namespaced bool
	table      []byte
	// watch, if set, is the body of a watch request: newline-separated
	// watch events.
	watch []byte
}

// fakeAPIServer answers kubectl's discovery and, for each resource, a list
// request with the resource's Table. It serves only what `kubectl get`
// needs: /version, /api, /api/v1, /apis, and lists.
func fakeAPIServer(t *testing.T, resources map[string]apiResource) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	var requests []string
	t.Cleanup(func() {
		if t.Failed() {
			mu.Lock()
			defer mu.Unlock()
			t.Logf("requests:\n%s", strings.Join(requests, "\n"))
		}
	})

	discovery := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: "v1"}
	for name, r := range resources {
		discovery.APIResources = append(discovery.APIResources, metav1.APIResource{
			Name: name, SingularName: strings.ToLower(r.kind), Namespaced: r.namespaced, Kind: r.kind,
			Verbs: metav1.Verbs{"create", "delete", "get", "list", "patch", "update", "watch"},
		})
	}

	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(v); err != nil {
			t.Error(err)
		}
	}
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]string{"major": "1", "minor": "37", "gitVersion": "v1.37.2", "platform": "linux/amd64"})
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}}})
	})
	mux.HandleFunc("GET /api/v1", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, discovery) })
	mux.HandleFunc("GET /apis", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}})
	})
	list := func(w http.ResponseWriter, r *http.Request) {
		res, ok := resources[r.PathValue("resource")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !strings.Contains(r.Header.Get("Accept"), "as=Table") {
			http.Error(w, "this server only answers tables", http.StatusNotAcceptable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("watch") == "true" {
			// The stream ends after the events; kubectl get -w then exits.
			w.Write(res.watch)
			return
		}
		w.Write(res.table)
	}
	mux.HandleFunc("GET /api/v1/namespaces/{namespace}/{resource}", list)
	mux.HandleFunc("GET /api/v1/{resource}", list)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.String()+" Accept: "+r.Header.Get("Accept"))
		mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// kubectl runs the real kubectl against server and returns what it prints.
func kubectl(t *testing.T, server string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	config := `apiVersion: v1
kind: Config
clusters:
- name: skiff
  cluster:
    server: ` + server + `
contexts:
- name: skiff
  context:
    cluster: skiff
    user: skiff
    namespace: default
current-context: skiff
users:
- name: skiff
  user: {}
`
	if err := os.WriteFile(kubeconfig, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	args = append([]string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(dir, "cache"), "--request-timeout", "20s"}, args...)
	cmd := exec.CommandContext(ctx, "kubectl", args...)
	cmd.Env = append(os.Environ(), "HOME="+dir, "KUBECONFIG="+kubeconfig)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, stderr.String())
	}
	return string(out)
}

// TestKubectlRendersTables points the real kubectl at a server that answers
// with this package's Tables and checks what users see.
func TestKubectlRendersTables(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl not found (%v): make test installs what tests need; kubectl is part of every skiff machine", err)
	}
	lists := goldenLists()
	resources := map[string]apiResource{
		"configmaps": {kind: "ConfigMap", namespaced: true, table: tableJSON(t, lists["configmaps"])},
		"pods":       {kind: "Pod", namespaced: true, table: tableJSON(t, lists["pods"])},
		"events":     {kind: "Event", namespaced: true, table: tableJSON(t, lists["events"])},
		"namespaces": {kind: "Namespace", table: tableJSON(t, lists["namespaces"])},
		"nodes":      {kind: "Node", table: tableJSON(t, lists["nodes"])},
	}
	srv := fakeAPIServer(t, resources)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"get", "configmaps"}, `
NAME               DATA   AGE
app-config         3      3h20m
kube-root-ca.crt   1      40d
empty              0      5s
`},
		// Row objects are PartialObjectMetadata: kubectl takes the namespace from there.
		{[]string{"get", "configmaps", "--all-namespaces"}, `
NAMESPACE   NAME               DATA   AGE
default     app-config         3      3h20m
default     kube-root-ca.crt   1      40d
default     empty              0      5s
`},
		{[]string{"get", "pods"}, `
NAME            READY   STATUS             RESTARTS       AGE
web-0           0/1     CrashLoopBackOff   17 (15s ago)   22m
web-1           1/1     Running            0              22m
migrate-x7k2p   0/1     Completed          0              120m
`},
		{[]string{"get", "pods", "-o", "wide"}, `
NAME            READY   STATUS             RESTARTS       AGE    IP           NODE     NOMINATED NODE   READINESS GATES
web-0           0/1     CrashLoopBackOff   17 (15s ago)   22m    10.244.1.7   node-1   <none>           <none>
web-1           1/1     Running            0              22m    10.244.2.4   node-2   <none>           <none>
migrate-x7k2p   0/1     Completed          0              120m   10.244.2.3   node-2   <none>           <none>
`},
		{[]string{"get", "events"}, `
LAST SEEN   TYPE      REASON              OBJECT           MESSAGE
15s         Warning   BackOff             pod/web-0        Back-off restarting failed container app in pod web-0_default
21m         Normal    ScalingReplicaSet   deployment/web   Scaled up replica set web-7d4b9c to 3 from 0
`},
		{[]string{"get", "namespaces"}, `
NAME          STATUS        AGE
default       Active        40d
kube-system   Active        40d
scratch       Terminating   90s
`},
		{[]string{"get", "nodes", "-o", "wide"}, `
NAME     STATUS                        ROLES           AGE   VERSION   INTERNAL-IP    EXTERNAL-IP    OS-IMAGE                       KERNEL-VERSION        CONTAINER-RUNTIME
cp-1     Ready                         control-plane   40d   v1.37.2   192.168.1.10   <none>         Debian GNU/Linux 13 (trixie)   6.12.43+deb13-amd64   containerd://2.1.4
node-1   NotReady,SchedulingDisabled   <none>          40d   v1.37.2   192.168.1.11   203.0.113.11   Debian GNU/Linux 13 (trixie)   6.12.43+deb13-amd64   containerd://2.1.4
`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			got := kubectl(t, srv.URL, tc.args...)
			if want := strings.TrimPrefix(tc.want, "\n"); got != want {
				t.Errorf("kubectl %s printed\n%s\nwant\n%s", strings.Join(tc.args, " "), got, want)
			}
		})
	}
}

// TestKubectlWatchesTables checks `kubectl get -w` with the watch events
// kube-apiserver sends: a Table per event, columnDefinitions only in the
// first.
func TestKubectlWatchesTables(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Fatalf("kubectl not found (%v): make test installs what tests need; kubectl is part of every skiff machine", err)
	}
	lists := goldenLists()
	list := lists["configmaps"].(*corev1.ConfigMapList)
	var events []byte
	for i, item := range list.Items {
		item.Data, item.BinaryData = map[string]string{"k": "v"}, nil
		tbl, err := Table(&item, now, Options{NoHeaders: i > 0})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(metav1.WatchEvent{Type: "MODIFIED", Object: runtime.RawExtension{Object: tbl}})
		if err != nil {
			t.Fatal(err)
		}
		events = append(append(events, b...), '\n')
	}
	srv := fakeAPIServer(t, map[string]apiResource{
		"configmaps": {kind: "ConfigMap", namespaced: true, table: tableJSON(t, list), watch: events},
	})
	got := kubectl(t, srv.URL, "get", "configmaps", "--watch")
	want := `NAME               DATA   AGE
app-config         3      3h20m
kube-root-ca.crt   1      40d
empty              0      5s
app-config         1      3h20m
kube-root-ca.crt   1      40d
empty              1      5s
`
	if got != want {
		t.Errorf("kubectl get --watch printed\n%s\nwant\n%s", got, want)
	}
}
