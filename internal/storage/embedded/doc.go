// Package embedded is skiff's default state store: a single-process
// implementation of storage.Store on a bbolt file and a write-ahead log,
// with no other moving parts.
//
// # Layout
//
// The bbolt file (FileName) holds a log: one record per write, keyed by
// its revision, in revision order, and the revision history has been
// compacted at. The write-ahead log (WALFileName) holds the writes
// committed since they were last copied into the bbolt file. State is
// rebuilt at Open by reading both once; from then on the current state of
// every key (a copy-on-write B-tree) and the window of recent events live
// in memory, so reads never touch the disk.
//
// # Writes: group commit
//
// One goroutine, the committer, performs every write. It takes all writes
// that are waiting (up to Options.MaxBatch) and, when the previous commit
// had several, those that runnable goroutines submit while it yields the
// processor a few times; it checks each against the state
// as changed by the writes before it in the batch, and appends their
// records to the write-ahead log as one checksummed frame with one write
// and one fdatasync. Only after that are the writes applied to memory,
// delivered to watchers and acknowledged. A write that was acknowledged is
// therefore on disk, and concurrent writers share the cost of one sync. If
// a commit fails the store refuses further writes.
//
// # Checkpoints
//
// Every Options.CheckpointEvery writes, when compaction is due, and on
// Close, the committer copies the writes of the write-ahead log into the
// bbolt file in one transaction (bbolt syncs twice per transaction, which
// is why it is not done per commit) and starts the write-ahead log over
// from its beginning, overwriting the frames there.
//
// # History and compaction
//
// The window holds exactly one event per revision after the compaction
// revision. Reads at a past revision undo the newer events on top of the
// current state; watches replay from the window and then go live. The
// committer compacts automatically to keep about Options.History revisions:
// the window shrinks at once, and the next checkpoint transaction records
// the compaction revision and deletes the log records superseded at or
// below it, and old tombstones, so the file holds the live keys plus the
// window. An explicit Compact is acknowledged after the checkpoint that
// records it.
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
// Records reach the bbolt file only in committed bbolt transactions; at
// Open its log must have no gap after the compaction revision, and a
// corrupt record fails Open rather than being skipped. Open then replays
// the write-ahead log frames that continue the bbolt log's last revision,
// in order, and checkpoints them. Replay ends at the first frame that does
// not continue it: a frame left from before the last checkpoint (its
// revisions are in the bbolt file already), or the frame of a commit that
// a crash tore before it was acknowledged. A frame that fails its checksum
// while an intact frame continues after it was acknowledged and damaged
// later: Open fails rather than lose the writes after it.
package embedded
