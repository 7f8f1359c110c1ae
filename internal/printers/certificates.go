package printers

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// The Requestor column's description is that of spec.request, as upstream.
var certificateSigningRequestPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		ageColumn(),
		column("SignerName", typeString, certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["signerName"]),
		column("Requestor", typeString, certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["request"]),
		column("RequestedDuration", typeString, certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["expirationSeconds"]),
		column("Condition", typeString, certificatesv1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]),
	},
	func(csr *certificatesv1.CertificateSigningRequest, now time.Time) []any {
		signer := "<none>"
		if csr.Spec.SignerName != "" {
			signer = csr.Spec.SignerName
		}
		requested := "<none>"
		if s := csr.Spec.ExpirationSeconds; s != nil {
			requested = duration.HumanDuration(time.Duration(*s) * time.Second)
		}
		return []any{csr.Name, Age(csr.CreationTimestamp, now), signer, csr.Spec.Username, requested, csrCondition(csr)}
	})

// csrCondition summarizes a request's conditions as upstream: Denied
// before Approved before Pending, then ",Failed" and ",Issued".
func csrCondition(csr *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	switch {
	case denied:
		status = "Denied"
	case approved:
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(csr.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}
