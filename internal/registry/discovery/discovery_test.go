package discovery_test

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry/discovery"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func tooMany(path string) FieldErr { return FieldErr{Type: field.ErrorTypeTooMany, Field: path} }

func TestResource(t *testing.T) {
	rs := discovery.Resources()
	if len(rs) != 1 {
		t.Fatalf("%d resources", len(rs))
	}
	r := rs[0]
	if r.GVR != discoveryv1.SchemeGroupVersion.WithResource("endpointslices") || r.Kind != "EndpointSlice" || r.ListKind != "EndpointSliceList" ||
		!r.Namespaced || len(r.ShortNames) != 0 || len(r.Subresources) != 0 {
		t.Errorf("resource = %+v", r)
	}
	if _, ok := r.Strategy.New().(*discoveryv1.EndpointSlice); !ok {
		t.Errorf("New() = %T", r.Strategy.New())
	}
	if _, ok := r.Strategy.NewList().(*discoveryv1.EndpointSliceList); !ok {
		t.Errorf("NewList() = %T", r.Strategy.NewList())
	}
}

func slice(addrType discoveryv1.AddressType, addrs ...string) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "web-abcde", Namespace: "shop", Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
		AddressType: addrType,
		Endpoints: []discoveryv1.Endpoint{{
			Addresses:  addrs,
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(true)},
			NodeName:   ptr("node-1"),
			Zone:       ptr("zone-a"),
		}},
		Ports: []discoveryv1.EndpointPort{{Name: ptr("http"), Protocol: ptr(corev1.ProtocolTCP), Port: ptr[int32](8080), AppProtocol: ptr("kubernetes.io/h2c")}},
	}
}

func TestDefault(t *testing.T) {
	s := discovery.Resources()[0].Strategy
	eps := slice(discoveryv1.AddressTypeIPv4, "10.0.0.1")
	eps.Ports = []discoveryv1.EndpointPort{{Port: ptr[int32](80)}, {Name: ptr("dns"), Protocol: ptr(corev1.ProtocolUDP)}}
	s.Default(eps)
	if p := eps.Ports[0]; p.Name == nil || *p.Name != "" || p.Protocol == nil || *p.Protocol != corev1.ProtocolTCP {
		t.Errorf("ports[0] = %+v", p)
	}
	if p := eps.Ports[1]; *p.Name != "dns" || *p.Protocol != corev1.ProtocolUDP {
		t.Errorf("ports[1] = %+v", p)
	}
}

