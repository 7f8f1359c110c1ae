package watchcache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/storage"
)

// Cache is one resource's watch cache. See the package documentation.
type Cache struct {
	cfg Config

	started atomic.Bool   // Run was called
	ready   chan struct{} // closed after the first list
	stopped chan struct{} // closed when Run has returned

	// latest is apply's scratch map, kept between batches; Run's
	// goroutine only.
	latest map[string]*entry

	// mu guards everything below. Run's goroutine takes it to publish a
	// change and hand it to watchers in the same critical section, so a
	// watcher registered under mu sees every change after its starting
	// revision exactly once. Watcher.mu may be taken while holding mu,
	// never the other way round.
	mu sync.RWMutex
	// cur is the working state, at rev. Run's goroutine changes it, under
	// mu, and reads it without; readers get published clones (snap), never
	// cur itself.
	cur *tree
	rev storage.Revision // the revision the state reflects
	// snap is a clone of cur, made when a reader first asks for the state
	// after a change (snapshotLocked), or nil: a clone makes the next
	// change of cur copy the nodes on its path, so there is one per read
	// of a new state, not one per change.
	snap     *tree
	window   window
	changed  chan struct{}                    // closed and replaced when rev or sw changes
	sw       storage.Watch                    // the storage watch feeding the cache; nil between watches
	swGen    uint64                           // incremented with every new sw
	watchers map[string]map[*watcher]struct{} // by filter scope
	closed   bool                             // Run has ended: no new watchers
	wg       sync.WaitGroup                   // watcher goroutines; Add only under mu while !closed
}

// New returns a cache for cfg. It holds nothing until Run lists the
// resource.
func New(cfg Config) (*Cache, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Cache{
		cfg:      cfg,
		ready:    make(chan struct{}),
		stopped:  make(chan struct{}),
		cur:      newTree(),
		changed:  make(chan struct{}),
		window:   newWindow(cfg.Window),
		watchers: make(map[string]map[*watcher]struct{}),
	}
	return c, nil
}

// snapshot returns the state at the cache's revision, and the revision.
func (c *Cache) snapshot() (*tree, storage.Revision) {
	c.mu.RLock()
	snap, rev := c.snap, c.rev
	c.mu.RUnlock()
	if snap != nil {
		return snap, rev
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshotLocked(), c.rev
}

// snapshotLocked returns the state at the cache's revision, cloning cur
// if it changed since the last clone. Caller holds mu for writing: Clone
// writes cur's copy-on-write marker.
func (c *Cache) snapshotLocked() *tree {
	if c.snap == nil {
		c.snap = c.cur.Clone()
	}
	return c.snap
}

// Ready reports whether the cache has listed the resource and serves
// requests.
func (c *Cache) Ready() bool {
	select {
	case <-c.ready:
		return true
	default:
		return false
	}
}

// WaitReady waits until the cache is ready, Run has ended, or ctx is done.
func (c *Cache) WaitReady(ctx context.Context) error {
	select {
	case <-c.stopped:
		return errStopped(c.cfg.Prefix)
	default:
	}
	select {
	case <-c.ready:
		return nil
	case <-c.stopped:
		return errStopped(c.cfg.Prefix)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len is the number of objects in the cache.
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.cur.Len()
}

// Revision is the store revision the cache reflects.
func (c *Cache) Revision() storage.Revision {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// Run lists the resource, then follows it with one storage watch until ctx
// is done, and returns nil then. When the watch ends it goes on from the
// cache's revision: a watch that fell behind (ErrWatcherTooSlow) resumes
// from the store's history; when that history is gone (ErrCompacted) Run
// lists again, and watchers of the cache, whose position is lost, end with
// a 410 Expired error event. Other storage errors are retried with
// backoff; only storage.ErrClosed ends Run early. Run may be called once;
// every goroutine it or the cache's watchers start has ended when it
// returns.
func (c *Cache) Run(ctx context.Context) error {
	if c.started.Swap(true) {
		return errors.New("watchcache: Run called twice")
	}
	defer c.shutdown()
	ticker := c.cfg.Clock.NewTicker(c.cfg.BookmarkInterval)
	defer ticker.Stop()

	retry := backoff{clock: c.cfg.Clock}
	relist := true
	for ctx.Err() == nil {
		if relist {
			if err := c.relist(ctx); err != nil {
				if ctx.Err() != nil {
					break
				}
				if errors.Is(err, storage.ErrClosed) {
					return fmt.Errorf("watchcache %s: %w", c.cfg.Prefix, err)
				}
				c.cfg.Logger.Error("watch cache list failed", "prefix", c.cfg.Prefix, "err", err)
				retry.wait(ctx)
				continue
			}
			retry.reset()
			relist = false
		}
		from := c.Revision()
		sw, err := c.cfg.Store.Watch(ctx, c.cfg.Prefix, from)
		switch {
		case ctx.Err() != nil:
			if err == nil {
				sw.Stop()
			}
			return nil
		case errors.Is(err, storage.ErrCompacted):
			relist = true
			continue
		case errors.Is(err, storage.ErrClosed):
			return fmt.Errorf("watchcache %s: %w", c.cfg.Prefix, err)
		case err != nil:
			c.cfg.Logger.Error("watch cache watch failed", "prefix", c.cfg.Prefix, "revision", from, "err", err)
			retry.wait(ctx)
			continue
		}
		c.setWatch(sw)
		err = c.follow(ctx, sw, ticker.C())
		sw.Stop()
		c.setWatch(nil)
		if c.Revision() > from {
			retry.reset() // the watch worked for a while
		}
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, storage.ErrCompacted):
			relist = true
		case errors.Is(err, storage.ErrWatcherTooSlow):
			retry.reset() // resume at once from the cache's revision
		case errors.Is(err, storage.ErrClosed):
			return fmt.Errorf("watchcache %s: %w", c.cfg.Prefix, err)
		default:
			c.cfg.Logger.Error("watch cache storage watch ended", "prefix", c.cfg.Prefix, "err", err)
			retry.wait(ctx)
		}
	}
	return nil
}

// errWatchEnded: the storage watch closed without saying why while the
// cache still wanted it.
var errWatchEnded = errors.New("watchcache: storage watch closed without an error")

// follow applies the storage watch's events until it ends, sending
// bookmarks on every tick, and returns why it ended.
func (c *Cache) follow(ctx context.Context, sw storage.Watch, tick <-chan time.Time) error {
	const maxBatch = 256
	batch := make([]storage.Event, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			c.sendBookmarks()
			continue
		case ev, ok := <-sw.Events():
			if !ok {
				return watchEndError(sw)
			}
			batch = append(batch[:0], ev)
		}
		// Take what else is waiting, to publish it in one critical section.
		open := true
	drain:
		for len(batch) < maxBatch {
			select {
			case ev, ok := <-sw.Events():
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, ev)
			default:
				break drain
			}
		}
		c.apply(batch)
		if !open {
			return watchEndError(sw)
		}
	}
}

