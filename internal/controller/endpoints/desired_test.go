package endpoints

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

type podOpt func(*corev1.Pod)

// pod is a running pod with IP ip, with a container port "http" 8080;
// ready unless an option says otherwise.
func pod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name)}}
	p.Spec.NodeName = "n1"
	p.Spec.Containers = []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func notReady(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
func deleting(p *corev1.Pod) {
	t := metav1.NewTime(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	p.DeletionTimestamp = &t
}
func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }
func noPorts(p *corev1.Pod)           { p.Spec.Containers = nil }
func httpOn(port int32) podOpt {
	return func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = port }
}
func host(h, sub string) podOpt {
	return func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = h, sub }
}

type svcOpt func(*corev1.Service)

func service(opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}}
	for _, o := range opts {
		o(s)
	}
	return s
}

func port(name string, p int32, target intstr.IntOrString) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: name, Port: p, TargetPort: target})
	}
}
func publish(s *corev1.Service)  { s.Spec.PublishNotReadyAddresses = true }
func headless(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }

// render writes subsets compactly: "ports ready=[..] notReady=[..]" per
// subset, " | " between them.
func render(ss []corev1.EndpointSubset) string {
	addrs := func(a []corev1.EndpointAddress) string {
		var out []string
		for _, x := range a {
			s := x.IP + "(" + x.TargetRef.Name
			if x.Hostname != "" {
				s += ",h=" + x.Hostname
			}
			if x.NodeName != nil {
				s += "," + *x.NodeName
			}
			out = append(out, s+")")
		}
		return strings.Join(out, " ")
	}
	var out []string
	for _, s := range ss {
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d/%s", p.Name, p.Port, p.Protocol))
		}
		out = append(out, fmt.Sprintf("%s ready=[%s] notReady=[%s]", strings.Join(ports, ","), addrs(s.Addresses), addrs(s.NotReadyAddresses)))
	}
	return strings.Join(out, " | ")
}

