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
	// Progress: no write; the watch reports that it has delivered every
	// event of its range up to KV.ModRevision. Only KV.ModRevision is set
	// (KV.Key is empty, Prev is zero). See Watch.RequestProgress.
	Progress
)

func (t EventType) String() string {
	switch t {
	case Created:
		return "Created"
	case Updated:
		return "Updated"
	case Deleted:
		return "Deleted"
	case Progress:
		return "Progress"
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

// Revision is the revision of the write this event reports; for a Progress
// event, the revision the watch has delivered everything up to.
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
	// Start, instead of Continue, begins the range at this key, which must
	// be under the prefix: keys below it are skipped. It lets a caller that
	// keeps its own position (a key, as Kubernetes continue tokens do)
	// resume without a backend's token. Setting both Start and Continue is
	// ErrInvalid.
	Start string
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

// Watch is a running watch. Its methods are safe for concurrent use, also
// while another goroutine reads Events.
type Watch interface {
	// Events delivers events in revision order. It is closed when the watch
	// ends: Stop, the watch's context is done, the store is closed, or the
	// watcher fell behind. Err then says why. Besides Created, Updated and
	// Deleted it carries Progress events; a consumer must accept one at any
	// point, though backends send them only when asked (RequestProgress).
	Events() <-chan Event
	// Err reports why Events was closed: nil after Stop or a cancelled
	// context, ErrWatcherTooSlow, ErrCompacted, ErrClosed, or a backend
	// error. Only meaningful after Events is closed.
	Err() error
	// Stop ends the watch and releases its resources. Safe to call twice.
	Stop()
	// RequestProgress asks the watch to say how far it has got. After it
	// returns nil, Events delivers (unless the watch ends first, which
	// closes Events) a Progress event whose revision is at
	// least the store's revision at the time of the call (so at least that
	// of every write acknowledged before the call), and it delivers it in
	// order: after every event of the watch up to that revision. Progress
	// revisions never decrease and are never below an event delivered
	// before them. One Progress event may answer several requests.
	//
	// This is how a consumer learns that it has caught up with the store
	// when nothing under its prefix has changed. It returns ErrUnsupported
	// when the backend cannot order progress with events (an etcd server
	// older than 3.4.25 or 3.5.8), an error wrapping ErrClosed when the
	// watch has already ended, or the context's error.
	RequestProgress(ctx context.Context) error
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
