package nodeipam

import (
	"errors"
	"net/netip"
	"testing"
)

func mustSet(t *testing.T, cluster string, bits int) *cidrSet {
	t.Helper()
	s, err := newCIDRSet(netip.MustParsePrefix(cluster), bits)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCIDRSetAllocatesInOrderAndWraps(t *testing.T) {
	s := mustSet(t, "10.42.0.0/22", 24)
	var got []string
	for range 4 {
		p, err := s.allocate()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.String())
	}
	want := []string{"10.42.0.0/24", "10.42.1.0/24", "10.42.2.0/24", "10.42.3.0/24"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("allocations = %v, want %v", got, want)
		}
	}
	if _, err := s.allocate(); !errors.Is(err, ErrCIDRSetFull) {
		t.Fatalf("fifth allocation: err = %v, want ErrCIDRSetFull", err)
	}
	// A released subnet is found again after wrapping around.
	if err := s.release(netip.MustParsePrefix("10.42.1.0/24")); err != nil {
		t.Fatal(err)
	}
	if p, err := s.allocate(); err != nil || p.String() != "10.42.1.0/24" {
		t.Fatalf("after release: %v %v", p, err)
	}
}

func TestCIDRSetSkipsOccupied(t *testing.T) {
	s := mustSet(t, "10.42.0.0/16", 24)
	for _, c := range []string{"10.42.0.0/24", "10.42.1.0/24", "10.42.3.0/24"} {
		if err := s.occupy(netip.MustParsePrefix(c)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 2 {
		p, _ := s.allocate()
		got = append(got, p.String())
	}
	if got[0] != "10.42.2.0/24" || got[1] != "10.42.4.0/24" {
		t.Fatalf("allocations = %v", got)
	}
	// Occupying twice counts once.
	_ = s.occupy(netip.MustParsePrefix("10.42.0.0/24"))
	if s.inUse != 5 {
		t.Fatalf("inUse = %d, want 5", s.inUse)
	}
}

func TestCIDRSetOutsideAndLarger(t *testing.T) {
	s := mustSet(t, "10.42.0.0/16", 24)
	for _, c := range []string{"10.43.0.0/24", "192.168.0.0/24", "fd00::/64"} {
		if err := s.occupy(netip.MustParsePrefix(c)); err == nil {
			t.Errorf("occupy(%s) outside the cluster CIDR: no error", c)
		}
	}
	// A /23 covers two /24s.
	if err := s.occupy(netip.MustParsePrefix("10.42.4.0/23")); err != nil {
		t.Fatal(err)
	}
	if !s.isUsed(4) || !s.isUsed(5) || s.isUsed(6) || s.inUse != 2 {
		t.Fatalf("after /23: inUse %d", s.inUse)
	}
}

func TestCIDRSetIPv6AndMaskSizes(t *testing.T) {
	s := mustSet(t, "fd00:42::/56", 64)
	p, err := s.allocate()
	if err != nil || p.String() != "fd00:42::/64" {
		t.Fatalf("first = %v %v", p, err)
	}
	p, _ = s.allocate()
	if p.String() != "fd00:42:0:1::/64" {
		t.Fatalf("second = %v", p)
	}
	for _, tc := range []struct {
		cluster string
		bits    int
	}{{"10.42.0.0/16", 15}, {"10.42.0.0/16", 33}, {"10.0.0.0/8", 33}, {"fd00::/48", 96}} {
		if _, err := newCIDRSet(netip.MustParsePrefix(tc.cluster), tc.bits); err == nil {
			t.Errorf("newCIDRSet(%s, %d): no error", tc.cluster, tc.bits)
		}
	}
}
