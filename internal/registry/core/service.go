package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/svcalloc"
	"skiff.dev/skiff/internal/storage"
)

// ServiceConfig says where a cluster's Services get their addresses. The
// cluster is single-stack: its one IP family is the service CIDR's.
type ServiceConfig struct {
	ClusterIPs *svcalloc.IPRange
	NodePorts  *svcalloc.PortRange
}

// DefaultServiceConfig is 10.43.0.0/16 and node ports 30000-32767.
func DefaultServiceConfig() ServiceConfig {
	return ServiceConfig{
		ClusterIPs: svcalloc.MustParseIPRange(svcalloc.DefaultServiceCIDR),
		NodePorts:  svcalloc.MustParsePortRange(svcalloc.DefaultNodePortRange),
	}
}

// ServiceResource is core/v1 Service, its addresses handed out from cfg.
func ServiceResource(cfg ServiceConfig) *registry.Resource {
	return &registry.Resource{GVR: gvr("services"), Kind: "Service", ListKind: "ServiceList", SingularName: "service",
		ShortNames: []string{"svc"}, Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status"},
		Strategy: serviceStrategy{cfg: cfg}}
}

// KubernetesService is the `default/kubernetes` Service through which
// in-cluster clients reach the API server: the first address of the service
// CIDR, port 443 to the API server's port.
func KubernetesService(clusterIP netip.Addr, apiserverPort int32) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: metav1.NamespaceDefault,
			Name:      "kubernetes",
			Labels:    map[string]string{"component": "apiserver", "provider": "kubernetes"},
		},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: clusterIP.String(),
			Ports: []corev1.ServicePort{{
				Name: "https", Protocol: corev1.ProtocolTCP, Port: 443, TargetPort: intstr.FromInt32(apiserverPort),
			}},
			SessionAffinity: corev1.ServiceAffinityNone,
		},
	}
}

// KubernetesEndpoints are the Endpoints of the `default/kubernetes`
// Service: the API server's address and port.
func KubernetesEndpoints(apiserverIP string, apiserverPort int32) *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: metav1.NamespaceDefault,
			Name:      "kubernetes",
			Labels:    map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"},
		},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: apiserverIP}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: apiserverPort, Protocol: corev1.ProtocolTCP}},
		}},
	}
}

// serviceStrategy gives Services their semantics. Status is written only
// through /status. Cluster IPs and node ports are reserved in the store
// (package svcalloc) through the store's WriteHooks: after validation,
// before the Service is written, released when the write fails, when an
// update gives them up, and when the Service is deleted.
type serviceStrategy struct {
	registry.BaseStrategy
	cfg ServiceConfig
}

var (
	_ registry.Strategy   = serviceStrategy{}
	_ registry.WriteHooks = serviceStrategy{}
)

func (serviceStrategy) New() runtime.Object     { return &corev1.Service{} }
func (serviceStrategy) NewList() runtime.Object { return &corev1.ServiceList{} }

// ValidateName: Service names are DNS labels that start with a letter,
// since they become DNS names and environment variable names.
func (serviceStrategy) ValidateName(name string, prefix bool) []string {
	return apivalidation.NameIsDNS1035Label(name, prefix)
}

// Default applies upstream's v1 defaults.
func (serviceStrategy) Default(obj runtime.Object) {
	svc := obj.(*corev1.Service)
	spec := &svc.Spec
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	if spec.SessionAffinity == corev1.ServiceAffinityNone {
		spec.SessionAffinityConfig = nil
	}
	if spec.SessionAffinity == corev1.ServiceAffinityClientIP {
		if c := spec.SessionAffinityConfig; c == nil || c.ClientIP == nil || c.ClientIP.TimeoutSeconds == nil {
			timeout := corev1.DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout}}
		}
	}
	if spec.Type == "" {
		spec.Type = corev1.ServiceTypeClusterIP
	}
	for i := range spec.Ports {
		p := &spec.Ports[i]
		if p.Protocol == "" {
			p.Protocol = corev1.ProtocolTCP
		}
		if p.TargetPort == intstr.FromInt32(0) || p.TargetPort == intstr.FromString("") {
			p.TargetPort = intstr.FromInt32(p.Port)
		}
	}
	if externallyAccessible(svc) && spec.ExternalTrafficPolicy == "" {
		spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if spec.InternalTrafficPolicy == nil && spec.Type != corev1.ServiceTypeExternalName {
		p := corev1.ServiceInternalTrafficPolicyCluster
		spec.InternalTrafficPolicy = &p
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts == nil {
			t := true
			spec.AllocateLoadBalancerNodePorts = &t
		}
		for i, ing := range svc.Status.LoadBalancer.Ingress {
			if ing.IP != "" && ing.IPMode == nil {
				vip := corev1.LoadBalancerIPModeVIP
				svc.Status.LoadBalancer.Ingress[i].IPMode = &vip
			}
		}
	}
}

func (s serviceStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	svc := obj.(*corev1.Service)
	svc.Status = corev1.ServiceStatus{}
	normalizeClusterIPs(svc, nil)
	s.defaultIPFamilies(svc)
}

