package core_test

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/registrytest"
	"skiff.dev/skiff/internal/registry/svcalloc"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
)

func serviceStrategy() registry.Strategy {
	return core.ServiceResource(core.DefaultServiceConfig()).Strategy
}

func svc(name string, spec corev1.ServiceSpec) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name}, Spec: spec}
}

func webSpec() corev1.ServiceSpec {
	return corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}
}

// prepared is s defaulted and prepared for create, as the store does
// before validation.
func prepared(s *corev1.Service) *corev1.Service {
	st := serviceStrategy()
	st.Default(s)
	st.PrepareForCreate(context.Background(), s)
	return s
}

func TestServiceResource(t *testing.T) {
	r := core.ServiceResource(core.DefaultServiceConfig())
	if r.GVR != corev1.SchemeGroupVersion.WithResource("services") || r.Kind != "Service" || r.ListKind != "ServiceList" ||
		r.SingularName != "service" || !r.Namespaced || !slices.Equal(r.ShortNames, []string{"svc"}) ||
		!slices.Equal(r.Categories, []string{"all"}) || !slices.Equal(r.Subresources, []string{"status"}) {
		t.Errorf("%+v", r)
	}
	if _, ok := r.Strategy.(registry.WriteHooks); !ok {
		t.Error("the Service strategy has no WriteHooks: nothing would be allocated")
	}
}

func TestServiceDefaults(t *testing.T) {
	cluster, local := corev1.ServiceInternalTrafficPolicyCluster, corev1.ServiceExternalTrafficPolicyLocal
	single, requireDual := corev1.IPFamilyPolicySingleStack, corev1.IPFamilyPolicyRequireDualStack
	v4 := []corev1.IPFamily{corev1.IPv4Protocol}
	tests := []struct {
		name string
		in   corev1.ServiceSpec
		want corev1.ServiceSpec
	}{
		{"cluster IP", webSpec(), corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"}, Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone,
			Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
			InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4,
		}},
		{"named target port, UDP", corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone,
				Ports:                 []corev1.ServicePort{{Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("dns")}},
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"node port", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, SessionAffinity: corev1.ServiceAffinityNone,
				Ports:                 []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster, InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"load balancer, local", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: local, Ports: []corev1.ServicePort{{Port: 443}}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, SessionAffinity: corev1.ServiceAffinityNone,
				Ports:                 []corev1.ServicePort{{Port: 443, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(443)}},
				ExternalTrafficPolicy: local, AllocateLoadBalancerNodePorts: ptr(true),
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"external IPs make it externally accessible", corev1.ServiceSpec{ExternalIPs: []string{"192.0.2.7"}, Ports: []corev1.ServicePort{{Port: 80}}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ExternalIPs: []string{"192.0.2.7"},
				Ports:                 []corev1.ServicePort{{Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)}},
				ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyCluster, InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"client IP affinity", corev1.ServiceSpec{SessionAffinity: corev1.ServiceAffinityClientIP},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityClientIP,
				SessionAffinityConfig: &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(10800))}},
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"no affinity drops its config", corev1.ServiceSpec{SessionAffinityConfig: &corev1.SessionAffinityConfig{}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone,
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"headless without selector", corev1.ServiceSpec{ClusterIP: "None"},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ClusterIP: "None", ClusterIPs: []string{"None"},
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &requireDual, IPFamilies: v4}},
		{"headless with selector", corev1.ServiceSpec{ClusterIP: "None", Selector: map[string]string{"app": "db"}},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ClusterIP: "None", ClusterIPs: []string{"None"},
				Selector: map[string]string{"app": "db"}, InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: v4}},
		{"requested IPv6 address gives its family", corev1.ServiceSpec{ClusterIP: "fd00::10"},
			corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, SessionAffinity: corev1.ServiceAffinityNone, ClusterIP: "fd00::10", ClusterIPs: []string{"fd00::10"},
				InternalTrafficPolicy: &cluster, IPFamilyPolicy: &single, IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}}},
		{"external name", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com"},
			corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com", SessionAffinity: corev1.ServiceAffinityNone}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := prepared(svc("s", tt.in))
			if !apiequality.Semantic.DeepEqual(got.Spec, tt.want) {
				t.Errorf("spec:\n  got  %+v\n  want %+v", got.Spec, tt.want)
			}
		})
	}
}

