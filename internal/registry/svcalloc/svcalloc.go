package svcalloc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/storage"
)

// Sentinel errors; the range types wrap them with a message that names the
// valid range, as the API reports it.
var (
	// ErrAllocated: the requested member is held by someone else.
	ErrAllocated = errors.New("svcalloc: already allocated")
	// ErrNotInRange: the requested member is outside the range.
	ErrNotInRange = errors.New("svcalloc: not in the valid range")
	// ErrFull: every member of the range is held.
	ErrFull = errors.New("svcalloc: range is full")
)

// KeyPrefix is where reservations live in the state store.
const KeyPrefix = "/registry/skiff/"

// Owner names the object that holds a reservation.
type Owner struct {
	Namespace string    `json:"namespace,omitempty"`
	Name      string    `json:"name"`
	UID       types.UID `json:"uid,omitempty"`
}

// randomProbes is how many random members next tries before it reads the
// whole range: while the range is mostly free a probe almost always hits.
const randomProbes = 16

// keyspace is one kind of reservation: a key per member under prefix.
type keyspace struct {
	prefix string
}

// reserve creates the member's key; ErrAllocated when it exists.
func (k keyspace) reserve(ctx context.Context, s storage.Store, member string, owner Owner) error {
	data, err := json.Marshal(owner)
	if err != nil {
		return err
	}
	_, err = s.Create(ctx, k.prefix+member, data)
	if errors.Is(err, storage.ErrKeyExists) {
		return ErrAllocated
	}
	return err
}

// release deletes the member's key; releasing a free member is not an error.
func (k keyspace) release(ctx context.Context, s storage.Store, member string) error {
	_, _, err := s.Delete(ctx, k.prefix+member, storage.AnyRevision)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

// next reserves a random free member among the n candidates name(0) …
// name(n-1). It probes at random first; then it reads which members are
// held and tries the others from a random start, so that it finds the last
// free member of a nearly full range. A member taken by a concurrent
// reserver between the read and the create is skipped.
func (k keyspace) next(ctx context.Context, s storage.Store, n uint64, name func(uint64) string, owner Owner) (uint64, error) {
	if n == 0 {
		return 0, ErrFull
	}
	for range min(randomProbes, n) {
		i := rand.Uint64N(n)
		err := k.reserve(ctx, s, name(i), owner)
		if err == nil {
			return i, nil
		}
		if !errors.Is(err, ErrAllocated) {
			return 0, err
		}
	}
	held, err := k.held(ctx, s)
	if err != nil {
		return 0, err
	}
	start := rand.Uint64N(n)
	for j := range n {
		i := (start + j) % n
		if held[name(i)] {
			continue
		}
		err := k.reserve(ctx, s, name(i), owner)
		if err == nil {
			return i, nil
		}
		if !errors.Is(err, ErrAllocated) {
			return 0, err
		}
	}
	return 0, ErrFull
}

// held lists the reserved members.
func (k keyspace) held(ctx context.Context, s storage.Store) (map[string]bool, error) {
	out := map[string]bool{}
	opts := storage.ListOptions{}
	for {
		res, err := s.List(ctx, k.prefix, opts)
		if err != nil {
			return nil, fmt.Errorf("svcalloc: list %s: %w", k.prefix, err)
		}
		for _, kv := range res.KVs {
			out[strings.TrimPrefix(kv.Key, k.prefix)] = true
		}
		if res.Continue == "" {
			return out, nil
		}
		opts = storage.ListOptions{Revision: res.Revision, Continue: res.Continue}
	}
}