func (s serviceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	svc, o := obj.(*corev1.Service), old.(*corev1.Service)
	if sub == "status" {
		svc.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(&svc.ObjectMeta, &o.ObjectMeta)
		return
	}
	svc.Status = o.Status
	patchAllocatedValues(svc, o)
	normalizeClusterIPs(svc, o)
	dropTypeDependentFields(svc, o)
	s.defaultIPFamilies(svc)
}

func (s serviceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	svc := obj.(*corev1.Service)
	errs := validateService(svc)
	errs = append(errs, s.validateForCluster(svc)...)
	return errs
}

func (s serviceStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	svc, o := obj.(*corev1.Service), old.(*corev1.Service)
	errs := s.Validate(ctx, obj)
	errs = append(errs, validateServiceUpdate(svc, o)...)
	errs = append(errs, validateLoadBalancerStatus(&svc.Status.LoadBalancer, field.NewPath("status", "loadBalancer"))...)
	return errs
}

func (serviceStrategy) SelectableFields(obj runtime.Object) fields.Set {
	svc := obj.(*corev1.Service)
	return fields.Set{"spec.clusterIP": svc.Spec.ClusterIP, "spec.type": string(svc.Spec.Type)}
}

// ---- preparing ----

func isHeadless(svc *corev1.Service) bool {
	return len(svc.Spec.ClusterIPs) == 1 && svc.Spec.ClusterIPs[0] == corev1.ClusterIPNone
}

func needsClusterIP(svc *corev1.Service) bool { return svc.Spec.Type != corev1.ServiceTypeExternalName }

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

// allocatesNodePorts: ports without a nodePort get one. A LoadBalancer
// may opt out; node ports it names are still reserved.
func allocatesNodePorts(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case corev1.ServiceTypeNodePort:
		return true
	case corev1.ServiceTypeLoadBalancer:
		return svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	}
	return false
}

func needsHealthCheckNodePort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

func externallyAccessible(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeClusterIP && len(svc.Spec.ExternalIPs) > 0)
}

// normalizeClusterIPs keeps clusterIP and clusterIPs in step for clients
// that set only the singular field; old is nil on create.
func normalizeClusterIPs(svc, old *corev1.Service) {
	spec := &svc.Spec
	if old != nil && old.Spec.ClusterIP != spec.ClusterIP && slices.Equal(old.Spec.ClusterIPs, spec.ClusterIPs) {
		// The singular changed, the plural did not: the client knows
		// only the singular.
		spec.ClusterIPs = nil
	}
	if spec.ClusterIP != "" && len(spec.ClusterIPs) == 0 {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
}

// patchAllocatedValues carries over the allocated cluster IPs and node
// ports that an update omits (a PUT of a manifest without them, as
// `kubectl replace` sends), so that only an explicit change changes them.
func patchAllocatedValues(svc, old *corev1.Service) {
	if needsClusterIP(old) && needsClusterIP(svc) {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 {
			svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
		}
	}
	if needsNodePorts(old) && needsNodePorts(svc) {
		// Node ports still named by the new object cannot be patched in
		// elsewhere; the others go back to the port of the same name.
		used := sets.New[int32]()
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				used.Insert(p.NodePort)
			}
		}
		byName := map[string]int32{}
		for _, p := range old.Spec.Ports {
			byName[p.Name] = p.NodePort
		}
		for i := range svc.Spec.Ports {
			p := &svc.Spec.Ports[i]
			if np := byName[p.Name]; p.NodePort == 0 && np != 0 && !used.Has(np) {
				p.NodePort = np
				used.Insert(np)
			}
		}
	}
	if needsHealthCheckNodePort(old) && needsHealthCheckNodePort(svc) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

// dropTypeDependentFields clears, on a type change, the fields the new type
// does not use, when the client left them as they were: they were most
// likely allocated or defaulted, not asked for.
func dropTypeDependentFields(svc, old *corev1.Service) {
	spec, ospec := &svc.Spec, &old.Spec
	if needsClusterIP(old) && !needsClusterIP(svc) {
		if slices.Equal(spec.ClusterIPs, ospec.ClusterIPs) && spec.ClusterIP == ospec.ClusterIP {
			spec.ClusterIP, spec.ClusterIPs = "", nil
		}
		if slices.Equal(spec.IPFamilies, ospec.IPFamilies) {
			spec.IPFamilies = nil
		}
		if ptrEqual(spec.IPFamilyPolicy, ospec.IPFamilyPolicy) {
			spec.IPFamilyPolicy = nil
		}
	}
	if needsNodePorts(old) && !needsNodePorts(svc) && sameNodePorts(spec.Ports, ospec.Ports) {
		for i := range spec.Ports {
			spec.Ports[i].NodePort = 0
		}
	}
	if ospec.Type == corev1.ServiceTypeLoadBalancer && spec.Type != corev1.ServiceTypeLoadBalancer {
		if spec.AllocateLoadBalancerNodePorts != nil && ptrEqual(spec.AllocateLoadBalancerNodePorts, ospec.AllocateLoadBalancerNodePorts) {
			spec.AllocateLoadBalancerNodePorts = nil
		}
		if ptrEqual(spec.LoadBalancerClass, ospec.LoadBalancerClass) {
			spec.LoadBalancerClass = nil
		}
	}
	if needsHealthCheckNodePort(old) && !needsHealthCheckNodePort(svc) && spec.HealthCheckNodePort == ospec.HealthCheckNodePort {
		spec.HealthCheckNodePort = 0
	}
	if externallyAccessible(old) && !externallyAccessible(svc) && spec.ExternalTrafficPolicy == ospec.ExternalTrafficPolicy {
		spec.ExternalTrafficPolicy = ""
	}
	if spec.Type != corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
}

