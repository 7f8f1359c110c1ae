package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// backdate moves NotBefore into the past so that a certificate is valid
	// at once on machines whose clocks run slightly behind ours.
	backdate = time.Hour
)

// keyPair is a certificate with its private key, in both parsed and PEM form.
type keyPair struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

// leafSpec describes a certificate to issue from the CA.
type leafSpec struct {
	subject  pkix.Name
	usage    x509.ExtKeyUsage
	dnsNames []string
	ips      []net.IP
	validity time.Duration
}

func newCA(now time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		// The timestamp keeps CAs of different clusters apart in trust
		// stores and error messages, as k3s and kubeadm do.
		Subject:               pkix.Name{CommonName: fmt.Sprintf("skiff-ca@%d", now.Unix())},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	return sign(tmpl, tmpl, key, key)
}

// issue creates a new key and a certificate for it signed by ca. The
// certificate never outlives the CA.
func issue(ca *keyPair, spec leafSpec, now time.Time) (*keyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("pki: generate key: %w", err)
	}
	notAfter := now.Add(spec.validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		Subject:               spec.subject,
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{spec.usage},
		BasicConstraintsValid: true,
		DNSNames:              spec.dnsNames,
		IPAddresses:           spec.ips,
	}
	return sign(tmpl, ca.cert, key, ca.key)
}

// sign creates the certificate; a nil SerialNumber makes x509 pick a random
// RFC 5280 compliant one.
func sign(tmpl, parent *x509.Certificate, key, parentKey crypto.Signer) (*keyPair, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse new certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return &keyPair{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}, nil
}

// parseKeyPair parses a PEM certificate (the first CERTIFICATE block) and
// its PEM private key and checks that they belong together.
func parseKeyPair(certPEM, keyPEM []byte) (*keyPair, error) {
	cert, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match certificate")
	}
	return &keyPair{cert: cert, key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no CERTIFICATE PEM block")
		}
		if block.Type == "CERTIFICATE" {
			return x509.ParseCertificate(block.Bytes)
		}
	}
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no private key PEM block")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			continue // e.g. "EC PARAMETERS" written by openssl
		}
		if err != nil {
			return nil, err
		}
		switch k := key.(type) {
		case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
			return k.(crypto.Signer), nil
		default:
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
	}
}

// verifyLeaf checks that c chains to the CA for the given usage at now and
// is not yet due for renewal.
func verifyLeaf(c *x509.Certificate, ca *x509.CertPool, usage x509.ExtKeyUsage, now time.Time) error {
	if _, err := c.Verify(x509.VerifyOptions{
		Roots:       ca,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{usage},
	}); err != nil {
		return err
	}
	if dueForRenewal(c, now) {
		return fmt.Errorf("certificate %q is past two thirds of its lifetime (expires %s)",
			c.Subject.CommonName, c.NotAfter.Format(time.RFC3339))
	}
	return nil
}

// dueForRenewal reports whether c has used up two thirds of its lifetime,
// leaving ample time before expiry for clients to pick up the new one.
func dueForRenewal(c *x509.Certificate, now time.Time) bool {
	lifetime := c.NotAfter.Sub(c.NotBefore)
	return now.After(c.NotBefore.Add(lifetime / 3 * 2))
}

// sans is the set of names a serving certificate must carry.
type sans struct {
	dnsNames []string // lower case, deduplicated
	ips      []net.IP // deduplicated
}

// defaultDNSNames are the names of the API server in every cluster: local
// access plus the in-cluster service names clients resolve.
var defaultDNSNames = []string{
	"localhost",
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

var defaultIPs = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}

// requestedSANs is the default names plus the caller's hosts and IPs.
// Unspecified addresses (0.0.0.0, ::) are skipped: they mean "every
// interface" when listening and name no host a client could dial.
func requestedSANs(opts Options) (sans, error) {
	var s sans
	for _, n := range defaultDNSNames {
		s.addDNS(n)
	}
	for _, ip := range defaultIPs {
		s.addIP(ip)
	}
	for _, h := range opts.Hosts {
		h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(h), "["), "]")
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() {
				s.addIP(ip)
			}
			continue
		}
		if strings.ContainsAny(h, ":/ \t%") {
			return sans{}, fmt.Errorf("%w: host %q is neither an IP address nor a DNS name", ErrInvalid, h)
		}
		s.addDNS(h)
	}
	for _, ip := range opts.IPs {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return sans{}, fmt.Errorf("%w: malformed IP %v", ErrInvalid, ip)
		}
		if !ip.IsUnspecified() {
			s.addIP(ip)
		}
	}
	return s, nil
}

func (s *sans) addDNS(name string) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if !slices.Contains(s.dnsNames, name) {
		s.dnsNames = append(s.dnsNames, name)
	}
}

func (s *sans) addIP(ip net.IP) {
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	if !slices.ContainsFunc(s.ips, ip.Equal) {
		s.ips = append(s.ips, ip)
	}
}

// union is s plus the names c already carries.
func (s sans) union(c *x509.Certificate) sans {
	u := sans{
		dnsNames: slices.Clone(s.dnsNames),
		ips:      slices.Clone(s.ips),
	}
	for _, n := range c.DNSNames {
		u.addDNS(n)
	}
	for _, ip := range c.IPAddresses {
		u.addIP(ip)
	}
	return u
}

// missingFrom returns the first name in s that c does not carry, or "".
func (s sans) missingFrom(c *x509.Certificate) string {
	have := sans{}.union(c)
	for _, n := range s.dnsNames {
		if !slices.Contains(have.dnsNames, n) {
			return n
		}
	}
	for _, ip := range s.ips {
		if !slices.ContainsFunc(have.ips, ip.Equal) {
			return ip.String()
		}
	}
	return ""
}
