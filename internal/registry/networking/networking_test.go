package networking_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/networking"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func resource(t *testing.T, kind string) *registry.Resource {
	return Resource(t, networking.Resources(), kind)
}

func TestResources(t *testing.T) {
	tests := []struct {
		kind, resource, short string
		namespaced            bool
		subresources          []string
		obj, list             any
	}{
		{"Ingress", "ingresses", "ing", true, []string{"status"}, &networkingv1.Ingress{}, &networkingv1.IngressList{}},
		{"IngressClass", "ingressclasses", "", false, nil, &networkingv1.IngressClass{}, &networkingv1.IngressClassList{}},
		{"NetworkPolicy", "networkpolicies", "netpol", true, nil, &networkingv1.NetworkPolicy{}, &networkingv1.NetworkPolicyList{}},
	}
	if n := len(networking.Resources()); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
	for _, tt := range tests {
		r := resource(t, tt.kind)
		short := ""
		if len(r.ShortNames) == 1 {
			short = r.ShortNames[0]
		}
		if r.GVR != networkingv1.SchemeGroupVersion.WithResource(tt.resource) || r.ListKind != tt.kind+"List" ||
			r.Namespaced != tt.namespaced || short != tt.short || len(r.ShortNames) > 1 || fmt.Sprint(r.Subresources) != fmt.Sprint(tt.subresources) {
			t.Errorf("%s: resource = %+v", tt.kind, r)
		}
		if fmt.Sprintf("%T %T", r.Strategy.New(), r.Strategy.NewList()) != fmt.Sprintf("%T %T", tt.obj, tt.list) {
			t.Errorf("%s: New, NewList = %T, %T", tt.kind, r.Strategy.New(), r.Strategy.NewList())
		}
	}
}

// ---- Ingress ----

func svcBackend(name string, port networkingv1.ServiceBackendPort) networkingv1.IngressBackend {
	return networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: name, Port: port}}
}

func validIngress() *networkingv1.Ingress {
	prefix := networkingv1.PathTypePrefix
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("nginx"),
			TLS:              []networkingv1.IngressTLS{{Hosts: []string{"shop.example.com", "*.example.com"}, SecretName: "shop-tls"}},
			Rules: []networkingv1.IngressRule{{
				Host: "shop.example.com",
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{
					{Path: "/", PathType: &prefix, Backend: svcBackend("web", networkingv1.ServiceBackendPort{Number: 80})},
					{Path: "/api", PathType: &prefix, Backend: svcBackend("api", networkingv1.ServiceBackendPort{Name: "http"})},
				}}},
			}},
		},
	}
}

