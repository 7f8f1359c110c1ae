package core_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newEndpoints() *corev1.Endpoints {
	return &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"},
		Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.244.1.5", NodeName: ptr("worker-1"), Hostname: "web-0"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "fd00::5"}},
			Ports:             []corev1.EndpointPort{{Name: "http", Port: 8080}, {Name: "metrics", Port: 9090, AppProtocol: ptr("kubernetes.io/h2c")}},
		}},
	}
}

func TestEndpointsDefault(t *testing.T) {
	ep := newEndpoints()
	ep.Subsets[0].Ports[1].Protocol = corev1.ProtocolUDP
	clusterStrategy(t, "endpoints").Default(ep)
	if p := ep.Subsets[0].Ports; p[0].Protocol != corev1.ProtocolTCP || p[1].Protocol != corev1.ProtocolUDP {
		t.Errorf("protocols = %q, %q; want TCP, UDP", p[0].Protocol, p[1].Protocol)
	}
}

func TestEndpointsValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.Endpoints)
		want   []fieldErr
	}{
		{"valid", func(*corev1.Endpoints) {}, nil},
		{"no subsets", func(ep *corev1.Endpoints) { ep.Subsets = nil }, nil},
		{"one unnamed port", func(ep *corev1.Endpoints) {
			ep.Subsets[0].Ports = []corev1.EndpointPort{{Port: 80, Protocol: corev1.ProtocolTCP}}
		}, nil},
		{"no addresses", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses, ep.Subsets[0].NotReadyAddresses = nil, nil },
			[]fieldErr{required("subsets[0]")}},
		{"only not ready", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses = nil }, nil},
		{"bad ip", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "10.244.1" }, []fieldErr{invalid("subsets[0].addresses[0].ip")}},
		{"loopback", func(ep *corev1.Endpoints) { ep.Subsets[0].NotReadyAddresses[0].IP = "127.0.0.1" },
			[]fieldErr{invalid("subsets[0].notReadyAddresses[0].ip")}},
		{"unspecified", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "::" }, []fieldErr{invalid("subsets[0].addresses[0].ip")}},
		{"link-local", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "169.254.169.254" }, []fieldErr{invalid("subsets[0].addresses[0].ip")}},
		{"link-local multicast", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].IP = "224.0.0.1" }, []fieldErr{invalid("subsets[0].addresses[0].ip")}},
		{"hostname", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].Hostname = "web.0" }, []fieldErr{invalid("subsets[0].addresses[0].hostname")}},
		{"nodeName", func(ep *corev1.Endpoints) { ep.Subsets[0].Addresses[0].NodeName = ptr("Worker_1") }, []fieldErr{invalid("subsets[0].addresses[0].nodeName")}},
		{"unnamed port among many", func(ep *corev1.Endpoints) { ep.Subsets[0].Ports[1].Name = "" }, []fieldErr{required("subsets[0].ports[1].name")}},
		{"port name", func(ep *corev1.Endpoints) { ep.Subsets[0].Ports[0].Name = "HTTP" }, []fieldErr{invalid("subsets[0].ports[0].name")}},
		{"port number", func(ep *corev1.Endpoints) { ep.Subsets[0].Ports[0].Port = 70000 }, []fieldErr{invalid("subsets[0].ports[0].port")}},
		{"protocol", func(ep *corev1.Endpoints) { ep.Subsets[0].Ports[0].Protocol = "HTTP" }, []fieldErr{notSupported("subsets[0].ports[0].protocol")}},
		{"appProtocol", func(ep *corev1.Endpoints) { ep.Subsets[0].Ports[0].AppProtocol = ptr("h2 c") }, []fieldErr{invalid("subsets[0].ports[0].appProtocol")}},
	}
	s := clusterStrategy(t, "endpoints")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newEndpoints()
			s.Default(ep)
			tt.modify(ep)
			checkErrs(t, s.Validate(bg, ep), tt.want...)
			checkErrs(t, s.ValidateUpdate(bg, ep, newEndpoints()), tt.want...)
		})
	}
	// Without defaulting, a port has no protocol.
	ep := newEndpoints()
	checkErrs(t, s.Validate(bg, ep), required("subsets[0].ports[0].protocol"), required("subsets[0].ports[1].protocol"))
}
