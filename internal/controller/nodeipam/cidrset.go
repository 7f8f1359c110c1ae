package nodeipam

import (
	"errors"
	"fmt"
	"math/big"
	"net/netip"
)

// ErrCIDRSetFull: every subnet of the cluster CIDR is in use.
var ErrCIDRSetFull = errors.New("nodeipam: no remaining CIDRs in the cluster CIDR")

// maxSubnetBits bounds how many subnets a set may count (2^24), so its
// bitmap stays within 2 MiB.
const maxSubnetBits = 24

// cidrSet hands out the subnets of mask size maskBits of a cluster CIDR.
// It is not safe for concurrent use.
type cidrSet struct {
	cluster  netip.Prefix
	maskBits int
	count    int      // how many subnets the cluster CIDR holds
	used     []uint64 // bitmap of subnet indices
	inUse    int
	next     int // where the search for a free subnet starts
}

func newCIDRSet(cluster netip.Prefix, maskBits int) (*cidrSet, error) {
	cluster = cluster.Masked()
	if !cluster.IsValid() {
		return nil, errors.New("nodeipam: invalid cluster CIDR")
	}
	if maskBits < cluster.Bits() || maskBits > cluster.Addr().BitLen() {
		return nil, fmt.Errorf("nodeipam: node CIDR mask size %d must be between the cluster CIDR's %d and %d", maskBits, cluster.Bits(), cluster.Addr().BitLen())
	}
	if maskBits-cluster.Bits() > maxSubnetBits {
		return nil, fmt.Errorf("nodeipam: node CIDR mask size %d carves more than 2^%d subnets out of %s", maskBits, maxSubnetBits, cluster)
	}
	n := 1 << (maskBits - cluster.Bits())
	return &cidrSet{cluster: cluster, maskBits: maskBits, count: n, used: make([]uint64, (n+63)/64)}, nil
}

func (s *cidrSet) isUsed(i int) bool { return s.used[i/64]&(1<<(i%64)) != 0 }

func (s *cidrSet) set(i int, v bool) {
	switch {
	case v && !s.isUsed(i):
		s.used[i/64] |= 1 << (i % 64)
		s.inUse++
	case !v && s.isUsed(i):
		s.used[i/64] &^= 1 << (i % 64)
		s.inUse--
	}
}

// allocate hands out the next free subnet.
func (s *cidrSet) allocate() (netip.Prefix, error) {
	if s.inUse >= s.count {
		return netip.Prefix{}, ErrCIDRSetFull
	}
	for k := range s.count {
		i := (s.next + k) % s.count
		if !s.isUsed(i) {
			s.set(i, true)
			s.next = (i + 1) % s.count
			return s.subnet(i), nil
		}
	}
	return netip.Prefix{}, ErrCIDRSetFull
}

// occupy marks every subnet cidr overlaps as used.
func (s *cidrSet) occupy(cidr netip.Prefix) error {
	first, last, err := s.indices(cidr)
	if err != nil {
		return err
	}
	for i := first; i <= last; i++ {
		s.set(i, true)
	}
	return nil
}

// release frees every subnet cidr overlaps.
func (s *cidrSet) release(cidr netip.Prefix) error {
	first, last, err := s.indices(cidr)
	if err != nil {
		return err
	}
	for i := first; i <= last; i++ {
		s.set(i, false)
	}
	return nil
}

// indices are the first and last subnet indices cidr covers.
func (s *cidrSet) indices(cidr netip.Prefix) (int, int, error) {
	cidr = cidr.Masked()
	if cidr.Addr().BitLen() != s.cluster.Addr().BitLen() || !s.cluster.Overlaps(cidr) {
		return 0, 0, fmt.Errorf("nodeipam: %s is outside the cluster CIDR %s", cidr, s.cluster)
	}
	if cidr.Bits() < s.cluster.Bits() {
		return 0, s.count - 1, nil // covers the whole cluster CIDR
	}
	first := s.index(cidr.Addr())
	if cidr.Bits() >= s.maskBits {
		return first, first, nil
	}
	return first, first + 1<<(s.maskBits-cidr.Bits()) - 1, nil
}

// index is the subnet number addr falls in.
func (s *cidrSet) index(addr netip.Addr) int {
	off := new(big.Int).Sub(addrInt(addr), addrInt(s.cluster.Addr()))
	return int(off.Rsh(off, uint(addr.BitLen()-s.maskBits)).Int64())
}

// subnet is the i-th subnet.
func (s *cidrSet) subnet(i int) netip.Prefix {
	v := new(big.Int).Lsh(big.NewInt(int64(i)), uint(s.cluster.Addr().BitLen()-s.maskBits))
	v.Add(v, addrInt(s.cluster.Addr()))
	b := make([]byte, s.cluster.Addr().BitLen()/8)
	v.FillBytes(b)
	a, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(a, s.maskBits)
}

func addrInt(a netip.Addr) *big.Int { return new(big.Int).SetBytes(a.AsSlice()) }