func watchEndError(sw storage.Watch) error {
	if err := sw.Err(); err != nil {
		return err
	}
	return errWatchEnded
}

// setWatch publishes the storage watch that progress requests go to.
func (c *Cache) setWatch(sw storage.Watch) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sw = sw
	c.swGen++
	c.broadcastLocked()
}

// broadcastLocked wakes everyone waiting for the cache to move.
func (c *Cache) broadcastLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// relist replaces the state with a fresh list of the resource. Every
// watcher loses its position and ends with a 410 error event.
func (c *Cache) relist(ctx context.Context) error {
	t := newTree()
	opts := storage.ListOptions{Limit: 1000}
	for {
		res, err := c.cfg.Store.List(ctx, c.cfg.Prefix, opts)
		if err != nil {
			return err
		}
		opts.Revision = res.Revision // later pages read the same snapshot
		for _, kv := range res.KVs {
			if e, ok := c.newEntry(kv); ok {
				t.ReplaceOrInsert(e)
			}
		}
		if res.Continue == "" {
			break
		}
		opts.Continue = res.Continue
	}
	rev := opts.Revision
	snap := t.Clone()

	c.mu.Lock()
	c.cur = t
	lost := c.rev
	for _, set := range c.watchers {
		for w := range set {
			w.terminate(errorEvent(errTooOldResourceVersion(lost, rev)))
		}
	}
	clear(c.watchers)
	c.rev, c.snap = rev, snap
	c.window.reset(rev, snap)
	c.broadcastLocked()
	c.mu.Unlock()
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	return nil
}

// newEntry decodes a stored object; ok is false (and the error logged) for
// a value that does not decode, which the cache then treats as absent.
func (c *Cache) newEntry(kv storage.KeyValue) (*entry, bool) {
	obj, err := c.cfg.Decode(kv)
	var e *entry
	if err == nil {
		e, err = c.entryFor(kv.Key, obj, kv.ModRevision)
	}
	if err != nil {
		c.cfg.Logger.Error("watch cache cannot decode a stored object; serving it as absent",
			"key", kv.Key, "revision", kv.ModRevision, "err", err)
		return nil, false
	}
	return e, true
}

