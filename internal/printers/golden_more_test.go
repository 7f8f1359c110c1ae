package printers

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// clusterGoldenLists are the golden lists of the cluster-configuration
// kinds: storage drivers and attachments, runtime classes, certificate
// requests and admission configuration.
func clusterGoldenLists() map[string]runtime.Object {
	expiry := int32(3600)
	return map[string]runtime.Object{
		"csidrivers": &storagev1.CSIDriverList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []storagev1.CSIDriver{
			{ObjectMeta: fixture("", "ebs.csi.aws.com", 30*24*time.Hour, 40), Spec: storagev1.CSIDriverSpec{
				AttachRequired: ptr(true), PodInfoOnMount: ptr(false), StorageCapacity: ptr(false), RequiresRepublish: ptr(false),
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}}},
			{ObjectMeta: fixture("", "secrets-store.csi.k8s.io", 2*time.Hour, 99), Spec: storagev1.CSIDriverSpec{
				AttachRequired: ptr(false), PodInfoOnMount: ptr(true), RequiresRepublish: ptr(true),
				TokenRequests:        []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "aws"}},
				VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecycleEphemeral, storagev1.VolumeLifecyclePersistent}}},
		}},
		"volumeattachments": &storagev1.VolumeAttachmentList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []storagev1.VolumeAttachment{
			{ObjectMeta: fixture("", "csi-4f2a", 3*time.Hour, 80), Spec: storagev1.VolumeAttachmentSpec{Attacher: "ebs.csi.aws.com", NodeName: "node-1",
				Source: storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pvc-9d1c")}}, Status: storagev1.VolumeAttachmentStatus{Attached: true}},
			{ObjectMeta: fixture("", "csi-inline", 10*time.Second, 119), Spec: storagev1.VolumeAttachmentSpec{Attacher: "ebs.csi.aws.com", NodeName: "node-2"}},
		}},
		"runtimeclasses": &nodev1.RuntimeClassList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []nodev1.RuntimeClass{
			{ObjectMeta: fixture("", "gvisor", 12*24*time.Hour, 30), Handler: "runsc"},
		}},
		"certificatesigningrequests": &certificatesv1.CertificateSigningRequestList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []certificatesv1.CertificateSigningRequest{
			{ObjectMeta: fixture("", "csr-issued", 5*time.Minute, 110), Spec: certificatesv1.CertificateSigningRequestSpec{
				SignerName: "kubernetes.io/kube-apiserver-client", Username: "alice", ExpirationSeconds: &expiry},
				Status: certificatesv1.CertificateSigningRequestStatus{Certificate: []byte("pem"), Conditions: []certificatesv1.CertificateSigningRequestCondition{
					{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}}}},
			{ObjectMeta: fixture("", "csr-denied", 50*time.Minute, 95), Spec: certificatesv1.CertificateSigningRequestSpec{
				SignerName: "kubernetes.io/kubelet-serving", Username: "system:node:node-1"},
				Status: certificatesv1.CertificateSigningRequestStatus{Conditions: []certificatesv1.CertificateSigningRequestCondition{
					{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}, {Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue},
					{Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue}}}},
			{ObjectMeta: fixture("", "csr-pending", 30*time.Second, 118), Spec: certificatesv1.CertificateSigningRequestSpec{Username: "bob"}},
		}},
		"mutatingwebhookconfigurations": &admissionregistrationv1.MutatingWebhookConfigurationList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []admissionregistrationv1.MutatingWebhookConfiguration{
			{ObjectMeta: fixture("", "istio-sidecar-injector", 8*24*time.Hour, 50), Webhooks: []admissionregistrationv1.MutatingWebhook{{Name: "a.sidecar-injector.istio.io"}, {Name: "b.sidecar-injector.istio.io"}}},
		}},
		"validatingwebhookconfigurations": &admissionregistrationv1.ValidatingWebhookConfigurationList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []admissionregistrationv1.ValidatingWebhookConfiguration{
			{ObjectMeta: fixture("", "cert-manager-webhook", 8*24*time.Hour, 51), Webhooks: []admissionregistrationv1.ValidatingWebhook{{Name: "webhook.cert-manager.io"}}},
			{ObjectMeta: fixture("", "empty", time.Minute, 117)},
		}},
		"validatingadmissionpolicies": &admissionregistrationv1.ValidatingAdmissionPolicyList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []admissionregistrationv1.ValidatingAdmissionPolicy{
			{ObjectMeta: fixture("", "replica-limit", 4*time.Hour, 70), Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				ParamKind:   &admissionregistrationv1.ParamKind{APIVersion: "v1", Kind: "ConfigMap"},
				Validations: []admissionregistrationv1.Validation{{Expression: "object.spec.replicas <= params.data.max"}, {Expression: "true"}}}},
			{ObjectMeta: fixture("", "no-latest", 4*time.Hour, 71), Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
				Validations: []admissionregistrationv1.Validation{{Expression: "!object.spec.image.endsWith(':latest')"}}}},
		}},
		"validatingadmissionpolicybindings": &admissionregistrationv1.ValidatingAdmissionPolicyBindingList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []admissionregistrationv1.ValidatingAdmissionPolicyBinding{
			{ObjectMeta: fixture("", "replica-limit-prod", 4*time.Hour, 72), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "replica-limit", ParamRef: &admissionregistrationv1.ParamRef{Name: "limits", Namespace: "prod"}}},
			{ObjectMeta: fixture("", "replica-limit-all", 4*time.Hour, 73), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "replica-limit", ParamRef: &admissionregistrationv1.ParamRef{Name: "limits"}}},
			{ObjectMeta: fixture("", "replica-limit-team", 4*time.Hour, 74), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName: "replica-limit", ParamRef: &admissionregistrationv1.ParamRef{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}}}}},
			{ObjectMeta: fixture("", "no-latest", 4*time.Hour, 75), Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: "no-latest"}},
		}},
	}
}