func sameNodePorts(a, b []corev1.ServicePort) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].NodePort != b[i].NodePort {
			return false
		}
	}
	return true
}

func ptrEqual[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

// defaultIPFamilies fills ipFamilyPolicy and ipFamilies, which upstream
// sets while allocating: SingleStack, and the family of the requested
// cluster IPs or else the cluster's. A headless Service without selector
// gets RequireDualStack with every family of the cluster, as upstream.
func (s serviceStrategy) defaultIPFamilies(svc *corev1.Service) {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		return
	}
	if spec.IPFamilyPolicy == nil {
		p := corev1.IPFamilyPolicySingleStack
		if isHeadless(svc) && len(spec.Selector) == 0 {
			p = corev1.IPFamilyPolicyRequireDualStack
		}
		spec.IPFamilyPolicy = &p
	}
	if len(spec.IPFamilies) > 0 {
		return
	}
	for _, s := range spec.ClusterIPs {
		if ip, err := netip.ParseAddr(s); err == nil {
			spec.IPFamilies = append(spec.IPFamilies, ipFamily(ip))
		}
	}
	if len(spec.IPFamilies) == 0 {
		spec.IPFamilies = []corev1.IPFamily{s.clusterFamily()}
	}
}

func ipFamily(ip netip.Addr) corev1.IPFamily {
	if ip.Is4() || ip.Is4In6() {
		return corev1.IPv4Protocol
	}
	return corev1.IPv6Protocol
}

func (s serviceStrategy) clusterFamily() corev1.IPFamily {
	return ipFamily(s.cfg.ClusterIPs.Prefix().Addr())
}

// ---- validation ----

var (
	serviceTypes = []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort,
		corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}
	sessionAffinities       = []corev1.ServiceAffinity{corev1.ServiceAffinityClientIP, corev1.ServiceAffinityNone}
	servicePortProtocols    = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
	externalTrafficPolicies = []corev1.ServiceExternalTrafficPolicy{corev1.ServiceExternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal}
	internalTrafficPolicies = []corev1.ServiceInternalTrafficPolicy{corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceInternalTrafficPolicyLocal}
	ipFamilies              = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	ipFamilyPolicies        = []corev1.IPFamilyPolicy{corev1.IPFamilyPolicyPreferDualStack, corev1.IPFamilyPolicyRequireDualStack, corev1.IPFamilyPolicySingleStack}
	trafficDistributions    = []string{corev1.ServiceTrafficDistributionPreferClose, corev1.ServiceTrafficDistributionPreferSameZone, corev1.ServiceTrafficDistributionPreferSameNode}
	loadBalancerIPModes     = []corev1.LoadBalancerIPMode{corev1.LoadBalancerIPModeProxy, corev1.LoadBalancerIPModeVIP}
)

