// Package certificates holds the strategy of certificates.k8s.io/v1
// CertificateSigningRequest. The requester is recorded from the request's
// user; approval and the issued certificate change only through the
// "approval" and "status" subresources. Who may approve for, or sign as, a
// signer is the authorizer's and admission's business, not this package's.
package certificates

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/registry"
)

// Resources are the certificates.k8s.io/v1 resources of this package.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		GVR: certificatesv1.SchemeGroupVersion.WithResource("certificatesigningrequests"), Kind: "CertificateSigningRequest",
		ListKind: "CertificateSigningRequestList", SingularName: "certificatesigningrequest", ShortNames: []string{"csr"},
		Subresources: []string{"status", "approval"}, Strategy: csrStrategy{},
	}}
}

const (
	// legacyUnknownSigner may not be requested through v1.
	legacyUnknownSigner   = "kubernetes.io/legacy-unknown"
	minExpirationSeconds  = 600
	maxSignerDomainLength = validation.DNS1123SubdomainMaxLength
	maxSignerPathLength   = validation.DNS1123SubdomainMaxLength - validation.DNS1123LabelMaxLength - 1
)

var knownUsages = []string{
	string(certificatesv1.UsageSigning), string(certificatesv1.UsageDigitalSignature), string(certificatesv1.UsageContentCommitment),
	string(certificatesv1.UsageKeyEncipherment), string(certificatesv1.UsageKeyAgreement), string(certificatesv1.UsageDataEncipherment),
	string(certificatesv1.UsageCertSign), string(certificatesv1.UsageCRLSign), string(certificatesv1.UsageEncipherOnly),
	string(certificatesv1.UsageDecipherOnly), string(certificatesv1.UsageAny), string(certificatesv1.UsageServerAuth),
	string(certificatesv1.UsageClientAuth), string(certificatesv1.UsageCodeSigning), string(certificatesv1.UsageEmailProtection),
	string(certificatesv1.UsageSMIME), string(certificatesv1.UsageIPsecEndSystem), string(certificatesv1.UsageIPsecTunnel),
	string(certificatesv1.UsageIPsecUser), string(certificatesv1.UsageTimestamping), string(certificatesv1.UsageOCSPSigning),
	string(certificatesv1.UsageMicrosoftSGC), string(certificatesv1.UsageNetscapeSGC),
}

type csrStrategy struct{ registry.BaseStrategy }

func (csrStrategy) New() runtime.Object     { return &certificatesv1.CertificateSigningRequest{} }
func (csrStrategy) NewList() runtime.Object { return &certificatesv1.CertificateSigningRequestList{} }

// PrepareForCreate records who asks, whatever the client claimed, and
// starts with no status.
func (csrStrategy) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	csr.Status = certificatesv1.CertificateSigningRequestStatus{}
	csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups, csr.Spec.Extra = "", "", nil, nil
	if u, ok := auth.UserFrom(ctx); ok {
		csr.Spec.Username, csr.Spec.UID, csr.Spec.Groups = u.Name, u.UID, slices.Clone(u.Groups)
		for k, v := range u.Extra {
			if csr.Spec.Extra == nil {
				csr.Spec.Extra = map[string]certificatesv1.ExtraValue{}
			}
			csr.Spec.Extra[k] = slices.Clone(v)
		}
	}
}

// PrepareForUpdate: the spec never changes; the main resource changes
// metadata only; /status sets the certificate and conditions other than
// Approved and Denied; /approval sets those two only.
func (csrStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	csr.Spec = o.Spec
	switch sub {
	case "status":
		csr.Status.Conditions = mergeConditions(csr.Status.Conditions, o.Status.Conditions, false)
	case "approval":
		csr.Status.Certificate = o.Status.Certificate
		csr.Status.Conditions = mergeConditions(csr.Status.Conditions, o.Status.Conditions, true)
	default:
		csr.Status = o.Status
	}
}

func isApproval(t certificatesv1.RequestConditionType) bool {
	return t == certificatesv1.CertificateApproved || t == certificatesv1.CertificateDenied
}

// mergeConditions keeps the new conditions of the kind the subresource
// owns (approval ones if approval) and the old ones of the other kind.
func mergeConditions(next, old []certificatesv1.CertificateSigningRequestCondition, approval bool) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range old {
		if isApproval(c.Type) != approval {
			out = append(out, c)
		}
	}
	for _, c := range next {
		if isApproval(c.Type) == approval {
			out = append(out, c)
		}
	}
	return out
}

// ValidateName accepts any name that is safe in a URL path: upstream does
// not care what requests are called (node CSRs are named "csr-xxxxx" or
// "node-csr-<hash>" with mixed case).
func (csrStrategy) ValidateName(name string, prefix bool) []string {
	return path.ValidatePathSegmentName(name, prefix)
}

func (csrStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"spec.signerName": obj.(*certificatesv1.CertificateSigningRequest).Spec.SignerName}
}

func (csrStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	csr := obj.(*certificatesv1.CertificateSigningRequest)
	errs := validateSpec(&csr.Spec)
	if csr.Spec.SignerName == legacyUnknownSigner {
		errs = append(errs, field.Invalid(field.NewPath("spec", "signerName"), csr.Spec.SignerName, "the legacy signerName is not allowed via this API version"))
	}
	return append(errs, validateStatus(&csr.Status)...)
}