func TestServiceLoadBalancerStatusDefaults(t *testing.T) {
	s := svc("lb", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer})
	s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "lb.example.com"}}
	serviceStrategy().Default(s)
	if ing := s.Status.LoadBalancer.Ingress; ing[0].IPMode == nil || *ing[0].IPMode != corev1.LoadBalancerIPModeVIP || ing[1].IPMode != nil {
		t.Errorf("ingress = %+v", ing)
	}
}

func TestServiceValidate(t *testing.T) {
	R, I, F, NS, D := registrytest.Required, registrytest.Invalid, registrytest.Forbidden, registrytest.NotSupported, registrytest.Duplicate
	tests := []struct {
		name   string
		change func(s *corev1.ServiceSpec)
		want   []registrytest.FieldErr
	}{
		{"valid", func(*corev1.ServiceSpec) {}, nil},
		{"no ports", func(s *corev1.ServiceSpec) { s.Ports = nil }, []registrytest.FieldErr{R("spec.ports")}},
		{"headless without ports", func(s *corev1.ServiceSpec) { s.Ports, s.ClusterIP, s.ClusterIPs = nil, "None", []string{"None"} }, nil},
		{"bad port", func(s *corev1.ServiceSpec) { s.Ports[0].Port = 70000 }, []registrytest.FieldErr{I("spec.ports[0].port")}},
		{"two ports need names", func(s *corev1.ServiceSpec) {
			s.Ports = append(s.Ports, corev1.ServicePort{Port: 81, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(81)})
		}, []registrytest.FieldErr{R("spec.ports[0].name"), R("spec.ports[1].name")}},
		{"duplicate names", func(s *corev1.ServiceSpec) {
			s.Ports[0].Name = "http"
			s.Ports = append(s.Ports, corev1.ServicePort{Name: "http", Port: 81, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(81)})
		}, []registrytest.FieldErr{D("spec.ports[1].name")}},
		{"bad port name", func(s *corev1.ServiceSpec) { s.Ports[0].Name = "HTTP_1" }, []registrytest.FieldErr{I("spec.ports[0].name")}},
		{"duplicate port and protocol", func(s *corev1.ServiceSpec) {
			s.Ports[0].Name = "a"
			s.Ports = append(s.Ports, corev1.ServicePort{Name: "b", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)})
		}, []registrytest.FieldErr{D("spec.ports[1]")}},
		{"same port, other protocol", func(s *corev1.ServiceSpec) {
			s.Ports[0].Name = "a"
			s.Ports = append(s.Ports, corev1.ServicePort{Name: "b", Port: 80, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(80)})
		}, nil},
		{"protocol", func(s *corev1.ServiceSpec) { s.Ports[0].Protocol = "HTTP" }, []registrytest.FieldErr{NS("spec.ports[0].protocol")}},
		{"target port number", func(s *corev1.ServiceSpec) { s.Ports[0].TargetPort = intstr.FromInt32(0) }, []registrytest.FieldErr{I("spec.ports[0].targetPort")}},
		{"target port name", func(s *corev1.ServiceSpec) { s.Ports[0].TargetPort = intstr.FromString("not_a_name") }, []registrytest.FieldErr{I("spec.ports[0].targetPort")}},
		{"app protocol", func(s *corev1.ServiceSpec) { s.Ports[0].AppProtocol = ptr("a b") }, []registrytest.FieldErr{I("spec.ports[0].appProtocol")}},
		{"node port on a cluster IP service", func(s *corev1.ServiceSpec) { s.Ports[0].NodePort = 30080 }, []registrytest.FieldErr{F("spec.ports[0].nodePort")}},
		{"selector", func(s *corev1.ServiceSpec) { s.Selector = map[string]string{"app": "-bad-"} }, []registrytest.FieldErr{I("spec.selector")}},
		{"type", func(s *corev1.ServiceSpec) { s.Type = "Ingress" }, []registrytest.FieldErr{NS("spec.type")}},
		{"session affinity", func(s *corev1.ServiceSpec) { s.SessionAffinity = "Cookie" }, []registrytest.FieldErr{NS("spec.sessionAffinity")}},
		{"affinity timeout", func(s *corev1.ServiceSpec) {
			s.SessionAffinity = corev1.ServiceAffinityClientIP
			s.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(86401))}}
		}, []registrytest.FieldErr{I("spec.sessionAffinityConfig.clientIP.timeoutSeconds")}},
		{"cluster IP", func(s *corev1.ServiceSpec) { s.ClusterIP, s.ClusterIPs = "10.43.0.300", []string{"10.43.0.300"} }, []registrytest.FieldErr{I("spec.clusterIPs[0]")}},
		{"cluster IPs disagree", func(s *corev1.ServiceSpec) { s.ClusterIP, s.ClusterIPs = "10.43.0.5", []string{"10.43.0.6"} }, []registrytest.FieldErr{I("spec.clusterIPs")}},
		{"cluster IPs without cluster IP", func(s *corev1.ServiceSpec) { s.ClusterIPs = []string{"10.43.0.6"} }, []registrytest.FieldErr{I("spec.clusterIPs")}},
		{"None and more", func(s *corev1.ServiceSpec) { s.ClusterIP, s.ClusterIPs = "None", []string{"None", "10.43.0.6"} }, []registrytest.FieldErr{I("spec.clusterIPs")}},
		{"address of another family", func(s *corev1.ServiceSpec) { s.ClusterIP, s.ClusterIPs = "fd00::1", []string{"fd00::1"} }, []registrytest.FieldErr{I("spec.clusterIPs[0]")}},
		{"IPv6 on an IPv4 cluster", func(s *corev1.ServiceSpec) { s.IPFamilies = []corev1.IPFamily{corev1.IPv6Protocol} }, []registrytest.FieldErr{I("spec.ipFamilies[0]")}},
		{"unknown family", func(s *corev1.ServiceSpec) { s.IPFamilies = []corev1.IPFamily{"IPv5"} }, []registrytest.FieldErr{NS("spec.ipFamilies[0]")}},
		{"dual stack required", func(s *corev1.ServiceSpec) { s.IPFamilyPolicy = ptr(corev1.IPFamilyPolicyRequireDualStack) }, []registrytest.FieldErr{I("spec.ipFamilyPolicy")}},
		{"dual stack preferred", func(s *corev1.ServiceSpec) { s.IPFamilyPolicy = ptr(corev1.IPFamilyPolicyPreferDualStack) }, nil},
		{"unknown policy", func(s *corev1.ServiceSpec) { s.IPFamilyPolicy = ptr(corev1.IPFamilyPolicy("Any")) }, []registrytest.FieldErr{NS("spec.ipFamilyPolicy")}},
		{"two families, single stack", func(s *corev1.ServiceSpec) {
			s.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		}, []registrytest.FieldErr{I("spec.ipFamilies"), I("spec.ipFamilies[1]")}},
		{"external IP", func(s *corev1.ServiceSpec) { s.ExternalIPs = []string{"127.0.0.1"} }, []registrytest.FieldErr{I("spec.externalIPs[0]"), R("spec.externalTrafficPolicy")}},
		{"external traffic policy on a cluster IP", func(s *corev1.ServiceSpec) { s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal },
			[]registrytest.FieldErr{I("spec.externalTrafficPolicy")}},
		{"health check port on a cluster IP", func(s *corev1.ServiceSpec) { s.HealthCheckNodePort = 30000 }, []registrytest.FieldErr{I("spec.healthCheckNodePort")}},
		{"internal traffic policy", func(s *corev1.ServiceSpec) {
			s.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicy("Node"))
		},
			[]registrytest.FieldErr{NS("spec.internalTrafficPolicy")}},
		{"traffic distribution", func(s *corev1.ServiceSpec) { s.TrafficDistribution = ptr("Anywhere") }, []registrytest.FieldErr{NS("spec.trafficDistribution")}},
		{"load balancer fields on a cluster IP", func(s *corev1.ServiceSpec) {
			s.LoadBalancerSourceRanges = []string{"10.0.0.0/8", "bad"}
			s.AllocateLoadBalancerNodePorts = ptr(true)
			s.LoadBalancerClass = ptr("example.com/lb")
		}, []registrytest.FieldErr{F("spec.LoadBalancerSourceRanges"), I("spec.LoadBalancerSourceRanges[1]"),
			F("spec.allocateLoadBalancerNodePorts"), F("spec.loadBalancerClass")}},
		{"headless node port", func(s *corev1.ServiceSpec) {
			s.Type, s.ClusterIP, s.ClusterIPs = corev1.ServiceTypeNodePort, "None", []string{"None"}
			s.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
		}, []registrytest.FieldErr{I("spec.clusterIPs[0]")}},
		{"duplicate node ports", func(s *corev1.ServiceSpec) {
			s.Type, s.ExternalTrafficPolicy = corev1.ServiceTypeNodePort, corev1.ServiceExternalTrafficPolicyCluster
			s.Ports = []corev1.ServicePort{
				{Name: "a", Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(80)},
				{Name: "b", Port: 81, NodePort: 30080, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(81)},
			}
		}, []registrytest.FieldErr{D("spec.ports[1].nodePort")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prepared(svc("web", webSpec()))
			tt.change(&s.Spec)
			registrytest.CheckErrors(t, serviceStrategy().Validate(context.Background(), s), tt.want...)
		})
	}
}

