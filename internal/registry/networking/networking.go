// Package networking holds the strategies of networking.k8s.io/v1:
// Ingress, IngressClass and NetworkPolicy.
package networking

import (
	"context"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

func gvr(resource string) schema.GroupVersionResource {
	return networkingv1.SchemeGroupVersion.WithResource(resource)
}

// Resources are the networking.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("ingresses"), Kind: "Ingress", ListKind: "IngressList", SingularName: "ingress", ShortNames: []string{"ing"},
			Namespaced: true, Subresources: []string{"status"}, Strategy: ingressStrategy{}},
		{GVR: gvr("ingressclasses"), Kind: "IngressClass", ListKind: "IngressClassList", SingularName: "ingressclass",
			Strategy: ingressClassStrategy{}},
		{GVR: gvr("networkpolicies"), Kind: "NetworkPolicy", ListKind: "NetworkPolicyList", SingularName: "networkpolicy", ShortNames: []string{"netpol"},
			Namespaced: true, Strategy: networkPolicyStrategy{}},
	}
}

// ---- Ingress ----

// annotationIngressClass is the class annotation that predates
// spec.ingressClassName; a new Ingress may not set both.
const annotationIngressClass = "kubernetes.io/ingress.class"

type ingressStrategy struct{ registry.BaseStrategy }

func (ingressStrategy) New() runtime.Object     { return &networkingv1.Ingress{} }
func (ingressStrategy) NewList() runtime.Object { return &networkingv1.IngressList{} }

func (ingressStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ing := obj.(*networkingv1.Ingress)
	ing.Status = networkingv1.IngressStatus{}
	ing.Generation = 1
}

func (ingressStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	ing, o := obj.(*networkingv1.Ingress), old.(*networkingv1.Ingress)
	if sub == "status" {
		ing.Spec = o.Spec
		return
	}
	ing.Status = o.Status
	if !apiequality.Semantic.DeepEqual(ing.Spec, o.Spec) {
		ing.Generation = o.Generation + 1
	}
}

func (ingressStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	ing := obj.(*networkingv1.Ingress)
	errs := validateIngressSpec(&ing.Spec)
	if ing.Spec.IngressClassName != nil && ing.Annotations[annotationIngressClass] != "" {
		errs = append(errs, field.Invalid(field.NewPath("annotations").Child(annotationIngressClass),
			ing.Annotations[annotationIngressClass], "can not be set when the class field is also set"))
	}
	return errs
}

// ValidateUpdate checks the spec only: an Ingress stored with both the
// class annotation and field stays updatable, as upstream allows.
func (ingressStrategy) ValidateUpdate(_ context.Context, obj, _ runtime.Object) field.ErrorList {
	ing := obj.(*networkingv1.Ingress)
	return append(validateIngressSpec(&ing.Spec), validateIngressStatus(&ing.Status)...)
}

var supportedPathTypes = []string{
	string(networkingv1.PathTypeExact), string(networkingv1.PathTypePrefix), string(networkingv1.PathTypeImplementationSpecific),
}

func validateIngressSpec(spec *networkingv1.IngressSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(p.Child("rules"), spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateIngressBackend(spec.DefaultBackend, p.Child("defaultBackend"))...)
	}
	for i, rule := range spec.Rules {
		rp := p.Child("rules").Index(i)
		if rule.Host != "" {
			errs = append(errs, validateIngressHost(rule.Host, rp.Child("host"))...)
		}
		if rule.HTTP != nil {
			errs = append(errs, validateHTTPRule(rule.HTTP, rp.Child("http"))...)
		}
	}
	for i, tls := range spec.TLS {
		tp := p.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			errs = append(errs, validateIngressHost(host, tp.Child("hosts").Index(j))...)
		}
		if tls.SecretName != "" {
			for _, msg := range apivalidation.NameIsDNSSubdomain(tls.SecretName, false) {
				errs = append(errs, field.Invalid(tp.Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if spec.IngressClassName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*spec.IngressClassName, false) {
			errs = append(errs, field.Invalid(p.Child("ingressClassName"), *spec.IngressClassName, msg))
		}
	}
	return errs
}

// validateIngressHost accepts a DNS name, optionally with a leading "*."
// label, and rejects IP addresses.
func validateIngressHost(host string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if net.ParseIP(host) != nil {
		return append(errs, field.Invalid(p, host, "must be a DNS name, not an IP address"))
	}
	msgs := validation.IsDNS1123Subdomain(host)
	if strings.Contains(host, "*") {
		msgs = validation.IsWildcardDNS1123Subdomain(host)
	}
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, host, msg))
	}
	return errs
}

