// Package etcd implements storage.Store on a real etcd cluster through the
// official client (go.etcd.io/etcd/client/v3).
//
// # Revisions
//
// storage.Revision is etcd's revision, unchanged: a key's ModRevision and
// CreateRevision are etcd's, a write returns the revision in etcd's response
// header, and CurrentRevision is the header revision of a linearizable read.
// A new etcd cluster is at revision 1 with no keys, so the first write gets
// revision 2. Revisions are the cluster's: a Store with a Prefix shares its
// counter with every other user of the cluster, so its own writes are
// increasing but not gapless when others write too.
//
// # Operations
//
//	Get     Range(key); empty → storage.ErrNotFound
//	List    Range[start, prefixEnd) with Limit, at ListOptions.Revision;
//	        Remaining = Count − len(page); Continue = opaque token naming the
//	        key after the page, set only when etcd reports More
//	Create  Txn If(CreateRevision(key) = 0) Then Put → else storage.ErrKeyExists
//	Update  Txn If(ModRevision(key) = expected) Then Put Else Get; a failed
//	        compare is storage.ErrConflict when the Else Get finds the key and
//	        storage.ErrNotFound otherwise. AnyRevision compares
//	        CreateRevision(key) > 0 instead: the key only has to exist.
//	Delete  as Update, with DeleteRange(prevKV) and the deleted state returned
//	Compact Compact(rev, physical): returns after the cluster dropped history
//	CurrentRevision  header revision of a count-only Get
//
// Every value read is linearizable (etcd's default), never serializable: a
// List at AnyRevision reflects every write acknowledged before it started.
//
// # Errors
//
// etcd's mvcc errors become the storage sentinels, wrapped with %w so both
// errors.Is(err, storage.ErrCompacted) and errors.Is(err,
// rpctypes.ErrCompacted) hold:
//
//	rpctypes.ErrCompacted  → storage.ErrCompacted
//	rpctypes.ErrFutureRev  → storage.ErrFutureRevision
//
// An empty key, a negative revision or limit and a malformed Continue token
// are storage.ErrInvalid. Calls after Close return storage.ErrClosed. Other
// errors (unreachable cluster, context expiry) are returned as the client
// reported them.
//
// # Watch
//
// Watch(prefix, since) first reads at revision max(since, 1): if that is
// compacted Watch itself returns storage.ErrCompacted, so the common
// "resume from an old resourceVersion" case is answered synchronously, as the
// storage contract asks. This is one point read per watch, and it is
// stricter by one revision than etcd itself (etcd would still accept since =
// compactRev−1). A since in the future is accepted: events arrive once the
// cluster gets there. A compaction racing with the start is reported
// through Err instead.
//
// The etcd watch runs with WithRev(max(since, 1)), WithPrefix and
// WithPrevKV, and events at since are dropped. Starting one revision early
// is deliberate: etcd releases without the fix for etcd-io/etcd#18089
// (backported to 3.4 and 3.5 in August 2024; Debian's 3.4.23 lacks it) drop
// a delete's tombstone when compacting at exactly its revision, so a watch
// asked to start at since+1 while a compaction at since+1 runs could skip
// that delete silently; a watch that starts at since is reported compacted
// instead. (The bug remains for a watch that etcd must replay after the
// client reconnected, or after etcd set it aside as slow, when a compaction
// lands exactly on its next revision; only a fixed etcd closes that.)
//
// Puts whose CreateRevision equals their ModRevision are Created, other
// puts Updated, deletes Deleted (with CreateRevision and Prev taken from the
// previous version). etcd omits the previous version when it was compacted
// before the event went out; rather than deliver an Updated or Deleted event
// without Prev, the watch then ends with storage.ErrCompacted.
//
// The client reconnects a broken watch stream to another member and resumes
// after the last revision it received, so a member crash or a leader change
// neither skips nor repeats events. (The watch does not use
// WithRequireLeader: a watch on a member cut off from the leader stalls until
// the partition heals rather than failing, and loses nothing.)
//
// One goroutine per watch moves events from the client into a buffered
// channel of Config.WatchBuffer events and never waits on the consumer: when
// the buffer is full the watch ends with storage.ErrWatcherTooSlow. Events
// already buffered are still delivered before the channel closes. Stop and
// cancelling the watch's context end it with a nil Err; Close of the Store
// ends it with storage.ErrClosed; a compaction overtaking the watch with
// storage.ErrCompacted. Stop and Close return only after the goroutine has
// exited.
//
// # Progress
//
// Every storage watch has a clientv3.Watcher, hence a gRPC stream, of its
// own, because etcd answers a progress request per stream. RequestProgress
// reads the current revision linearizably (the member serving the stream
// may lag behind it) and leaves the rest to the watch's goroutine: when the
// events it has forwarded already reach that revision it answers at once,
// otherwise it sends etcd a progress request and forwards the answer as a
// storage.Progress event. etcd answers only while the watch is synced — not
// while it replays history or has been set aside as slow — and a lagging
// member may answer with too low a revision, so the goroutine asks again
// every 100 ms until an answer (or an event) reaches the revision.
//
// That relies on etcd sending the answer through the watch's ordered event
// channel, which it does from 3.4.25 and 3.5.8 on (etcd-io/etcd#15220).
// Earlier releases answer at once on a side channel, so a notification can
// overtake events still queued for the watch (observed with Debian's
// 3.4.23: hundreds of overtakes in seconds under load). New reads every
// endpoint's version; when the lowest predates the fix, RequestProgress
// returns storage.ErrUnsupported and callers fall back to reading etcd.
//
// # Prefix
//
// Config.Prefix is prepended to every key the Store sends and stripped from
// every key it returns (KeyValue.Key, Event.KV.Key, Event.Prev.Key), so
// several Stores can share one cluster without seeing each other's keys.
// Continue tokens are relative to the Prefix too. Compact and
// CurrentRevision remain cluster-wide.
//
// # Ownership
//
// Values returned are the client's decoded buffers, not shared with etcd or
// other callers; per the storage contract the caller must still not modify
// them. Values passed in are copied into the request.
package etcd
