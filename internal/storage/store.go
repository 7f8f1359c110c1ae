package storage

import (
	"context"
	"strconv"
)

// Revision is a point in the store's history. Zero is never the revision of
// a write; the first write of a new store gets a revision greater than zero.
type Revision int64

// AnyRevision, passed as the expected revision of Update or Delete, makes the
// write unconditional; passed as ListOptions.Revision it means "current".
const AnyRevision Revision = 0

// String formats the revision as Kubernetes resourceVersions are formatted.
func (r Revision) String() string { return strconv.FormatInt(int64(r), 10) }

// KeyValue is one key's state at some revision.
type KeyValue struct {
	Key            string
	Value          []byte
	CreateRevision Revision
	ModRevision    Revision
}

// EventType says what a write did to a key.
type EventType uint8

const (
	// Created: the key did not exist before this event.
	Created EventType = iota + 1
	// Updated: the key existed and got a new value.
	Updated
	// Deleted: the key was removed.
	Deleted
)

func (t EventType) String() string {
	switch t {
	case Created:
		return "Created"
	case Updated:
		return "Updated"
	case Deleted:
		return "Deleted"
	}
	return "EventType(" + strconv.Itoa(int(t)) + ")"
}

// Event is one write seen by a watcher.
type Event struct {
	Type EventType
	// KV is the key's state after the event. For Deleted, Value is nil,
	// ModRevision is the revision of the delete and CreateRevision that of
	// the deleted key.
	KV KeyValue
	// Prev is the key's state before the event; its Key is empty for Created.
	Prev KeyValue
}

// Revision is the revision of the write this event reports.
func (e Event) Revision() Revision { return e.KV.ModRevision }

// ListOptions narrows a List.
type ListOptions struct {
	// Revision reads the range as it was at that revision. AnyRevision reads
	// the current state. Older than retained history → ErrCompacted; newer
	// than the store → ErrFutureRevision.
	Revision Revision
	// Limit caps the number of returned keys; 0 means no limit.
	Limit int64
	// Continue resumes a limited List: pass the Continue of the previous
	// result (and that result's Revision, so all pages read one snapshot).
	Continue string
}

// ListResult is one page of a range read.
type ListResult struct {
	// KVs are the keys under the prefix, in ascending key order.
	KVs []KeyValue
	// Revision is the store revision the result reflects.
	Revision Revision
	// Continue is non-empty when more keys remain; pass it back in
	// ListOptions.Continue to read the next page.
	Continue string
	// Remaining is how many keys under the prefix follow this page.
	Remaining int64
}

// Watch is a running watch.
type Watch interface {
	// Events delivers events in revision order. It is closed when the watch
	// ends: Stop, the watch's context is done, the store is closed, or the
	// watcher fell behind. Err then says why.
	Events() <-chan Event
	// Err reports why Events was closed: nil after Stop or a cancelled
	// context, ErrWatcherTooSlow, ErrCompacted, ErrClosed, or a backend
	// error. Only meaningful after Events is closed.
	Err() error
	// Stop ends the watch and releases its resources. Safe to call twice.
	Stop()
}

// Store is the state store. All methods are safe for concurrent use.
type Store interface {
	// Get returns the key's current state or ErrNotFound.
	Get(ctx context.Context, key string) (KeyValue, error)
	// List returns keys with the given prefix, in key order.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Create writes a new key and returns the write's revision, or
	// ErrKeyExists when the key exists.
	Create(ctx context.Context, key string, value []byte) (Revision, error)
	// Update replaces the key's value if its ModRevision is expected (or
	// expected is AnyRevision). It returns the write's revision, ErrNotFound
	// when the key does not exist, or ErrConflict.
	Update(ctx context.Context, key string, value []byte, expected Revision) (Revision, error)
	// Delete removes the key if its ModRevision is expected (or expected is
	// AnyRevision). It returns the delete's revision and the deleted state,
	// ErrNotFound, or ErrConflict.
	Delete(ctx context.Context, key string, expected Revision) (Revision, KeyValue, error)
	// Watch streams events for keys under prefix with revisions greater than
	// since. since older than retained history → ErrCompacted.
	Watch(ctx context.Context, prefix string, since Revision) (Watch, error)
	// CurrentRevision is the revision of the latest acknowledged write.
	CurrentRevision(ctx context.Context) (Revision, error)
	// Compact discards history at or below rev: afterwards reads and watches
	// need a revision >= rev. Compacting at or below an earlier compaction
	// returns ErrCompacted; above the current revision ErrFutureRevision.
	Compact(ctx context.Context, rev Revision) error
	// Close releases the store; running watches end with ErrClosed.
	Close() error
}
