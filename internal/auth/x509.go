package auth

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"net/http"
	"sync"
	"time"

	"k8s.io/utils/lru"
)

var _ Authenticator = (*X509Authenticator)(nil)

// verifiedCacheSize bounds how many distinct client chains the
// authenticator remembers as verified; a cluster has a few dozen (admin,
// controllers, node agents), so this is far beyond need.
const verifiedCacheSize = 4096

// X509Authenticator authenticates TLS client certificates issued by a CA.
// It does the chain verification itself, so the TLS server only needs to
// request certificates (tls.RequestClientCert), not verify them.
//
// Verifying a chain is an ECDSA signature check per certificate, far more
// than the rest of a request costs; a chain once verified is remembered,
// by a hash of its certificates, for as long as every certificate of it
// is valid. Roots must not change after first use.
type X509Authenticator struct {
	// Roots are the CAs whose client certificates are accepted.
	Roots *x509.CertPool
	// Now is the clock for validity checks; nil means time.Now.
	Now func() time.Time

	once     sync.Once
	verified *lru.Cache // chainKey → validity
}

// validity is when a verified chain is valid: all its certificates at once.
type validity struct{ notBefore, notAfter time.Time }

type chainKey [sha256.Size]byte

// NewX509Authenticator accepts client certificates issued by roots.
func NewX509Authenticator(roots *x509.CertPool) *X509Authenticator {
	return &X509Authenticator{Roots: roots}
}

// Authenticate verifies the peer certificate chain: the first certificate
// is the client's, any others are intermediates. The certificate must allow
// client authentication. Name is its CommonName, Groups its Organizations
// plus system:authenticated.
func (a *X509Authenticator) Authenticate(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	certs := r.TLS.PeerCertificates
	leaf := certs[0]
	if err := a.verify(certs, now()); err != nil {
		return nil, false, fmt.Errorf("%w %q: %v", ErrInvalidCertificate, leaf.Subject.CommonName, err)
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, fmt.Errorf("%w: certificate has no common name", ErrInvalidCertificate)
	}
	return &User{
		Name:   leaf.Subject.CommonName,
		Groups: withAuthenticated(leaf.Subject.Organization),
	}, true, nil
}

// verify checks certs (leaf first, then intermediates) against the roots
// at now, from the cache when this exact chain verified before and is
// still within every certificate's validity.
func (a *X509Authenticator) verify(certs []*x509.Certificate, now time.Time) error {
	a.once.Do(func() { a.verified = lru.New(verifiedCacheSize) })
	h := sha256.New()
	for _, c := range certs {
		h.Write(c.Raw)
		h.Write([]byte{0}) // certificates are DER, self-delimiting; keep chains apart anyway
	}
	var key chainKey
	h.Sum(key[:0])
	if v, ok := a.verified.Get(key); ok {
		if v := v.(validity); !now.Before(v.notBefore) && !now.After(v.notAfter) {
			return nil
		}
	}
	opts := x509.VerifyOptions{
		Roots:         a.Roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	chains, err := certs[0].Verify(opts)
	if err != nil {
		return err
	}
	// Remember the validity of the chain found; when there are several
	// (cross-signed roots), the first serves: any one verifying is enough.
	v := validity{notBefore: chains[0][0].NotBefore, notAfter: chains[0][0].NotAfter}
	for _, c := range chains[0][1:] {
		if c.NotBefore.After(v.notBefore) {
			v.notBefore = c.NotBefore
		}
		if c.NotAfter.Before(v.notAfter) {
			v.notAfter = c.NotAfter
		}
	}
	a.verified.Add(key, v)
	return nil
}
