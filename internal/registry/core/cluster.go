package core

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/registry"
)

// ClusterResources are the core/v1 resources that describe the cluster
// rather than run workloads: Nodes, Endpoints, PersistentVolumes and
// their claims, LimitRanges and ResourceQuotas.
func ClusterResources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("nodes"), Kind: "Node", ListKind: "NodeList", SingularName: "node", ShortNames: []string{"no"},
			Subresources: []string{"status"}, Strategy: nodeStrategy{}},
		{GVR: gvr("endpoints"), Kind: "Endpoints", ListKind: "EndpointsList", SingularName: "endpoints", ShortNames: []string{"ep"},
			Namespaced: true, Strategy: endpointsStrategy{}},
		{GVR: gvr("persistentvolumes"), Kind: "PersistentVolume", ListKind: "PersistentVolumeList", SingularName: "persistentvolume",
			ShortNames: []string{"pv"}, Subresources: []string{"status"}, Strategy: persistentVolumeStrategy{clock: clock.RealClock{}}},
		{GVR: gvr("persistentvolumeclaims"), Kind: "PersistentVolumeClaim", ListKind: "PersistentVolumeClaimList",
			SingularName: "persistentvolumeclaim", ShortNames: []string{"pvc"}, Namespaced: true,
			Subresources: []string{"status"}, Strategy: persistentVolumeClaimStrategy{}},
		{GVR: gvr("limitranges"), Kind: "LimitRange", ListKind: "LimitRangeList", SingularName: "limitrange", ShortNames: []string{"limits"},
			Namespaced: true, Strategy: limitRangeStrategy{}},
		{GVR: gvr("resourcequotas"), Kind: "ResourceQuota", ListKind: "ResourceQuotaList", SingularName: "resourcequota",
			ShortNames: []string{"quota"}, Namespaced: true, Subresources: []string{"status"}, Strategy: resourceQuotaStrategy{}},
	}
}

// The helpers below are shared by the cluster kinds: upstream checks
// resource names and quantities alike in Nodes, quotas and limit ranges.

// isNativeResourceName: unprefixed, or in the kubernetes.io domain.
func isNativeResourceName(name corev1.ResourceName) bool {
	s := string(name)
	return !strings.Contains(s, "/") || strings.Contains(s, corev1.ResourceDefaultNamespacePrefix)
}

// isExtendedResourceName: a resource outside kubernetes.io that a quota
// could also count as requests.<name>, such as nvidia.com/gpu.
func isExtendedResourceName(name corev1.ResourceName) bool {
	s := string(name)
	if isNativeResourceName(name) || strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(corev1.DefaultResourceRequestsPrefix+s)) == 0
}

// integerResources are counted in whole objects, so their quantities
// must be integers.
var integerResources = map[corev1.ResourceName]bool{
	corev1.ResourcePods: true, corev1.ResourceQuotas: true, corev1.ResourceServices: true,
	corev1.ResourceReplicationControllers: true, corev1.ResourceSecrets: true, corev1.ResourceConfigMaps: true,
	corev1.ResourcePersistentVolumeClaims: true, corev1.ResourceServicesNodePorts: true, corev1.ResourceServicesLoadBalancers: true,
}

// validateQualifiedResourceName checks that a resource name is a
// qualified name and, when native, passes isStandard.
func validateQualifiedResourceName(name corev1.ResourceName, isStandard func(corev1.ResourceName) bool, what string, p *field.Path) field.ErrorList {
	s := string(name)
	var errs field.ErrorList
	for _, msg := range validation.IsQualifiedName(s) {
		errs = append(errs, field.Invalid(p, s, msg))
	}
	if len(errs) == 0 && !strings.Contains(s, "/") && !isStandard(name) {
		errs = append(errs, field.Invalid(p, s, "must be a standard "+what))
	}
	return errs
}

// validateResourceQuantity: quantities are non-negative, and integers for
// resources counted in whole units.
func validateResourceQuantity(name corev1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Sign() < 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than or equal to 0")}
	}
	if (integerResources[name] || isExtendedResourceName(name)) && q.MilliValue()%1000 != 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be an integer")}
	}
	return nil
}

// isStandardResourceName: the native resources a node, a limit range or
// a PVC may name.
func isStandardResourceName(name corev1.ResourceName) bool {
	s := strings.TrimPrefix(string(name), corev1.ResourceDefaultNamespacePrefix)
	switch corev1.ResourceName(s) {
	case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage, corev1.ResourceStorage,
		corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage, corev1.ResourceRequestsEphemeralStorage,
		corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage, corev1.ResourcePods:
		return true
	}
	return integerResources[corev1.ResourceName(s)] || strings.HasPrefix(s, corev1.ResourceHugePagesPrefix) ||
		strings.HasPrefix(s, corev1.ResourceRequestsHugePagesPrefix)
}

// validateResourceList checks the names and quantities of a list, with
// paths p[name].
func validateResourceList(l corev1.ResourceList, isStandard func(corev1.ResourceName) bool, what string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, name := range sortedResourceNames(l) {
		q := l[name]
		kp := p.Key(string(name))
		errs = append(errs, validateQualifiedResourceName(name, isStandard, what, kp)...)
		errs = append(errs, validateResourceQuantity(name, q, kp)...)
	}
	return errs
}

// copyMissing sets dst[k] to a copy of src[k] for every key dst lacks.
func copyMissing(dst *corev1.ResourceList, src corev1.ResourceList) {
	for k, v := range src {
		if _, ok := (*dst)[k]; ok {
			continue
		}
		if *dst == nil {
			*dst = corev1.ResourceList{}
		}
		(*dst)[k] = v.DeepCopy()
	}
}

func quantityf(format string, qs ...resource.Quantity) string {
	args := make([]any, len(qs))
	for i, q := range qs {
		args[i] = q.String()
	}
	return fmt.Sprintf(format, args...)
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	return slices.Sorted(maps.Keys(l))
}