// validateService checks a Service's spec as upstream's ValidateService
// does, with one difference: it runs before allocation, so a Service that
// needs a healthCheckNodePort may leave it 0.
func validateService(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := &svc.Spec
	sp := field.NewPath("spec")
	headless := isHeadless(svc)

	if len(spec.Ports) == 0 && !headless && spec.Type != corev1.ServiceTypeExternalName {
		errs = append(errs, field.Required(sp.Child("ports"), ""))
	}
	switch spec.Type {
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeNodePort:
		if headless {
			errs = append(errs, field.Invalid(sp.Child("clusterIPs").Index(0), spec.ClusterIPs[0],
				fmt.Sprintf("may not be set to 'None' for %s services", spec.Type)))
		}
	case corev1.ServiceTypeExternalName:
		if len(spec.ClusterIPs) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("clusterIPs"), "may not be set for ExternalName services"))
		}
		if len(spec.IPFamilies) > 0 {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilies"), "may not be set for ExternalName services"))
		}
		if spec.IPFamilyPolicy != nil {
			errs = append(errs, field.Forbidden(sp.Child("ipFamilyPolicy"), "may not be set for ExternalName services"))
		}
		// A trailing dot marks the name fully qualified.
		if cname := strings.TrimSuffix(spec.ExternalName, "."); cname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(cname) {
				errs = append(errs, field.Invalid(sp.Child("externalName"), spec.ExternalName, msg))
			}
		} else {
			errs = append(errs, field.Required(sp.Child("externalName"), ""))
		}
	}

	names := sets.New[string]()
	for i := range spec.Ports {
		errs = append(errs, validateServicePort(&spec.Ports[i], len(spec.Ports) > 1, names, sp.Child("ports").Index(i))...)
	}
	errs = append(errs, metav1validation.ValidateLabels(spec.Selector, sp.Child("selector"))...)

	switch {
	case spec.SessionAffinity == "":
		errs = append(errs, field.Required(sp.Child("sessionAffinity"), ""))
	case !slices.Contains(sessionAffinities, spec.SessionAffinity):
		errs = append(errs, field.NotSupported(sp.Child("sessionAffinity"), spec.SessionAffinity, sessionAffinities))
	case spec.SessionAffinity == corev1.ServiceAffinityClientIP:
		errs = append(errs, validateClientIPAffinity(spec.SessionAffinityConfig, sp.Child("sessionAffinityConfig"))...)
	case spec.SessionAffinityConfig != nil:
		errs = append(errs, field.Forbidden(sp.Child("sessionAffinityConfig"), "must not be set when session affinity is None"))
	}

	errs = append(errs, validateClusterIPFields(svc)...)

	for i, ip := range spec.ExternalIPs {
		p := sp.Child("externalIPs").Index(i)
		if ipErrs := validation.IsValidIP(p, ip); len(ipErrs) > 0 {
			errs = append(errs, ipErrs...)
		} else {
			errs = append(errs, validateNonSpecialIP(ip, p)...)
		}
	}

	switch {
	case spec.Type == "":
		errs = append(errs, field.Required(sp.Child("type"), ""))
	case !slices.Contains(serviceTypes, spec.Type):
		errs = append(errs, field.NotSupported(sp.Child("type"), spec.Type, serviceTypes))
	}
	if spec.Type == corev1.ServiceTypeClusterIP {
		for i, p := range spec.Ports {
			if p.NodePort != 0 {
				errs = append(errs, field.Forbidden(sp.Child("ports").Index(i).Child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
			}
		}
	}

	// Node ports and ports are unique per protocol.
	type protoPort struct {
		proto corev1.Protocol
		port  int32
	}
	nodePorts, ports := sets.New[protoPort](), sets.New[protoPort]()
	for i, p := range spec.Ports {
		pp := sp.Child("ports").Index(i)
		if p.NodePort != 0 {
			k := protoPort{p.Protocol, p.NodePort}
			if nodePorts.Has(k) {
				errs = append(errs, field.Duplicate(pp.Child("nodePort"), p.NodePort))
			}
			nodePorts.Insert(k)
		}
		k := protoPort{p.Protocol, p.Port}
		if ports.Has(k) {
			errs = append(errs, field.Duplicate(pp, corev1.ServicePort{Protocol: p.Protocol, Port: p.Port}))
		}
		ports.Insert(k)
	}

	if len(spec.LoadBalancerSourceRanges) > 0 {
		// Upstream spells this path with a capital L; clients match it.
		p := sp.Child("LoadBalancerSourceRanges")
		if spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(p, "may only be used when `type` is 'LoadBalancer'"))
		}
		for i, v := range spec.LoadBalancerSourceRanges {
			// Historically space-padded values are accepted.
			errs = append(errs, validation.IsValidCIDR(p.Index(i), strings.TrimSpace(v))...)
		}
	}
	if spec.AllocateLoadBalancerNodePorts != nil && spec.Type != corev1.ServiceTypeLoadBalancer {
		errs = append(errs, field.Forbidden(sp.Child("allocateLoadBalancerNodePorts"), "may only be used when `type` is 'LoadBalancer'"))
	}
	if spec.Type == corev1.ServiceTypeLoadBalancer && spec.AllocateLoadBalancerNodePorts == nil {
		errs = append(errs, field.Required(sp.Child("allocateLoadBalancerNodePorts"), ""))
	}
	if spec.LoadBalancerClass != nil {
		if spec.Type != corev1.ServiceTypeLoadBalancer {
			errs = append(errs, field.Forbidden(sp.Child("loadBalancerClass"), "may only be used when `type` is 'LoadBalancer'"))
		} else {
			errs = append(errs, metav1validation.ValidateLabelName(*spec.LoadBalancerClass, sp.Child("loadBalancerClass"))...)
		}
	}

	if !externallyAccessible(svc) {
		if spec.ExternalTrafficPolicy != "" {
			errs = append(errs, field.Invalid(sp.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, "may only be set for externally-accessible services"))
		}
	} else if spec.ExternalTrafficPolicy == "" {
		errs = append(errs, field.Required(sp.Child("externalTrafficPolicy"), ""))
	} else if !slices.Contains(externalTrafficPolicies, spec.ExternalTrafficPolicy) {
		errs = append(errs, field.NotSupported(sp.Child("externalTrafficPolicy"), spec.ExternalTrafficPolicy, externalTrafficPolicies))
	}
	if hc := spec.HealthCheckNodePort; !needsHealthCheckNodePort(svc) && hc != 0 {
		errs = append(errs, field.Invalid(sp.Child("healthCheckNodePort"), hc, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"))
	} else if hc != 0 {
		for _, msg := range validation.IsValidPortNum(int(hc)) {
			errs = append(errs, field.Invalid(sp.Child("healthCheckNodePort"), hc, msg))
		}
	}
	if itp := spec.InternalTrafficPolicy; itp == nil {
		if spec.Type != corev1.ServiceTypeExternalName {
			errs = append(errs, field.Required(sp.Child("internalTrafficPolicy"), ""))
		}
	} else if !slices.Contains(internalTrafficPolicies, *itp) {
		errs = append(errs, field.NotSupported(sp.Child("internalTrafficPolicy"), *itp, internalTrafficPolicies))
	}
	if td := spec.TrafficDistribution; td != nil && !slices.Contains(trafficDistributions, *td) {
		errs = append(errs, field.NotSupported(sp.Child("trafficDistribution"), *td, trafficDistributions))
	}
	return errs
}

func validateServicePort(p *corev1.ServicePort, requireName bool, names sets.Set[string], path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && p.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	} else if p.Name != "" {
		for _, msg := range validation.IsDNS1123Label(p.Name) {
			errs = append(errs, field.Invalid(path.Child("name"), p.Name, msg))
		}
		if names.Has(p.Name) {
			errs = append(errs, field.Duplicate(path.Child("name"), p.Name))
		}
		names.Insert(p.Name)
	}
	for _, msg := range validation.IsValidPortNum(int(p.Port)) {
		errs = append(errs, field.Invalid(path.Child("port"), p.Port, msg))
	}
	if p.Protocol == "" {
		errs = append(errs, field.Required(path.Child("protocol"), ""))
	} else if !slices.Contains(servicePortProtocols, p.Protocol) {
		errs = append(errs, field.NotSupported(path.Child("protocol"), p.Protocol, servicePortProtocols))
	}
	errs = append(errs, validateServiceTargetPort(p.TargetPort, path.Child("targetPort"))...)
	if p.AppProtocol != nil {
		for _, msg := range validation.IsQualifiedName(*p.AppProtocol) {
			errs = append(errs, field.Invalid(path.Child("appProtocol"), *p.AppProtocol, msg))
		}
	}
	return errs
}