func TestIngressValidate(t *testing.T) {
	path0 := "spec.rules[0].http.paths[0]"
	tests := []struct {
		name   string
		mutate func(*networkingv1.Ingress)
		want   []FieldErr
	}{
		{name: "valid", mutate: func(*networkingv1.Ingress) {}},
		{name: "default backend only", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules = nil
			i.Spec.DefaultBackend = &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{Name: "web", Port: networkingv1.ServiceBackendPort{Number: 8080}}}
		}},
		{name: "no rules nor default backend", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules = nil }, want: []FieldErr{Invalid("spec.rules")}},
		{name: "no host", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "" }},
		{name: "wildcard host", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "*.example.com" }},
		{name: "wildcard in the middle", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "a.*.example.com" },
			want: []FieldErr{Invalid("spec.rules[0].host")}},
		{name: "uppercase host", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "Shop.example.com" },
			want: []FieldErr{Invalid("spec.rules[0].host")}},
		{name: "IP host", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].Host = "10.0.0.1" },
			want: []FieldErr{Invalid("spec.rules[0].host")}},
		{name: "no paths", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths = nil },
			want: []FieldErr{Required("spec.rules[0].http.paths")}},
		{name: "no pathType", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].PathType = nil },
			want: []FieldErr{Required(path0 + ".pathType")}},
		{name: "unknown pathType", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathType("Regex"))
		}, want: []FieldErr{NotSupported(path0 + ".pathType")}},
		{name: "relative prefix", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "api" },
			want: []FieldErr{Invalid(path0 + ".path")}},
		{name: "exact with dot segment", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathTypeExact)
			i.Spec.Rules[0].HTTP.Paths[0].Path = "/a/../b"
		}, want: []FieldErr{Invalid(path0 + ".path")}},
		{name: "prefix with double slash and trailing dot", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/a//b/." },
			want: []FieldErr{Invalid(path0 + ".path"), Invalid(path0 + ".path")}},
		{name: "encoded slash", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Path = "/a%2Fb" },
			want: []FieldErr{Invalid(path0 + ".path")}},
		{name: "implementation specific regex", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathTypeImplementationSpecific)
			i.Spec.Rules[0].HTTP.Paths[0].Path = "/api/.*"
		}},
		{name: "implementation specific empty", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathTypeImplementationSpecific)
			i.Spec.Rules[0].HTTP.Paths[0].Path = ""
		}},
		{name: "implementation specific relative", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].PathType = ptr(networkingv1.PathTypeImplementationSpecific)
			i.Spec.Rules[0].HTTP.Paths[0].Path = "api"
		}, want: []FieldErr{Invalid(path0 + ".path")}},
		{name: "port name and number", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "http", Number: 80}
		}, want: []FieldErr{Invalid(path0 + ".backend.service.port")}},
		{name: "no port", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{}
		}, want: []FieldErr{Required(path0 + ".backend.service.port")}},
		{name: "port number out of range", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Number: 70000}
		}, want: []FieldErr{Invalid(path0 + ".backend.service.port.number")}},
		{name: "bad port name", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Port = networkingv1.ServiceBackendPort{Name: "HTTP_port"}
		}, want: []FieldErr{Invalid(path0 + ".backend.service.port.name")}},
		{name: "no service name", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "" },
			want: []FieldErr{Required(path0 + ".backend.service.name")}},
		{name: "service name not DNS-1035", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Backend.Service.Name = "1web" },
			want: []FieldErr{Invalid(path0 + ".backend.service.name")}},
		{name: "no backend", mutate: func(i *networkingv1.Ingress) { i.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{} },
			want: []FieldErr{Invalid(path0 + ".backend")}},
		{name: "resource backend", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{APIGroup: ptr("k8s.example.com"), Kind: "StorageBucket", Name: "assets"}}
		}},
		{name: "resource backend without kind", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend = networkingv1.IngressBackend{Resource: &corev1.TypedLocalObjectReference{Name: "assets"}}
		}, want: []FieldErr{Required(path0 + ".backend.resource.kind")}},
		{name: "both backends", mutate: func(i *networkingv1.Ingress) {
			i.Spec.Rules[0].HTTP.Paths[0].Backend.Resource = &corev1.TypedLocalObjectReference{Kind: "Bucket", Name: "assets"}
		}, want: []FieldErr{Invalid(path0 + ".backend")}},
		{name: "bad default backend", mutate: func(i *networkingv1.Ingress) { i.Spec.DefaultBackend = &networkingv1.IngressBackend{} },
			want: []FieldErr{Invalid("spec.defaultBackend")}},
		{name: "bad TLS host", mutate: func(i *networkingv1.Ingress) { i.Spec.TLS[0].Hosts[1] = "*" },
			want: []FieldErr{Invalid("spec.tls[0].hosts[1]")}},
		{name: "bad TLS secret", mutate: func(i *networkingv1.Ingress) { i.Spec.TLS[0].SecretName = "Shop_TLS" },
			want: []FieldErr{Invalid("spec.tls[0].secretName")}},
		{name: "TLS without secret", mutate: func(i *networkingv1.Ingress) { i.Spec.TLS[0].SecretName = "" }},
		{name: "bad class name", mutate: func(i *networkingv1.Ingress) { i.Spec.IngressClassName = ptr("Nginx") },
			want: []FieldErr{Invalid("spec.ingressClassName")}},
	}
	s := resource(t, "Ingress").Strategy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := validIngress()
			tt.mutate(ing)
			CheckErrors(t, s.Validate(ctx, ing), tt.want...)
			CheckErrors(t, s.ValidateUpdate(ctx, ing, validIngress()), tt.want...)
		})
	}
}

