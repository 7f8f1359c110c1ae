package node

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestPodCIDRIndex(t *testing.T) {
	for _, tt := range []struct {
		k      int
		cidr   string
		nodeIP string
	}{
		{0, "10.42.0.0/24", "172.16.0.1"},
		{1, "10.42.1.0/24", "172.16.0.2"},
		{255, "10.42.255.0/24", "172.16.1.0"},
		{256, "10.43.0.0/24", "172.16.1.1"},
		{999, "10.45.231.0/24", "172.16.3.232"},
	} {
		if got := podCIDRForIndex(tt.k).String(); got != tt.cidr {
			t.Errorf("podCIDRForIndex(%d) = %s, want %s", tt.k, got, tt.cidr)
		}
		if got := nodeIPForIndex(tt.k).String(); got != tt.nodeIP {
			t.Errorf("nodeIPForIndex(%d) = %s, want %s", tt.k, got, tt.nodeIP)
		}
		if k, ok := cidrIndex(tt.cidr); !ok || k != tt.k {
			t.Errorf("cidrIndex(%s) = %d, %v; want %d", tt.cidr, k, ok, tt.k)
		}
	}
	for _, foreign := range []string{"192.168.0.0/24", "10.41.0.0/24", "10.42.0.0/16", "fd00::/64", "garbage"} {
		if _, ok := cidrIndex(foreign); ok {
			t.Errorf("cidrIndex(%s) claims a CIDR outside the scheme", foreign)
		}
	}
}

func TestPodIPs(t *testing.T) {
	p := newPodIPs(netip.MustParsePrefix("10.42.7.0/24"))
	a, _ := p.get("a")
	b, _ := p.get("b")
	if a.String() != "10.42.7.2" || b.String() != "10.42.7.3" {
		t.Errorf("first addresses = %s, %s; want .2 and .3", a, b)
	}
	if again, _ := p.get("a"); again != a {
		t.Errorf("a pod's address changed: %s then %s", a, again)
	}
	if p.claim("c", a) {
		t.Errorf("claimed an address another pod holds")
	}
	if !p.claim("c", netip.MustParseAddr("10.42.7.9")) {
		t.Errorf("could not claim a free address")
	}
	p.release("a")
	// 253 hosts (.2 to .254): after filling them the CIDR is exhausted.
	got := map[netip.Addr]bool{}
	for i := range 300 {
		ip, ok := p.get(types.UID(fmt.Sprintf("pod-%d", i)))
		if !ok {
			break
		}
		if got[ip] || !isHost(p.cidr, ip) {
			t.Fatalf("handed out %s twice or outside the hosts", ip)
		}
		got[ip] = true
	}
	if len(got) != 253-2 { // b and c hold two
		t.Errorf("handed out %d addresses, want 251", len(got))
	}
}

func TestNodeConditions(t *testing.T) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2 := t1.Add(5 * time.Minute)
	first := nodeConditions(nil, t1, true)
	if len(first) != 5 {
		t.Fatalf("conditions = %+v", first)
	}
	// A problem detector's condition, and Ready flipped by someone.
	old := append(first, corev1.NodeCondition{Type: "KernelDeadlock", Status: corev1.ConditionFalse})
	for i := range old {
		if old[i].Type == corev1.NodeReady {
			old[i].Status = corev1.ConditionUnknown
		}
	}
	next := nodeConditions(old, t2, true)
	for _, c := range next {
		switch {
		case c.Type == "KernelDeadlock":
		case !c.LastHeartbeatTime.Equal(&metav1.Time{Time: t2}):
			t.Errorf("%s heartbeat %v, want %v", c.Type, c.LastHeartbeatTime, t2)
		case c.Type == corev1.NodeReady && !c.LastTransitionTime.Equal(&metav1.Time{Time: t2}):
			t.Errorf("Ready changed status but kept transition time %v", c.LastTransitionTime)
		case c.Type != corev1.NodeReady && !c.LastTransitionTime.Equal(&metav1.Time{Time: t1}):
			t.Errorf("%s moved its transition time to %v", c.Type, c.LastTransitionTime)
		}
	}
	if len(next) != 6 {
		t.Errorf("a foreign condition was dropped: %+v", next)
	}
}

func TestBuildNode(t *testing.T) {
	o, err := Options{Zones: []string{"a", "b"}, Labels: map[string]string{"team": "x"}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := nodeSpec{name: "n-1", zone: zoneFor(o.Zones, 1), podCIDR: podCIDRForIndex(3), ip: nodeIPForIndex(3)}
	n := buildNode(s, &o, time.Now())
	for k, want := range map[string]string{
		corev1.LabelHostname: "n-1", corev1.LabelTopologyZone: "b", corev1.LabelTopologyRegion: "skiff",
		corev1.LabelOSStable: "linux", corev1.LabelInstanceTypeStable: InstanceType, "team": "x",
	} {
		if n.Labels[k] != want {
			t.Errorf("label %s = %q, want %q", k, n.Labels[k], want)
		}
	}
	if n.Spec.PodCIDR != "10.42.3.0/24" || n.Status.Addresses[0].Address != "172.16.0.4" {
		t.Errorf("podCIDR %s addresses %v", n.Spec.PodCIDR, n.Status.Addresses)
	}
	if n.Status.Capacity.Cpu().String() != "8" || n.Status.Allocatable.Memory().String() != "32Gi" || n.Status.Capacity.Pods().Value() != 110 {
		t.Errorf("capacity %v allocatable %v", n.Status.Capacity, n.Status.Allocatable)
	}
	if a, b := nodeInfo("n-1"), nodeInfo("n-1"); a != b || a.SystemUUID == nodeInfo("n-2").SystemUUID {
		t.Errorf("node info must be stable per name and differ between names")
	}
	if _, ok := buildNode(nodeSpec{name: "z", podCIDR: s.podCIDR, ip: s.ip}, &Options{}, time.Now()).Labels[corev1.LabelTopologyZone]; ok {
		t.Errorf("a node without zones has a zone label")
	}
}