func TestServiceValidateExternalName(t *testing.T) {
	R, I, F := registrytest.Required, registrytest.Invalid, registrytest.Forbidden
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want []registrytest.FieldErr
	}{
		{"valid", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db.example.com."}, nil},
		{"no name", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName}, []registrytest.FieldErr{R("spec.externalName")}},
		{"bad name", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "Db_1"}, []registrytest.FieldErr{I("spec.externalName")}},
		{"with cluster IP and families", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db", ClusterIP: "10.43.0.9",
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack)},
			[]registrytest.FieldErr{F("spec.clusterIPs"), F("spec.ipFamilies"), F("spec.ipFamilyPolicy")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := prepared(svc("ext", tt.spec))
			registrytest.CheckErrors(t, serviceStrategy().Validate(context.Background(), s), tt.want...)
		})
	}
	if errs := serviceStrategy().ValidateName("1web", false); len(errs) == 0 {
		t.Error("a Service name must be a DNS-1035 label, starting with a letter")
	}
}

// update runs what the store runs on an update of old to s, and returns
// the prepared object and a check of its validation errors.
func update(s, old *corev1.Service, sub string) (*corev1.Service, func(t *testing.T, want ...registrytest.FieldErr)) {
	st := serviceStrategy()
	ctx := context.Background()
	st.Default(s)
	st.PrepareForUpdate(ctx, s, old, sub)
	errs := st.ValidateUpdate(ctx, s, old)
	return s, func(t *testing.T, want ...registrytest.FieldErr) {
		t.Helper()
		registrytest.CheckErrors(t, errs, want...)
	}
}