// validateServiceTargetPort accepts a port number or an IANA service name.
func validateServiceTargetPort(port intstr.IntOrString, path *field.Path) field.ErrorList {
	var msgs []string
	if port.Type == intstr.String {
		msgs = validation.IsValidPortName(port.StrVal)
	} else {
		msgs = validation.IsValidPortNum(port.IntValue())
	}
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(path, port.String(), msg))
	}
	return errs
}

// maxClientIPAffinitySeconds is upstream's bound on a ClientIP affinity
// timeout: one day.
const maxClientIPAffinitySeconds = 86400

func validateClientIPAffinity(c *corev1.SessionAffinityConfig, path *field.Path) field.ErrorList {
	switch {
	case c == nil:
		return field.ErrorList{field.Required(path, "when session affinity type is ClientIP")}
	case c.ClientIP == nil:
		return field.ErrorList{field.Required(path.Child("clientIP"), "when session affinity type is ClientIP")}
	case c.ClientIP.TimeoutSeconds == nil:
		return field.ErrorList{field.Required(path.Child("clientIP", "timeoutSeconds"), "when session affinity type is ClientIP")}
	}
	if t := *c.ClientIP.TimeoutSeconds; t <= 0 || t > maxClientIPAffinitySeconds {
		return field.ErrorList{field.Invalid(path.Child("clientIP", "timeoutSeconds"), t,
			fmt.Sprintf("must be greater than 0 and less than %d", maxClientIPAffinitySeconds))}
	}
	return nil
}

// validateNonSpecialIP rejects addresses no Service can be reached on.
func validateNonSpecialIP(s string, path *field.Path) field.ErrorList {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return field.ErrorList{field.Invalid(path, s, "must be a valid IP address")}
	}
	switch {
	case ip.IsUnspecified():
		return field.ErrorList{field.Invalid(path, s, "may not be unspecified (0.0.0.0)")}
	case ip.IsLoopback():
		return field.ErrorList{field.Invalid(path, s, "may not be in the loopback range (127.0.0.0/8, ::1/128)")}
	case ip.IsLinkLocalUnicast():
		return field.ErrorList{field.Invalid(path, s, "may not be in the link-local range (169.254.0.0/16, fe80::/10)")}
	case ip.IsLinkLocalMulticast():
		return field.ErrorList{field.Invalid(path, s, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")}
	}
	return nil
}

// validateClusterIPFields checks clusterIP, clusterIPs, ipFamilies and
// ipFamilyPolicy against each other.
func validateClusterIPFields(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName {
		return nil // checked above: all must be unset
	}
	var errs field.ErrorList
	sp := field.NewPath("spec")
	ipsPath, famPath := sp.Child("clusterIPs"), sp.Child("ipFamilies")
	if spec.ClusterIP != "" {
		if len(spec.ClusterIPs) == 0 {
			errs = append(errs, field.Required(ipsPath, ""))
		} else if spec.ClusterIPs[0] != spec.ClusterIP {
			errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "first value must match `clusterIP`"))
		}
	} else if len(spec.ClusterIPs) > 0 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "must be empty when `clusterIP` is not specified"))
	}
	seen := sets.New[corev1.IPFamily]()
	for i, f := range spec.IPFamilies {
		if !slices.Contains(ipFamilies, f) {
			errs = append(errs, field.NotSupported(famPath.Index(i), f, ipFamilies))
		}
		if seen.Has(f) {
			errs = append(errs, field.Duplicate(famPath.Index(i), f))
		}
		seen.Insert(f)
	}
	if p := spec.IPFamilyPolicy; p != nil && !slices.Contains(ipFamilyPolicies, *p) {
		errs = append(errs, field.NotSupported(sp.Child("ipFamilyPolicy"), *p, ipFamilyPolicies))
	}
	var addrs []netip.Addr
	badIPs := false
	for i, s := range spec.ClusterIPs {
		if i == 0 && s == corev1.ClusterIPNone {
			if len(spec.ClusterIPs) > 1 {
				badIPs = true
				errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "'None' must be the first and only value"))
			}
			continue
		}
		ipErrs := validation.IsValidIP(ipsPath.Index(i), s)
		if len(ipErrs) > 0 {
			badIPs = true
			errs = append(errs, ipErrs...)
			continue
		}
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	if len(spec.ClusterIPs) > 2 {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may only hold up to 2 values"))
	}
	if badIPs {
		return errs
	}
	if len(addrs) == 2 && ipFamily(addrs[0]) == ipFamily(addrs[1]) {
		errs = append(errs, field.Invalid(ipsPath, spec.ClusterIPs, "may specify no more than one IP for each IP family"))
	}
	if !isHeadless(svc) {
		for i, ip := range addrs {
			if i < len(spec.IPFamilies) && slices.Contains(ipFamilies, spec.IPFamilies[i]) && ipFamily(ip) != spec.IPFamilies[i] {
				errs = append(errs, field.Invalid(ipsPath.Index(i), spec.ClusterIPs[i],
					fmt.Sprintf("expected an %s value as indicated by `ipFamilies[%d]`", spec.IPFamilies[i], i)))
			}
		}
	}
	return errs
}

