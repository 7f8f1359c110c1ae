package watchcache

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
)

// WatchOptions select what a watch delivers and from where.
type WatchOptions struct {
	// Namespace limits the watch to one namespace ("" for all, or for a
	// cluster-scoped resource). Name limits it to one object, as a field
	// selector metadata.name=Name does.
	Namespace string
	Name      string

	LabelSelector labels.Selector // nil: everything
	FieldSelector fields.Selector // nil: everything

	// ResourceVersion: "" starts at the store's current revision
	// (consistent), "0" at whatever the cache has; both begin with a
	// synthetic ADDED event per object. N delivers every change after N.
	ResourceVersion string
	// AllowBookmarks: the watch gets BOOKMARK events, every
	// Config.BookmarkInterval and at the end of initial events.
	AllowBookmarks bool
	// SendInitialEvents overrides whether the watch begins with ADDED
	// events for the current objects (for N: the state not older than N).
	// When true and bookmarks are allowed, a BOOKMARK annotated
	// k8s.io/initial-events-end follows them.
	SendInitialEvents *bool
}

// Watch starts a watch. It returns an API error (a *StatusError) for a bad
// resourceVersion and for one the cache does not reach within
// Config.RevisionWait (504, ResourceVersionTooLarge). A resourceVersion
// older than the cache's window yields a watch that delivers one ERROR event
// (410 Expired) and closes, as kube-apiserver does. The watch ends when
// ctx is done, on Stop, when it falls more than Config.WatchBuffer events
// behind (its channel just closes: the client watches again), and when the
// cache lists again (ERROR 410 first). Event objects are *CachedObject;
// see the package documentation for what callers may do with them.
func (c *Cache) Watch(ctx context.Context, opts WatchOptions) (watch.Interface, error) {
	rv, err := parseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	f := c.newFilter(opts.Namespace, opts.Name, opts.LabelSelector, opts.FieldSelector)
	initial := opts.ResourceVersion == "" || rv == 0
	if opts.SendInitialEvents != nil {
		initial = *opts.SendInitialEvents
	}
	if err := c.WaitReady(ctx); err != nil {
		return nil, err
	}

	var from storage.Revision // a watch from N replays the changes after it
	switch {
	case opts.ResourceVersion == "":
		cur, err := c.cfg.Store.CurrentRevision(ctx)
		if err != nil {
			return nil, storageError(err)
		}
		// Best effort when the store cannot report progress or the
		// cache does not get there in time: start from what it has.
		if _, _, err := c.waitFor(ctx, cur, true); err != nil {
			return nil, err
		}
	case rv > 0:
		from = rv
		if err := c.awaitWatchStart(ctx, rv); err != nil {
			return nil, err
		}
	}

	w := &watcher{
		c:         c,
		f:         f,
		bookmarks: opts.AllowBookmarks,
		result:    make(chan watch.Event),
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errStopped(c.cfg.Prefix)
	}
	w.since = c.rev
	switch {
	case initial:
		w.initial = c.snapshotLocked()
		w.endBookmark = opts.SendInitialEvents != nil && *opts.SendInitialEvents && opts.AllowBookmarks
	case rv > 0 && from > c.rev:
		w.since = from // ahead of the cache: skip its changes up to from
	case rv > 0:
		if from < c.window.base {
			oldest := c.window.base
			c.mu.Unlock()
			return expiredWatch(errTooOldResourceVersion(from, oldest)), nil
		}
		w.replay = c.window.since(from)
	}
	set := c.watchers[f.scope()]
	if set == nil {
		set = make(map[*watcher]struct{})
		c.watchers[f.scope()] = set
	}
	set[w] = struct{}{}
	c.wg.Add(1)
	c.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

// watcher is one watch on the cache. The cache pushes its events into
// queue under Cache.mu (never blocking: past Config.WatchBuffer the watcher
// is closed); its goroutine, run, first sends the initial events or the
// replay and then moves the queue to result.
type watcher struct {
	c         *Cache
	f         filter
	bookmarks bool
	since     storage.Revision // changes at or below it reach run by initial or replay

	// Set before run starts; run alone reads them.
	initial     *tree    // send ADDED for its matching entries
	replay      []*event // send these, converted
	endBookmark bool     // then a BOOKMARK ending initial events, at since

	result   chan watch.Event
	wake     chan struct{} // capacity 1: queue has news
	done     chan struct{} // closed by stop: run returns
	stopOnce sync.Once

	mu      sync.Mutex // guards queue and closing; taken under Cache.mu
	queue   []watch.Event
	closing bool // nothing more is queued; run returns once queue is sent
}

var _ watch.Interface = (*watcher)(nil)

// ResultChan implements watch.Interface.
func (w *watcher) ResultChan() <-chan watch.Event { return w.result }

// Stop implements watch.Interface. The result channel closes soon after
// (undelivered events are dropped).
func (w *watcher) Stop() { w.stop() }

func (w *watcher) stop() { w.stopOnce.Do(func() { close(w.done) }) }

// push queues ev; false means the watcher was too slow and is now closed.
// Caller holds Cache.mu.
func (w *watcher) push(ev watch.Event) bool {
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		return true
	}
	if len(w.queue) >= w.c.cfg.WatchBuffer {
		w.queue, w.closing = nil, true
		w.mu.Unlock()
		w.stop()
		return false
	}
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return true
}