func TestIngressClassAnnotation(t *testing.T) {
	s := resource(t, "Ingress").Strategy
	ing := validIngress()
	ing.Annotations = map[string]string{"kubernetes.io/ingress.class": "nginx"}
	CheckErrors(t, s.Validate(ctx, ing), Invalid("annotations.kubernetes.io/ingress.class"))
	// Objects stored that way stay updatable.
	CheckErrors(t, s.ValidateUpdate(ctx, ing, ing.DeepCopy()))
	ing.Spec.IngressClassName = nil
	CheckErrors(t, s.Validate(ctx, ing))
}

func TestIngressStatusValidate(t *testing.T) {
	s := resource(t, "Ingress").Strategy
	tests := []struct {
		name string
		lb   networkingv1.IngressLoadBalancerIngress
		want []FieldErr
	}{
		{name: "ip", lb: networkingv1.IngressLoadBalancerIngress{IP: "203.0.113.10"}},
		{name: "hostname", lb: networkingv1.IngressLoadBalancerIngress{Hostname: "lb.example.com"}},
		{name: "bad ip", lb: networkingv1.IngressLoadBalancerIngress{IP: "300.1.1.1"}, want: []FieldErr{Invalid("status.loadBalancer.ingress[0].ip")}},
		{name: "ip as hostname", lb: networkingv1.IngressLoadBalancerIngress{Hostname: "10.0.0.1"}, want: []FieldErr{Invalid("status.loadBalancer.ingress[0].hostname")}},
		{name: "bad hostname", lb: networkingv1.IngressLoadBalancerIngress{Hostname: "LB!"}, want: []FieldErr{Invalid("status.loadBalancer.ingress[0].hostname")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ing := validIngress()
			ing.Status.LoadBalancer.Ingress = []networkingv1.IngressLoadBalancerIngress{tt.lb}
			CheckErrors(t, s.ValidateUpdate(ctx, ing, validIngress()), tt.want...)
		})
	}
}

func TestIngressPrepare(t *testing.T) {
	s := resource(t, "Ingress").Strategy
	status := networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "1.2.3.4"}}}}

	ing := validIngress()
	ing.Status = status
	s.PrepareForCreate(ctx, ing)
	if ing.Generation != 1 || len(ing.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("PrepareForCreate: generation %d, status %+v", ing.Generation, ing.Status)
	}

	old := validIngress()
	old.Generation = 3
	old.Status = status

	// A metadata-only change keeps the generation; status is kept.
	ing = old.DeepCopy()
	ing.Labels = map[string]string{"a": "b"}
	ing.Status = networkingv1.IngressStatus{}
	s.PrepareForUpdate(ctx, ing, old, "")
	if ing.Generation != 3 || !apiequality.Semantic.DeepEqual(ing.Status, status) {
		t.Errorf("metadata update: generation %d, status %+v", ing.Generation, ing.Status)
	}
	// A spec change bumps it.
	ing = old.DeepCopy()
	ing.Spec.Rules[0].Host = "other.example.com"
	s.PrepareForUpdate(ctx, ing, old, "")
	if ing.Generation != 4 {
		t.Errorf("spec update: generation %d", ing.Generation)
	}
	// The status subresource changes status only.
	ing = old.DeepCopy()
	ing.Spec.Rules = nil
	ing.Status = networkingv1.IngressStatus{}
	s.PrepareForUpdate(ctx, ing, old, "status")
	if ing.Generation != 3 || len(ing.Spec.Rules) != 1 || len(ing.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("status update: %+v", ing)
	}
}

