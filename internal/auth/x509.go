package auth

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"time"
)

var _ Authenticator = (*X509Authenticator)(nil)

// X509Authenticator authenticates TLS client certificates issued by a CA.
// It does the chain verification itself, so the TLS server only needs to
// request certificates (tls.RequestClientCert), not verify them.
type X509Authenticator struct {
	// Roots are the CAs whose client certificates are accepted.
	Roots *x509.CertPool
	// Now is the clock for validity checks; nil means time.Now.
	Now func() time.Time
}

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
	opts := x509.VerifyOptions{
		Roots:         a.Roots,
		Intermediates: x509.NewCertPool(),
		CurrentTime:   now(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	leaf := certs[0]
	if _, err := leaf.Verify(opts); err != nil {
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