func (c *Cache) entryFor(key string, obj runtime.Object, rev storage.Revision) (*entry, error) {
	d, err := c.cfg.decoded(obj)
	if err != nil {
		return nil, err
	}
	return decodedEntry(key, rev, d), nil
}

// apply publishes a batch of storage events: each becomes an event,
// changes the working tree, enters the window and goes to the watchers.
// Progress events only move the revision. Objects are decoded when a
// watcher first needs one (see entry).
func (c *Cache) apply(batch []storage.Event) {
	events := make([]*event, 0, len(batch))
	var progress storage.Revision
	var latest map[string]*entry // the keys earlier events of the batch changed
	if len(batch) > 1 {
		if c.latest == nil {
			c.latest = make(map[string]*entry, len(batch))
		}
		latest = c.latest
		defer clear(latest)
	}
	for _, sev := range batch {
		if sev.Type == storage.Progress {
			progress = max(progress, sev.Revision())
			continue
		}
		if e := c.change(sev, latest); e != nil {
			events = append(events, e)
		}
	}
	// Decode, before taking the lock, what watchers will look at.
	c.mu.RLock()
	for _, e := range events {
		if c.watchedLocked(e.key) {
			e.cur.load()
			if e.prev != nil {
				e.prev.load()
			}
		}
	}
	c.mu.RUnlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		if e.typ == storage.Deleted {
			c.cur.Delete(e.prev)
		} else {
			c.cur.ReplaceOrInsert(e.cur)
		}
		c.window.push(e)
		c.rev = e.rev
		c.dispatchLocked(e)
	}
	if len(events) > 0 {
		c.snap = nil
	}
	c.rev = max(c.rev, progress)
	c.broadcastLocked()
}

// change makes the event of one storage event, or nil when it changes
// nothing the cache holds; apply then changes the working tree. Types
// follow the cache's state rather than the store's labels. latest holds
// the entries of the keys earlier events of the batch changed (nil for
// deleted ones); nil for a batch of one. A value that does not decode is
// held, and counts as absent wherever it is looked at (entry.load): a
// watcher that saw the object sees it go (filter.convert), and sees it come
// back ADDED when it decodes again.
func (c *Cache) change(sev storage.Event, latest map[string]*entry) *event {
	key, rev := sev.KV.Key, sev.Revision()
	prev, had := latest[key]
	if !had {
		prev, had = lookup(c.cur, key) // only Run's goroutine changes cur
	}
	had = had && prev != nil
	if !had {
		prev = nil
	}
	e := &event{rev: rev, key: key, prev: prev}
	switch {
	case sev.Type != storage.Deleted:
		e.typ, e.cur = storage.Created, lazyEntry(&c.cfg, key, sev.KV.Value, rev)
		if had {
			e.typ = storage.Updated
		}
		if latest != nil {
			latest[key] = e.cur
		}
	case had:
		e.typ = storage.Deleted
		e.cur = c.tombstone(prev, rev)
		if latest != nil {
			latest[key] = nil
		}
	default:
		return nil
	}
	return e
}

// tombstone is the deleted object: its last state at the delete's revision.
func (c *Cache) tombstone(last *entry, rev storage.Revision) *entry {
	d := last.load()
	if d == nil {
		return decodedEntryFailed(last.key, rev)
	}
	return decodedEntry(last.key, rev, stamped(d, rev))
}

// stamped is a copy of d's object with resourceVersion rev, and d's
// attributes.
func stamped(d *decoded, rev storage.Revision) decoded {
	obj := d.raw.DeepCopyObject()
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(rev.String())
	}
	return decoded{raw: obj, obj: newCachedObject(obj), labels: d.labels, fields: d.fields}
}

// dispatchLocked hands e to every watcher whose range holds its key.
// Watchers never block it: one that cannot take more is closed.
func (c *Cache) dispatchLocked(e *event) {
	scopes := [3]string{c.cfg.Prefix, c.namespacePrefix(e.key), e.key}
	for i, scope := range scopes {
		if scope == "" || (i > 0 && scope == scopes[i-1]) {
			continue
		}
		for w := range c.watchers[scope] {
			if e.rev <= w.since {
				continue
			}
			if ev, ok := w.f.convert(e); ok && !w.push(ev) {
				c.removeWatcherLocked(w)
			}
		}
	}
}

