package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"skiff.dev/skiff/internal/pki"
)

func TestX509Authenticate(t *testing.T) {
	now := time.Now()
	b, err := pki.Ensure(t.TempDir(), pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.Ensure(t.TempDir(), pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := func(cn string, groups ...string) []*x509.Certificate {
		t.Helper()
		certPEM, keyPEM, err := b.IssueClientCert(cn, groups, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return chainOf(t, certPEM, keyPEM)
	}
	own := newOwnCA(t, now)
	viaIntermediate := own.client(t, pkix.Name{CommonName: "carol", Organization: []string{"ops"}})

	tests := []struct {
		name       string
		roots      *x509.CertPool // nil: the pki CA
		chain      []*x509.Certificate
		tlsNoCerts bool // TLS, but no client certificate; else chain == nil means plain HTTP
		now        time.Time
		want       *User
		wantErr    bool
	}{
		{name: "plain HTTP"},
		{name: "TLS without client certificate", tlsNoCerts: true},
		{
			name:  "admin",
			chain: chainOf(t, b.AdminCertPEM, b.AdminKeyPEM),
			want:  &User{Name: "skiff-admin", Groups: []string{GroupMasters, GroupAuthenticated}},
		},
		{
			name:  "issued client certificate",
			chain: client("system:node:n1", "system:nodes"),
			want:  &User{Name: "system:node:n1", Groups: []string{"system:nodes", GroupAuthenticated}},
		},
		{
			name:  "chain through an intermediate",
			roots: own.roots,
			chain: viaIntermediate,
			want:  &User{Name: "carol", Groups: []string{"ops", GroupAuthenticated}},
		},
		{name: "intermediate missing", roots: own.roots, chain: viaIntermediate[:1], wantErr: true},
		{name: "another CA", chain: chainOf(t, other.AdminCertPEM, other.AdminKeyPEM), wantErr: true},
		{name: "expired", chain: client("late"), now: now.Add(2 * time.Hour), wantErr: true},
		{name: "not yet valid", chain: client("early"), now: now.Add(-2 * time.Hour), wantErr: true},
		{name: "server certificate used as client", chain: []*x509.Certificate{b.Serving.Leaf}, wantErr: true},
		{
			name:    "no common name",
			roots:   own.roots,
			chain:   own.client(t, pkix.Name{Organization: []string{"x"}}),
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			if tt.chain != nil || tt.tlsNoCerts {
				r.TLS = &tls.ConnectionState{PeerCertificates: tt.chain}
			}
			roots := tt.roots
			if roots == nil {
				roots = b.CAPool
			}
			a := NewX509Authenticator(roots)
			if !tt.now.IsZero() {
				a.Now = func() time.Time { return tt.now }
			}
			u, ok, err := a.Authenticate(r)
			switch {
			case tt.wantErr:
				if ok || !errors.Is(err, ErrInvalidCertificate) {
					t.Fatalf("Authenticate = %+v, %v, %v; want ErrInvalidCertificate", u, ok, err)
				}
			case tt.want == nil:
				if ok || err != nil {
					t.Fatalf("Authenticate = %+v, %v, %v; want no credentials", u, ok, err)
				}
			default:
				if !ok || err != nil || !reflect.DeepEqual(u, tt.want) {
					t.Fatalf("Authenticate = %+v, %v, %v; want %+v", u, ok, err, tt.want)
				}
			}
		})
	}
}

// chainOf parses a PEM pair into the chain a TLS server would see.
func chainOf(t *testing.T, certPEM, keyPEM []byte) []*x509.Certificate {
	t.Helper()
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{pair.Leaf}
}

// ownCA is a hand-built CA → intermediate chain, for what pki does not
// issue: intermediates (a user's own CA may have them) and odd subjects.
type ownCA struct {
	roots    *x509.CertPool
	inter    *x509.Certificate
	interKey *ecdsa.PrivateKey
	now      time.Time
}

func newOwnCA(t *testing.T, now time.Time) *ownCA {
	t.Helper()
	rootKey, interKey := mustKey(t), mustKey(t)
	rootTmpl := &x509.Certificate{
		Subject: pkix.Name{CommonName: "root"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	root := mustSign(t, rootTmpl, rootTmpl, rootKey, rootKey)
	inter := mustSign(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "intermediate"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, root, interKey, rootKey)
	roots := x509.NewCertPool()
	roots.AddCert(root)
	return &ownCA{roots: roots, inter: inter, interKey: interKey, now: now}
}

// client returns [leaf, intermediate] for subject.
func (ca *ownCA) client(t *testing.T, subject pkix.Name) []*x509.Certificate {
	t.Helper()
	leaf := mustSign(t, &x509.Certificate{
		Subject: subject, NotBefore: ca.now.Add(-time.Hour), NotAfter: ca.now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca.inter, mustKey(t), ca.interKey)
	return []*x509.Certificate{leaf, ca.inter}
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSign(t *testing.T, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestX509VerifiedCache: a chain verified once is not verified again, but
// the remembered verification holds only for that exact chain and only
// while every certificate of it is valid.
func TestX509VerifiedCache(t *testing.T) {
	now := time.Now()
	b, err := pki.Ensure(t.TempDir(), pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := b.IssueClientCert("dora", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	chain := chainOf(t, certPEM, keyPEM)
	own := newOwnCA(t, now)
	viaIntermediate := own.client(t, pkix.Name{CommonName: "carol"})

	clock := now
	a := NewX509Authenticator(b.CAPool)
	a.Now = func() time.Time { return clock }
	auth := func(a *X509Authenticator, chain []*x509.Certificate) error {
		r := httptest.NewRequest(http.MethodGet, "/api", nil)
		r.TLS = &tls.ConnectionState{PeerCertificates: chain}
		_, _, err := a.Authenticate(r)
		return err
	}
	if err := auth(a, chain); err != nil {
		t.Fatal(err)
	}
	if a.verified.Len() != 1 {
		t.Fatalf("cache holds %d chains after one verification, want 1", a.verified.Len())
	}
	if err := auth(a, chain); err != nil {
		t.Fatalf("second request: %v", err)
	}
	clock = now.Add(2 * time.Hour)
	if err := auth(a, chain); !errors.Is(err, ErrInvalidCertificate) {
		t.Fatalf("after the certificate expired: %v, want ErrInvalidCertificate", err)
	}

	// The leaf verified with its intermediate does not pass without it.
	o := NewX509Authenticator(own.roots)
	if err := auth(o, viaIntermediate); err != nil {
		t.Fatal(err)
	}
	if err := auth(o, viaIntermediate[:1]); !errors.Is(err, ErrInvalidCertificate) {
		t.Fatalf("leaf alone after the full chain verified: %v, want ErrInvalidCertificate", err)
	}
}
