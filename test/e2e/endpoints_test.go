package e2e

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// The Endpoints and EndpointSlice controllers on `skiff up`'s simulated
// node: a Deployment behind a Service with a named targetPort, scaled
// down; a pod held unready by a readiness gate; a pod held terminating by
// a finalizer (and no node).
const endpointsManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ep
spec:
  replicas: 3
  selector:
    matchLabels: {app: ep}
  template:
    metadata:
      labels: {app: ep}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: registry.example/web:1
        ports:
        - {name: web, containerPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: ep
spec:
  selector: {app: ep}
  ports:
  - {name: http, port: 80, targetPort: web}
---
apiVersion: v1
kind: Service
metadata:
  name: manual
spec:
  ports:
  - {port: 80}
---
apiVersion: v1
kind: Service
metadata:
  name: ext
spec:
  type: ExternalName
  externalName: example.com
  selector: {app: ep}
`

// endpointsOf renders an Endpoints compactly: ready IPs, not-ready IPs
// (sorted) and the ports.
func endpointsOf(t *testing.T, s *Skiff, name string) (ready, notReady []string, ports string) {
	t.Helper()
	var ep corev1.Endpoints
	out, _, err := s.Kubectl("get", "-o", "json", "endpoints", name)
	if err != nil {
		return nil, nil, "absent"
	}
	if err := json.Unmarshal([]byte(out), &ep); err != nil {
		t.Fatal(err)
	}
	var ps []string
	for _, ss := range ep.Subsets {
		for _, a := range ss.Addresses {
			ready = append(ready, a.IP)
		}
		for _, a := range ss.NotReadyAddresses {
			notReady = append(notReady, a.IP)
		}
		for _, p := range ss.Ports {
			ps = append(ps, fmt.Sprintf("%s:%d", p.Name, p.Port))
		}
	}
	slices.Sort(ready)
	slices.Sort(notReady)
	slices.Sort(ps)
	return ready, notReady, strings.Join(slices.Compact(ps), ",")
}

func podIPs(t *testing.T, s *Skiff, sel string, ready bool) []string {
	t.Helper()
	var l corev1.PodList
	getJSON(t, s, &l, "pods", "-l", sel)
	var ips []string
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil && p.Status.PodIP != "" && (readyCount([]corev1.Pod{p}) == 1) == ready {
			ips = append(ips, p.Status.PodIP)
		}
	}
	slices.Sort(ips)
	return ips
}

// sliceEndpoints are the endpoints of the Service's managed slices, by
// IP, rendered as "R S T" condition letters.
func sliceEndpoints(t *testing.T, s *Skiff, svc string) (map[string]string, []discoveryv1.EndpointSlice) {
	t.Helper()
	var l discoveryv1.EndpointSliceList
	getJSON(t, s, &l, "endpointslices", "-l", "kubernetes.io/service-name="+svc)
	out := map[string]string{}
	for _, sl := range l.Items {
		for _, e := range sl.Endpoints {
			c := ""
			for _, b := range []struct {
				l string
				v *bool
			}{{"R", e.Conditions.Ready}, {"S", e.Conditions.Serving}, {"T", e.Conditions.Terminating}} {
				if b.v != nil && *b.v {
					c += b.l
				}
			}
			out[e.Addresses[0]] = c
		}
	}
	return out, l.Items
}

func TestEndpointsAndSlices(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, endpointsManifest)

	eventually(t, "Endpoints list the three ready pods on the named targetPort", func() (bool, string) {
		want := podIPs(t, s, "app=ep", true)
		ready, notReady, ports := endpointsOf(t, s, "ep")
		return len(want) == 3 && slices.Equal(ready, want) && len(notReady) == 0 && ports == "http:8080",
			fmt.Sprintf("ready %v notReady %v ports %q; ready pods %v", ready, notReady, ports, want)
	})
	var sl []discoveryv1.EndpointSlice
	eventually(t, "the slice lists them ready and serving", func() (bool, string) {
		var eps map[string]string
		eps, sl = sliceEndpoints(t, s, "ep")
		want := podIPs(t, s, "app=ep", true)
		for _, ip := range want {
			if eps[ip] != "RS" {
				return false, fmt.Sprintf("slice endpoints %v, pods %v", eps, want)
			}
		}
		return len(eps) == 3, fmt.Sprintf("slice endpoints %v, pods %v", eps, want)
	})
	if got := sl[0]; len(sl) != 1 || got.AddressType != discoveryv1.AddressTypeIPv4 ||
		got.Labels["endpointslice.kubernetes.io/managed-by"] != "endpointslice-controller.k8s.io" ||
		len(got.OwnerReferences) != 1 || got.OwnerReferences[0].Kind != "Service" || got.OwnerReferences[0].Name != "ep" ||
		len(got.Ports) != 1 || *got.Ports[0].Port != 8080 || *got.Ports[0].Name != "http" ||
		got.Endpoints[0].NodeName == nil || got.Endpoints[0].TargetRef == nil || got.Endpoints[0].TargetRef.Kind != "Pod" {
		t.Errorf("slices %+v", sl)
	}
	if _, _, err := s.Kubectl("get", "endpoints", "manual"); err == nil {
		t.Error("a Service without a selector got Endpoints")
	}
	// By now the controller has synced ext along with ep.
	if eps, _ := sliceEndpoints(t, s, "ext"); len(eps) != 0 {
		t.Errorf("an ExternalName Service got slice endpoints %v", eps)
	}

	s.MustKubectl("scale", "deployment/ep", "--replicas=1")
	eventually(t, "Endpoints shrink to the one pod", func() (bool, string) {
		want := podIPs(t, s, "app=ep", true)
		ready, _, _ := endpointsOf(t, s, "ep")
		return len(want) == 1 && slices.Equal(ready, want), fmt.Sprintf("ready %v, pods %v", ready, want)
	})

	// A pod whose readiness gate is never set stays unready; one with a
	// finalizer stays terminating once deleted.
	applyStdin(t, s, `apiVersion: v1
kind: Pod
metadata:
  name: gated
  labels: {app: ep}
spec:
  readinessGates:
  - conditionType: example.com/never
  containers:
  - name: app
    image: registry.example/web:1
    ports:
    - {name: web, containerPort: 9090}
---
apiVersion: v1
kind: Pod
metadata:
  name: held
  labels: {app: ep}
  finalizers: [example.com/hold]
spec:
  schedulerName: nobody
  containers:
  - name: app
    image: registry.example/web:1
    ports:
    - {name: web, containerPort: 8080}
`)
	// The simulated node stops a deleted pod at once, so a pod staying
	// terminating and serving is one no node runs: its status written here.
	s.MustKubectl("patch", "pod", "held", "--subresource=status", "--type=merge",
		`-p={"status":{"phase":"Running","podIP":"10.99.0.1","podIPs":[{"ip":"10.99.0.1"}],"conditions":[{"type":"Ready","status":"True"}]}}`)
	podIP := func(name string) string {
		var p corev1.Pod
		getJSON(t, s, &p, "pod", name)
		return p.Status.PodIP
	}
	eventually(t, "the gated pod is in notReadyAddresses on its own port, held ready", func() (bool, string) {
		ready, notReady, ports := endpointsOf(t, s, "ep")
		g, h := podIP("gated"), podIP("held")
		return g != "" && h != "" && slices.Equal(notReady, []string{g}) && slices.Contains(ready, h) && len(ready) == 2 && ports == "http:8080,http:9090",
			fmt.Sprintf("ready %v notReady %v ports %q; gated %s held %s", ready, notReady, ports, g, h)
	})
	s.MustKubectl("delete", "pod", "held", "--wait=false")
	held := podIP("held")
	eventually(t, "the terminating pod leaves Endpoints, stays in the slice terminating", func() (bool, string) {
		ready, _, _ := endpointsOf(t, s, "ep")
		eps, _ := sliceEndpoints(t, s, "ep")
		return held != "" && !slices.Contains(ready, held) && eps[held] == "ST" && eps[podIP("gated")] == "",
			fmt.Sprintf("ready %v, slice %v, held %s", ready, eps, held)
	})
	s.MustKubectl("patch", "pod", "held", "--type=json", `-p=[{"op":"remove","path":"/metadata/finalizers"}]`)

	s.MustKubectl("delete", "service", "ep")
	eventually(t, "the Service's Endpoints go with it", func() (bool, string) {
		_, _, ports := endpointsOf(t, s, "ep")
		return ports == "absent", ports
	})
}