// watchedLocked reports whether a watcher's range holds key and its key
// filters do not rule it out: whether dispatching a change of key will
// decode the object. Caller holds mu (read).
func (c *Cache) watchedLocked(key string) bool {
	name := key[strings.LastIndexByte(key, '/')+1:]
	scopes := [3]string{c.cfg.Prefix, c.namespacePrefix(key), key}
	for i, scope := range scopes {
		if scope == "" || (i > 0 && scope == scopes[i-1]) {
			continue
		}
		for w := range c.watchers[scope] {
			if w.f.inRange(key) && (w.f.name == "" || w.f.name == name) {
				return true
			}
		}
	}
	return false
}

// namespacePrefix is "<Prefix><namespace>/" for a namespaced key, else "".
func (c *Cache) namespacePrefix(key string) string {
	if !c.cfg.Namespaced || len(key) <= len(c.cfg.Prefix) {
		return ""
	}
	for i := len(c.cfg.Prefix); i < len(key); i++ {
		if key[i] == '/' {
			return key[:i+1]
		}
	}
	return ""
}

// sendBookmarks gives every watcher that allows bookmarks one at the
// cache's revision, queued behind the events it has not yet received.
func (c *Cache) sendBookmarks() {
	c.mu.Lock()
	defer c.mu.Unlock()
	var bookmark *CachedObject
	for _, set := range c.watchers {
		for w := range set {
			// A watcher that started ahead of the cache gets no bookmark
			// older than its start.
			if !w.bookmarks || c.rev < w.since {
				continue
			}
			if bookmark == nil {
				bookmark = c.bookmarkObject(c.rev, false)
			}
			if !w.push(watchEvent(bookmarkType, bookmark)) {
				c.removeWatcherLocked(w)
			}
		}
	}
}

// bookmarkObject is an object of the resource's kind carrying only a
// resourceVersion (and, to end initial events, the annotation saying so).
func (c *Cache) bookmarkObject(rev storage.Revision, initialEventsEnd bool) *CachedObject {
	obj := c.cfg.New()
	obj.GetObjectKind().SetGroupVersionKind(c.cfg.GVK)
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(rev.String())
		if initialEventsEnd {
			m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
		}
	}
	return newCachedObject(obj)
}

// shutdown ends every watcher and waits for their goroutines.
func (c *Cache) shutdown() {
	c.mu.Lock()
	c.closed = true
	for _, set := range c.watchers {
		for w := range set {
			w.stop()
		}
	}
	clear(c.watchers)
	c.sw = nil
	c.broadcastLocked()
	c.mu.Unlock()
	c.wg.Wait()
	close(c.stopped)
}

// waitFor waits until the cache reaches rev, asking the storage watch for
// progress so that it gets there even when nothing under the prefix
// changes. It gives up after RevisionWait, or at once (unsupported) when
// ask is set and the store cannot report progress.
func (c *Cache) waitFor(ctx context.Context, rev storage.Revision, ask bool) (reached, unsupported bool, err error) {
	var timeout <-chan time.Time
	asked := uint64(0) // swGen last asked; generations start at 1
	for {
		c.mu.RLock()
		cur, changed, sw, gen, closed := c.rev, c.changed, c.sw, c.swGen, c.closed
		c.mu.RUnlock()
		switch {
		case cur >= rev:
			return true, false, nil
		case closed:
			return false, false, errStopped(c.cfg.Prefix)
		}
		if ask && sw != nil && gen != asked {
			asked = gen
			// A watch that ended meanwhile fails the request; the next
			// one (a new generation) is asked again.
			if err := sw.RequestProgress(ctx); errors.Is(err, storage.ErrUnsupported) {
				return false, true, nil
			}
		}
		if timeout == nil {
			t := c.cfg.Clock.NewTimer(c.cfg.RevisionWait)
			defer t.Stop()
			timeout = t.C()
		}
		select {
		case <-changed:
		case <-timeout:
			return false, false, nil
		case <-ctx.Done():
			return false, false, ctx.Err()
		}
	}
}

// backoff paces retries of failed storage calls: 100 ms doubling to 5 s.
type backoff struct {
	clock clock.Clock
	next  time.Duration
}

func (b *backoff) wait(ctx context.Context) {
	if b.next == 0 {
		b.next = 100 * time.Millisecond
	}
	t := b.clock.NewTimer(b.next)
	defer t.Stop()
	select {
	case <-t.C():
	case <-ctx.Done():
	}
	b.next = min(2*b.next, 5*time.Second)
}

func (b *backoff) reset() { b.next = 0 }
