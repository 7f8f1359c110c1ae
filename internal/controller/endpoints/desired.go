package endpoints

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	// ServiceNameLabel and ManagedByLabel mark the slices this controller
	// owns, as upstream's do.
	ServiceNameLabel = discoveryv1.LabelServiceName
	ManagedByLabel   = discoveryv1.LabelManagedBy
	// ManagedByValue is the managed-by value of upstream's controller, so
	// tools that look for it find skiff's slices.
	ManagedByValue = "endpointslice-controller.k8s.io"
	// MaxEndpointsPerSlice is kube-controller-manager's default
	// --max-endpoints-per-slice.
	MaxEndpointsPerSlice = 100
)

// podReady is the pod's Ready condition.
func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// eligible says whether a pod can back a Service at all: it has an IP and
// has not finished. Terminating pods are eligible; callers decide.
func eligible(p *corev1.Pod) bool {
	if p.Status.PodIP == "" {
		return false
	}
	return p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// findPort resolves a Service port's targetPort against pod's containers:
// a number as is (0 meaning the Service port), a name by the container
// port of that name and protocol; ok is false when the pod has none.
func findPort(p *corev1.Pod, sp *corev1.ServicePort) (int32, bool) {
	tp := sp.TargetPort
	switch {
	case tp.Type == intstr.String && tp.StrVal != "":
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				proto := cp.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				if cp.Name == tp.StrVal && proto == protocol(sp) {
					return cp.ContainerPort, true
				}
			}
		}
		return 0, false
	case tp.Type == intstr.Int && tp.IntVal != 0:
		return tp.IntVal, true
	default:
		return sp.Port, true
	}
}

func protocol(sp *corev1.ServicePort) corev1.Protocol {
	if sp.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return sp.Protocol
}

// podPorts are the Endpoints ports a pod serves for svc, in the Service's
// port order.
func podPorts(svc *corev1.Service, p *corev1.Pod) []corev1.EndpointPort {
	var out []corev1.EndpointPort
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		if port, ok := findPort(p, sp); ok {
			out = append(out, corev1.EndpointPort{Name: sp.Name, Port: port, Protocol: protocol(sp), AppProtocol: sp.AppProtocol})
		}
	}
	return out
}

func portsKey[P any](ports []P, f func(P) string) string {
	parts := make([]string, len(ports))
	for i, p := range ports {
		parts[i] = f(p)
	}
	return strings.Join(parts, ",")
}

func epPortKey(p corev1.EndpointPort) string {
	ap := ""
	if p.AppProtocol != nil {
		ap = *p.AppProtocol
	}
	return p.Name + "/" + strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol) + "/" + ap
}

func hostname(svc *corev1.Service, p *corev1.Pod) string {
	if p.Spec.Hostname != "" && p.Spec.Subdomain == svc.Name && p.Namespace == svc.Namespace {
		return p.Spec.Hostname
	}
	return ""
}

func targetRef(p *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID}
}

// Subsets are the Endpoints subsets of svc backed by pods (already
// selected by svc's selector): pods grouped by the ports they serve,
// addresses sorted by IP, subsets by their ports. Terminating pods are
// left out unless the Service publishes not-ready addresses, which also
// puts every address in addresses.
func Subsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	publish := svc.Spec.PublishNotReadyAddresses
	byKey := map[string]*corev1.EndpointSubset{}
	for _, p := range pods {
		if !eligible(p) || (p.DeletionTimestamp != nil && !publish) {
			continue
		}
		ports := podPorts(svc, p)
		if len(ports) == 0 && !(len(svc.Spec.Ports) == 0 && svc.Spec.ClusterIP == corev1.ClusterIPNone) {
			continue
		}
		addr := corev1.EndpointAddress{IP: p.Status.PodIP, Hostname: hostname(svc, p), TargetRef: targetRef(p)}
		if p.Spec.NodeName != "" {
			n := p.Spec.NodeName
			addr.NodeName = &n
		}
		k := portsKey(ports, epPortKey)
		ss := byKey[k]
		if ss == nil {
			ss = &corev1.EndpointSubset{Ports: ports}
			byKey[k] = ss
		}
		if publish || podReady(p) {
			ss.Addresses = append(ss.Addresses, addr)
		} else {
			ss.NotReadyAddresses = append(ss.NotReadyAddresses, addr)
		}
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]corev1.EndpointSubset, 0, len(keys))
	for _, k := range keys {
		ss := byKey[k]
		sortAddrs(ss.Addresses)
		sortAddrs(ss.NotReadyAddresses)
		out = append(out, *ss)
	}
	return out
}

