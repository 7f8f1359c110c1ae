// Package embedded is skiff's default state store: a single-process
// implementation of storage.Store on a bbolt file, with no other moving
// parts.
//
// # Layout
//
// The file holds a log: one record per write, keyed by its revision, in
// revision order, and the revision history has been compacted at. State is
// rebuilt at Open by reading the log once; from then on the current state of
// every key (a copy-on-write B-tree) and the window of recent events live in
// memory, so reads never touch the disk.
//
// # Writes: group commit
//
// One goroutine, the committer, performs every write. It takes all writes
// that are waiting (up to Options.MaxBatch), checks each against the state
// as changed by the writes before it in the batch, appends their records in
// one bbolt transaction and fsyncs once. Only after that commit are the
// writes applied to memory, delivered to watchers and acknowledged. A write
// that was acknowledged is therefore on disk, and concurrent writers share
// the cost of one fsync. If a commit fails the store refuses further writes.
//
// # History and compaction
//
// The window holds exactly one event per revision after the compaction
// revision. Reads at a past revision undo the newer events on top of the
// current state; watches replay from the window and then go live. The
// committer compacts automatically to keep about Options.History revisions,
// in the same transaction as the writes it batches: log records superseded
// at or below the compaction revision, and old tombstones, are deleted, so
// the file holds the live keys plus the window.
//
// # Watches
//
// Each watch has a goroutine that owns its delivery. The committer only
// appends to the watch's queue; a watch with more than Options.WatchQueue
// undelivered events is ended with storage.ErrWatcherTooSlow and its
// consumer must watch again. Writers never wait for watchers.
// RequestProgress appends a Progress event at the current revision to the
// same queue under the store lock, so it is ordered exactly with the
// events.
//
// # Crash safety
//
// Records are written only in committed bbolt transactions; at Open the log
// must have no gap after the compaction revision, and a corrupt record fails
// Open rather than being skipped.
package embedded
