package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

const (
	// DirName is the directory inside the data directory that holds the files.
	DirName = "pki"

	// AdminUser and AdminGroup are the subject of the admin client
	// certificate. system:masters is the group RBAC lets do everything.
	AdminUser  = "skiff-admin"
	AdminGroup = "system:masters"

	// ServingCommonName is the subject of the API server's certificate;
	// clients check its names (SANs), not this.
	ServingCommonName = "skiff-apiserver"
)

const (
	caCertFile      = "ca.crt"
	caKeyFile       = "ca.key"
	servingCertFile = "server.crt"
	servingKeyFile  = "server.key"
	adminCertFile   = "admin.crt"
	adminKeyFile    = "admin.key"

	stagingPrefix    = ".pki-staging-"
	incompletePrefix = "pki.incomplete-"
)

var (
	// ErrBadCA: the CA files exist but are unusable (unparseable, key and
	// certificate do not match, not a CA, expired). Ensure never replaces
	// them on its own.
	ErrBadCA = errors.New("pki: unusable CA")
	// ErrInvalid: the request itself is malformed (bad host, empty name).
	ErrInvalid = errors.New("pki: invalid request")
)

// Options are what the caller wants the credentials to cover.
type Options struct {
	// Hosts are DNS names or IP literals (brackets allowed) clients use to
	// reach the API server, typically the host of --listen. Unspecified
	// addresses (0.0.0.0, ::) are ignored. 127.0.0.1, ::1 and localhost are
	// always included.
	Hosts []string
	// IPs are further addresses to cover, such as the in-cluster service IP
	// of the kubernetes Service.
	IPs []net.IP
	// Now is the clock; nil means time.Now. Tests use it to age certificates.
	Now func() time.Time
}

// Bundle is the loaded set of credentials. See the package documentation
// for ownership rules.
type Bundle struct {
	// Dir is the pki directory the files live in.
	Dir string
	// CACert is the cluster CA; CAPool holds just it; CAPEM is its PEM.
	CACert *x509.Certificate
	CAPool *x509.CertPool
	CAPEM  []byte
	// Serving is the API server's certificate and key; Serving.Leaf is set.
	Serving tls.Certificate
	// AdminCertPEM and AdminKeyPEM are the skiff-admin client credentials.
	AdminCertPEM []byte
	AdminKeyPEM  []byte
	// Changes lists, for logging, what Ensure generated or reissued and why.
	// It is empty when every file was reused.
	Changes []string

	ca  *keyPair
	now func() time.Time
}

// Ensure loads the credentials in dir/pki, generating or repairing whatever
// is missing, and returns them. See the package documentation for the rules.
func Ensure(dir string, opts Options) (*Bundle, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	want, err := requestedSANs(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("pki: %w", err)
	}
	pkiDir := filepath.Join(dir, DirName)
	if err := removeLeftovers(dir, pkiDir); err != nil {
		return nil, err
	}

	var changes []string
	ca, err := loadCA(pkiDir, now())
	if errors.Is(err, errNoCA) {
		changes = append(changes, "generated CA, serving and admin certificates")
		err = createSet(dir, pkiDir, want, now())
		if err == nil {
			ca, err = loadCA(pkiDir, now())
		}
	}
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	serving, why, err := ensureServing(pkiDir, ca, pool, want, now())
	if err != nil {
		return nil, err
	}
	if why != "" {
		changes = append(changes, "reissued serving certificate: "+why)
	}
	admin, why, err := ensureAdmin(pkiDir, ca, pool, now())
	if err != nil {
		return nil, err
	}
	if why != "" {
		changes = append(changes, "reissued admin certificate: "+why)
	}

	return &Bundle{
		Dir:    pkiDir,
		CACert: ca.cert,
		CAPool: pool,
		CAPEM:  ca.certPEM,
		Serving: tls.Certificate{
			Certificate: [][]byte{serving.cert.Raw},
			PrivateKey:  serving.key,
			Leaf:        serving.cert,
		},
		AdminCertPEM: admin.certPEM,
		AdminKeyPEM:  admin.keyPEM,
		Changes:      changes,
		ca:           ca,
		now:          now,
	}, nil
}

