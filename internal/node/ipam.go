package node

import (
	"net/netip"

	"k8s.io/apimachinery/pkg/types"
)

// podIPs hands out the addresses of one node's pod CIDR, one per pod,
// from .2 upwards (.1 is the node's bridge by convention). It is not safe
// for concurrent use; the agent guards it with its lock.
type podIPs struct {
	cidr  netip.Prefix
	byUID map[types.UID]netip.Addr
	used  map[netip.Addr]types.UID
	next  netip.Addr // where the search for a free address starts
}

func newPodIPs(cidr netip.Prefix) *podIPs {
	return &podIPs{cidr: cidr.Masked()}
}

func (p *podIPs) first() netip.Addr { return p.cidr.Addr().Next().Next() }

// claim records that uid has ip, e.g. a pod adopted after a restart. It
// reports false when another pod already holds it.
func (p *podIPs) claim(uid types.UID, ip netip.Addr) bool {
	if p.used == nil {
		p.byUID, p.used = map[types.UID]netip.Addr{}, map[netip.Addr]types.UID{}
	}
	if holder, ok := p.used[ip]; ok {
		return holder == uid
	}
	if old, ok := p.byUID[uid]; ok {
		delete(p.used, old)
	}
	p.byUID[uid], p.used[ip] = ip, uid
	return true
}

// get returns uid's address, allocating one if it has none; ok is false
// when the CIDR is exhausted.
func (p *podIPs) get(uid types.UID) (netip.Addr, bool) {
	if ip, ok := p.byUID[uid]; ok {
		return ip, true
	}
	if !p.next.IsValid() || !p.cidr.Contains(p.next) {
		p.next = p.first()
	}
	start := p.next
	for ip := start; ; {
		if _, taken := p.used[ip]; !taken && isHost(p.cidr, ip) {
			p.claim(uid, ip)
			p.next = ip.Next()
			return ip, true
		}
		ip = ip.Next()
		if !p.cidr.Contains(ip) {
			ip = p.first()
		}
		if ip == start {
			return netip.Addr{}, false
		}
	}
}

// release frees uid's address.
func (p *podIPs) release(uid types.UID) {
	if ip, ok := p.byUID[uid]; ok {
		delete(p.byUID, uid)
		delete(p.used, ip)
	}
}

// isHost: not the network, the .1 gateway, or the broadcast address.
func isHost(cidr netip.Prefix, ip netip.Addr) bool {
	if ip.Compare(cidr.Addr().Next().Next()) < 0 {
		return false
	}
	next := ip.Next()
	return next.IsValid() && cidr.Contains(next)
}