func validateHTTPRule(http *networkingv1.HTTPIngressRuleValue, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(http.Paths) == 0 {
		errs = append(errs, field.Required(p.Child("paths"), ""))
	}
	for i, hp := range http.Paths {
		pp := p.Child("paths").Index(i)
		errs = append(errs, validateHTTPPath(hp, pp)...)
		errs = append(errs, validateIngressBackend(&hp.Backend, pp.Child("backend"))...)
	}
	return errs
}

// validateHTTPPath: Exact and Prefix paths must be absolute and clean;
// ImplementationSpecific ones only absolute, if set at all.
func validateHTTPPath(hp networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if hp.PathType == nil {
		return append(errs, field.Required(p.Child("pathType"), "pathType must be specified"))
	}
	switch *hp.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
		if hp.Path != "" {
			for _, seq := range []string{"//", "/./", "/../", "%2f", "%2F"} {
				if strings.Contains(hp.Path, seq) {
					errs = append(errs, field.Invalid(p.Child("path"), hp.Path, fmt.Sprintf("must not contain '%s'", seq)))
				}
			}
			for _, suffix := range []string{"/..", "/."} {
				if strings.HasSuffix(hp.Path, suffix) {
					errs = append(errs, field.Invalid(p.Child("path"), hp.Path, fmt.Sprintf("cannot end with '%s'", suffix)))
				}
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("pathType"), *hp.PathType, supportedPathTypes))
	}
	return errs
}