// ServerTLSConfig returns a new TLS configuration for the API server: it
// serves the serving certificate, offers h2 and http/1.1, requires TLS 1.2
// or later, and asks clients for a certificate without requiring one.
//
// Client certificates are requested (tls.RequestClientCert) rather than
// verified in the handshake (tls.VerifyClientCertIfGiven), as kube-apiserver
// does: the handshake still proves the client holds the certificate's key,
// while chain verification is left to the X.509 authenticator. That way a
// certificate from an unknown CA gets a 401 Status the client can read
// (instead of a TLS alert), and a client whose certificate is stale can
// still authenticate with a bearer token. ClientCAs is set so clients are
// told which CA's certificates to offer.
func (b *Bundle) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{b.Serving},
		ClientAuth:   tls.RequestClientCert,
		ClientCAs:    b.CAPool,
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"h2", "http/1.1"},
	}
}

// IssueClientCert issues a client certificate from the CA for commonName
// (the user name) with groups as its Organizations, valid for ttl but never
// beyond the CA's own expiry. It returns PEM certificate and key; nothing is
// written to disk.
func (b *Bundle) IssueClientCert(commonName string, groups []string, ttl time.Duration) (certPEM, keyPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, fmt.Errorf("%w: empty common name", ErrInvalid)
	}
	if ttl <= 0 {
		return nil, nil, fmt.Errorf("%w: non-positive ttl %v", ErrInvalid, ttl)
	}
	kp, err := issue(b.ca, leafSpec{
		subject:  pkix.Name{CommonName: commonName, Organization: slices.Clone(groups)},
		usage:    x509.ExtKeyUsageClientAuth,
		validity: ttl,
	}, b.now())
	if err != nil {
		return nil, nil, err
	}
	return kp.certPEM, kp.keyPEM, nil
}

var errNoCA = errors.New("pki: no CA")

// loadCA reads the CA pair. errNoCA means there is none, or only half of
// one, and a fresh set must be generated.
func loadCA(pkiDir string, now time.Time) (*keyPair, error) {
	certPEM, certErr := os.ReadFile(filepath.Join(pkiDir, caCertFile))
	keyPEM, keyErr := os.ReadFile(filepath.Join(pkiDir, caKeyFile))
	if errors.Is(certErr, fs.ErrNotExist) || errors.Is(keyErr, fs.ErrNotExist) {
		return nil, errNoCA
	}
	if err := errors.Join(certErr, keyErr); err != nil {
		return nil, fmt.Errorf("pki: read CA: %w", err)
	}
	ca, err := parseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w in %s: %v", ErrBadCA, pkiDir, err)
	}
	c := ca.cert
	switch {
	case !c.IsCA || !c.BasicConstraintsValid:
		return nil, fmt.Errorf("%w in %s: %s is not a CA certificate", ErrBadCA, pkiDir, caCertFile)
	case c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0:
		return nil, fmt.Errorf("%w in %s: %s may not sign certificates", ErrBadCA, pkiDir, caCertFile)
	case now.After(c.NotAfter):
		return nil, fmt.Errorf("%w in %s: expired %s", ErrBadCA, pkiDir, c.NotAfter.Format(time.RFC3339))
	}
	return ca, nil
}