// ---- IngressClass ----

func TestIngressClass(t *testing.T) {
	s := resource(t, "IngressClass").Strategy
	params := func(scope, ns *string) *networkingv1.IngressClassParametersReference {
		return &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "external-lb", Scope: scope, Namespace: ns}
	}
	tests := []struct {
		name       string
		controller string
		params     *networkingv1.IngressClassParametersReference
		want       []FieldErr
	}{
		{name: "valid", controller: "k8s.io/ingress-nginx"},
		{name: "cluster parameters", controller: "example.com/lb", params: params(nil, nil)},
		{name: "namespace parameters", controller: "example.com/lb", params: params(ptr("Namespace"), ptr("lb"))},
		{name: "namespace scope without namespace", controller: "example.com/lb", params: params(ptr("Namespace"), nil),
			want: []FieldErr{Required("spec.parameters.namespace")}},
		{name: "cluster scope with namespace", controller: "example.com/lb", params: params(ptr("Cluster"), ptr("lb")),
			want: []FieldErr{Forbidden("spec.parameters.namespace")}},
		{name: "bad scope", controller: "example.com/lb", params: params(ptr("Global"), nil),
			want: []FieldErr{NotSupported("spec.parameters.scope")}},
		{name: "parameters without name", controller: "example.com/lb",
			params: &networkingv1.IngressClassParametersReference{Kind: "P"}, want: []FieldErr{Required("spec.parameters.name")}},
		{name: "no controller", want: []FieldErr{Required("spec.controller")}},
		{name: "controller without domain", controller: "nginx", want: []FieldErr{Invalid("spec.controller")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx"},
				Spec: networkingv1.IngressClassSpec{Controller: tt.controller, Parameters: tt.params}}
			s.Default(ic)
			CheckErrors(t, s.Validate(ctx, ic), tt.want...)
		})
	}
}

func TestIngressClassDefaultAndUpdate(t *testing.T) {
	s := resource(t, "IngressClass").Strategy
	ic := &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "lb"},
		Spec: networkingv1.IngressClassSpec{Controller: "example.com/lb", Parameters: &networkingv1.IngressClassParametersReference{Kind: "P", Name: "p"}}}
	s.Default(ic)
	if ic.Spec.Parameters.Scope == nil || *ic.Spec.Parameters.Scope != "Cluster" {
		t.Errorf("parameters.scope = %v, want Cluster", ic.Spec.Parameters.Scope)
	}
	s.PrepareForCreate(ctx, ic)
	if ic.Generation != 1 {
		t.Errorf("generation = %d", ic.Generation)
	}
	changed := ic.DeepCopy()
	changed.Spec.Controller = "example.com/other"
	CheckErrors(t, s.ValidateUpdate(ctx, changed, ic), Invalid("spec.controller"))
	changed = ic.DeepCopy()
	changed.Spec.Parameters.Name = "q"
	CheckErrors(t, s.ValidateUpdate(ctx, changed, ic))
	s.PrepareForUpdate(ctx, changed, ic, "")
	if changed.Generation != 2 {
		t.Errorf("generation after spec change = %d", changed.Generation)
	}
}

// ---- NetworkPolicy ----

func TestNetworkPolicyDefault(t *testing.T) {
	s := resource(t, "NetworkPolicy").Strategy
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := intstr.FromInt32(5432)
	tests := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want networkingv1.NetworkPolicySpec
	}{
		{name: "deny all ingress", spec: networkingv1.NetworkPolicySpec{},
			want: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress"}}},
		{name: "egress rules",
			spec: networkingv1.NetworkPolicySpec{Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: &port}}}}},
			want: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress"},
				Egress: []networkingv1.NetworkPolicyEgressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &port}}}}}},
		{name: "explicit types kept",
			spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Egress"},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp}, {}}}}},
			want: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Egress"},
				Ingress: []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp}, {Protocol: &tcp}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := &networkingv1.NetworkPolicy{Spec: tt.spec}
			s.Default(np)
			if !apiequality.Semantic.DeepEqual(np.Spec, tt.want) {
				t.Errorf("spec = %+v, want %+v", np.Spec, tt.want)
			}
		})
	}
}

