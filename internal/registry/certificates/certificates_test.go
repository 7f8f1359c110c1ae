package certificates_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/registry/certificates"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

var (
	key, _     = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	requestPEM = func() []byte {
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "system:node:node-1", Organization: []string{"system:nodes"}}}, key)
		if err != nil {
			panic(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	}()
	certPEM = func() []byte {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "node-1"},
			NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}()
)

func TestResource(t *testing.T) {
	rs := certificates.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources", len(rs))
	}
	r := rs[0]
	if r.GVR != certificatesv1.SchemeGroupVersion.WithResource("certificatesigningrequests") || r.Kind != "CertificateSigningRequest" ||
		r.ListKind != "CertificateSigningRequestList" || r.Namespaced || len(r.ShortNames) != 1 || r.ShortNames[0] != "csr" ||
		!r.HasSubresource("status") || !r.HasSubresource("approval") || len(r.Subresources) != 2 {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*certificatesv1.CertificateSigningRequest); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*certificatesv1.CertificateSigningRequestList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func csr() *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "node-csr-abc"},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    requestPEM,
			SignerName: "kubernetes.io/kube-apiserver-client-kubelet",
			Usages:     []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth},
		},
	}
}

func approved() certificatesv1.CertificateSigningRequestCondition {
	return certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved"}
}

