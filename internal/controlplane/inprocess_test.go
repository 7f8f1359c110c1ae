package controlplane

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/auth"
)

// networkStub stands for the network transport: it records what reached it.
type networkStub struct{ paths []string }

func (n *networkStub) RoundTrip(req *http.Request) (*http.Response, error) {
	n.paths = append(n.paths, req.URL.Path)
	return nil, errors.New("network: not in this test")
}

// A client-go request goes to the handler as the loopback user, with its
// body, and the handler's response comes back whole; streamed requests go
// to the network; a handler's panic fails the request, not the caller.
func TestInProcessTransport(t *testing.T) {
	user := &auth.User{Name: "loopback", Groups: []string{"system:masters"}}
	var seen []string
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := auth.UserFrom(r.Context())
		if !ok || u.Name != "loopback" {
			http.Error(w, "no user", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" "+string(body))
		if strings.HasSuffix(r.URL.Path, "/panic") {
			panic("handler bug")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"made","namespace":"ns","resourceVersion":"7"}}`)
	})
	network := &networkStub{}
	cfg := &rest.Config{Host: "https://127.0.0.1:1", Transport: &inProcess{api: api, user: user, network: network}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cm, err := cs.CoreV1().ConfigMaps("ns").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "made"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if cm.Name != "made" || cm.ResourceVersion != "7" {
		t.Errorf("response decoded as %s/%s rv %s", cm.Namespace, cm.Name, cm.ResourceVersion)
	}
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "POST /api/v1/namespaces/ns/configmaps ") || !strings.Contains(seen[0], "made") {
		t.Errorf("handler saw %q", seen)
	}

	if _, err := cs.CoreV1().ConfigMaps("ns").Watch(ctx, metav1.ListOptions{}); err == nil {
		t.Error("watch: served without the network")
	}
	if _, err := cs.CoreV1().Pods("ns").GetLogs("p", &corev1.PodLogOptions{}).DoRaw(ctx); err == nil {
		t.Error("logs: served without the network")
	}
	if want := []string{"/api/v1/namespaces/ns/configmaps", "/api/v1/namespaces/ns/pods/p/log"}; strings.Join(network.paths, ",") != strings.Join(want, ",") {
		t.Errorf("network got %q, want %q", network.paths, want)
	}

	err = cs.CoreV1().RESTClient().Get().AbsPath("/panic").Do(ctx).Error()
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("a panicking handler: err %v, want the request failed", err)
	}
}