// validateForCluster checks what depends on how the cluster is configured:
// it is single-stack, in the family of its service CIDR.
func (s serviceStrategy) validateForCluster(svc *corev1.Service) field.ErrorList {
	spec := &svc.Spec
	if spec.Type == corev1.ServiceTypeExternalName || isHeadless(svc) {
		return nil
	}
	var errs field.ErrorList
	sp := field.NewPath("spec")
	if p := spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack {
		errs = append(errs, field.Invalid(sp.Child("ipFamilyPolicy"), *p, "this cluster is not configured for dual-stack services"))
	}
	if p := spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicySingleStack && len(spec.IPFamilies) > 1 {
		errs = append(errs, field.Invalid(sp.Child("ipFamilies"), spec.IPFamilies, "when ipFamilyPolicy is SingleStack, at most one IP family may be specified"))
	}
	for i, f := range spec.IPFamilies {
		if slices.Contains(ipFamilies, f) && f != s.clusterFamily() {
			errs = append(errs, field.Invalid(sp.Child("ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	return errs
}

// validateServiceUpdate checks what may not change: the cluster IPs and
// IP families (except to, from or as an ExternalName), the load balancer
// class and the health-check node port.
func validateServiceUpdate(svc, old *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	external := svc.Spec.Type == corev1.ServiceTypeExternalName || old.Spec.Type == corev1.ServiceTypeExternalName
	if !external && !(isHeadless(svc) && isHeadless(old)) {
		errs = append(errs, validateListUpdate(svc.Spec.ClusterIPs, old.Spec.ClusterIPs, svc.Spec.IPFamilyPolicy, sp.Child("clusterIPs"), "clusterIP")...)
	}
	if !external && !isHeadless(svc) && !isHeadless(old) {
		errs = append(errs, validateListUpdate(svc.Spec.IPFamilies, old.Spec.IPFamilies, svc.Spec.IPFamilyPolicy, sp.Child("ipFamilies"), "ipFamily")...)
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer && old.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		!ptrEqual(svc.Spec.LoadBalancerClass, old.Spec.LoadBalancerClass) {
		errs = append(errs, field.Invalid(sp.Child("loadBalancerClass"), svc.Spec.LoadBalancerClass, "may not change once set"))
	}
	if needsHealthCheckNodePort(svc) && needsHealthCheckNodePort(old) && svc.Spec.HealthCheckNodePort != old.Spec.HealthCheckNodePort {
		errs = append(errs, field.Forbidden(sp.Child("healthCheckNodePort"), "field is immutable"))
	}
	return errs
}

// validateListUpdate: the primary entry of clusterIPs or ipFamilies may not
// change; a secondary one may be added, or removed with SingleStack.
func validateListUpdate[T comparable](list, old []T, policy *corev1.IPFamilyPolicy, path *field.Path, what string) field.ErrorList {
	var errs field.ErrorList
	switch {
	case len(list) == len(old):
		for i := range old {
			if list[i] != old[i] {
				errs = append(errs, field.Invalid(path.Index(i), list, "may not change once set"))
			}
		}
	case len(list) < len(old):
		if len(list) == 0 {
			errs = append(errs, field.Invalid(path.Index(0), list, fmt.Sprintf("primary %s can not be unset", what)))
		} else if list[0] != old[0] {
			errs = append(errs, field.Invalid(path.Index(0), list, "may not change once set"))
		}
		if len(list) == 1 && (policy == nil || *policy != corev1.IPFamilyPolicySingleStack) {
			errs = append(errs, field.Invalid(field.NewPath("spec", "ipFamilyPolicy"), policy,
				fmt.Sprintf("must be set to 'SingleStack' when releasing the secondary %s", what)))
		}
	default:
		if len(old) > 0 && list[0] != old[0] {
			errs = append(errs, field.Invalid(path.Index(0), list, "may not change once set"))
		}
	}
	return errs
}

// validateLoadBalancerStatus checks what a load-balancer controller writes.
func validateLoadBalancerStatus(st *corev1.LoadBalancerStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ing := range st.Ingress {
		p := path.Child("ingress").Index(i)
		if ing.IP != "" {
			errs = append(errs, validation.IsValidIP(p.Child("ip"), ing.IP)...)
		}
		if ing.IPMode != nil {
			if ing.IP == "" {
				errs = append(errs, field.Forbidden(p.Child("ipMode"), "may not be specified when `ip` is not set"))
			} else if !slices.Contains(loadBalancerIPModes, *ing.IPMode) {
				errs = append(errs, field.NotSupported(p.Child("ipMode"), *ing.IPMode, loadBalancerIPModes))
			}
		}
		if ing.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(ing.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), ing.Hostname, msg))
			}
			if _, err := netip.ParseAddr(ing.Hostname); err == nil {
				errs = append(errs, field.Invalid(p.Child("hostname"), ing.Hostname, "must be a DNS name, not an IP address"))
			}
		}
		for j, port := range ing.Ports {
			pp := p.Child("ports").Index(j)
			for _, msg := range validation.IsValidPortNum(int(port.Port)) {
				errs = append(errs, field.Invalid(pp.Child("port"), port.Port, msg))
			}
			if !slices.Contains(servicePortProtocols, port.Protocol) {
				errs = append(errs, field.NotSupported(pp.Child("protocol"), port.Protocol, servicePortProtocols))
			}
		}
	}
	return errs
}

// ---- allocation ----

// holdings are the cluster IPs and node ports a stored Service holds.
type holdings struct {
	ips   sets.Set[netip.Addr]
	ports sets.Set[int32]
}

func holdingsOf(svc *corev1.Service) holdings {
	h := holdings{ips: sets.New[netip.Addr](), ports: sets.New[int32]()}
	if svc == nil {
		return h
	}
	if needsClusterIP(svc) {
		for _, s := range svc.Spec.ClusterIPs {
			if ip, err := netip.ParseAddr(s); err == nil {
				h.ips.Insert(ip)
			}
		}
	}
	if needsNodePorts(svc) {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				h.ports.Insert(p.NodePort)
			}
		}
	}
	if needsHealthCheckNodePort(svc) && svc.Spec.HealthCheckNodePort != 0 {
		h.ports.Insert(svc.Spec.HealthCheckNodePort)
	}
	return h
}