func sortAddrs(a []corev1.EndpointAddress) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].IP != a[j].IP {
			return a[i].IP < a[j].IP
		}
		return a[i].TargetRef.Name < a[j].TargetRef.Name
	})
}

// SliceGroup is the endpoints of one port set, chunked into slices.
type SliceGroup struct {
	Ports  []discoveryv1.EndpointPort
	Chunks [][]discoveryv1.Endpoint
}

// Key identifies a group's port set, to match existing slices with it.
func (g SliceGroup) Key() string { return slicePortsKey(g.Ports) }

func slicePortsKey(ports []discoveryv1.EndpointPort) string {
	return portsKey(ports, func(p discoveryv1.EndpointPort) string {
		var name, ap, proto string
		var port int32
		if p.Name != nil {
			name = *p.Name
		}
		if p.AppProtocol != nil {
			ap = *p.AppProtocol
		}
		if p.Protocol != nil {
			proto = string(*p.Protocol)
		}
		if p.Port != nil {
			port = *p.Port
		}
		return name + "/" + strconv.Itoa(int(port)) + "/" + proto + "/" + ap
	})
}

// SliceGroups are the IPv4 EndpointSlice contents of svc backed by pods
// (already selected): endpoints grouped by port set, sorted by address,
// in chunks of at most max. Terminating pods are included with their
// conditions; ready is serving and not terminating, or always when the
// Service publishes not-ready addresses. zone maps a node name to its
// zone ("" when unknown).
func SliceGroups(svc *corev1.Service, pods []*corev1.Pod, zone func(node string) string, max int) []SliceGroup {
	type group struct {
		ports []discoveryv1.EndpointPort
		eps   []discoveryv1.Endpoint
	}
	byKey := map[string]*group{}
	for _, p := range pods {
		if !eligible(p) {
			continue
		}
		ip, err := netip.ParseAddr(p.Status.PodIP)
		if err != nil || !ip.Is4() {
			continue
		}
		var ports []discoveryv1.EndpointPort
		for _, ep := range podPorts(svc, p) {
			ports = append(ports, discoveryv1.EndpointPort{Name: ptr(ep.Name), Port: ptr(ep.Port), Protocol: ptr(ep.Protocol), AppProtocol: ep.AppProtocol})
		}
		if len(ports) == 0 && len(svc.Spec.Ports) != 0 {
			continue
		}
		serving := podReady(p)
		terminating := p.DeletionTimestamp != nil
		ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
		ep := discoveryv1.Endpoint{
			Addresses:  []string{p.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr(ready), Serving: ptr(serving), Terminating: ptr(terminating)},
			TargetRef:  targetRef(p),
		}
		if h := hostname(svc, p); h != "" {
			ep.Hostname = ptr(h)
		}
		if p.Spec.NodeName != "" {
			ep.NodeName = ptr(p.Spec.NodeName)
			if z := zone(p.Spec.NodeName); z != "" {
				ep.Zone = ptr(z)
			}
		}
		k := slicePortsKey(ports)
		g := byKey[k]
		if g == nil {
			g = &group{ports: ports}
			byKey[k] = g
		}
		g.eps = append(g.eps, ep)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]SliceGroup, 0, len(keys))
	for _, k := range keys {
		g := byKey[k]
		sort.Slice(g.eps, func(i, j int) bool {
			if g.eps[i].Addresses[0] != g.eps[j].Addresses[0] {
				return g.eps[i].Addresses[0] < g.eps[j].Addresses[0]
			}
			return g.eps[i].TargetRef.Name < g.eps[j].TargetRef.Name
		})
		sg := SliceGroup{Ports: g.ports}
		for len(g.eps) > 0 {
			n := min(max, len(g.eps))
			sg.Chunks = append(sg.Chunks, g.eps[:n:n])
			g.eps = g.eps[n:]
		}
		out = append(out, sg)
	}
	return out
}

func ptr[T any](v T) *T { return &v }