func TestNetworkPolicyValidate(t *testing.T) {
	s := resource(t, "NetworkPolicy").Strategy
	tcp := corev1.ProtocolTCP
	num := func(n int32) *intstr.IntOrString { v := intstr.FromInt32(n); return &v }
	name := func(n string) *intstr.IntOrString { v := intstr.FromString(n); return &v }
	app := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	in := func(peers []networkingv1.NetworkPolicyPeer, ports ...networkingv1.NetworkPolicyPort) networkingv1.NetworkPolicySpec {
		return networkingv1.NetworkPolicySpec{Ingress: []networkingv1.NetworkPolicyIngressRule{{From: peers, Ports: ports}}}
	}
	ipBlock := func(cidr string, except ...string) []networkingv1.NetworkPolicyPeer {
		return []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: cidr, Except: except}}}
	}
	from0 := "spec.ingress[0].from[0]"
	port0 := "spec.ingress[0].ports[0]"
	tests := []struct {
		name string
		spec networkingv1.NetworkPolicySpec
		want []FieldErr
	}{
		{name: "deny all"},
		{name: "pods in namespaces", spec: in([]networkingv1.NetworkPolicyPeer{{PodSelector: app, NamespaceSelector: &metav1.LabelSelector{}}},
			networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: num(8080), EndPort: ptr[int32](8090)}, networkingv1.NetworkPolicyPort{Port: name("http")})},
		{name: "bad pod selector", spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "no good"}}},
			want: []FieldErr{Invalid("spec.podSelector.matchLabels")}},
		{name: "empty peer", spec: in([]networkingv1.NetworkPolicyPeer{{}}), want: []FieldErr{Required(from0)}},
		{name: "ipBlock and selector", spec: in([]networkingv1.NetworkPolicyPeer{{PodSelector: app, IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.0/8"}}}),
			want: []FieldErr{Forbidden(from0)}},
		{name: "bad peer selector", spec: in([]networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "env", Operator: metav1.LabelSelectorOpIn}}}}}),
			want: []FieldErr{Required(from0 + ".namespaceSelector.matchExpressions[0].values")}},
		{name: "ipBlock", spec: in(ipBlock("10.0.0.0/8", "10.1.0.0/16", "10.2.3.4/32"))},
		{name: "ipv6 ipBlock", spec: in(ipBlock("2001:db8::/32", "2001:db8:1::/48"))},
		{name: "no cidr", spec: in(ipBlock("")), want: []FieldErr{Required(from0 + ".ipBlock.cidr")}},
		{name: "bad cidr", spec: in(ipBlock("10.0.0.0/33")), want: []FieldErr{Invalid(from0 + ".ipBlock.cidr")}},
		{name: "host bits set", spec: in(ipBlock("10.0.0.1/8")), want: []FieldErr{Invalid(from0 + ".ipBlock.cidr")}},
		{name: "except outside cidr", spec: in(ipBlock("10.0.0.0/8", "192.168.0.0/16")), want: []FieldErr{Invalid(from0 + ".ipBlock.except[0]")}},
		{name: "except equal to cidr", spec: in(ipBlock("10.0.0.0/8", "10.0.0.0/8")), want: []FieldErr{Invalid(from0 + ".ipBlock.except[0]")}},
		{name: "except wider than cidr", spec: in(ipBlock("10.1.0.0/16", "10.0.0.0/8")), want: []FieldErr{Invalid(from0 + ".ipBlock.except[0]")}},
		{name: "except other family", spec: in(ipBlock("10.0.0.0/8", "2001:db8::/32")), want: []FieldErr{Invalid(from0 + ".ipBlock.except[0]")}},
		{name: "bad except", spec: in(ipBlock("10.0.0.0/8", "10.1/16")), want: []FieldErr{Invalid(from0 + ".ipBlock.except[0]")}},
		{name: "bad protocol", spec: in(nil, networkingv1.NetworkPolicyPort{Protocol: ptr(corev1.Protocol("ICMP"))}),
			want: []FieldErr{NotSupported(port0 + ".protocol")}},
		{name: "port zero", spec: in(nil, networkingv1.NetworkPolicyPort{Port: num(0)}), want: []FieldErr{Invalid(port0 + ".port")}},
		{name: "bad port name", spec: in(nil, networkingv1.NetworkPolicyPort{Port: name("-http")}), want: []FieldErr{Invalid(port0 + ".port")}},
		{name: "endPort below port", spec: in(nil, networkingv1.NetworkPolicyPort{Port: num(9000), EndPort: ptr[int32](8000)}),
			want: []FieldErr{Invalid(port0 + ".endPort")}},
		{name: "endPort out of range", spec: in(nil, networkingv1.NetworkPolicyPort{Port: num(9000), EndPort: ptr[int32](70000)}),
			want: []FieldErr{Invalid(port0 + ".endPort")}},
		{name: "endPort with named port", spec: in(nil, networkingv1.NetworkPolicyPort{Port: name("http"), EndPort: ptr[int32](8000)}),
			want: []FieldErr{Invalid(port0 + ".endPort")}},
		{name: "endPort without port", spec: in(nil, networkingv1.NetworkPolicyPort{EndPort: ptr[int32](8000)}),
			want: []FieldErr{Invalid(port0 + ".endPort")}},
		{name: "egress", spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress"},
			Egress: []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{}}, Ports: []networkingv1.NetworkPolicyPort{{Port: num(0)}}}}},
			want: []FieldErr{Required("spec.egress[0].to[0]"), Invalid("spec.egress[0].ports[0].port")}},
		{name: "bad policy type", spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Both"}},
			want: []FieldErr{NotSupported("spec.policyTypes[1]")}},
		{name: "too many policy types", spec: networkingv1.NetworkPolicySpec{PolicyTypes: []networkingv1.PolicyType{"Ingress", "Egress", "Ingress"}},
			want: []FieldErr{Invalid("spec.policyTypes")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: tt.spec}
			CheckErrors(t, s.Validate(ctx, np), tt.want...)
		})
	}
}