// BeforeWrite reserves the cluster IPs and node ports obj needs that old
// does not hold, and fills in the ones obj leaves to the cluster.
func (s serviceStrategy) BeforeWrite(ctx context.Context, st storage.Store, obj, old runtime.Object) (registry.WriteTxn, error) {
	svc := obj.(*corev1.Service)
	var oldSvc *corev1.Service
	if old != nil {
		oldSvc = old.(*corev1.Service)
	}
	a := &serviceAllocation{cfg: s.cfg, store: st, svc: svc, held: holdingsOf(oldSvc),
		owner:    svcalloc.Owner{Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID},
		reserved: holdings{ips: sets.New[netip.Addr](), ports: sets.New[int32]()}}
	if err := a.allocate(ctx); err != nil {
		a.Revert(context.WithoutCancel(ctx))
		return nil, err
	}
	return a, nil
}

// AfterDelete releases what the deleted Service held.
func (s serviceStrategy) AfterDelete(ctx context.Context, st storage.Store, obj runtime.Object) {
	svc := obj.(*corev1.Service)
	a := &serviceAllocation{cfg: s.cfg, store: st, svc: svc}
	a.release(ctx, holdingsOf(svc))
}

// serviceAllocation is one write's reservations: the registry.WriteTxn
// that BeforeWrite returns.
type serviceAllocation struct {
	cfg      ServiceConfig
	store    storage.Store
	svc      *corev1.Service
	owner    svcalloc.Owner
	held     holdings // by the stored object, before this write
	reserved holdings // by this write
}

func (a *serviceAllocation) has(ip netip.Addr) bool {
	return a.held.ips.Has(ip) || a.reserved.ips.Has(ip)
}
func (a *serviceAllocation) hasPort(p int32) bool {
	return a.held.ports.Has(p) || a.reserved.ports.Has(p)
}

