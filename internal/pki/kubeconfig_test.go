package pki

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

func TestWriteKubeconfig(t *testing.T) {
	dir := t.TempDir()
	b, err := Ensure(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}

	// A TLS server with the bundle's configuration that answers 200 only to
	// the admin certificate.
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != AdminUser {
			http.Error(w, "no admin certificate", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "hello "+r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.TLS = b.ServerTLSConfig()
	srv.StartTLS()
	defer srv.Close()

	path := filepath.Join(dir, "sub", "kubeconfig")
	if err := WriteKubeconfig(path, srv.URL, b); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("kubeconfig: %v, %v; want mode 0600", st.Mode(), err)
	}

	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.CurrentContext != "skiff" {
		t.Errorf("current-context = %q", cfg.CurrentContext)
	}
	if c := cfg.Contexts["skiff"]; c == nil || c.Cluster != "skiff" || c.AuthInfo != "skiff-admin" {
		t.Errorf("context skiff = %+v", c)
	}
	if c := cfg.Clusters["skiff"]; c == nil || c.Server != srv.URL || !bytes.Equal(c.CertificateAuthorityData, b.CAPEM) {
		t.Errorf("cluster skiff = %+v", c)
	}
	if u := cfg.AuthInfos["skiff-admin"]; u == nil || !bytes.Equal(u.ClientCertificateData, b.AdminCertPEM) ||
		!bytes.Equal(u.ClientKeyData, b.AdminKeyPEM) {
		t.Errorf("user skiff-admin = %+v", u)
	}

	restCfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	client, err := rest.HTTPClientFor(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(restCfg.Host + "/api")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hello HTTP/2.0" {
		t.Errorf("GET /api = %d %q, want 200 over HTTP/2", resp.StatusCode, body)
	}

	// Rewriting replaces the file.
	if err := WriteKubeconfig(path, "https://127.0.0.1:1", b); err != nil {
		t.Fatal(err)
	}
	if cfg, err := clientcmd.LoadFromFile(path); err != nil || cfg.Clusters["skiff"].Server != "https://127.0.0.1:1" {
		t.Errorf("rewritten kubeconfig: %v", err)
	}

	for _, bad := range []string{"", "http://127.0.0.1:6443", "127.0.0.1:6443", "https://"} {
		if err := WriteKubeconfig(path, bad, b); !errors.Is(err, ErrInvalid) {
			t.Errorf("WriteKubeconfig(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}