// TestNetworkPolicyUpdateKeepsOldValues: CIDRs stored before strict
// parsing do not block updates that keep them.
func TestNetworkPolicyUpdateKeepsOldValues(t *testing.T) {
	s := resource(t, "NetworkPolicy").Strategy
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: networkingv1.NetworkPolicySpec{
		Ingress: []networkingv1.NetworkPolicyIngressRule{{From: []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: "10.0.0.1/8"}}}}}}}
	CheckErrors(t, s.Validate(ctx, np), Invalid("spec.ingress[0].from[0].ipBlock.cidr"))
	updated := np.DeepCopy()
	updated.Labels = map[string]string{"a": "b"}
	CheckErrors(t, s.ValidateUpdate(ctx, updated, np))
}

func TestNetworkPolicyGeneration(t *testing.T) {
	s := resource(t, "NetworkPolicy").Strategy
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	s.PrepareForCreate(ctx, np)
	if np.Generation != 1 {
		t.Fatalf("generation = %d", np.Generation)
	}
	same := np.DeepCopy()
	same.Labels = map[string]string{"a": "b"}
	s.PrepareForUpdate(ctx, same, np, "")
	changed := np.DeepCopy()
	changed.Spec.PolicyTypes = []networkingv1.PolicyType{"Egress"}
	s.PrepareForUpdate(ctx, changed, np, "")
	if same.Generation != 1 || changed.Generation != 2 {
		t.Errorf("generations = %d, %d; want 1, 2", same.Generation, changed.Generation)
	}
}