// stored is a Service as the store keeps it after allocation.
func stored(spec corev1.ServiceSpec) *corev1.Service {
	s := prepared(svc("web", spec))
	s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.43.0.10", []string{"10.43.0.10"}
	for i := range s.Spec.Ports {
		if s.Spec.Type == corev1.ServiceTypeNodePort && s.Spec.Ports[i].NodePort == 0 {
			s.Spec.Ports[i].NodePort = 30000 + int32(i)
		}
	}
	return s
}

func TestServiceUpdate(t *testing.T) {
	I, F := registrytest.Invalid, registrytest.Forbidden
	nodePort := corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": "web"},
		Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "https", Port: 443}}}

	t.Run("cluster IP is immutable", func(t *testing.T) {
		old := stored(webSpec())
		s := old.DeepCopy()
		s.Spec.ClusterIP, s.Spec.ClusterIPs = "10.43.0.11", []string{"10.43.0.11"}
		_, check := update(s, old, "")
		check(t, I("spec.clusterIPs[0]"))
	})
	t.Run("an old client changes only clusterIP", func(t *testing.T) {
		old := stored(webSpec())
		s := old.DeepCopy()
		s.Spec.ClusterIP = "10.43.0.11"
		got, check := update(s, old, "")
		check(t, I("spec.clusterIPs[0]"))
		if !slices.Equal(got.Spec.ClusterIPs, []string{"10.43.0.11"}) {
			t.Errorf("clusterIPs = %v", got.Spec.ClusterIPs)
		}
	})
	t.Run("a PUT without allocated values keeps them", func(t *testing.T) {
		old := stored(nodePort)
		got, check := update(svc("web", nodePort), old, "")
		check(t)
		if got.Spec.ClusterIP != "10.43.0.10" || !slices.Equal(got.Spec.ClusterIPs, []string{"10.43.0.10"}) ||
			got.Spec.Ports[0].NodePort != 30000 || got.Spec.Ports[1].NodePort != 30001 {
			t.Errorf("spec = %+v", got.Spec)
		}
	})
	t.Run("to ClusterIP drops node ports and traffic policy", func(t *testing.T) {
		old := stored(nodePort)
		s := old.DeepCopy()
		s.Spec.Type = corev1.ServiceTypeClusterIP
		got, check := update(s, old, "")
		check(t)
		if got.Spec.Ports[0].NodePort != 0 || got.Spec.Ports[1].NodePort != 0 || got.Spec.ExternalTrafficPolicy != "" {
			t.Errorf("spec = %+v", got.Spec)
		}
	})
	t.Run("to ClusterIP with a node port asked for", func(t *testing.T) {
		old := stored(nodePort)
		s := old.DeepCopy()
		s.Spec.Type = corev1.ServiceTypeClusterIP
		s.Spec.Ports[0].NodePort = 31000
		_, check := update(s, old, "")
		check(t, F("spec.ports[0].nodePort"), F("spec.ports[1].nodePort"))
	})
	t.Run("to ExternalName drops cluster IPs", func(t *testing.T) {
		old := stored(webSpec())
		s := old.DeepCopy()
		s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "db.example.com"
		got, check := update(s, old, "")
		check(t)
		if got.Spec.ClusterIP != "" || got.Spec.ClusterIPs != nil || got.Spec.IPFamilies != nil || got.Spec.IPFamilyPolicy != nil {
			t.Errorf("spec = %+v", got.Spec)
		}
	})
	t.Run("from ExternalName may name a cluster IP", func(t *testing.T) {
		old := prepared(svc("web", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "db"}))
		s := svc("web", webSpec())
		s.Spec.ClusterIP = "10.43.0.12"
		got, check := update(s, old, "")
		check(t)
		if !slices.Equal(got.Spec.ClusterIPs, []string{"10.43.0.12"}) || len(got.Spec.IPFamilies) != 1 {
			t.Errorf("spec = %+v", got.Spec)
		}
	})
	t.Run("load balancer class and health check port are immutable", func(t *testing.T) {
		old := stored(corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
			HealthCheckNodePort: 31500, LoadBalancerClass: ptr("example.com/a"), Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}})
		s := old.DeepCopy()
		s.Spec.LoadBalancerClass = ptr("example.com/b")
		s.Spec.HealthCheckNodePort = 31501
		_, check := update(s, old, "")
		check(t, I("spec.loadBalancerClass"), F("spec.healthCheckNodePort"))
	})
	t.Run("status only through status", func(t *testing.T) {
		old := stored(corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}})
		s := old.DeepCopy()
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}}
		got, check := update(s, old, "")
		check(t)
		if len(got.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("main resource wrote status: %+v", got.Status)
		}
		s = old.DeepCopy()
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.1"}, {Hostname: "192.0.2.2"}}
		s.Spec.Selector = map[string]string{"app": "other"}
		got, check = update(s, old, "status")
		check(t, I("status.loadBalancer.ingress[1].hostname"))
		if got.Spec.Selector["app"] != "" || len(got.Status.LoadBalancer.Ingress) != 2 ||
			*got.Status.LoadBalancer.Ingress[0].IPMode != corev1.LoadBalancerIPModeVIP {
			t.Errorf("status write: %+v", got)
		}
	})
}

