// Package discovery holds the strategy of discovery.k8s.io/v1
// EndpointSlice, the scalable successor of core/v1 Endpoints.
package discovery

import (
	"context"
	"net"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// Resources are the discovery.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{{
		GVR: discoveryv1.SchemeGroupVersion.WithResource("endpointslices"), Kind: "EndpointSlice", ListKind: "EndpointSliceList",
		SingularName: "endpointslice", Namespaced: true, Strategy: endpointSliceStrategy{},
	}}
}

// Limits on the size of a slice, as upstream's.
const (
	maxEndpoints      = 1000
	maxAddresses      = 100
	maxPorts          = 100
	maxTopologyLabels = 16
	maxHints          = 8
)

var supportedAddressTypes = []string{
	string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6), string(discoveryv1.AddressTypeFQDN),
}

var supportedProtocols = []string{string(corev1.ProtocolSCTP), string(corev1.ProtocolTCP), string(corev1.ProtocolUDP)}

type endpointSliceStrategy struct{ registry.BaseStrategy }

func (endpointSliceStrategy) New() runtime.Object     { return &discoveryv1.EndpointSlice{} }
func (endpointSliceStrategy) NewList() runtime.Object { return &discoveryv1.EndpointSliceList{} }

// Default names ports "" and gives them TCP, as upstream's defaulter.
func (endpointSliceStrategy) Default(obj runtime.Object) {
	eps := obj.(*discoveryv1.EndpointSlice)
	for i := range eps.Ports {
		p := &eps.Ports[i]
		if p.Name == nil {
			p.Name = new(string)
		}
		if p.Protocol == nil {
			tcp := corev1.ProtocolTCP
			p.Protocol = &tcp
		}
	}
}

func (endpointSliceStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*discoveryv1.EndpointSlice).Generation = 1
}

// PrepareForUpdate bumps the generation when anything but metadata
// changed, or the labels (which tie the slice to its Service) did.
func (endpointSliceStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, _ string) {
	eps, o := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
	if eps.AddressType != o.AddressType ||
		!apiequality.Semantic.DeepEqual(eps.Endpoints, o.Endpoints) ||
		!apiequality.Semantic.DeepEqual(eps.Ports, o.Ports) ||
		!apiequality.Semantic.DeepEqual(eps.Labels, o.Labels) {
		eps.Generation = o.Generation + 1
	}
}

func (endpointSliceStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateEndpointSlice(obj.(*discoveryv1.EndpointSlice), nil)
}

// ValidateUpdate: the address type is immutable; addresses stored before
// strict IP parsing stay acceptable.
func (endpointSliceStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	eps, o := obj.(*discoveryv1.EndpointSlice), old.(*discoveryv1.EndpointSlice)
	var oldAddrs []string
	for _, ep := range o.Endpoints {
		oldAddrs = append(oldAddrs, ep.Addresses...)
	}
	errs := validateEndpointSlice(eps, oldAddrs)
	return append(errs, apivalidation.ValidateImmutableField(eps.AddressType, o.AddressType, field.NewPath("addressType"))...)
}

func validateEndpointSlice(eps *discoveryv1.EndpointSlice, oldAddrs []string) field.ErrorList {
	var errs field.ErrorList
	switch eps.AddressType {
	case "":
		errs = append(errs, field.Required(field.NewPath("addressType"), ""))
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("addressType"), eps.AddressType, supportedAddressTypes))
	}
	errs = append(errs, validateEndpoints(eps.Endpoints, eps.AddressType, oldAddrs)...)
	return append(errs, validatePorts(eps.Ports)...)
}

func validateEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, oldAddrs []string) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("endpoints")
	if len(endpoints) > maxEndpoints {
		return append(errs, field.TooMany(p, len(endpoints), maxEndpoints))
	}
	for i, ep := range endpoints {
		ip := p.Index(i)
		ap := ip.Child("addresses")
		if len(ep.Addresses) == 0 {
			errs = append(errs, field.Required(ap, "must contain at least 1 address"))
		} else if len(ep.Addresses) > maxAddresses {
			errs = append(errs, field.TooMany(ap, len(ep.Addresses), maxAddresses))
		}
		for j, addr := range ep.Addresses {
			errs = append(errs, validateAddress(addr, addrType, oldAddrs, ap.Index(j))...)
		}
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(ip.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.NodeName != nil {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
				errs = append(errs, field.Invalid(ip.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		tp := ip.Child("deprecatedTopology")
		if len(ep.DeprecatedTopology) > maxTopologyLabels {
			errs = append(errs, field.TooMany(tp, len(ep.DeprecatedTopology), maxTopologyLabels))
		}
		errs = append(errs, metav1validation.ValidateLabels(ep.DeprecatedTopology, tp)...)
		if ep.Hints != nil {
			errs = append(errs, validateHints(ep.Hints, ip.Child("hints"))...)
		}
	}
	return errs
}

// validateAddress checks one address against the slice's type. IPs must
// not be special (unspecified, loopback, link-local): traffic sent there
// would never reach the endpoint.
func validateAddress(addr string, addrType discoveryv1.AddressType, oldAddrs []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch addrType {
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
		if ipErrs := validation.IsValidIPForLegacyField(p, addr, true, oldAddrs); len(ipErrs) > 0 {
			return ipErrs
		}
		ip := net.ParseIP(addr)
		if ip == nil {
			return errs // an old sloppy value, accepted as stored
		}
		if is4 := ip.To4() != nil; addrType == discoveryv1.AddressTypeIPv4 && !is4 {
			return append(errs, field.Invalid(p, addr, "must be an IPv4 address"))
		} else if addrType == discoveryv1.AddressTypeIPv6 && is4 {
			return append(errs, field.Invalid(p, addr, "must be an IPv6 address"))
		}
		switch {
		case ip.IsUnspecified():
			errs = append(errs, field.Invalid(p, addr, "may not be unspecified (0.0.0.0)"))
		case ip.IsLoopback():
			errs = append(errs, field.Invalid(p, addr, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
		case ip.IsLinkLocalUnicast():
			errs = append(errs, field.Invalid(p, addr, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
		case ip.IsLinkLocalMulticast():
			errs = append(errs, field.Invalid(p, addr, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
		}
	case discoveryv1.AddressTypeFQDN:
		errs = append(errs, validation.IsFullyQualifiedDomainName(p, addr)...)
	}
	return errs
}

func validateHints(h *discoveryv1.EndpointHints, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	zp := p.Child("forZones")
	if len(h.ForZones) > maxHints {
		errs = append(errs, field.TooMany(zp, len(h.ForZones), maxHints))
	} else {
		seen := sets.New[string]()
		for i, z := range h.ForZones {
			if seen.Has(z.Name) {
				errs = append(errs, field.Duplicate(zp.Index(i).Child("name"), z.Name))
			}
			seen.Insert(z.Name)
			for _, msg := range validation.IsValidLabelValue(z.Name) {
				errs = append(errs, field.Invalid(zp.Index(i).Child("name"), z.Name, msg))
			}
		}
	}
	np := p.Child("forNodes")
	if len(h.ForNodes) > maxHints {
		errs = append(errs, field.TooMany(np, len(h.ForNodes), maxHints))
	} else {
		seen := sets.New[string]()
		for i, n := range h.ForNodes {
			if seen.Has(n.Name) {
				errs = append(errs, field.Duplicate(np.Index(i).Child("name"), n.Name))
			}
			seen.Insert(n.Name)
			for _, msg := range apivalidation.NameIsDNSSubdomain(n.Name, false) {
				errs = append(errs, field.Invalid(np.Index(i).Child("name"), n.Name, msg))
			}
		}
	}
	return errs
}

// validatePorts: at most 100 ports with unique DNS-label names (one may
// be unnamed), a supported protocol, and a qualified appProtocol.
func validatePorts(ports []discoveryv1.EndpointPort) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("ports")
	if len(ports) > maxPorts {
		return append(errs, field.TooMany(p, len(ports), maxPorts))
	}
	names := sets.New[string]()
	for i, port := range ports {
		pp := p.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(pp.Child("name"), name, msg))
			}
		}
		if names.Has(name) {
			errs = append(errs, field.Duplicate(pp.Child("name"), name))
		}
		names.Insert(name)
		if port.Protocol == nil {
			errs = append(errs, field.Required(pp.Child("protocol"), ""))
		} else if *port.Protocol != corev1.ProtocolTCP && *port.Protocol != corev1.ProtocolUDP && *port.Protocol != corev1.ProtocolSCTP {
			errs = append(errs, field.NotSupported(pp.Child("protocol"), *port.Protocol, supportedProtocols))
		}
		if port.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(pp.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
	}
	return errs
}
