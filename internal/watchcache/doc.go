// Package watchcache serves LIST and WATCH of one resource from memory.
//
// A Cache is fed by one storage watch on the resource's key prefix. It
// keeps the current objects, decoded when first needed, in a copy-on-write
// B-tree ordered by key, and a window of the most recent events
// (Config.Window), each with the object before and after it. Readers get
// snapshots (O(1) clones of the tree), made when first asked for after a
// change; the state at an older revision of the window is rebuilt from a
// later one by undoing the events between, and kept.
// The API server creates one Cache per resource, runs it (Run), and sends
// every LIST and WATCH of the resource to it.
//
// # Run
//
// Run lists the prefix from the store, then watches from the list's
// revision, applying events in revision order. When the storage watch ends
// Run goes on from the cache's revision: a watch that fell behind
// (storage.ErrWatcherTooSlow) resumes from the store's history; when the
// history is gone (storage.ErrCompacted) Run lists again, and every watcher
// of the cache, whose position is lost, receives an ERROR event (410
// Expired) and ends. Every goroutine of the cache, watchers' included, has
// ended when Run returns.
//
// # Consistency and ordering
//
// The cache's revision only grows. Storage Progress events move it when
// nothing under the prefix changes, so a cache that is up to date knows it.
//
// LIST reads one snapshot: all items and the list's resourceVersion come
// from the same revision, and so do all pages of a paginated list. With
// resourceVersion "" the read is consistent: the cache reads the store's
// current revision, asks its storage watch for progress (RequestProgress)
// and serves once it has reached that revision; a store that cannot
// report progress, or a cache that does not catch up within
// Config.RevisionWait, makes the list read the store instead. "0" serves
// whatever the cache has; N (NotOlderThan) waits for the cache to reach N,
// and fails with 504 ResourceVersionTooLarge when it does not in time and
// the store has not reached N either. Exact reads, and the pages after the
// first (continue tokens carry the first page's revision), read the state
// at that revision from the window, or the store at that revision when the window no longer
// reaches back to it (410 Expired once the store has compacted it).
//
// WATCH delivers, in revision order and exactly once, every change after
// its starting revision: the cache's revision for "" (after a consistent
// wait) and "0", preceded by a synthetic ADDED for every matching object;
// N when N is within the window (older: one ERROR 410 event, then the
// channel closes). Selectors apply to each change: an object that starts
// matching is ADDED, one that stops matching is DELETED with its new state,
// and a deletion carries the object's last state stamped with the
// deletion's resourceVersion. Bookmarks, when allowed, come every
// Config.BookmarkInterval, in order: a bookmark at revision R follows every
// event up to R. With sendInitialEvents, a bookmark annotated
// k8s.io/initial-events-end ends the initial events.
//
// # Slow watchers
//
// The cache never waits for a watcher. Each watcher has a goroutine and a
// queue; the cache appends to the queue while it publishes a change, and a
// watcher with more than Config.WatchBuffer undelivered events is closed
// (its result channel closes; clients watch again from the last
// resourceVersion they saw). Other watchers and the cache go on unaffected.
//
// # Objects the cache hands out
//
// Objects are decoded once per version, when first needed (by a list, a
// read, or a watcher whose range and name selector the object's key
// passes), so objects nobody looks at are never decoded; a value that does
// not decode is logged and counts as absent. Decoded objects are shared:
// by the cache's state, its window, every LIST that returns them and every
// watch event. Callers must treat them as read-only — never modify a
// returned object or anything it points to, and never keep a reference in
// order to modify it later. To change one, deep-copy it first. The cache in turn never
// modifies an object after handing it out: a new version is a new object.
//
// Watch events carry *CachedObject, which implements
// runtime.CacheableObject: apimachinery's serializers encode each object
// version at most twice per serializer and output version (the first
// encoding is not kept: most versions have one reader), and every later
// watcher of that version gets the same bytes. Its Object method returns the
// shared object (read-only); GetObject and DeepCopyObject return copies.
// LIST returns the plain shared objects, so that the API layer can put
// them into a list object without copying.
package watchcache
