package auth_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/pki"
)

// whoami is what the test server's handler answers.
type whoami struct {
	Name   string   `json:"name"`
	Groups []string `json:"groups"`
	Proto  string   `json:"proto"`
}

// startServer runs the pki bundle's TLS configuration in front of the
// authentication middleware, as skiff up does.
func startServer(t *testing.T, b *pki.Bundle, a auth.Authenticator) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/version", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(version.Info{GitVersion: "v1.37.0-skiff"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var me whoami
		if u, ok := auth.UserFrom(r.Context()); ok {
			me = whoami{Name: u.Name, Groups: u.Groups}
		}
		me.Proto = r.Proto
		json.NewEncoder(w).Encode(me)
	})
	srv := httptest.NewUnstartedServer(auth.Middleware(a, mux, auth.PublicPath))
	srv.EnableHTTP2 = true
	srv.TLS = b.ServerTLSConfig()
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestTLSServer(t *testing.T) {
	b, err := pki.Ensure(t.TempDir(), pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.Ensure(t.TempDir(), pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokenAuthenticator()
	if err := tokens.AddCSV(strings.NewReader(`t0ken,bob,uid-bob,"devs,ops"`)); err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, b, auth.Union(auth.NewX509Authenticator(b.CAPool), tokens))

	admin := mustPair(t, b.AdminCertPEM, b.AdminKeyPEM)
	stranger := mustPair(t, other.AdminCertPEM, other.AdminKeyPEM)
	tests := []struct {
		name      string
		path      string
		cert      *tls.Certificate
		token     string
		wantCode  int
		wantUser  string
		wantGroup string
	}{
		{name: "admin certificate", path: "/api", cert: admin, wantCode: 200, wantUser: "skiff-admin", wantGroup: "system:masters"},
		{name: "no credentials", path: "/api", wantCode: 401},
		{name: "certificate of another CA", path: "/api", cert: stranger, wantCode: 401},
		{name: "bearer token", path: "/api/v1/pods", token: "t0ken", wantCode: 200, wantUser: "bob", wantGroup: "ops"},
		{name: "bad token", path: "/api", token: "guess", wantCode: 401},
		{name: "foreign certificate plus good token", path: "/api", cert: stranger, token: "t0ken", wantCode: 200, wantUser: "bob", wantGroup: "devs"},
		{name: "healthz without credentials", path: "/healthz", wantCode: 200},
		{name: "readyz subpath without credentials", path: "/readyz/etcd", wantCode: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tlsConfig := &tls.Config{RootCAs: b.CAPool}
			if tt.cert != nil {
				tlsConfig.Certificates = []tls.Certificate{*tt.cert}
			}
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true}}
			defer client.CloseIdleConnections()
			req, err := http.NewRequest(http.MethodGet, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantCode {
				t.Fatalf("GET %s = %d %s, want %d", tt.path, resp.StatusCode, body, tt.wantCode)
			}
			if resp.StatusCode == http.StatusUnauthorized {
				checkUnauthorized(t, resp, body)
				return
			}
			var me whoami
			if err := json.Unmarshal(body, &me); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if me.Proto != "HTTP/2.0" {
				t.Errorf("protocol = %s, want HTTP/2.0", me.Proto)
			}
			if me.Name != tt.wantUser {
				t.Errorf("user = %q, want %q", me.Name, tt.wantUser)
			}
			if tt.wantUser != "" && (!slices.Contains(me.Groups, tt.wantGroup) || !slices.Contains(me.Groups, auth.GroupAuthenticated)) {
				t.Errorf("groups = %q, want %s and %s", me.Groups, tt.wantGroup, auth.GroupAuthenticated)
			}
		})
	}
}

func checkUnauthorized(t *testing.T, resp *http.Response, body []byte) {
	t.Helper()
	const want = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
	if got := strings.TrimSpace(string(body)); got != want {
		t.Errorf("401 body = %s, want %s", got, want)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("401 Content-Type = %q", ct)
	}
	var st metav1.Status
	if err := json.Unmarshal(body, &st); err != nil || st.Reason != metav1.StatusReasonUnauthorized || st.Code != 401 {
		t.Errorf("401 body does not decode as an Unauthorized Status: %+v, %v", st, err)
	}
}

func mustPair(t *testing.T, certPEM, keyPEM []byte) *tls.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &pair
}

// TestKubeconfigClient: a second Ensure on the same data directory keeps the
// credentials, so client-go configured from a kubeconfig made from the first
// bundle talks to a server running with the second.
func TestKubeconfigClient(t *testing.T) {
	dir := t.TempDir()
	first, err := pki.Ensure(dir, pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := pki.Ensure(dir, pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(second.Changes) != 0 {
		t.Fatalf("second Ensure changed %q", second.Changes)
	}
	srv := startServer(t, second, auth.NewX509Authenticator(second.CAPool))

	path := filepath.Join(dir, "kubeconfig")
	if err := pki.WriteKubeconfig(path, srv.URL, first); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second

	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v, err := dc.ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v.GitVersion != "v1.37.0-skiff" {
		t.Errorf("server version = %+v", v)
	}
	raw, err := dc.RESTClient().Get().AbsPath("/api").DoRaw(context.Background())
	if err != nil {
		t.Fatalf("GET /api through client-go: %v", err)
	}
	var me whoami
	if err := json.Unmarshal(raw, &me); err != nil || me.Name != pki.AdminUser || !slices.Contains(me.Groups, pki.AdminGroup) {
		t.Errorf("GET /api = %s (%v), want skiff-admin in system:masters", raw, err)
	}
}
