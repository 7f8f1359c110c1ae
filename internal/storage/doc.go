// Package storage defines skiff's state store: a multi-version key-value store
// with one global revision, compare-and-swap writes, range reads at a
// revision, and watches that replay history from a revision.
//
// Every other part of skiff stands on this contract; two backends implement
// it (storage/embedded on bbolt, storage/etcd on a real etcd cluster) and both
// pass the one conformance suite in storage/storagetest.
//
// # Revisions
//
// The store has a single revision counter. Every successful write (create,
// update, delete) advances it by exactly one and stamps the written key with
// it, so revisions of writes are strictly increasing and gapless. A key's
// ModRevision is the revision of the write that last changed it and its
// CreateRevision the revision of the write that created it. A List reports
// the revision its result reflects.
//
// # Durability
//
// A write returns only after it is durable: a crash (kill -9, power loss)
// right after the call returns loses nothing that was acknowledged.
//
// # Concurrency
//
// Update and Delete take the ModRevision the caller last read; the write
// happens only when the key still has that revision, otherwise it fails with
// ErrConflict (optimistic concurrency). AnyRevision skips the check.
//
// # Watch
//
// Watch(prefix, since) delivers every event with a revision greater than
// since for keys under prefix, in revision order, exactly once, without gaps.
// When since is older than the retained history the answer is ErrCompacted
// and the caller must list again. A watcher that does not keep up is closed
// with ErrWatcherTooSlow rather than slowing writers down.
//
// # Progress
//
// A watch on a prefix cannot tell from its events alone that it has caught
// up with the store: when nothing under the prefix changes, no event comes.
// Watch.RequestProgress fills that gap. The watch answers with a Progress
// event (no key, only a revision R) delivered in order with its other
// events: every event of the watch up to R has been delivered before it,
// and R is at least the store's revision when RequestProgress was called.
// A cache fed by a watch uses it for consistent reads: read
// CurrentRevision, request progress, and serve once the watch has reached
// that revision. Backends that cannot keep that order (etcd servers before
// the fix for etcd-io/etcd#15220) return ErrUnsupported; callers then read
// the store itself.
//
// # Edges, as the conformance suite checks them
//
// Compact(c) keeps the state at c: reads at c work, reads below c fail with
// ErrCompacted, and a watch from since >= c replays exactly. A List with
// ListOptions.Start begins at that key; Start and Continue together, or a
// Start outside the prefix, is ErrInvalid. Update and
// Delete of a missing key are ErrNotFound whatever the expected revision.
// A List's Continue is set exactly when Remaining > 0. An empty key, a
// negative Limit or a negative Revision is ErrInvalid. A call with a done
// context fails with the context's error and has no effect. After Close
// every call fails with ErrClosed; Close may be called more than once.
//
// # Ownership
//
// Byte slices returned by a Store (values in KeyValue and Event) are shared
// and must not be modified by the caller. Slices passed to a Store are not
// retained by reference after the call returns.
package storage