// validateIngressBackend: exactly one of a service (by name, with a port
// by number or by name) or a typed resource reference.
func validateIngressBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch {
	case b.Service != nil && b.Resource != nil:
		return append(errs, field.Invalid(p, "", "cannot set both resource and service backends"))
	case b.Resource != nil:
		return validateTypedLocalRef(b.Resource, p.Child("resource"))
	case b.Service == nil:
		return append(errs, field.Invalid(p, "", "one backend type must be specified"))
	}
	sp := p.Child("service")
	if b.Service.Name == "" {
		errs = append(errs, field.Required(sp.Child("name"), ""))
	} else {
		for _, msg := range apivalidation.NameIsDNS1035Label(b.Service.Name, false) {
			errs = append(errs, field.Invalid(sp.Child("name"), b.Service.Name, msg))
		}
	}
	port := b.Service.Port
	hasName, hasNumber := port.Name != "", port.Number != 0
	switch {
	case hasName && hasNumber:
		errs = append(errs, field.Invalid(sp.Child("port"), port, "cannot set both port name & port number"))
	case hasName:
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(sp.Child("port", "name"), port.Name, msg))
		}
	case hasNumber:
		for _, msg := range validation.IsValidPortNum(int(port.Number)) {
			errs = append(errs, field.Invalid(sp.Child("port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(sp.Child("port"), "port name or number is required"))
	}
	return errs
}

func validateTypedLocalRef(ref *corev1.TypedLocalObjectReference, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if ref.APIGroup != nil && *ref.APIGroup != "" {
		for _, msg := range validation.IsDNS1123Subdomain(*ref.APIGroup) {
			errs = append(errs, field.Invalid(p.Child("apiGroup"), *ref.APIGroup, msg))
		}
	}
	if ref.Kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	} else {
		for _, msg := range path.IsValidPathSegmentName(ref.Kind) {
			errs = append(errs, field.Invalid(p.Child("kind"), ref.Kind, msg))
		}
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range path.IsValidPathSegmentName(ref.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
		}
	}
	return errs
}

// validateIngressStatus checks the load balancer addresses a controller
// reports: IPs must parse, hostnames must be DNS names and not IPs.
func validateIngressStatus(st *networkingv1.IngressStatus) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("status", "loadBalancer", "ingress")
	for i, in := range st.LoadBalancer.Ingress {
		ip := p.Index(i)
		if in.IP != "" && net.ParseIP(in.IP) == nil {
			errs = append(errs, field.Invalid(ip.Child("ip"), in.IP, "must be a valid IP address"))
		}
		if in.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(in.Hostname) {
				errs = append(errs, field.Invalid(ip.Child("hostname"), in.Hostname, msg))
			}
			if net.ParseIP(in.Hostname) != nil {
				errs = append(errs, field.Invalid(ip.Child("hostname"), in.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

// ---- IngressClass ----

const maxIngressClassControllerLen = 250

type ingressClassStrategy struct{ registry.BaseStrategy }

func (ingressClassStrategy) New() runtime.Object     { return &networkingv1.IngressClass{} }
func (ingressClassStrategy) NewList() runtime.Object { return &networkingv1.IngressClassList{} }

func (ingressClassStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*networkingv1.IngressClass).Generation = 1
}

func (ingressClassStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	ic, o := obj.(*networkingv1.IngressClass), old.(*networkingv1.IngressClass)
	if !apiequality.Semantic.DeepEqual(ic.Spec, o.Spec) {
		ic.Generation = o.Generation + 1
	}
}

// Default scopes parameters to the cluster unless they say otherwise.
func (ingressClassStrategy) Default(obj runtime.Object) {
	ic := obj.(*networkingv1.IngressClass)
	if ic.Spec.Parameters != nil && ic.Spec.Parameters.Scope == nil {
		scope := networkingv1.IngressClassParametersReferenceScopeCluster
		ic.Spec.Parameters.Scope = &scope
	}
}

func (ingressClassStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateIngressClassSpec(&obj.(*networkingv1.IngressClass).Spec)
}

func (ingressClassStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ic, o := obj.(*networkingv1.IngressClass), old.(*networkingv1.IngressClass)
	errs := validateIngressClassSpec(&ic.Spec)
	return append(errs, apivalidation.ValidateImmutableField(ic.Spec.Controller, o.Spec.Controller, field.NewPath("spec", "controller"))...)
}

func validateIngressClassSpec(spec *networkingv1.IngressClassSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if len(spec.Controller) > maxIngressClassControllerLen {
		errs = append(errs, field.TooLong(p.Child("controller"), "", maxIngressClassControllerLen))
	}
	errs = append(errs, validation.IsDomainPrefixedPath(p.Child("controller"), spec.Controller)...)
	if params := spec.Parameters; params != nil {
		pp := p.Child("parameters")
		errs = append(errs, validateTypedLocalRef(&corev1.TypedLocalObjectReference{
			APIGroup: params.APIGroup, Kind: params.Kind, Name: params.Name,
		}, pp)...)
		scopes := []string{networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}
		switch {
		case params.Scope == nil:
			errs = append(errs, field.Required(pp.Child("scope"), ""))
		case *params.Scope == networkingv1.IngressClassParametersReferenceScopeNamespace:
			if params.Namespace == nil {
				errs = append(errs, field.Required(pp.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
			} else {
				for _, msg := range apivalidation.ValidateNamespaceName(*params.Namespace, false) {
					errs = append(errs, field.Invalid(pp.Child("namespace"), *params.Namespace, msg))
				}
			}
		case *params.Scope == networkingv1.IngressClassParametersReferenceScopeCluster:
			if params.Namespace != nil {
				errs = append(errs, field.Forbidden(pp.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
			}
		default:
			errs = append(errs, field.NotSupported(pp.Child("scope"), *params.Scope, scopes))
		}
	}
	return errs
}

// ---- NetworkPolicy ----

type networkPolicyStrategy struct{ registry.BaseStrategy }

func (networkPolicyStrategy) New() runtime.Object     { return &networkingv1.NetworkPolicy{} }
func (networkPolicyStrategy) NewList() runtime.Object { return &networkingv1.NetworkPolicyList{} }

// Default makes a policy without policyTypes apply to ingress, and to
// egress too if it has egress rules; ports default to TCP.
func (networkPolicyStrategy) Default(obj runtime.Object) {
	spec := &obj.(*networkingv1.NetworkPolicy).Spec
	if len(spec.PolicyTypes) == 0 {
		spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
		if len(spec.Egress) != 0 {
			spec.PolicyTypes = append(spec.PolicyTypes, networkingv1.PolicyTypeEgress)
		}
	}
	defaultPorts := func(ports []networkingv1.NetworkPolicyPort) {
		for i := range ports {
			if ports[i].Protocol == nil {
				tcp := corev1.ProtocolTCP
				ports[i].Protocol = &tcp
			}
		}
	}
	for i := range spec.Ingress {
		defaultPorts(spec.Ingress[i].Ports)
	}
	for i := range spec.Egress {
		defaultPorts(spec.Egress[i].Ports)
	}
}

func (networkPolicyStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*networkingv1.NetworkPolicy).Generation = 1
}

func (networkPolicyStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	np, o := obj.(*networkingv1.NetworkPolicy), old.(*networkingv1.NetworkPolicy)
	if !apiequality.Semantic.DeepEqual(np.Spec, o.Spec) {
		np.Generation = o.Generation + 1
	}
}

func (networkPolicyStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateNetworkPolicySpec(&obj.(*networkingv1.NetworkPolicy).Spec, policyOptions{})
}

// ValidateUpdate keeps accepting what was valid when stored: selector
// label values and ipBlock CIDRs from before stricter checks.
func (networkPolicyStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validateNetworkPolicySpec(&obj.(*networkingv1.NetworkPolicy).Spec, optionsFrom(&old.(*networkingv1.NetworkPolicy).Spec))
}

type policyOptions struct {
	selector metav1validation.LabelSelectorValidationOptions
	oldCIDRs []string
}

func optionsFrom(old *networkingv1.NetworkPolicySpec) policyOptions {
	var o policyOptions
	check := func(s *metav1.LabelSelector) {
		if s != nil && metav1validation.LabelSelectorHasInvalidLabelValue(s) {
			o.selector.AllowInvalidLabelValueInSelector = true
		}
	}
	peers := func(ps []networkingv1.NetworkPolicyPeer) {
		for _, p := range ps {
			check(p.PodSelector)
			check(p.NamespaceSelector)
			if p.IPBlock != nil {
				o.oldCIDRs = append(o.oldCIDRs, p.IPBlock.CIDR)
				o.oldCIDRs = append(o.oldCIDRs, p.IPBlock.Except...)
			}
		}
	}
	check(&old.PodSelector)
	for _, r := range old.Ingress {
		peers(r.From)
	}
	for _, r := range old.Egress {
		peers(r.To)
	}
	return o
}

var supportedPolicyTypes = []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}

func validateNetworkPolicySpec(spec *networkingv1.NetworkPolicySpec, opts policyOptions) field.ErrorList {
	p := field.NewPath("spec")
	errs := metav1validation.ValidateLabelSelector(&spec.PodSelector, opts.selector, p.Child("podSelector"))
	for i, rule := range spec.Ingress {
		rp := p.Child("ingress").Index(i)
		for j, port := range rule.Ports {
			errs = append(errs, validatePolicyPort(&port, rp.Child("ports").Index(j))...)
		}
		for j, peer := range rule.From {
			errs = append(errs, validatePeer(&peer, opts, rp.Child("from").Index(j))...)
		}
	}
	for i, rule := range spec.Egress {
		rp := p.Child("egress").Index(i)
		for j, port := range rule.Ports {
			errs = append(errs, validatePolicyPort(&port, rp.Child("ports").Index(j))...)
		}
		for j, peer := range rule.To {
			errs = append(errs, validatePeer(&peer, opts, rp.Child("to").Index(j))...)
		}
	}
	if len(spec.PolicyTypes) > len(supportedPolicyTypes) {
		errs = append(errs, field.Invalid(p.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(p.Child("policyTypes").Index(i), t, supportedPolicyTypes))
		}
	}
	return errs
}

var supportedProtocols = []string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}

// validatePolicyPort: a protocol, and a port by number (optionally a range
// up to endPort) or by name.
func validatePolicyPort(port *networkingv1.NetworkPolicyPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Protocol != nil && *port.Protocol != corev1.ProtocolTCP && *port.Protocol != corev1.ProtocolUDP && *port.Protocol != corev1.ProtocolSCTP {
		errs = append(errs, field.NotSupported(p.Child("protocol"), *port.Protocol, supportedProtocols))
	}
	switch {
	case port.Port == nil:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is not specified"))
		}
	case port.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port.IntVal, msg))
		}
		if port.EndPort != nil {
			if *port.EndPort < port.Port.IntVal {
				errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*port.EndPort)) {
				errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, msg))
			}
		}
	default:
		if port.EndPort != nil {
			errs = append(errs, field.Invalid(p.Child("endPort"), *port.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(port.Port.StrVal) {
			errs = append(errs, field.Invalid(p.Child("port"), port.Port.StrVal, msg))
		}
	}
	return errs
}

// validatePeer: pod and namespace selectors may be combined; an ipBlock
// stands alone.
func validatePeer(peer *networkingv1.NetworkPolicyPeer, opts policyOptions, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if peer.PodSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.PodSelector, opts.selector, p.Child("podSelector"))...)
	}
	if peer.NamespaceSelector != nil {
		n++
		errs = append(errs, metav1validation.ValidateLabelSelector(peer.NamespaceSelector, opts.selector, p.Child("namespaceSelector"))...)
	}
	if peer.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(peer.IPBlock, opts.oldCIDRs, p.Child("ipBlock"))...)
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a peer"))
	} else if n > 1 && peer.IPBlock != nil {
		errs = append(errs, field.Forbidden(p, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// validateIPBlock: a valid CIDR, and exceptions that are valid CIDRs
// strictly inside it.
func validateIPBlock(b *networkingv1.IPBlock, oldCIDRs []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if b.CIDR == "" {
		return append(errs, field.Required(p.Child("cidr"), ""))
	}
	if cidrErrs := validation.IsValidCIDRForLegacyField(p.Child("cidr"), b.CIDR, true, oldCIDRs); len(cidrErrs) > 0 {
		return append(errs, cidrErrs...)
	}
	_, cidr, err := net.ParseCIDR(b.CIDR)
	if err != nil {
		// Valid only as an old sloppy value; nothing to compare against.
		return errs
	}
	cidrOnes, _ := cidr.Mask.Size()
	for i, e := range b.Except {
		ep := p.Child("except").Index(i)
		if exErrs := validation.IsValidCIDRForLegacyField(ep, e, true, oldCIDRs); len(exErrs) > 0 {
			errs = append(errs, exErrs...)
			continue
		}
		_, except, err := net.ParseCIDR(e)
		if err != nil {
			continue
		}
		exceptOnes, _ := except.Mask.Size()
		if !cidr.Contains(except.IP) || exceptOnes <= cidrOnes || len(except.IP) != len(cidr.IP) {
			errs = append(errs, field.Invalid(ep, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