func TestValidate(t *testing.T) {
	s := discovery.Resources()[0].Strategy
	addr0 := "endpoints[0].addresses[0]"
	tests := []struct {
		name   string
		eps    *discoveryv1.EndpointSlice
		mutate func(*discoveryv1.EndpointSlice)
		want   []FieldErr
	}{
		{name: "ipv4", eps: slice("IPv4", "10.1.2.3", "192.168.0.9")},
		{name: "ipv6", eps: slice("IPv6", "2001:db8::1")},
		{name: "fqdn", eps: slice("FQDN", "db.example.com")},
		{name: "no address type", eps: slice("", "10.1.2.3"), want: []FieldErr{Required("addressType")}},
		{name: "deprecated IP type", eps: slice("IP", "10.1.2.3"), want: []FieldErr{NotSupported("addressType")}},
		{name: "ipv6 in ipv4 slice", eps: slice("IPv4", "2001:db8::1"), want: []FieldErr{Invalid(addr0)}},
		{name: "ipv4 in ipv6 slice", eps: slice("IPv6", "10.1.2.3"), want: []FieldErr{Invalid(addr0)}},
		{name: "not an ip", eps: slice("IPv4", "web"), want: []FieldErr{Invalid(addr0)}},
		{name: "leading zeros", eps: slice("IPv4", "010.1.2.3"), want: []FieldErr{Invalid(addr0)}},
		{name: "loopback", eps: slice("IPv4", "127.0.0.1"), want: []FieldErr{Invalid(addr0)}},
		{name: "unspecified", eps: slice("IPv6", "::"), want: []FieldErr{Invalid(addr0)}},
		{name: "link-local", eps: slice("IPv4", "169.254.1.1"), want: []FieldErr{Invalid(addr0)}},
		{name: "bad fqdn", eps: slice("FQDN", "web"), want: []FieldErr{Invalid(addr0)}},
		{name: "no addresses", eps: slice("IPv4"), want: []FieldErr{Required("endpoints[0].addresses")}},
		{name: "too many addresses", eps: slice("IPv4", manyIPs(101)...), want: []FieldErr{tooMany("endpoints[0].addresses")}},
		{name: "too many endpoints", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			for len(e.Endpoints) <= 1000 {
				e.Endpoints = append(e.Endpoints, e.Endpoints[0])
			}
		}, want: []FieldErr{tooMany("endpoints")}},
		{name: "1000 endpoints", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			for len(e.Endpoints) < 1000 {
				e.Endpoints = append(e.Endpoints, e.Endpoints[0])
			}
		}},
		{name: "bad hostname", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Hostname = ptr("web.0") },
			want: []FieldErr{Invalid("endpoints[0].hostname")}},
		{name: "bad node name", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].NodeName = ptr("Node_1") },
			want: []FieldErr{Invalid("endpoints[0].nodeName")}},
		{name: "bad topology", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].DeprecatedTopology = map[string]string{"-bad": "x"}
		}, want: []FieldErr{Invalid("endpoints[0].deprecatedTopology")}},
		{name: "zone hints", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}, {Name: "zone-a"}, {Name: "bad zone"}}}
		}, want: []FieldErr{Duplicate("endpoints[0].hints.forZones[1].name"), Invalid("endpoints[0].hints.forZones[2].name")}},
		{name: "too many node hints", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			e.Endpoints[0].Hints = &discoveryv1.EndpointHints{}
			for i := range 9 {
				e.Endpoints[0].Hints.ForNodes = append(e.Endpoints[0].Hints.ForNodes, discoveryv1.ForNode{Name: fmt.Sprint("n", i)})
			}
		}, want: []FieldErr{tooMany("endpoints[0].hints.forNodes")}},
		{name: "duplicate port names", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			e.Ports = append(e.Ports, discoveryv1.EndpointPort{Name: ptr("http"), Protocol: ptr(corev1.ProtocolUDP)})
		}, want: []FieldErr{Duplicate("ports[1].name")}},
		{name: "bad port name", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) { e.Ports[0].Name = ptr("HTTP") },
			want: []FieldErr{Invalid("ports[0].name")}},
		{name: "bad protocol", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) { e.Ports[0].Protocol = ptr(corev1.Protocol("ICMP")) },
			want: []FieldErr{NotSupported("ports[0].protocol")}},
		{name: "bad app protocol", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) { e.Ports[0].AppProtocol = ptr("h2c!") },
			want: []FieldErr{Invalid("ports[0].appProtocol")}},
		{name: "too many ports", eps: slice("IPv4", "10.0.0.1"), mutate: func(e *discoveryv1.EndpointSlice) {
			for i := range 101 {
				e.Ports = append(e.Ports, discoveryv1.EndpointPort{Name: ptr(fmt.Sprint("p", i)), Protocol: ptr(corev1.ProtocolTCP)})
			}
		}, want: []FieldErr{tooMany("ports")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.mutate != nil {
				tt.mutate(tt.eps)
			}
			CheckErrors(t, s.Validate(ctx, tt.eps), tt.want...)
		})
	}
}

func manyIPs(n int) []string {
	var ips []string
	for i := range n {
		ips = append(ips, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
	return ips
}

func TestValidateUpdate(t *testing.T) {
	s := discovery.Resources()[0].Strategy
	old := slice("IPv4", "10.0.0.1")
	eps := slice("IPv6", "2001:db8::1")
	CheckErrors(t, s.ValidateUpdate(ctx, eps, old), Invalid("addressType"))
	// An address stored before strict parsing is kept.
	old = slice("IPv4", "010.0.0.1")
	eps = old.DeepCopy()
	eps.Endpoints = append(eps.Endpoints, discoveryv1.Endpoint{Addresses: []string{"10.0.0.2"}})
	CheckErrors(t, s.ValidateUpdate(ctx, eps, old))
}

func TestGeneration(t *testing.T) {
	s := discovery.Resources()[0].Strategy
	eps := slice("IPv4", "10.0.0.1")
	s.PrepareForCreate(ctx, eps)
	if eps.Generation != 1 {
		t.Fatalf("generation = %d", eps.Generation)
	}
	tests := []struct {
		name   string
		mutate func(*discoveryv1.EndpointSlice)
		want   int64
	}{
		{name: "annotations", mutate: func(e *discoveryv1.EndpointSlice) { e.Annotations = map[string]string{"a": "b"} }, want: 1},
		{name: "labels", mutate: func(e *discoveryv1.EndpointSlice) { e.Labels["x"] = "y" }, want: 2},
		{name: "endpoints", mutate: func(e *discoveryv1.EndpointSlice) { e.Endpoints[0].Conditions.Ready = ptr(false) }, want: 2},
		{name: "ports", mutate: func(e *discoveryv1.EndpointSlice) { e.Ports = nil }, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := eps.DeepCopy()
			tt.mutate(n)
			s.PrepareForUpdate(ctx, n, eps, "")
			if n.Generation != tt.want {
				t.Errorf("generation = %d, want %d", n.Generation, tt.want)
			}
		})
	}
}
