package svcalloc_test

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"testing"

	"skiff.dev/skiff/internal/registry/svcalloc"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
)

func openStore(t *testing.T) storage.Store {
	t.Helper()
	db, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func owner(name string) svcalloc.Owner { return svcalloc.Owner{Namespace: "default", Name: name} }

func TestParseIPRange(t *testing.T) {
	for _, tt := range []struct {
		cidr  string
		first string
		ok    bool
	}{
		{"10.43.0.0/16", "10.43.0.1", true},
		{"192.168.7.0/30", "192.168.7.1", true},
		{"10.0.0.0/12", "10.0.0.1", true},
		{"10.0.0.0/11", "", false}, // too large
		{"10.0.0.0/31", "", false}, // too small
		{"10.43.0.1/16", "", false},
		{"fd00::/108", "", false},
		{"nonsense", "", false},
	} {
		r, err := svcalloc.ParseIPRange(tt.cidr)
		if (err == nil) != tt.ok {
			t.Errorf("ParseIPRange(%q) error = %v, want ok %v", tt.cidr, err, tt.ok)
			continue
		}
		if tt.ok && r.First().String() != tt.first {
			t.Errorf("ParseIPRange(%q).First() = %s, want %s", tt.cidr, r.First(), tt.first)
		}
	}
}

func TestParsePortRange(t *testing.T) {
	for _, tt := range []struct {
		in       string
		base, mx int32
		ok       bool
	}{
		{"30000-32767", 30000, 32767, true},
		{" 8080 ", 8080, 8080, true},
		{"32767-30000", 0, 0, false},
		{"0-10", 0, 0, false},
		{"30000-70000", 0, 0, false},
		{"a-b", 0, 0, false},
	} {
		r, err := svcalloc.ParsePortRange(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParsePortRange(%q) error = %v, want ok %v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (r.Base != tt.base || r.Max != tt.mx) {
			t.Errorf("ParsePortRange(%q) = %d-%d", tt.in, r.Base, r.Max)
		}
	}
}

func TestIPAllocate(t *testing.T) {
	ctx, db := context.Background(), openStore(t)
	r := svcalloc.MustParseIPRange("10.43.0.0/16")
	ip := netip.MustParseAddr("10.43.7.9")
	if err := r.Allocate(ctx, db, ip, owner("a")); err != nil {
		t.Fatal(err)
	}
	err := r.Allocate(ctx, db, ip, owner("b"))
	if !errors.Is(err, svcalloc.ErrAllocated) || err.Error() != "provided IP is already allocated: svcalloc: already allocated" {
		t.Errorf("second Allocate = %v, want ErrAllocated", err)
	}
	for _, s := range []string{"10.43.0.0", "10.43.255.255", "10.44.0.1", "fd00::1"} {
		if err := r.Allocate(ctx, db, netip.MustParseAddr(s), owner("c")); !errors.Is(err, svcalloc.ErrNotInRange) {
			t.Errorf("Allocate(%s) = %v, want ErrNotInRange", s, err)
		}
	}
	// The reservation is a key of its own, naming its owner.
	kv, err := db.Get(ctx, svcalloc.KeyPrefix+"ipallocations/10.43.7.9")
	if err != nil || string(kv.Value) != `{"namespace":"default","name":"a"}` {
		t.Errorf("reservation = %q, %v", kv.Value, err)
	}
	if err := r.Release(ctx, db, ip); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(ctx, db, ip); err != nil {
		t.Errorf("releasing a free IP: %v", err)
	}
	if err := r.Allocate(ctx, db, ip, owner("b")); err != nil {
		t.Errorf("Allocate after Release = %v", err)
	}
}

// TestIPNextFillsRange hands out every address of a small range: never
// the network, the kubernetes Service's first address or the broadcast
// address, never one twice, and then reports the range full.
func TestIPNextFillsRange(t *testing.T) {
	ctx, db := context.Background(), openStore(t)
	r := svcalloc.MustParseIPRange("10.9.0.0/28") // 16 addresses, 13 for Next
	seen := map[netip.Addr]bool{}
	for i := range 13 {
		ip, err := r.Next(ctx, db, owner(strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("Next #%d: %v", i, err)
		}
		if seen[ip] || !r.Contains(ip) || ip == r.First() {
			t.Fatalf("Next #%d = %s (seen %v)", i, ip, seen[ip])
		}
		seen[ip] = true
	}
	if _, err := r.Next(ctx, db, owner("full")); !errors.Is(err, svcalloc.ErrFull) {
		t.Errorf("Next on a full range = %v, want ErrFull", err)
	}
	// The first address may still be asked for by name.
	if err := r.Allocate(ctx, db, r.First(), owner("kubernetes")); err != nil {
		t.Errorf("Allocate(first) = %v", err)
	}
}

// TestTwoAllocatorsRace: two API servers, each with its own allocator, on
// one store. For one requested address exactly one wins; Next never hands
// out one address twice.
func TestTwoAllocatorsRace(t *testing.T) {
	ctx, db := context.Background(), openStore(t)
	a := svcalloc.MustParseIPRange("10.43.0.0/16")
	b := svcalloc.MustParseIPRange("10.43.0.0/16")
	ip := netip.MustParseAddr("10.43.0.10")
	for round := range 20 {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, r := range []*svcalloc.IPRange{a, b} {
			wg.Go(func() { errs[i] = r.Allocate(ctx, db, ip, owner(strconv.Itoa(i))) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, svcalloc.ErrAllocated):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d allocators got %s, want 1 (%v)", round, won, ip, errs)
		}
		if err := a.Release(ctx, db, ip); err != nil {
			t.Fatal(err)
		}
	}

	// A tiny range filled from both sides at once.
	small := []*svcalloc.IPRange{svcalloc.MustParseIPRange("10.8.0.0/27"), svcalloc.MustParseIPRange("10.8.0.0/27")}
	const n = 29 // 32 addresses less network, first and broadcast
	var (
		mu  sync.Mutex
		got = map[netip.Addr]int{}
		wg  sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				ip, err := small[w%2].Next(ctx, db, owner(strconv.Itoa(w*100+i)))
				if errors.Is(err, svcalloc.ErrFull) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[ip]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(got) != n {
		t.Errorf("handed out %d addresses, want %d", len(got), n)
	}
	for ip, c := range got {
		if c != 1 {
			t.Errorf("%s handed out %d times", ip, c)
		}
	}
}

func TestPorts(t *testing.T) {
	ctx, db := context.Background(), openStore(t)
	r := svcalloc.MustParsePortRange("30000-30004")
	if err := r.Allocate(ctx, db, 30002, owner("a")); err != nil {
		t.Fatal(err)
	}
	if err := r.Allocate(ctx, db, 30002, owner("b")); !errors.Is(err, svcalloc.ErrAllocated) ||
		err.Error() != "provided port is already allocated: svcalloc: already allocated" {
		t.Errorf("second Allocate = %v", err)
	}
	if err := r.Allocate(ctx, db, 29999, owner("b")); !errors.Is(err, svcalloc.ErrNotInRange) ||
		err.Error() != "provided port is not in the valid range. The range of valid ports is 30000-30004: svcalloc: not in the valid range" {
		t.Errorf("Allocate out of range = %v", err)
	}
	got := map[int32]bool{30002: true}
	for range 4 {
		p, err := r.Next(ctx, db, owner("n"))
		if err != nil || got[p] || !r.Contains(p) {
			t.Fatalf("Next = %d, %v", p, err)
		}
		got[p] = true
	}
	if _, err := r.Next(ctx, db, owner("n")); !errors.Is(err, svcalloc.ErrFull) {
		t.Errorf("Next on a full range = %v", err)
	}
	if err := r.Release(ctx, db, 30003); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Next(ctx, db, owner("n")); err != nil || p != 30003 {
		t.Errorf("Next after Release = %d, %v; want 30003", p, err)
	}
}