func (a *serviceAllocation) allocate(ctx context.Context) error {
	var errs field.ErrorList
	spec := &a.svc.Spec
	sp := field.NewPath("spec")
	if needsClusterIP(a.svc) && spec.ClusterIP != corev1.ClusterIPNone {
		if spec.ClusterIP == "" {
			ip, err := a.cfg.ClusterIPs.Next(ctx, a.store, a.owner)
			if err != nil {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %w", err))
			}
			a.reserved.ips.Insert(ip)
			spec.ClusterIP, spec.ClusterIPs = ip.String(), []string{ip.String()}
		} else {
			for _, s := range spec.ClusterIPs {
				ip, err := netip.ParseAddr(s)
				if err != nil || a.has(ip) {
					continue // validated: err is nil
				}
				if err := a.cfg.ClusterIPs.Allocate(ctx, a.store, ip, a.owner); err != nil {
					if !isAllocationError(err) {
						return apierrors.NewInternalError(err)
					}
					errs = append(errs, field.Invalid(sp.Child("clusterIPs"), spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: %s", ip, allocationMessage(err))))
					continue
				}
				a.reserved.ips.Insert(ip)
			}
		}
	}
	if needsNodePorts(a.svc) {
		// Ports that differ only in protocol share one node port.
		byPort := map[int32]int32{}
		for i := range spec.Ports {
			p := &spec.Ports[i]
			if p.NodePort == 0 && !allocatesNodePorts(a.svc) {
				continue
			}
			if p.NodePort == 0 {
				if np, ok := byPort[p.Port]; ok {
					p.NodePort = np
					continue
				}
				p.NodePort = requestedNodePort(p.Port, spec.Ports[i+1:])
			}
			if p.NodePort == 0 {
				np, err := a.cfg.NodePorts.Next(ctx, a.store, a.owner)
				if err != nil {
					return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %w", err))
				}
				a.reserved.ports.Insert(np)
				p.NodePort = np
			} else if err := a.reservePort(ctx, p.NodePort); err != nil {
				if !isAllocationError(err) {
					return apierrors.NewInternalError(err)
				}
				errs = append(errs, field.Invalid(sp.Child("ports").Index(i).Child("nodePort"), p.NodePort, allocationMessage(err)))
			}
			byPort[p.Port] = p.NodePort
		}
	}
	if needsHealthCheckNodePort(a.svc) {
		if spec.HealthCheckNodePort == 0 {
			np, err := a.cfg.NodePorts.Next(ctx, a.store, a.owner)
			if err != nil {
				return apierrors.NewInternalError(fmt.Errorf("failed to allocate a healthCheckNodePort: %w", err))
			}
			a.reserved.ports.Insert(np)
			spec.HealthCheckNodePort = np
		} else if err := a.reservePort(ctx, spec.HealthCheckNodePort); err != nil {
			if !isAllocationError(err) {
				return apierrors.NewInternalError(err)
			}
			errs = append(errs, field.Invalid(sp.Child("healthCheckNodePort"), spec.HealthCheckNodePort, allocationMessage(err)))
		}
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Service").GroupKind(), a.svc.Name, errs)
	}
	return nil
}

// reservePort reserves a requested node port unless this Service holds it.
func (a *serviceAllocation) reservePort(ctx context.Context, port int32) error {
	if a.hasPort(port) {
		return nil
	}
	if err := a.cfg.NodePorts.Allocate(ctx, a.store, port, a.owner); err != nil {
		return err
	}
	a.reserved.ports.Insert(port)
	return nil
}

// requestedNodePort is the node port a later entry for the same service
// port asks for, so that the entries share it.
func requestedNodePort(port int32, rest []corev1.ServicePort) int32 {
	for _, p := range rest {
		if p.Port == port && p.NodePort != 0 {
			return p.NodePort
		}
	}
	return 0
}

func isAllocationError(err error) bool {
	return errors.Is(err, svcalloc.ErrAllocated) || errors.Is(err, svcalloc.ErrNotInRange)
}

// allocationMessage is the error as the API reports it, without the
// sentinel that classifies it.
func allocationMessage(err error) string {
	msg := err.Error()
	for _, sentinel := range []error{svcalloc.ErrAllocated, svcalloc.ErrNotInRange} {
		msg = strings.TrimSuffix(msg, ": "+sentinel.Error())
	}
	return msg
}

// Commit releases what the old object held and the new one does not.
func (a *serviceAllocation) Commit(ctx context.Context) {
	now := holdingsOf(a.svc)
	a.release(ctx, holdings{ips: a.held.ips.Difference(now.ips), ports: a.held.ports.Difference(now.ports)})
}

// Revert releases what this write reserved.
func (a *serviceAllocation) Revert(ctx context.Context) { a.release(ctx, a.reserved) }

// release frees h. A failure leaks the address until it is released
// again; it is logged, not returned, since the write it belongs to has
// already succeeded or failed.
func (a *serviceAllocation) release(ctx context.Context, h holdings) {
	for ip := range h.ips {
		if !a.cfg.ClusterIPs.Contains(ip) {
			continue // never reserved: outside the range
		}
		if err := a.cfg.ClusterIPs.Release(ctx, a.store, ip); err != nil {
			slog.Error("release cluster IP", "service", a.svc.Namespace+"/"+a.svc.Name, "ip", ip, "err", err)
		}
	}
	for port := range h.ports {
		if !a.cfg.NodePorts.Contains(port) {
			continue
		}
		if err := a.cfg.NodePorts.Release(ctx, a.store, port); err != nil {
			slog.Error("release node port", "service", a.svc.Namespace+"/"+a.svc.Name, "port", port, "err", err)
		}
	}
}
