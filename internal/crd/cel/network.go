package cel

import (
	"fmt"
	"math"
	"net/netip"
	"reflect"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
)

// Kubernetes' IP and CIDR libraries: ip(s), isIP(s), ip.isCanonical(s),
// string(ip), and on an IP family(), isUnspecified(), isLoopback(),
// isLinkLocalMulticast(), isLinkLocalUnicast(), isGlobalUnicast(); cidr(s),
// isCIDR(s), string(cidr), and on a CIDR containsIP(ip|s),
// containsCIDR(cidr|s), ip(), prefixLength(), masked(). Zones and
// IPv4-mapped IPv6 addresses are refused, as upstream refuses them. The
// opaque type names are upstream's (net.IP, net.CIDR).

var (
	ipType   = cel.OpaqueType("net.IP")
	cidrType = cel.OpaqueType("net.CIDR")
)

type ipVal struct{ addr netip.Addr }

func (v ipVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(v.addr).AssignableTo(t) {
		return v.addr, nil
	}
	if reflect.TypeOf("").AssignableTo(t) {
		return v.addr.String(), nil
	}
	return nil, fmt.Errorf("type conversion error from 'IP' to '%v'", t)
}

func (v ipVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case ipType:
		return v
	case types.TypeType:
		return ipType
	case types.StringType:
		return types.String(v.addr.String())
	}
	return types.NewErr("type conversion error from '%s' to '%s'", ipType, t)
}

func (v ipVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(ipVal)
	if !ok {
		return types.ValOrErr(other, "no such overload")
	}
	return types.Bool(v.addr == o.addr)
}

func (v ipVal) Type() ref.Type { return ipType }
func (v ipVal) Value() any     { return v.addr }

// Size is the address length in bytes, which upstream's costs use.
func (v ipVal) Size() ref.Val { return types.Int(int(math.Ceil(float64(v.addr.BitLen()) / 8))) }

type cidrVal struct{ prefix netip.Prefix }

func (v cidrVal) ConvertToNative(t reflect.Type) (any, error) {
	if reflect.TypeOf(v.prefix).AssignableTo(t) {
		return v.prefix, nil
	}
	if reflect.TypeOf("").AssignableTo(t) {
		return v.prefix.String(), nil
	}
	return nil, fmt.Errorf("type conversion error from 'CIDR' to '%v'", t)
}

func (v cidrVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case cidrType:
		return v
	case types.TypeType:
		return cidrType
	case types.StringType:
		return types.String(v.prefix.String())
	}
	return types.NewErr("type conversion error from '%s' to '%s'", cidrType, t)
}

func (v cidrVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(cidrVal)
	if !ok {
		return types.ValOrErr(other, "no such overload")
	}
	return types.Bool(v.prefix == o.prefix)
}

func (v cidrVal) Type() ref.Type { return cidrType }
func (v cidrVal) Value() any     { return v.prefix }
func (v cidrVal) Size() ref.Val  { return types.Int(int(math.Ceil(float64(v.prefix.Bits()) / 8))) }