// ValidateUpdate: an issued certificate is never replaced, and an
// approval or denial is never withdrawn.
func (csrStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	csr, o := obj.(*certificatesv1.CertificateSigningRequest), old.(*certificatesv1.CertificateSigningRequest)
	errs := validateSpec(&csr.Spec)
	errs = append(errs, validateStatus(&csr.Status)...)
	if len(o.Status.Certificate) > 0 && !bytes.Equal(csr.Status.Certificate, o.Status.Certificate) {
		errs = append(errs, field.Forbidden(field.NewPath("status", "certificate"), "updates may not modify existing certificate content"))
	}
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
		if hasCondition(o.Status.Conditions, t) && !hasCondition(csr.Status.Conditions, t) {
			errs = append(errs, field.Forbidden(field.NewPath("status", "conditions"), fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	return errs
}

func hasCondition(cs []certificatesv1.CertificateSigningRequestCondition, t certificatesv1.RequestConditionType) bool {
	return slices.ContainsFunc(cs, func(c certificatesv1.CertificateSigningRequestCondition) bool { return c.Type == t })
}

func validateSpec(spec *certificatesv1.CertificateSigningRequestSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if err := checkRequest(spec.Request); err != nil {
		errs = append(errs, field.Invalid(p.Child("request"), "<request>", err.Error()))
	}
	if len(spec.Usages) == 0 {
		errs = append(errs, field.Required(p.Child("usages"), ""))
	}
	seen := sets.New[certificatesv1.KeyUsage]()
	for i, u := range spec.Usages {
		if !slices.Contains(knownUsages, string(u)) {
			errs = append(errs, field.NotSupported(p.Child("usages").Index(i), u, knownUsages))
		}
		if seen.Has(u) {
			errs = append(errs, field.Duplicate(p.Child("usages").Index(i), u))
		}
		seen.Insert(u)
	}
	if spec.SignerName == "" {
		errs = append(errs, field.Required(p.Child("signerName"), ""))
	} else {
		errs = append(errs, validateSignerName(spec.SignerName, p.Child("signerName"))...)
	}
	if spec.ExpirationSeconds != nil && *spec.ExpirationSeconds < minExpirationSeconds {
		errs = append(errs, field.Invalid(p.Child("expirationSeconds"), *spec.ExpirationSeconds,
			"may not specify a duration less than 600 seconds (10 minutes)"))
	}
	return errs
}

// checkRequest: one PEM "CERTIFICATE REQUEST" block, holding a request
// signed by the key it carries.
func checkRequest(request []byte) error {
	block, _ := pem.Decode(request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return fmt.Errorf("PEM block type must be CERTIFICATE REQUEST")
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return err
	}
	return req.CheckSignature()
}

// validateSignerName: "domain/path", where the domain has at least two
// DNS labels and the path is dot-separated DNS labels.
func validateSignerName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	segments := strings.Split(name, "/")
	if len(segments) != 2 {
		return append(errs, field.Invalid(p, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
	}
	domain, path := segments[0], segments[1]
	if len(domain) > maxSignerDomainLength {
		errs = append(errs, field.TooLong(p, domain, maxSignerDomainLength))
	}
	labels := strings.Split(domain, ".")
	errs = append(errs, validateLabels(labels, domain, p)...)
	if len(labels) < 2 {
		errs = append(errs, field.Invalid(p, domain, "should be a domain with at least two segments separated by dots"))
	}
	errs = append(errs, validateLabels(strings.Split(path, "."), path, p)...)
	if len(path) > maxSignerPathLength {
		errs = append(errs, field.TooLong(p, path, maxSignerPathLength))
	}
	return errs
}

// validateLabels reports the first invalid label only: the rest would
// repeat the same message.
func validateLabels(labels []string, segment string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, l := range labels {
		if msgs := validation.IsDNS1123Label(l); len(msgs) > 0 {
			for _, msg := range msgs {
				errs = append(errs, field.Invalid(p, segment, fmt.Sprintf("validating label %q: %s", l, msg)))
			}
			break
		}
	}
	return errs
}

var (
	conditionStatuses = []string{string(corev1.ConditionTrue), string(corev1.ConditionFalse), string(corev1.ConditionUnknown)}
	onceConditions    = []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed}
)

func validateStatus(st *certificatesv1.CertificateSigningRequestStatus) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "conditions")
	seen := sets.New[certificatesv1.RequestConditionType]()
	for i, c := range st.Conditions {
		cp := p.Index(i)
		if c.Type == "" {
			errs = append(errs, field.Required(cp.Child("type"), ""))
		}
		if seen.Has(c.Type) && slices.Contains(onceConditions, c.Type) {
			errs = append(errs, field.Duplicate(cp.Child("type"), c.Type))
		}
		seen.Insert(c.Type)
		switch {
		case isApproval(c.Type) && c.Status != corev1.ConditionTrue:
			errs = append(errs, field.NotSupported(cp.Child("status"), c.Status, []string{string(corev1.ConditionTrue)}))
		case !slices.Contains(conditionStatuses, string(c.Status)):
			errs = append(errs, field.NotSupported(cp.Child("status"), c.Status, conditionStatuses))
		}
	}
	if seen.Has(certificatesv1.CertificateApproved) && seen.Has(certificatesv1.CertificateDenied) {
		errs = append(errs, field.Invalid(p, st.Conditions, "Approved and Denied conditions are mutually exclusive"))
	}
	if len(st.Certificate) > 0 {
		if err := checkCertificates(st.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	return errs
}

// checkCertificates: one or more PEM "CERTIFICATE" blocks without headers,
// each a parsable certificate, and nothing else.
func checkCertificates(data []byte) error {
	n := 0
	for rest := data; len(bytes.TrimSpace(rest)) > 0; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return fmt.Errorf("must contain only PEM-encoded CERTIFICATE blocks")
		}
		if block.Type != "CERTIFICATE" || len(block.Headers) > 0 {
			return fmt.Errorf("only CERTIFICATE PEM blocks without headers are allowed, found %q", block.Type)
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return fmt.Errorf("block %d: %v", n, err)
		}
	}
	if n == 0 {
		return fmt.Errorf("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}