// ---- allocation through the store ----

type svcFixture struct {
	t   *testing.T
	ctx context.Context
	db  storage.Store
	st  *registry.Store
}

func newSvcFixture(t *testing.T) *svcFixture {
	t.Helper()
	db, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &svcFixture{t: t, ctx: context.Background(), db: db, st: newServiceStore(t, db)}
}

// newServiceStore is one API server's Service store on db.
func newServiceStore(t *testing.T, db storage.Store) *registry.Store {
	t.Helper()
	st, err := registry.NewStore(core.ServiceResource(core.DefaultServiceConfig()), db)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (f *svcFixture) create(s *corev1.Service, opts registry.WriteOptions) (*corev1.Service, error) {
	out, err := f.st.Create(f.ctx, s.Namespace, s, opts)
	if err != nil {
		return nil, err
	}
	return out.(*corev1.Service), nil
}

func (f *svcFixture) mustCreate(s *corev1.Service) *corev1.Service {
	f.t.Helper()
	out, err := f.create(s, registry.WriteOptions{})
	if err != nil {
		f.t.Fatalf("create %s: %v", s.Name, err)
	}
	return out
}

// reservations are the keys under svcalloc.KeyPrefix, without it.
func (f *svcFixture) reservations() []string {
	f.t.Helper()
	res, err := f.db.List(f.ctx, svcalloc.KeyPrefix, storage.ListOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, kv := range res.KVs {
		out = append(out, strings.TrimPrefix(kv.Key, svcalloc.KeyPrefix))
	}
	return out
}

func (f *svcFixture) expectReservations(want ...string) {
	f.t.Helper()
	got := f.reservations()
	slices.Sort(want)
	if !slices.Equal(got, want) {
		f.t.Errorf("reservations:\n  got  %q\n  want %q", got, want)
	}
}

// invalidCause checks that err is 422 Invalid with a cause at path whose
// message is msg.
func invalidCause(t *testing.T, err error, path, msg string) {
	t.Helper()
	if !apierrors.IsInvalid(err) {
		t.Fatalf("error = %v, want Invalid", err)
	}
	for _, c := range err.(apierrors.APIStatus).Status().Details.Causes {
		if c.Field == path && strings.HasSuffix(c.Message, msg) {
			return
		}
	}
	t.Errorf("error %v has no cause at %s ending %q", err, path, msg)
}

func TestServiceAllocation(t *testing.T) {
	f := newSvcFixture(t)
	cidr := netip.MustParsePrefix("10.43.0.0/16")

	web := f.mustCreate(svc("web", webSpec()))
	ip, err := netip.ParseAddr(web.Spec.ClusterIP)
	if err != nil || !cidr.Contains(ip) || ip == netip.MustParseAddr("10.43.0.1") || !slices.Equal(web.Spec.ClusterIPs, []string{ip.String()}) {
		t.Fatalf("allocated %q %v", web.Spec.ClusterIP, web.Spec.ClusterIPs)
	}
	got, err := f.st.Get(f.ctx, "default", "web")
	if err != nil || got.(*corev1.Service).Spec.ClusterIP != ip.String() {
		t.Errorf("stored %v, %v", got, err)
	}

	// Ports that differ only in protocol share a node port.
	dns := f.mustCreate(svc("dns", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.43.0.10", Ports: []corev1.ServicePort{
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP}, {Name: "metrics", Port: 9153, NodePort: 30153},
	}}))
	np := dns.Spec.Ports[0].NodePort
	if np < 30000 || np > 32767 || dns.Spec.Ports[1].NodePort != np || dns.Spec.Ports[2].NodePort != 30153 {
		t.Fatalf("node ports %+v", dns.Spec.Ports)
	}
	f.expectReservations("ipallocations/"+ip.String(), "ipallocations/10.43.0.10",
		"nodeportallocations/"+itoa(np), "nodeportallocations/30153")

	// Conflicts and out-of-range requests are 422s that reserve nothing.
	_, err = f.create(svc("clash", corev1.ServiceSpec{ClusterIP: "10.43.0.10", Ports: []corev1.ServicePort{{Port: 80}}}), registry.WriteOptions{})
	invalidCause(t, err, "spec.clusterIPs", "failed to allocate IP 10.43.0.10: provided IP is already allocated")
	_, err = f.create(svc("far", corev1.ServiceSpec{ClusterIP: "10.99.0.1", Ports: []corev1.ServicePort{{Port: 80}}}), registry.WriteOptions{})
	invalidCause(t, err, "spec.clusterIPs", "failed to allocate IP 10.99.0.1: the provided IP (10.99.0.1) is not in the valid range. The range of valid IPs is 10.43.0.0/16")
	_, err = f.create(svc("clash", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, ClusterIP: "10.43.0.20",
		Ports: []corev1.ServicePort{{Name: "a", Port: 80}, {Name: "b", Port: 81, NodePort: 30153}}}), registry.WriteOptions{})
	invalidCause(t, err, "spec.ports[1].nodePort", "provided port is already allocated")
	_, err = f.create(svc("low", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80, NodePort: 8080}}}), registry.WriteOptions{})
	invalidCause(t, err, "spec.ports[0].nodePort", "provided port is not in the valid range. The range of valid ports is 30000-32767")
	f.expectReservations("ipallocations/"+ip.String(), "ipallocations/10.43.0.10",
		"nodeportallocations/"+itoa(np), "nodeportallocations/30153")

	// A create that fails after reserving gives its reservations back.
	if _, err := f.create(svc("web", corev1.ServiceSpec{ClusterIP: "10.43.0.30", Ports: []corev1.ServicePort{{Port: 80}}}), registry.WriteOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create of an existing name: %v", err)
	}
	// A dry run reserves nothing, and shows no addresses.
	dry, err := f.create(svc("dry", corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 80}}}), registry.WriteOptions{DryRun: true})
	if err != nil || dry.Spec.ClusterIP != "" {
		t.Fatalf("dry run: %v, %v", dry, err)
	}
	f.expectReservations("ipallocations/"+ip.String(), "ipallocations/10.43.0.10",
		"nodeportallocations/"+itoa(np), "nodeportallocations/30153")

	// Giving up node ports releases them; a changed node port swaps.
	if _, _, err := f.st.Update(f.ctx, "default", "dns", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		s := old.(*corev1.Service)
		s.Spec.Type = corev1.ServiceTypeClusterIP
		return s, nil
	}, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.expectReservations("ipallocations/"+ip.String(), "ipallocations/10.43.0.10")
	out, _, err := f.st.Update(f.ctx, "default", "web", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		s := old.(*corev1.Service)
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = 31111
		return s, nil
	}, false, registry.WriteOptions{})
	if err != nil || out.(*corev1.Service).Spec.ClusterIP != ip.String() {
		t.Fatalf("to NodePort: %v, %v", out, err)
	}
	f.expectReservations("ipallocations/"+ip.String(), "ipallocations/10.43.0.10", "nodeportallocations/31111")
	// ExternalName holds no cluster IP.
	if _, _, err := f.st.Update(f.ctx, "default", "dns", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		s := old.(*corev1.Service)
		s.Spec.Type, s.Spec.ExternalName = corev1.ServiceTypeExternalName, "dns.example.com"
		return s, nil
	}, false, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.expectReservations("ipallocations/"+ip.String(), "nodeportallocations/31111")

	// Delete releases everything.
	if _, _, err := f.st.Delete(f.ctx, "default", "web", nil, registry.WriteOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	f.expectReservations("ipallocations/"+ip.String(), "nodeportallocations/31111")
	if _, _, err := f.st.Delete(f.ctx, "default", "web", nil, registry.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	f.expectReservations()
	// … so the address can be asked for again.
	again := svc("again", webSpec())
	again.Spec.ClusterIP = ip.String()
	f.mustCreate(again)
}

func TestServiceLoadBalancerAllocation(t *testing.T) {
	f := newSvcFixture(t)
	lb := f.mustCreate(svc("lb", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ExternalTrafficPolicy: corev1.ServiceExternalTrafficPolicyLocal,
		Ports: []corev1.ServicePort{{Port: 443}}}))
	if lb.Spec.Ports[0].NodePort == 0 || lb.Spec.HealthCheckNodePort == 0 || lb.Spec.HealthCheckNodePort == lb.Spec.Ports[0].NodePort {
		t.Errorf("spec = %+v", lb.Spec)
	}
	noPorts := f.mustCreate(svc("lb2", corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, AllocateLoadBalancerNodePorts: ptr(false),
		Ports: []corev1.ServicePort{{Port: 443}}}))
	if noPorts.Spec.Ports[0].NodePort != 0 {
		t.Errorf("allocateLoadBalancerNodePorts false got node port %d", noPorts.Spec.Ports[0].NodePort)
	}
	if n := len(f.reservations()); n != 4 { // two IPs, a node port, a health-check port
		t.Errorf("%d reservations: %q", n, f.reservations())
	}
}