func k8sNetwork() cel.EnvOption {
	ipBool := func(f func(netip.Addr) bool) func(ref.Val) ref.Val {
		return func(arg ref.Val) ref.Val {
			v, ok := arg.(ipVal)
			if !ok {
				return types.MaybeNoSuchOverloadErr(arg)
			}
			return types.Bool(f(v.addr))
		}
	}
	return cel.Lib(&libOpts{opts: []cel.EnvOption{
		cel.Types(ipType, cidrType),
		cel.Function("ip",
			cel.Overload("string_to_ip", []*cel.Type{cel.StringType}, ipType, cel.UnaryBinding(stringToIP)),
			cel.MemberOverload("cidr_ip", []*cel.Type{cidrType}, ipType, cel.UnaryBinding(cidrToIP))),
		cel.Function("family", cel.MemberOverload("ip_family", []*cel.Type{ipType}, cel.IntType, cel.UnaryBinding(ipFamily))),
		cel.Function("ip.isCanonical", cel.Overload("ip_is_canonical", []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(ipIsCanonical))),
		cel.Function("isUnspecified", cel.MemberOverload("ip_is_unspecified", []*cel.Type{ipType}, cel.BoolType, cel.UnaryBinding(ipBool(netip.Addr.IsUnspecified)))),
		cel.Function("isLoopback", cel.MemberOverload("ip_is_loopback", []*cel.Type{ipType}, cel.BoolType, cel.UnaryBinding(ipBool(netip.Addr.IsLoopback)))),
		cel.Function("isLinkLocalMulticast", cel.MemberOverload("ip_is_link_local_multicast", []*cel.Type{ipType}, cel.BoolType, cel.UnaryBinding(ipBool(netip.Addr.IsLinkLocalMulticast)))),
		cel.Function("isLinkLocalUnicast", cel.MemberOverload("ip_is_link_local_unicast", []*cel.Type{ipType}, cel.BoolType, cel.UnaryBinding(ipBool(netip.Addr.IsLinkLocalUnicast)))),
		cel.Function("isGlobalUnicast", cel.MemberOverload("ip_is_global_unicast", []*cel.Type{ipType}, cel.BoolType, cel.UnaryBinding(ipBool(netip.Addr.IsGlobalUnicast)))),
		cel.Function("isIP", cel.Overload("is_ip", []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(isIP))),
		cel.Function("string",
			cel.Overload("ip_to_string", []*cel.Type{ipType}, cel.StringType, cel.UnaryBinding(func(arg ref.Val) ref.Val { return arg.ConvertToType(types.StringType) })),
			cel.Overload("cidr_to_string", []*cel.Type{cidrType}, cel.StringType, cel.UnaryBinding(func(arg ref.Val) ref.Val { return arg.ConvertToType(types.StringType) }))),
		cel.Function("cidr", cel.Overload("string_to_cidr", []*cel.Type{cel.StringType}, cidrType, cel.UnaryBinding(stringToCIDR))),
		cel.Function("containsIP",
			cel.MemberOverload("cidr_contains_ip_string", []*cel.Type{cidrType, cel.StringType}, cel.BoolType, cel.BinaryBinding(func(c, s ref.Val) ref.Val { return cidrContainsIP(c, stringToIP(s)) })),
			cel.MemberOverload("cidr_contains_ip_ip", []*cel.Type{cidrType, ipType}, cel.BoolType, cel.BinaryBinding(cidrContainsIP))),
		cel.Function("containsCIDR",
			cel.MemberOverload("cidr_contains_cidr_string", []*cel.Type{cidrType, cel.StringType}, cel.BoolType, cel.BinaryBinding(func(c, s ref.Val) ref.Val { return cidrContainsCIDR(c, stringToCIDR(s)) })),
			cel.MemberOverload("cidr_contains_cidr", []*cel.Type{cidrType, cidrType}, cel.BoolType, cel.BinaryBinding(cidrContainsCIDR))),
		cel.Function("prefixLength", cel.MemberOverload("cidr_prefix_length", []*cel.Type{cidrType}, cel.IntType, cel.UnaryBinding(func(arg ref.Val) ref.Val {
			c, ok := arg.(cidrVal)
			if !ok {
				return types.MaybeNoSuchOverloadErr(arg)
			}
			return types.Int(c.prefix.Bits())
		}))),
		cel.Function("masked", cel.MemberOverload("cidr_masked", []*cel.Type{cidrType}, cidrType, cel.UnaryBinding(func(arg ref.Val) ref.Val {
			c, ok := arg.(cidrVal)
			if !ok {
				return types.MaybeNoSuchOverloadErr(arg)
			}
			return cidrVal{c.prefix.Masked()}
		}))),
		cel.Function("isCIDR", cel.Overload("is_cidr", []*cel.Type{cel.StringType}, cel.BoolType, cel.UnaryBinding(isCIDR))),
	}})
}

func parseIPAddr(raw string) (netip.Addr, error) {
	addr, err := netip.ParseAddr(raw)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("IP Address %q parse error during conversion from string: %v", raw, err)
	}
	if addr.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("IP address %q with zone value is not allowed", raw)
	}
	if addr.Is4In6() {
		return netip.Addr{}, fmt.Errorf("IPv4-mapped IPv6 address %q is not allowed", raw)
	}
	return addr, nil
}

func parseCIDR(raw string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(raw)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("network address parse error during conversion from string: %v", err)
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("IPv4-mapped IPv6 address %q is not allowed", raw)
	}
	return p, nil
}

func stringToIP(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	addr, err := parseIPAddr(s)
	if err != nil {
		return types.NewErr("%v", err)
	}
	return ipVal{addr}
}

func isIP(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	_, err := parseIPAddr(s)
	return types.Bool(err == nil)
}

func ipIsCanonical(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	addr, err := parseIPAddr(s)
	if err != nil {
		return types.NewErr("%v", err)
	}
	return types.Bool(addr.String() == s)
}

func ipFamily(arg ref.Val) ref.Val {
	v, ok := arg.(ipVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	switch {
	case v.addr.Is4():
		return types.Int(4)
	case v.addr.Is6():
		return types.Int(6)
	}
	return types.NewErr("IP address %q is not an IPv4 or IPv6 address", v.addr.String())
}

func stringToCIDR(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	p, err := parseCIDR(s)
	if err != nil {
		return types.NewErr("network address parse error during conversion from string: %v", err)
	}
	return cidrVal{p}
}

func isCIDR(arg ref.Val) ref.Val {
	s, ok := arg.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	_, err := parseCIDR(s)
	return types.Bool(err == nil)
}

func cidrToIP(arg ref.Val) ref.Val {
	c, ok := arg.(cidrVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(arg)
	}
	return ipVal{c.prefix.Addr()}
}

func cidrContainsIP(c, ip ref.Val) ref.Val {
	cv, ok := c.(cidrVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(c)
	}
	iv, ok := ip.(ipVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(ip)
	}
	return types.Bool(cv.prefix.Contains(iv.addr))
}

func cidrContainsCIDR(c, other ref.Val) ref.Val {
	cv, ok := c.(cidrVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(c)
	}
	ov, ok := other.(cidrVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Bool(cv.prefix.Overlaps(ov.prefix) && cv.prefix.Bits() <= ov.prefix.Bits())
}