// terminate queues a last event (even past the buffer limit) and has run
// return after sending it. Caller holds Cache.mu and removes w from the
// index.
func (w *watcher) terminate(last watch.Event) {
	w.mu.Lock()
	if !w.closing {
		w.queue = append(w.queue, last)
		w.closing = true
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (c *Cache) removeWatcherLocked(w *watcher) {
	scope := w.f.scope()
	if set := c.watchers[scope]; set != nil {
		delete(set, w)
		if len(set) == 0 {
			delete(c.watchers, scope)
		}
	}
}

func (w *watcher) run(ctx context.Context) {
	defer w.c.wg.Done()
	defer close(w.result)
	defer func() {
		w.c.mu.Lock()
		w.c.removeWatcherLocked(w)
		w.c.mu.Unlock()
	}()
	send := func(ev watch.Event) bool {
		select {
		case w.result <- ev:
			return true
		case <-w.done:
		case <-ctx.Done():
		}
		return false
	}
	if w.initial != nil && !w.sendInitial(send) {
		return
	}
	for _, e := range w.replay {
		if ev, ok := w.f.convert(e); ok && !send(ev) {
			return
		}
	}
	w.initial, w.replay = nil, nil
	if w.endBookmark && !send(watchEvent(bookmarkType, w.c.bookmarkObject(w.since, true))) {
		return
	}
	for {
		w.mu.Lock()
		q, closing := w.queue, w.closing
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range q {
			if !send(ev) {
				return
			}
		}
		if closing {
			return
		}
		select {
		case <-w.wake:
		case <-w.done:
			return
		case <-ctx.Done():
			return
		}
	}
}

// sendInitial sends ADDED for every matching object of the initial state.
func (w *watcher) sendInitial(send func(watch.Event) bool) bool {
	ok := true
	ascend(w.initial, &w.f, "", func(e *entry) bool {
		if d, match := w.f.matches(e); match {
			ok = send(watch.Event{Type: watch.Added, Object: d.obj})
		}
		return ok
	})
	return ok
}

// ascend calls fn for the entries of t in f's key range at or after start,
// in key order, until fn returns false.
func ascend(t *tree, f *filter, start string, fn func(*entry) bool) {
	if f.key != "" {
		if e, ok := lookup(t, f.key); ok && f.key >= start {
			fn(e)
		}
		return
	}
	t.AscendGreaterOrEqual(&entry{key: max(f.prefix, start)}, func(e *entry) bool {
		return f.inRange(e.key) && fn(e)
	})
}

// bookmarkType is watch.Bookmark, named for symmetry with the event helpers.
const bookmarkType = watch.Bookmark

func watchEvent(t watch.EventType, obj runtime.Object) watch.Event {
	return watch.Event{Type: t, Object: obj}
}

// expiredWatch is a watch that delivers one ERROR event and closes.
func expiredWatch(err error) watch.Interface {
	ch := make(chan watch.Event, 1)
	ch <- errorEvent(err)
	close(ch)
	return closedWatch(ch)
}

type closedWatch chan watch.Event

func (w closedWatch) ResultChan() <-chan watch.Event { return w }
func (closedWatch) Stop()                            {}

// awaitWatchStart returns once a watch from rv can start: when the cache
// or the store has reached rv. A cache behind a store that has reached rv
// needs no waiting: the changes after rv reach the cache in order and the
// watcher skips those up to rv (waiting could last forever on a store
// without progress reports, such as etcd 3.4, when nothing under the
// prefix changes). A revision the store has not reached is waited for, as
// kube-apiserver does, then refused with 504.
func (c *Cache) awaitWatchStart(ctx context.Context, rv storage.Revision) error {
	storeReached := func() (bool, error) {
		cur, err := c.cfg.Store.CurrentRevision(ctx)
		if err != nil {
			return false, storageError(err)
		}
		return cur >= rv, nil
	}
	if c.Revision() >= rv {
		return nil
	}
	if ok, err := storeReached(); ok || err != nil {
		return err
	}
	reached, unsupported, err := c.waitFor(ctx, rv, true)
	if err == nil && !reached && unsupported {
		reached, _, err = c.waitFor(ctx, rv, false)
	}
	if err != nil || reached {
		return err
	}
	if ok, err := storeReached(); ok || err != nil {
		return err
	}
	return errTooLargeResourceVersion(rv, c.Revision())
}
