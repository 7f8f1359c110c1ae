package svcalloc

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"

	"skiff.dev/skiff/internal/storage"
)

// DefaultServiceCIDR is the service CIDR when none is configured.
const DefaultServiceCIDR = "10.43.0.0/16"

// maxIPRangeBits bounds the service CIDR to 2^20 addresses (a /12), as
// upstream does for IPv4.
const maxIPRangeBits = 20

// IPRange hands out the cluster IPs of an IPv4 service CIDR. The network
// and broadcast addresses are never handed out; the first address after
// the network one belongs to the `kubernetes` Service, so Next never picks
// it, though it may be requested by name. Safe for concurrent use.
type IPRange struct {
	prefix netip.Prefix
	base   uint32 // the network address
	size   uint64 // addresses in the prefix
	keys   keyspace
}

// ParseIPRange parses a service CIDR such as "10.43.0.0/16".
func ParseIPRange(cidr string) (*IPRange, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("svcalloc: service CIDR %q: %w", cidr, err)
	}
	if !p.Addr().Is4() {
		return nil, fmt.Errorf("svcalloc: service CIDR %q: only IPv4 service CIDRs are supported", cidr)
	}
	if p != p.Masked() {
		return nil, fmt.Errorf("svcalloc: service CIDR %q has host bits set; did you mean %s?", cidr, p.Masked())
	}
	hostBits := 32 - p.Bits()
	if hostBits > maxIPRangeBits {
		return nil, fmt.Errorf("svcalloc: service CIDR %q is too large: at most /%d", cidr, 32-maxIPRangeBits)
	}
	if hostBits < 2 {
		return nil, fmt.Errorf("svcalloc: service CIDR %q is too small: at least /30", cidr)
	}
	a := p.Addr().As4()
	return &IPRange{
		prefix: p,
		base:   binary.BigEndian.Uint32(a[:]),
		size:   1 << hostBits,
		keys:   keyspace{prefix: KeyPrefix + "ipallocations/"},
	}, nil
}

// MustParseIPRange is ParseIPRange for constants; it panics on error.
func MustParseIPRange(cidr string) *IPRange {
	r, err := ParseIPRange(cidr)
	if err != nil {
		panic(err)
	}
	return r
}

// String is the CIDR.
func (r *IPRange) String() string { return r.prefix.String() }

// Prefix is the CIDR.
func (r *IPRange) Prefix() netip.Prefix { return r.prefix }

// First is the first usable address: the `kubernetes` Service's.
func (r *IPRange) First() netip.Addr { return r.addr(1) }

func (r *IPRange) addr(offset uint64) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], r.base+uint32(offset))
	return netip.AddrFrom4(b)
}

// Contains reports whether ip may be handed out: inside the CIDR and
// neither its network nor its broadcast address.
func (r *IPRange) Contains(ip netip.Addr) bool {
	if !ip.Is4() || !r.prefix.Contains(ip) {
		return false
	}
	a := ip.As4()
	off := uint64(binary.BigEndian.Uint32(a[:]) - r.base)
	return off != 0 && off != r.size-1
}

// Allocate reserves ip for owner. The error wraps ErrNotInRange or
// ErrAllocated, with upstream's wording, or is the store's.
func (r *IPRange) Allocate(ctx context.Context, s storage.Store, ip netip.Addr, owner Owner) error {
	if !r.Contains(ip) {
		return fmt.Errorf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s: %w", ip, r.prefix, ErrNotInRange)
	}
	if err := r.keys.reserve(ctx, s, ip.String(), owner); err != nil {
		if err == ErrAllocated {
			return fmt.Errorf("provided IP is already allocated: %w", ErrAllocated)
		}
		return err
	}
	return nil
}

// Next reserves a random free address for owner; the error wraps ErrFull
// when there is none.
func (r *IPRange) Next(ctx context.Context, s storage.Store, owner Owner) (netip.Addr, error) {
	// Offsets 2 … size-2: not the network, the kubernetes Service's
	// address, or the broadcast address.
	name := func(i uint64) string { return r.addr(i + 2).String() }
	i, err := r.keys.next(ctx, s, r.size-3, name, owner)
	if err != nil {
		if err == ErrFull {
			return netip.Addr{}, fmt.Errorf("range is full: %w", ErrFull)
		}
		return netip.Addr{}, err
	}
	return r.addr(i + 2), nil
}

// Release frees ip.
func (r *IPRange) Release(ctx context.Context, s storage.Store, ip netip.Addr) error {
	return r.keys.release(ctx, s, ip.String())
}