func TestSubsets(t *testing.T) {
	httpByName := port("http", 80, intstr.FromString("http"))
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want string
	}{
		{"none", service(httpByName), nil, ""},
		{"ready sorted by IP", service(port("", 80, intstr.FromInt32(9376))),
			[]*corev1.Pod{pod("b", "10.0.0.2"), pod("a", "10.0.0.1")},
			":9376/TCP ready=[10.0.0.1(a,n1) 10.0.0.2(b,n1)] notReady=[]"},
		{"targetPort 0 is the port", service(port("", 80, intstr.IntOrString{})),
			[]*corev1.Pod{pod("a", "10.0.0.1")}, ":80/TCP ready=[10.0.0.1(a,n1)] notReady=[]"},
		{"not ready goes to notReadyAddresses", service(httpByName),
			[]*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", notReady)},
			"http:8080/TCP ready=[10.0.0.1(a,n1)] notReady=[10.0.0.2(b,n1)]"},
		{"publishNotReadyAddresses makes every address ready, terminating too", service(httpByName, publish),
			[]*corev1.Pod{pod("b", "10.0.0.2", notReady), pod("c", "10.0.0.3", deleting)},
			"http:8080/TCP ready=[10.0.0.2(b,n1) 10.0.0.3(c,n1)] notReady=[]"},
		{"terminating, finished and IP-less pods left out", service(httpByName),
			[]*corev1.Pod{pod("a", "10.0.0.1", deleting), pod("b", "10.0.0.2", phase(corev1.PodSucceeded)),
				pod("c", "10.0.0.3", phase(corev1.PodFailed)), pod("d", "")}, ""},
		{"named port resolved per pod, pods without it left out", service(httpByName),
			[]*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", httpOn(9090)), pod("c", "10.0.0.3", noPorts)},
			"http:8080/TCP ready=[10.0.0.1(a,n1)] notReady=[] | http:9090/TCP ready=[10.0.0.2(b,n1)] notReady=[]"},
		{"a pod lacking one named port keeps the others", service(httpByName, port("metrics", 81, intstr.FromString("metrics"))),
			[]*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", func(p *corev1.Pod) {
				p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: 9100})
			})},
			"http:8080/TCP ready=[10.0.0.1(a,n1)] notReady=[] | http:8080/TCP,metrics:9100/TCP ready=[10.0.0.2(b,n1)] notReady=[]"},
		{"named port must match protocol", service(func(s *corev1.Service) {
			s.Spec.Ports = []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromString("http")}}
		}), []*corev1.Pod{pod("a", "10.0.0.1")}, ""},
		{"headless without ports lists addresses", service(headless),
			[]*corev1.Pod{pod("a", "10.0.0.1", host("a", "web")), pod("b", "10.0.0.2", host("b", "other"))},
			" ready=[10.0.0.1(a,h=a,n1) 10.0.0.2(b,n1)] notReady=[]"},
		{"no ports, not headless: nothing", service(), []*corev1.Pod{pod("a", "10.0.0.1")}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := render(Subsets(tc.svc, tc.pods)); got != tc.want {
				t.Errorf("Subsets:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func renderGroups(gs []SliceGroup) string {
	var out []string
	for _, g := range gs {
		var ports []string
		for _, p := range g.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d/%s", *p.Name, *p.Port, *p.Protocol))
		}
		var chunks []string
		for _, c := range g.Chunks {
			var eps []string
			for _, e := range c {
				s := e.Addresses[0] + "("
				for _, b := range []struct {
					c string
					v *bool
				}{{"R", e.Conditions.Ready}, {"S", e.Conditions.Serving}, {"T", e.Conditions.Terminating}} {
					if *b.v {
						s += b.c
					}
				}
				if e.Zone != nil {
					s += "," + *e.Zone
				}
				eps = append(eps, s+")")
			}
			chunks = append(chunks, "["+strings.Join(eps, " ")+"]")
		}
		out = append(out, strings.Join(ports, ",")+" "+strings.Join(chunks, ""))
	}
	return strings.Join(out, " | ")
}

func TestSliceGroups(t *testing.T) {
	httpByName := port("http", 80, intstr.FromString("http"))
	zones := func(n string) string { return map[string]string{"n1": "z1"}[n] }
	for _, tc := range []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		max  int
		want string
	}{
		{"none", service(httpByName), nil, 100, ""},
		{"conditions", service(httpByName),
			[]*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", notReady), pod("c", "10.0.0.3", deleting),
				pod("d", "10.0.0.4", deleting, notReady)},
			100, "http:8080/TCP [10.0.0.1(RS,z1) 10.0.0.2(,z1) 10.0.0.3(ST,z1) 10.0.0.4(T,z1)]"},
		{"publishNotReadyAddresses: always ready", service(httpByName, publish),
			[]*corev1.Pod{pod("b", "10.0.0.2", notReady), pod("c", "10.0.0.3", deleting)},
			100, "http:8080/TCP [10.0.0.2(R,z1) 10.0.0.3(RST,z1)]"},
		{"IPv6 and finished pods left out, no zone off n1", service(httpByName),
			[]*corev1.Pod{pod("a", "fd00::1"), pod("b", "10.0.0.2", phase(corev1.PodFailed)),
				pod("c", "10.0.0.3", func(p *corev1.Pod) { p.Spec.NodeName = "n2" })},
			100, "http:8080/TCP [10.0.0.3(RS)]"},
		{"grouped by ports, chunked", service(httpByName),
			[]*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2"), pod("c", "10.0.0.3"), pod("d", "10.0.0.4", httpOn(9090)), pod("e", "10.0.0.5", noPorts)},
			2, "http:8080/TCP [10.0.0.1(RS,z1) 10.0.0.2(RS,z1)][10.0.0.3(RS,z1)] | http:9090/TCP [10.0.0.4(RS,z1)]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderGroups(SliceGroups(tc.svc, tc.pods, zones, tc.max)); got != tc.want {
				t.Errorf("SliceGroups:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func TestSliceGroupKeyMatchesStoredPorts(t *testing.T) {
	// A stored slice's ports must key like the desired group's, or every
	// sync would replace the slice.
	gs := SliceGroups(service(port("http", 80, intstr.FromString("http"))), []*corev1.Pod{pod("a", "10.0.0.1")}, func(string) string { return "" }, 100)
	s := newSlice(service(), nil, gs[0].Ports, gs[0].Chunks[0])
	if got, want := slicePortsKey(s.Ports), gs[0].Key(); got != want || want == "" {
		t.Errorf("key %q, want %q", got, want)
	}
	if s.AddressType != discoveryv1.AddressTypeIPv4 || len(s.OwnerReferences) != 1 || !*s.OwnerReferences[0].Controller {
		t.Errorf("slice %+v", s)
	}
}
