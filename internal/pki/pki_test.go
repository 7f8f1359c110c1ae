package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// t0 is a fixed start time so that tests can age certificates.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(t time.Time) func() time.Time { return func() time.Time { return t } }

// snapshot reads every regular file of the pki directory.
func snapshot(t *testing.T, pkiDir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(pkiDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(pkiDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	return files
}

var allFiles = []string{caCertFile, caKeyFile, servingCertFile, servingKeyFile, adminCertFile, adminKeyFile}

func TestEnsureGeneratesThenReuses(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Hosts: []string{"skiff.example", "192.0.2.10"}, IPs: []net.IP{net.ParseIP("10.96.0.1")}, Now: at(t0)}
	b, err := Ensure(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Changes) != 1 {
		t.Errorf("first Ensure: Changes = %q, want one generation", b.Changes)
	}

	// Files and modes.
	pkiDir := filepath.Join(dir, DirName)
	if st, err := os.Stat(pkiDir); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("pki dir: %v, %v; want mode 0700", st.Mode(), err)
	}
	files := snapshot(t, pkiDir)
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, slices.Sorted(slices.Values(allFiles))) {
		t.Errorf("files = %q, want %q", got, allFiles)
	}
	for _, name := range allFiles {
		st, _ := os.Stat(filepath.Join(pkiDir, name))
		want := fs.FileMode(0o644)
		if strings.HasSuffix(name, ".key") {
			want = 0o600
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode = %v, want %v", name, st.Mode().Perm(), want)
		}
	}

	// The CA.
	ca := b.CACert
	if !ca.IsCA || ca.Subject.String() != ca.Issuer.String() {
		t.Errorf("CA is not a self-signed CA: %v / %v", ca.Subject, ca.Issuer)
	}
	if k, ok := ca.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("CA key is %T, want ECDSA P-256", ca.PublicKey)
	}
	if got := ca.NotAfter.Sub(t0); got != caValidity {
		t.Errorf("CA valid for %v after now, want %v", got, caValidity)
	}
	if !bytes.Equal(b.CAPEM, files[caCertFile]) {
		t.Error("CAPEM differs from ca.crt")
	}

	// The serving certificate.
	srv := b.Serving.Leaf
	for _, host := range []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc.cluster.local", "skiff.example", "127.0.0.1", "::1", "192.0.2.10", "10.96.0.1"} {
		if err := srv.VerifyHostname(host); err != nil {
			t.Errorf("serving certificate: %v", err)
		}
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: t0, DNSName: "localhost"}); err != nil {
		t.Errorf("serving certificate does not verify: %v", err)
	}

	// The admin certificate.
	admin, err := tls.X509KeyPair(b.AdminCertPEM, b.AdminKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if s := admin.Leaf.Subject; s.CommonName != "skiff-admin" || !slices.Equal(s.Organization, []string{"system:masters"}) {
		t.Errorf("admin subject = %v", s)
	}
	if _, err := admin.Leaf.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("admin certificate does not verify for client auth: %v", err)
	}

	// A second start reuses everything, byte for byte.
	b2, err := Ensure(dir, Options{Hosts: []string{"skiff.example"}, Now: at(t0.Add(24 * time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	if len(b2.Changes) != 0 {
		t.Errorf("second Ensure changed things: %q", b2.Changes)
	}
	if !maps.EqualFunc(files, snapshot(t, pkiDir), bytes.Equal) {
		t.Error("second Ensure rewrote files")
	}
	if !bytes.Equal(b.CAPEM, b2.CAPEM) || !bytes.Equal(b.AdminCertPEM, b2.AdminCertPEM) ||
		!bytes.Equal(b.Serving.Certificate[0], b2.Serving.Certificate[0]) {
		t.Error("second Ensure returned different credentials")
	}
}

func TestEnsureNewHostReissuesOnlyServing(t *testing.T) {
	dir := t.TempDir()
	if _, err := Ensure(dir, Options{Hosts: []string{"192.0.2.10"}, Now: at(t0)}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, filepath.Join(dir, DirName))

	b, err := Ensure(dir, Options{Hosts: []string{"node-a.example"}, Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, filepath.Join(dir, DirName))
	for _, name := range allFiles {
		changed := !bytes.Equal(before[name], after[name])
		wantChanged := name == servingCertFile || name == servingKeyFile
		if changed != wantChanged {
			t.Errorf("%s changed = %v, want %v", name, changed, wantChanged)
		}
	}
	if len(b.Changes) != 1 || !strings.Contains(b.Changes[0], "node-a.example") {
		t.Errorf("Changes = %q, want one reissue naming the new host", b.Changes)
	}
	// The old names stay, so going back does not reissue again.
	for _, host := range []string{"node-a.example", "192.0.2.10", "localhost"} {
		if err := b.Serving.Leaf.VerifyHostname(host); err != nil {
			t.Errorf("reissued serving certificate: %v", err)
		}
	}
	b, err = Ensure(dir, Options{Hosts: []string{"192.0.2.10"}, Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Changes) != 0 {
		t.Errorf("Changes = %q after returning to the first host, want none", b.Changes)
	}
}

func TestEnsureRenewsAgingLeaves(t *testing.T) {
	dir := t.TempDir()
	first, err := Ensure(dir, Options{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	// 250 days is past two thirds of a one-year certificate.
	later := t0.Add(250 * 24 * time.Hour)
	b, err := Ensure(dir, Options{Now: at(later)})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Changes) != 2 {
		t.Errorf("Changes = %q, want serving and admin reissued", b.Changes)
	}
	if !bytes.Equal(first.CAPEM, b.CAPEM) {
		t.Error("CA changed")
	}
	if !b.Serving.Leaf.NotAfter.After(later.Add(300 * 24 * time.Hour)) {
		t.Errorf("renewed serving certificate expires %v", b.Serving.Leaf.NotAfter)
	}
}

func TestEnsureRepairs(t *testing.T) {
	otherKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKeyPEM := mustKeyPEM(t, otherKey)

	tests := []struct {
		name        string
		damage      func(t *testing.T, dataDir, pkiDir string)
		wantChanged []string // files expected to differ afterwards; nil: all
		wantAside   bool     // the old directory is kept as pki.incomplete-*
	}{
		{
			name:        "serving cert missing",
			damage:      remove(servingCertFile),
			wantChanged: []string{servingCertFile, servingKeyFile},
		},
		{
			name:        "admin key missing",
			damage:      remove(adminKeyFile),
			wantChanged: []string{adminCertFile, adminKeyFile},
		},
		{
			// What a crash between writing a pair's key and its certificate
			// leaves behind.
			name:        "serving key does not match",
			damage:      write(servingKeyFile, otherKeyPEM),
			wantChanged: []string{servingCertFile, servingKeyFile},
		},
		{
			name:        "admin cert is garbage",
			damage:      write(adminCertFile, []byte("not a certificate")),
			wantChanged: []string{adminCertFile, adminKeyFile},
		},
		{
			name: "admin cert from another CA",
			damage: func(t *testing.T, dataDir, pkiDir string) {
				other, err := Ensure(t.TempDir(), Options{Now: at(t0)})
				if err != nil {
					t.Fatal(err)
				}
				write(adminCertFile, other.AdminCertPEM)(t, dataDir, pkiDir)
				write(adminKeyFile, other.AdminKeyPEM)(t, dataDir, pkiDir)
			},
			wantChanged: []string{adminCertFile, adminKeyFile},
		},
		{
			name: "leftovers of an interrupted run",
			damage: func(t *testing.T, dataDir, pkiDir string) {
				if err := os.MkdirAll(filepath.Join(dataDir, stagingPrefix+"123", "x"), 0o700); err != nil {
					t.Fatal(err)
				}
				write(".server.crt.tmp-99", []byte("half"))(t, dataDir, pkiDir)
			},
			wantChanged: []string{},
		},
		{
			name:      "CA cert missing",
			damage:    remove(caCertFile),
			wantAside: true,
		},
		{
			name:      "CA key missing",
			damage:    remove(caKeyFile),
			wantAside: true,
		},
		{
			name: "pki dir empty",
			damage: func(t *testing.T, dataDir, pkiDir string) {
				for _, f := range allFiles {
					remove(f)(t, dataDir, pkiDir)
				}
			},
			wantAside: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			pkiDir := filepath.Join(dir, DirName)
			if _, err := Ensure(dir, Options{Now: at(t0)}); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, pkiDir)
			tt.damage(t, dir, pkiDir)

			b, err := Ensure(dir, Options{Now: at(t0)})
			if err != nil {
				t.Fatal(err)
			}
			after := snapshot(t, pkiDir)
			if got := slices.Sorted(maps.Keys(after)); !slices.Equal(got, slices.Sorted(slices.Values(allFiles))) {
				t.Errorf("files after repair = %q", got)
			}
			for _, name := range allFiles {
				changed := !bytes.Equal(before[name], after[name])
				want := tt.wantChanged == nil || slices.Contains(tt.wantChanged, name)
				if changed != want {
					t.Errorf("%s changed = %v, want %v", name, changed, want)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, stagingPrefix+"*"))
			aside, _ := filepath.Glob(filepath.Join(dir, incompletePrefix+"*"))
			if len(leftovers) != 0 {
				t.Errorf("staging leftovers: %q", leftovers)
			}
			if (len(aside) == 1) != tt.wantAside {
				t.Errorf("moved aside: %q, want %v", aside, tt.wantAside)
			}

			// The repaired set is consistent and stable.
			if _, err := b.Serving.Leaf.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: t0}); err != nil {
				t.Errorf("serving certificate: %v", err)
			}
			again, err := Ensure(dir, Options{Now: at(t0)})
			if err != nil {
				t.Fatal(err)
			}
			if len(again.Changes) != 0 {
				t.Errorf("Ensure after repair changed %q", again.Changes)
			}
		})
	}
}

func remove(name string) func(*testing.T, string, string) {
	return func(t *testing.T, _, pkiDir string) {
		t.Helper()
		if err := os.Remove(filepath.Join(pkiDir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

func write(name string, data []byte) func(*testing.T, string, string) {
	return func(t *testing.T, _, pkiDir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(pkiDir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func mustKeyPEM(t *testing.T, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func TestEnsureRefusesBadCA(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, dataDir, pkiDir string)
	}{
		{"garbage CA cert", write(caCertFile, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))},
		{"CA key of another CA", func(t *testing.T, dataDir, pkiDir string) {
			other, err := Ensure(t.TempDir(), Options{Now: at(t0)})
			if err != nil {
				t.Fatal(err)
			}
			write(caKeyFile, other.ca.keyPEM)(t, dataDir, pkiDir)
		}},
		{"CA cert is a leaf", func(t *testing.T, dataDir, pkiDir string) {
			remove(caCertFile)(t, dataDir, pkiDir)
			remove(caKeyFile)(t, dataDir, pkiDir)
			if err := os.Rename(filepath.Join(pkiDir, adminCertFile), filepath.Join(pkiDir, caCertFile)); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(pkiDir, adminKeyFile), filepath.Join(pkiDir, caKeyFile)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Ensure(dir, Options{Now: at(t0)}); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, dir, filepath.Join(dir, DirName))
			before := snapshot(t, filepath.Join(dir, DirName))
			if _, err := Ensure(dir, Options{Now: at(t0)}); !errors.Is(err, ErrBadCA) {
				t.Fatalf("Ensure = %v, want ErrBadCA", err)
			}
			if !maps.EqualFunc(before, snapshot(t, filepath.Join(dir, DirName)), bytes.Equal) {
				t.Error("Ensure touched the files of an unusable CA")
			}
		})
	}

	t.Run("expired CA", func(t *testing.T) {
		dir := t.TempDir()
		if _, err := Ensure(dir, Options{Now: at(t0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := Ensure(dir, Options{Now: at(t0.Add(caValidity + time.Hour))}); !errors.Is(err, ErrBadCA) {
			t.Fatalf("Ensure = %v, want ErrBadCA", err)
		}
	})
}

func TestUserSuppliedCA(t *testing.T) {
	// A CA put in place before the first start is used, not replaced.
	src, err := Ensure(t.TempDir(), Options{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pkiDir := filepath.Join(dir, DirName)
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		t.Fatal(err)
	}
	write(caCertFile, src.CAPEM)(t, dir, pkiDir)
	write(caKeyFile, src.ca.keyPEM)(t, dir, pkiDir)
	b, err := Ensure(dir, Options{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.CAPEM, src.CAPEM) {
		t.Error("user-supplied CA was replaced")
	}
	if len(b.Changes) != 2 {
		t.Errorf("Changes = %q, want serving and admin issued", b.Changes)
	}
}

func TestRequestedSANs(t *testing.T) {
	defaultDNS := "localhost kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local"
	defaultIPs := "127.0.0.1 ::1"
	tests := []struct {
		name     string
		opts     Options
		extraDNS string // expected after the defaults
		extraIPs string
		wantErr  bool
	}{
		{name: "defaults"},
		{name: "IPv4 host", opts: Options{Hosts: []string{"192.0.2.1"}}, extraIPs: "192.0.2.1"},
		{name: "bracketed IPv6", opts: Options{Hosts: []string{"[2001:db8::1]"}}, extraIPs: "2001:db8::1"},
		{name: "unspecified and empty skipped", opts: Options{Hosts: []string{"0.0.0.0", "::", " "}, IPs: []net.IP{net.IPv4zero}}},
		{name: "duplicates folded", opts: Options{Hosts: []string{"LocalHost.", "127.0.0.1", "::ffff:127.0.0.1"}}},
		{
			name:     "names and IPs",
			opts:     Options{Hosts: []string{"Skiff.Example", "192.0.2.1"}, IPs: []net.IP{net.ParseIP("10.96.0.1")}},
			extraDNS: "skiff.example",
			extraIPs: "192.0.2.1 10.96.0.1",
		},
		{name: "host with port", opts: Options{Hosts: []string{"localhost:6443"}}, wantErr: true},
		{name: "URL", opts: Options{Hosts: []string{"https://x"}}, wantErr: true},
		{name: "malformed IP", opts: Options{IPs: []net.IP{{1, 2, 3}}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := requestedSANs(tt.opts)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ips []string
			for _, ip := range s.ips {
				ips = append(ips, ip.String())
			}
			if got, want := strings.Join(s.dnsNames, " "), strings.TrimSpace(defaultDNS+" "+tt.extraDNS); got != want {
				t.Errorf("DNS names = %q, want %q", got, want)
			}
			if got, want := strings.Join(ips, " "), strings.TrimSpace(defaultIPs+" "+tt.extraIPs); got != want {
				t.Errorf("IPs = %q, want %q", got, want)
			}
		})
	}
}

func TestIssueClientCert(t *testing.T) {
	b, err := Ensure(t.TempDir(), Options{Now: at(t0)})
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := b.IssueClientCert("system:node:n1", []string{"system:nodes", "extra"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := pair.Leaf
	// DER sorts the members of a SET, so the order of groups is not kept.
	orgs := slices.Sorted(slices.Values(c.Subject.Organization))
	if c.Subject.CommonName != "system:node:n1" || !slices.Equal(orgs, []string{"extra", "system:nodes"}) {
		t.Errorf("subject = %v", c.Subject)
	}
	if !c.NotAfter.Equal(t0.Add(time.Hour)) {
		t.Errorf("NotAfter = %v, want %v", c.NotAfter, t0.Add(time.Hour))
	}
	verify := func(usage x509.ExtKeyUsage) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: b.CAPool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{usage}})
		return err
	}
	if err := verify(x509.ExtKeyUsageClientAuth); err != nil {
		t.Errorf("client auth: %v", err)
	}
	if err := verify(x509.ExtKeyUsageServerAuth); err == nil {
		t.Error("a client certificate verifies for server auth")
	}

	// Never beyond the CA.
	certPEM, _, err = b.IssueClientCert("long", nil, 2*caValidity)
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := parseCertPEM(certPEM); !c.NotAfter.Equal(b.CACert.NotAfter) {
		t.Errorf("NotAfter = %v, want the CA's %v", c.NotAfter, b.CACert.NotAfter)
	}

	for _, bad := range []struct {
		cn  string
		ttl time.Duration
	}{{"", time.Hour}, {"x", 0}, {"x", -time.Hour}} {
		if _, _, err := b.IssueClientCert(bad.cn, nil, bad.ttl); !errors.Is(err, ErrInvalid) {
			t.Errorf("IssueClientCert(%q, %v) = %v, want ErrInvalid", bad.cn, bad.ttl, err)
		}
	}
}

func TestServerTLSConfig(t *testing.T) {
	b, err := Ensure(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := b.ServerTLSConfig()
	if c.MinVersion != tls.VersionTLS12 || c.ClientAuth != tls.RequestClientCert || c.ClientCAs == nil ||
		!slices.Equal(c.NextProtos, []string{"h2", "http/1.1"}) || len(c.Certificates) != 1 {
		t.Errorf("unexpected config %+v", c)
	}
	if c2 := b.ServerTLSConfig(); c2 == c {
		t.Error("ServerTLSConfig returned a shared config")
	}
}