func TestValidate(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	tests := []struct {
		name   string
		mutate func(*certificatesv1.CertificateSigningRequest)
		want   []FieldErr
	}{
		{name: "valid", mutate: func(*certificatesv1.CertificateSigningRequest) {}},
		{name: "custom signer and expiry", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.SignerName = "example.com/my-signer.v2"
			c.Spec.ExpirationSeconds = ptr[int32](3600)
		}},
		{name: "no request", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = nil }, want: []FieldErr{Invalid("spec.request")}},
		{name: "certificate as request", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Request = certPEM },
			want: []FieldErr{Invalid("spec.request")}},
		{name: "garbage request", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Request = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("nope")})
		}, want: []FieldErr{Invalid("spec.request")}},
		{name: "no usages", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.Usages = nil }, want: []FieldErr{Required("spec.usages")}},
		{name: "bad and duplicate usages", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Spec.Usages = []certificatesv1.KeyUsage{"client auth", "client auth", "root"}
		}, want: []FieldErr{Duplicate("spec.usages[1]"), NotSupported("spec.usages[2]")}},
		{name: "no signer", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "" }, want: []FieldErr{Required("spec.signerName")}},
		{name: "signer without path", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com" },
			want: []FieldErr{Invalid("spec.signerName")}},
		{name: "signer single-label domain", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example/signer" },
			want: []FieldErr{Invalid("spec.signerName")}},
		{name: "signer bad path", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "example.com/My_Signer" },
			want: []FieldErr{Invalid("spec.signerName")}},
		{name: "legacy signer", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.SignerName = "kubernetes.io/legacy-unknown" },
			want: []FieldErr{Invalid("spec.signerName")}},
		{name: "short expiry", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Spec.ExpirationSeconds = ptr[int32](599) },
			want: []FieldErr{Invalid("spec.expirationSeconds")}},
		{name: "approved with certificate", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{approved()}, Certificate: certPEM}
		}},
		{name: "approved and denied", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{approved(), {Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}}
		}, want: []FieldErr{Invalid("status.conditions")}},
		{name: "approved twice", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{approved(), approved()}
		}, want: []FieldErr{Duplicate("status.conditions[1].type")}},
		{name: "approved false", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionFalse}}
		}, want: []FieldErr{NotSupported("status.conditions[0].status")}},
		{name: "condition without type", mutate: func(c *certificatesv1.CertificateSigningRequest) {
			c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Status: "Maybe"}}
		}, want: []FieldErr{Required("status.conditions[0].type"), NotSupported("status.conditions[0].status")}},
		{name: "bad certificate", mutate: func(c *certificatesv1.CertificateSigningRequest) { c.Status.Certificate = requestPEM },
			want: []FieldErr{Invalid("status.certificate")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := csr()
			tt.mutate(c)
			CheckErrors(t, s.Validate(ctx, c), tt.want...)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	old := csr()
	old.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{approved()}
	old.Status.Certificate = certPEM

	c := old.DeepCopy()
	c.Status.Certificate = append([]byte{}, certPEM...)
	CheckErrors(t, s.ValidateUpdate(ctx, c, old))
	c.Status.Certificate = nil
	CheckErrors(t, s.ValidateUpdate(ctx, c, old), Forbidden("status.certificate"))
	c = old.DeepCopy()
	c.Status.Conditions = nil
	CheckErrors(t, s.ValidateUpdate(ctx, c, old), Forbidden("status.conditions"))
}

func TestPrepareForCreate(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	c := csr()
	c.Spec.Username, c.Spec.Groups = "admin", []string{"system:masters"}
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{approved()}
	uctx := auth.WithUser(ctx, &auth.User{Name: "system:bootstrap:abc", UID: "u1", Groups: []string{"system:bootstrappers"}, Extra: map[string][]string{"k": {"v"}}})
	s.PrepareForCreate(uctx, c)
	if c.Spec.Username != "system:bootstrap:abc" || c.Spec.UID != "u1" || len(c.Spec.Groups) != 1 || c.Spec.Groups[0] != "system:bootstrappers" ||
		len(c.Spec.Extra["k"]) != 1 || len(c.Status.Conditions) != 0 {
		t.Errorf("spec = %+v, status = %+v", c.Spec, c.Status)
	}
	c = csr()
	c.Spec.Username = "admin"
	s.PrepareForCreate(ctx, c)
	if c.Spec.Username != "" {
		t.Errorf("username without a user = %q", c.Spec.Username)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	failed := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue}
	old := csr()
	old.Spec.Username = "kubelet"

	// Main resource: neither spec nor status change.
	c := old.DeepCopy()
	c.Spec.Username = "admin"
	c.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{approved()}, Certificate: certPEM}
	s.PrepareForUpdate(ctx, c, old, "")
	if c.Spec.Username != "kubelet" || len(c.Status.Conditions) != 0 || len(c.Status.Certificate) != 0 {
		t.Errorf("main update: %+v", c)
	}

	// Approval: conditions Approved/Denied only.
	c = old.DeepCopy()
	c.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{approved(), failed}, Certificate: certPEM}
	s.PrepareForUpdate(ctx, c, old, "approval")
	if len(c.Status.Conditions) != 1 || c.Status.Conditions[0].Type != certificatesv1.CertificateApproved || len(c.Status.Certificate) != 0 {
		t.Errorf("approval update: %+v", c.Status)
	}

	// Status: certificate and other conditions; approval kept from old.
	approvedOld := old.DeepCopy()
	approvedOld.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{approved()}
	c = approvedOld.DeepCopy()
	c.Status = certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{failed}, Certificate: certPEM}
	s.PrepareForUpdate(ctx, c, approvedOld, "status")
	if len(c.Status.Conditions) != 2 || len(c.Status.Certificate) == 0 {
		t.Errorf("status update: %+v", c.Status)
	}
	CheckErrors(t, s.ValidateUpdate(ctx, c, approvedOld))
}

func TestSelectableFields(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	if got := s.SelectableFields(csr()).Get("spec.signerName"); got != "kubernetes.io/kube-apiserver-client-kubelet" {
		t.Errorf("spec.signerName = %q", got)
	}
}

func TestValidateName(t *testing.T) {
	s := certificates.Resources()[0].Strategy
	for name, ok := range map[string]bool{"node-csr-AbC_123": true, "csr-x": true, "a/b": false, "..": false} {
		if errs := s.ValidateName(name, false); (len(errs) == 0) != ok {
			t.Errorf("ValidateName(%q) = %q, want ok=%v", name, errs, ok)
		}
	}
}
