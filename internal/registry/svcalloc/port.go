package svcalloc

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"skiff.dev/skiff/internal/storage"
)

// DefaultNodePortRange is the node-port range when none is configured.
const DefaultNodePortRange = "30000-32767"

// PortRange hands out node ports from an inclusive range. Safe for
// concurrent use.
type PortRange struct {
	Base, Max int32
	keys      keyspace
}

// ParsePortRange parses "low-high" (or a single port) as kube-apiserver's
// --service-node-port-range does.
func ParsePortRange(v string) (*PortRange, error) {
	lo, hi, found := strings.Cut(strings.TrimSpace(v), "-")
	if !found {
		hi = lo
	}
	base, err1 := strconv.ParseUint(strings.TrimSpace(lo), 10, 16)
	max, err2 := strconv.ParseUint(strings.TrimSpace(hi), 10, 16)
	if err1 != nil || err2 != nil || base == 0 || max < base {
		return nil, fmt.Errorf("svcalloc: node port range %q: want low-high with 1 <= low <= high <= 65535", v)
	}
	return &PortRange{Base: int32(base), Max: int32(max), keys: keyspace{prefix: KeyPrefix + "nodeportallocations/"}}, nil
}

// MustParsePortRange is ParsePortRange for constants; it panics on error.
func MustParsePortRange(v string) *PortRange {
	r, err := ParsePortRange(v)
	if err != nil {
		panic(err)
	}
	return r
}

// String is the range as ParsePortRange reads it.
func (r *PortRange) String() string { return fmt.Sprintf("%d-%d", r.Base, r.Max) }

// Contains reports whether port is in the range.
func (r *PortRange) Contains(port int32) bool { return port >= r.Base && port <= r.Max }

// Allocate reserves port for owner. The error wraps ErrNotInRange or
// ErrAllocated, with upstream's wording, or is the store's.
func (r *PortRange) Allocate(ctx context.Context, s storage.Store, port int32, owner Owner) error {
	if !r.Contains(port) {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %s: %w", r, ErrNotInRange)
	}
	if err := r.keys.reserve(ctx, s, strconv.Itoa(int(port)), owner); err != nil {
		if err == ErrAllocated {
			return fmt.Errorf("provided port is already allocated: %w", ErrAllocated)
		}
		return err
	}
	return nil
}

// Next reserves a random free port for owner; the error wraps ErrFull
// when there is none.
func (r *PortRange) Next(ctx context.Context, s storage.Store, owner Owner) (int32, error) {
	name := func(i uint64) string { return strconv.Itoa(int(r.Base) + int(i)) }
	i, err := r.keys.next(ctx, s, uint64(r.Max-r.Base)+1, name, owner)
	if err != nil {
		if err == ErrFull {
			return 0, fmt.Errorf("range is full: %w", ErrFull)
		}
		return 0, err
	}
	return r.Base + int32(i), nil
}

// Release frees port.
func (r *PortRange) Release(ctx context.Context, s storage.Store, port int32) error {
	return r.keys.release(ctx, s, strconv.Itoa(int(port)))
}
