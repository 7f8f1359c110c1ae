package printers

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var ingressPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Class", typeString, "The name of the IngressClass resource that should be used for additional configuration"),
		column("Hosts", typeString, "Hosts that incoming requests are matched against before the ingress rule"),
		column("Address", typeString, "Address is a list containing ingress points for the load-balancer"),
		column("Ports", typeString, "Ports of TLS configurations that open"),
		ageColumn(),
	},
	func(ing *networkingv1.Ingress, now time.Time) []any {
		class := "<none>"
		if ing.Spec.IngressClassName != nil {
			class = *ing.Spec.IngressClassName
		}
		ports := "80"
		if len(ing.Spec.TLS) != 0 {
			ports = "80, 443"
		}
		return []any{ing.Name, class, ingressHosts(ing.Spec.Rules), ingressAddress(ing), ports, Age(ing.CreationTimestamp, now)}
	})

// ingressHosts lists up to three hosts of the rules, "*" when no rule names
// one. Like upstream, the count of the rest is of rules, not hosts.
func ingressHosts(rules []networkingv1.IngressRule) string {
	const max = 3
	var list []string
	more := false
	for _, r := range rules {
		if len(list) == max {
			more = true
			break
		}
		if r.Host != "" {
			list = append(list, r.Host)
		}
	}
	if len(list) == 0 {
		return "*"
	}
	s := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", s, len(rules)-max)
	}
	return s
}

// ingressAddress lists the sorted, distinct IPs (or hostnames) of the
// ingress's load balancer, never shortened (the server renders wide).
func ingressAddress(ing *networkingv1.Ingress) string {
	seen := make(map[string]bool)
	var addrs []string
	for _, lb := range ing.Status.LoadBalancer.Ingress {
		a := lb.IP
		if a == "" {
			a = lb.Hostname
		}
		if a != "" && !seen[a] {
			seen[a] = true
			addrs = append(addrs, a)
		}
	}
	sort.Strings(addrs)
	return strings.Join(addrs, ",")
}

var ingressClassPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Controller", typeString, "Controller that is responsible for handling this class"),
		column("Parameters", typeString, "A reference to a resource with additional parameters"),
		ageColumn(),
	},
	func(ic *networkingv1.IngressClass, now time.Time) []any {
		params := "<none>"
		if p := ic.Spec.Parameters; p != nil {
			params = p.Kind
			if p.APIGroup != nil {
				params += "." + *p.APIGroup
			}
			params += "/" + p.Name
		}
		return []any{ic.Name, ic.Spec.Controller, params, Age(ic.CreationTimestamp, now)}
	})

var networkPolicyPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Pod-Selector", typeString, networkingv1.NetworkPolicySpec{}.SwaggerDoc()["podSelector"]),
		ageColumn(),
	},
	func(np *networkingv1.NetworkPolicy, now time.Time) []any {
		return []any{np.Name, metav1.FormatLabelSelector(&np.Spec.PodSelector), Age(np.CreationTimestamp, now)}
	})

var endpointSlicePrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("AddressType", typeString, discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]),
		column("Ports", typeString, discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]),
		column("Endpoints", typeString, discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]),
		ageColumn(),
	},
	func(es *discoveryv1.EndpointSlice, now time.Time) []any {
		const max = 3
		var ports []string
		for _, p := range es.Ports {
			switch {
			case p.Port != nil:
				ports = append(ports, strconv.Itoa(int(*p.Port)))
			case p.Name != nil:
				ports = append(ports, *p.Name)
			default:
				ports = append(ports, "*")
			}
		}
		var addrs []string
		for _, e := range es.Endpoints {
			addrs = append(addrs, e.Addresses...)
		}
		return []any{
			es.Name, string(es.AddressType), orUnset(firstN(ports, len(ports), max)),
			orUnset(firstN(addrs, len(addrs), max)), Age(es.CreationTimestamp, now),
		}
	})

// orUnset returns s, or "<unset>" when s is empty.
func orUnset(s string) string {
	if s == "" {
		return "<unset>"
	}
	return s
}
