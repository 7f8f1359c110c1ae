package openapi

import "k8s.io/apimachinery/pkg/runtime/schema"

var (
	allVerbs    = []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
	createOnly  = []string{"create"}
	statusOnly  = []string{"status"}
	statusScale = []string{"scale", "status"}
)

func res(group, version, kind, plural string, namespaced bool, verbs []string, subs ...string) Resource {
	return Resource{
		GVK:          schema.GroupVersionKind{Group: group, Version: version, Kind: kind},
		Resource:     plural,
		Namespaced:   namespaced,
		Verbs:        verbs,
		Subresources: subs,
	}
}

// builtinResources is a broad sample of the built-in resources, as a
// discovery document would list them, to exercise every shape of path.
func builtinResources() []Resource {
	return []Resource{
		res("", "v1", "Binding", "bindings", true, createOnly),
		res("", "v1", "ComponentStatus", "componentstatuses", false, []string{"get", "list"}),
		res("", "v1", "ConfigMap", "configmaps", true, allVerbs),
		res("", "v1", "Endpoints", "endpoints", true, allVerbs),
		res("", "v1", "Event", "events", true, allVerbs),
		res("", "v1", "LimitRange", "limitranges", true, allVerbs),
		res("", "v1", "Namespace", "namespaces", false, []string{"create", "delete", "get", "list", "patch", "update", "watch"}, "finalize", "status"),
		res("", "v1", "Node", "nodes", false, allVerbs, "proxy", "status"),
		res("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true, allVerbs, statusOnly...),
		res("", "v1", "PersistentVolume", "persistentvolumes", false, allVerbs, statusOnly...),
		res("", "v1", "Pod", "pods", true, allVerbs, "attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "resize", "status"),
		res("", "v1", "PodTemplate", "podtemplates", true, allVerbs),
		res("", "v1", "ReplicationController", "replicationcontrollers", true, allVerbs, statusScale...),
		res("", "v1", "ResourceQuota", "resourcequotas", true, allVerbs, statusOnly...),
		res("", "v1", "Secret", "secrets", true, allVerbs),
		res("", "v1", "ServiceAccount", "serviceaccounts", true, allVerbs, "token"),
		res("", "v1", "Service", "services", true, allVerbs, "proxy", "status"),
		res("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false, allVerbs),
		res("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false, allVerbs),
		res("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", false, allVerbs, statusOnly...),
		res("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", false, allVerbs),
		res("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", false, allVerbs, statusOnly...),
		res("apps", "v1", "ControllerRevision", "controllerrevisions", true, allVerbs),
		res("apps", "v1", "DaemonSet", "daemonsets", true, allVerbs, statusOnly...),
		res("apps", "v1", "Deployment", "deployments", true, allVerbs, statusScale...),
		res("apps", "v1", "ReplicaSet", "replicasets", true, allVerbs, statusScale...),
		res("apps", "v1", "StatefulSet", "statefulsets", true, allVerbs, statusScale...),
		res("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", false, createOnly),
		res("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", false, createOnly),
		res("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", true, createOnly),
		res("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", false, createOnly),
		res("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", false, createOnly),
		res("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", false, createOnly),
		res("autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, allVerbs, statusOnly...),
		res("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", true, allVerbs, statusOnly...),
		res("batch", "v1", "CronJob", "cronjobs", true, allVerbs, statusOnly...),
		res("batch", "v1", "Job", "jobs", true, allVerbs, statusOnly...),
		res("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", false, allVerbs, "approval", "status"),
		res("coordination.k8s.io", "v1", "Lease", "leases", true, allVerbs),
		res("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, allVerbs),
		res("events.k8s.io", "v1", "Event", "events", true, allVerbs),
		res("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas", false, allVerbs, statusOnly...),
		res("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration", "prioritylevelconfigurations", false, allVerbs, statusOnly...),
		res("networking.k8s.io", "v1", "IngressClass", "ingressclasses", false, allVerbs),
		res("networking.k8s.io", "v1", "Ingress", "ingresses", true, allVerbs, statusOnly...),
		res("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true, allVerbs),
		res("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false, allVerbs),
		res("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true, allVerbs, statusOnly...),
		res("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false, allVerbs),
		res("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false, allVerbs),
		res("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true, allVerbs),
		res("rbac.authorization.k8s.io", "v1", "Role", "roles", true, allVerbs),
		res("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", false, allVerbs),
		res("storage.k8s.io", "v1", "CSIDriver", "csidrivers", false, allVerbs),
		res("storage.k8s.io", "v1", "CSINode", "csinodes", false, allVerbs),
		res("storage.k8s.io", "v1", "StorageClass", "storageclasses", false, allVerbs),
		res("storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", false, allVerbs, statusOnly...),
	}
}