// createSet generates a complete set in a staging directory and renames it
// to pkiDir, so the set appears all at once or not at all. A pkiDir that
// exists without a complete CA is moved aside, not deleted: it may hold a
// key someone still wants.
func createSet(dataDir, pkiDir string, want sans, now time.Time) (err error) {
	ca, err := newCA(now)
	if err != nil {
		return err
	}
	serving, err := issue(ca, servingSpec(want), now)
	if err != nil {
		return err
	}
	admin, err := issue(ca, adminSpec(), now)
	if err != nil {
		return err
	}

	staging, err := os.MkdirTemp(dataDir, stagingPrefix) // mode 0700
	if err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(staging)
		}
	}()
	for _, kp := range []struct {
		pair              *keyPair
		certFile, keyFile string
	}{
		{ca, caCertFile, caKeyFile},
		{serving, servingCertFile, servingKeyFile},
		{admin, adminCertFile, adminKeyFile},
	} {
		if err := writePair(staging, kp.certFile, kp.keyFile, kp.pair); err != nil {
			return err
		}
	}

	if _, err := os.Stat(pkiDir); err == nil {
		aside := filepath.Join(dataDir, incompletePrefix+strconv.FormatInt(now.UnixNano(), 10))
		if err := os.Rename(pkiDir, aside); err != nil {
			return fmt.Errorf("pki: move incomplete %s aside: %w", pkiDir, err)
		}
	}
	if err := os.Rename(staging, pkiDir); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := syncDir(dataDir); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}

// writePair writes key then certificate, each atomically.
func writePair(dir, certFile, keyFile string, kp *keyPair) error {
	if err := writeFileAtomic(filepath.Join(dir, keyFile), kp.keyPEM, 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, certFile), kp.certPEM, 0o644)
}

// loadPair reads a leaf pair; any error means "reissue".
func loadPair(dir, certFile, keyFile string) (*keyPair, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	return parseKeyPair(certPEM, keyPEM)
}

func servingSpec(s sans) leafSpec {
	return leafSpec{
		subject:  pkix.Name{CommonName: ServingCommonName},
		usage:    x509.ExtKeyUsageServerAuth,
		dnsNames: s.dnsNames,
		ips:      s.ips,
		validity: leafValidity,
	}
}

func adminSpec() leafSpec {
	return leafSpec{
		subject:  pkix.Name{CommonName: AdminUser, Organization: []string{AdminGroup}},
		usage:    x509.ExtKeyUsageClientAuth,
		validity: leafValidity,
	}
}

// ensureServing returns a serving pair that chains to ca and covers want,
// reusing the one on disk when it does. why says why it was reissued.
func ensureServing(pkiDir string, ca *keyPair, pool *x509.CertPool, want sans, now time.Time) (kp *keyPair, why string, err error) {
	kp, err = loadPair(pkiDir, servingCertFile, servingKeyFile)
	if err == nil {
		err = verifyLeaf(kp.cert, pool, x509.ExtKeyUsageServerAuth, now)
		if err == nil {
			if missing := want.missingFrom(kp.cert); missing != "" {
				err = fmt.Errorf("does not cover %s", missing)
			}
		}
		if err == nil {
			return kp, "", nil
		}
		want = want.union(kp.cert)
	}
	why = err.Error()
	if kp, err = issue(ca, servingSpec(want), now); err != nil {
		return nil, "", err
	}
	if err := writePair(pkiDir, servingCertFile, servingKeyFile, kp); err != nil {
		return nil, "", err
	}
	return kp, why, nil
}

// ensureAdmin returns an admin pair that chains to ca, reusing the one on
// disk when it is still good. why says why it was reissued.
func ensureAdmin(pkiDir string, ca *keyPair, pool *x509.CertPool, now time.Time) (kp *keyPair, why string, err error) {
	kp, err = loadPair(pkiDir, adminCertFile, adminKeyFile)
	if err == nil {
		err = verifyLeaf(kp.cert, pool, x509.ExtKeyUsageClientAuth, now)
		if err == nil && (kp.cert.Subject.CommonName != AdminUser ||
			!slices.Contains(kp.cert.Subject.Organization, AdminGroup)) {
			err = fmt.Errorf("subject is %q, want CN=%s, O=%s", kp.cert.Subject, AdminUser, AdminGroup)
		}
		if err == nil {
			return kp, "", nil
		}
	}
	why = err.Error()
	if kp, err = issue(ca, adminSpec(), now); err != nil {
		return nil, "", err
	}
	if err := writePair(pkiDir, adminCertFile, adminKeyFile, kp); err != nil {
		return nil, "", err
	}
	return kp, why, nil
}