// TestServiceTwoAPIServers: two stores on one storage, as two API servers
// on one etcd, create Services that ask for the same address at once.
// Exactly one gets it.
func TestServiceTwoAPIServers(t *testing.T) {
	f := newSvcFixture(t)
	stores := []*registry.Store{f.st, newServiceStore(t, f.db)}
	for round := range 10 {
		want := "10.43.1." + itoa(int32(round+1))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, st := range stores {
			wg.Go(func() {
				s := svc("s"+itoa(int32(round))+"-"+itoa(int32(i)), webSpec())
				s.Spec.ClusterIP = want
				s.Spec.Ports[0].NodePort = 0
				_, errs[i] = st.Create(f.ctx, "default", s, registry.WriteOptions{})
			})
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			if err == nil {
				ok++
			} else if !apierrors.IsInvalid(err) {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 {
			t.Fatalf("round %d: %d Services got %s: %v", round, ok, want, errs)
		}
	}
	if n := len(f.reservations()); n != 10 {
		t.Errorf("%d reservations, want 10: %q", n, f.reservations())
	}
}

func TestKubernetesService(t *testing.T) {
	f := newSvcFixture(t)
	cfg := core.DefaultServiceConfig()
	k := f.mustCreate(core.KubernetesService(cfg.ClusterIPs.First(), 6443))
	if k.Spec.ClusterIP != "10.43.0.1" || k.Spec.Ports[0].Port != 443 || k.Spec.Ports[0].TargetPort != intstr.FromInt32(6443) ||
		k.Labels["component"] != "apiserver" || k.Spec.IPFamilyPolicy == nil || *k.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack {
		t.Errorf("kubernetes Service = %+v", k)
	}
	ep := core.KubernetesEndpoints("192.0.2.10", 6443)
	if ep.Name != "kubernetes" || ep.Subsets[0].Addresses[0].IP != "192.0.2.10" || ep.Subsets[0].Ports[0].Port != 6443 {
		t.Errorf("kubernetes Endpoints = %+v", ep)
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
