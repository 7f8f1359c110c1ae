package printers

import (
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// scheme maps the Go types of the built-in kinds to their kinds, for typed
// objects that do not carry apiVersion and kind.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		coordinationv1.AddToScheme, eventsv1.AddToScheme, networkingv1.AddToScheme,
		discoveryv1.AddToScheme, policyv1.AddToScheme, autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme, rbacv1.AddToScheme, schedulingv1.AddToScheme,
		storagev1.AddToScheme, admissionregistrationv1.AddToScheme, certificatesv1.AddToScheme, nodev1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// builtin holds the printers of the built-in kinds. Kinds upstream renders
// with its default table convertor (Role, ClusterRole, LimitRange,
// CustomResourceDefinition, …) are absent: ForKind gives them DefaultPrinter.
var builtin = map[schema.GroupVersionKind]Printer{
	corev1.SchemeGroupVersion.WithKind("ConfigMap"):             configMapPrinter,
	corev1.SchemeGroupVersion.WithKind("Endpoints"):             endpointsPrinter,
	corev1.SchemeGroupVersion.WithKind("Event"):                 eventPrinter,
	corev1.SchemeGroupVersion.WithKind("Namespace"):             namespacePrinter,
	corev1.SchemeGroupVersion.WithKind("Node"):                  nodePrinter,
	corev1.SchemeGroupVersion.WithKind("PersistentVolume"):      persistentVolumePrinter,
	corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"): persistentVolumeClaimPrinter,
	corev1.SchemeGroupVersion.WithKind("Pod"):                   podPrinter,
	corev1.SchemeGroupVersion.WithKind("PodTemplate"):           podTemplatePrinter,
	corev1.SchemeGroupVersion.WithKind("ReplicationController"): replicationControllerPrinter,
	corev1.SchemeGroupVersion.WithKind("ResourceQuota"):         resourceQuotaPrinter,
	corev1.SchemeGroupVersion.WithKind("Secret"):                secretPrinter,
	corev1.SchemeGroupVersion.WithKind("Service"):               servicePrinter,
	corev1.SchemeGroupVersion.WithKind("ServiceAccount"):        serviceAccountPrinter,

	appsv1.SchemeGroupVersion.WithKind("ControllerRevision"): controllerRevisionPrinter,
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):          daemonSetPrinter,
	appsv1.SchemeGroupVersion.WithKind("Deployment"):         deploymentPrinter,
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):         replicaSetPrinter,
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):        statefulSetPrinter,

	autoscalingv1.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): hpaV1Printer,
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): hpaV2Printer,

	batchv1.SchemeGroupVersion.WithKind("CronJob"): cronJobPrinter,
	batchv1.SchemeGroupVersion.WithKind("Job"):     jobPrinter,

	coordinationv1.SchemeGroupVersion.WithKind("Lease"): leasePrinter,

	discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"): endpointSlicePrinter,

	eventsv1.SchemeGroupVersion.WithKind("Event"): eventsV1Printer,

	networkingv1.SchemeGroupVersion.WithKind("Ingress"):       ingressPrinter,
	networkingv1.SchemeGroupVersion.WithKind("IngressClass"):  ingressClassPrinter,
	networkingv1.SchemeGroupVersion.WithKind("NetworkPolicy"): networkPolicyPrinter,

	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"): podDisruptionBudgetPrinter,

	rbacv1.SchemeGroupVersion.WithKind("ClusterRoleBinding"): clusterRoleBindingPrinter,
	rbacv1.SchemeGroupVersion.WithKind("RoleBinding"):        roleBindingPrinter,

	schedulingv1.SchemeGroupVersion.WithKind("PriorityClass"): priorityClassPrinter,

	storagev1.SchemeGroupVersion.WithKind("CSIDriver"):        csiDriverPrinter,
	storagev1.SchemeGroupVersion.WithKind("StorageClass"):     storageClassPrinter,
	storagev1.SchemeGroupVersion.WithKind("VolumeAttachment"): volumeAttachmentPrinter,

	admissionregistrationv1.SchemeGroupVersion.WithKind("MutatingWebhookConfiguration"):     mutatingWebhookConfigurationPrinter,
	admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingWebhookConfiguration"):   validatingWebhookConfigurationPrinter,
	admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingAdmissionPolicy"):        validatingAdmissionPolicyPrinter,
	admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingAdmissionPolicyBinding"): validatingAdmissionPolicyBindingPrinter,

	certificatesv1.SchemeGroupVersion.WithKind("CertificateSigningRequest"): certificateSigningRequestPrinter,

	nodev1.SchemeGroupVersion.WithKind("RuntimeClass"): runtimeClassPrinter,
}

// ForKind returns the built-in printer for gvk, or DefaultPrinter for kinds
// without one (custom resources included; see CustomResourcePrinter for
// what upstream shows for those).
func ForKind(gvk schema.GroupVersionKind) Printer {
	if p, ok := builtin[gvk]; ok {
		return p
	}
	return DefaultPrinter
}

// A Registry finds printers by kind: printers registered with Register first,
// then the built-in ones, then DefaultPrinter. The API server keeps one and
// registers a printer for each served version of each CustomResourceDefinition.
// The zero value is ready to use.
type Registry struct {
	mu         sync.RWMutex
	registered map[schema.GroupVersionKind]Printer // guarded by mu
}

// Register makes ForKind(gvk) return p, replacing any earlier registration
// and shadowing a built-in printer.
func (r *Registry) Register(gvk schema.GroupVersionKind, p Printer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.registered == nil {
		r.registered = make(map[schema.GroupVersionKind]Printer)
	}
	r.registered[gvk] = p
}

// Unregister undoes Register for gvk.
func (r *Registry) Unregister(gvk schema.GroupVersionKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.registered, gvk)
}

// ForKind returns the printer for gvk.
func (r *Registry) ForKind(gvk schema.GroupVersionKind) Printer {
	r.mu.RLock()
	p, ok := r.registered[gvk]
	r.mu.RUnlock()
	if ok {
		return p
	}
	return ForKind(gvk)
}
