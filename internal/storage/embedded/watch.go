package embedded

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"skiff.dev/skiff/internal/storage"
)

// watcher is one Watch. The committer pushes live events into queue (never
// blocking: past opts.WatchQueue undelivered events, queued or in out's
// buffer, the watcher is ended with ErrWatcherTooSlow), and so does
// RequestProgress; the watcher's own goroutine, run, first replays history
// and then moves the queue to out.
type watcher struct {
	s      *Store
	prefix string
	since  storage.Revision // events at or below it are not delivered
	limit  int
	replay events // history after since; filtered by run
	out    chan storage.Event

	mu    sync.Mutex // guards queue and err; never held while taking Store.mu
	queue []storage.Event
	err   error

	wake     chan struct{} // capacity 1: queue has news
	dead     chan struct{} // closed by end
	endOnce  sync.Once
	finished chan struct{} // closed when run has returned and out is closed
}

var _ storage.Watch = (*watcher)(nil)

// Watch implements storage.Store. Watching from a revision above the current
// one is allowed: events up to since are simply not delivered.
func (s *Store) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w := &watcher{
		s:        s,
		prefix:   prefix,
		since:    since,
		limit:    s.opts.WatchQueue,
		out:      make(chan storage.Event, watchOutBuffer),
		wake:     make(chan struct{}, 1),
		dead:     make(chan struct{}),
		finished: make(chan struct{}),
	}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, storage.ErrClosed
	case since < s.hist.compacted:
		compacted := s.hist.compacted
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: watch from %d (compacted %d)", storage.ErrCompacted, since, compacted)
	}
	// Registering and taking the replay under one lock is what makes the
	// hand-over from history to live events exact: no gap, no duplicate.
	w.replay = s.hist.since(min(since, s.current))
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	go w.run(ctx)
	return w, nil
}

// notifyLocked hands a committed event to every interested watcher. Caller
// holds s.mu.
func (s *Store) notifyLocked(ev storage.Event) {
	for w := range s.watchers {
		if ev.KV.ModRevision > w.since && strings.HasPrefix(ev.KV.Key, w.prefix) {
			w.push(ev)
		}
	}
}

func (w *watcher) push(ev storage.Event) {
	w.mu.Lock()
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	// Undelivered: queued, and waiting in out's buffer.
	if len(w.queue)+len(w.out) >= w.limit {
		w.queue = nil
		w.mu.Unlock()
		w.end(storage.ErrWatcherTooSlow)
		return
	}
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// end stops the watch with err (nil for a normal stop). The first call wins.
func (w *watcher) end(err error) {
	w.endOnce.Do(func() {
		w.mu.Lock()
		w.err = err
		w.mu.Unlock()
		close(w.dead)
	})
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.finished)
	defer close(w.out)
	defer w.unregister()
	send := func(ev storage.Event) bool {
		select {
		case w.out <- ev:
			return true
		case <-w.dead:
		case <-ctx.Done():
			w.end(nil)
		}
		return false
	}
	for _, c := range w.replay {
		for _, ev := range c {
			if strings.HasPrefix(ev.KV.Key, w.prefix) && !send(ev) {
				return
			}
		}
	}
	w.replay = nil
	var spare []storage.Event // a queue already sent, for push to reuse
	for {
		w.mu.Lock()
		q := w.queue
		w.queue = spare
		w.mu.Unlock()
		for _, ev := range q {
			if !send(ev) {
				return
			}
		}
		spare = nil
		if cap(q) <= maxSpareQueue {
			clear(q) // the values are not ours to keep alive
			spare = q[:0]
		}
		select {
		case <-w.wake:
		case <-w.dead:
			return
		case <-ctx.Done():
			w.end(nil)
			return
		}
	}
}

// watchOutBuffer is how many events a watcher's channel holds: a consumer
// that falls behind for a moment then finds several waiting and can take
// them as one batch (the watch cache applies what is waiting at once).
const watchOutBuffer = 64

// maxSpareQueue bounds the queue array a watcher keeps for reuse.
const maxSpareQueue = 256

func (w *watcher) unregister() {
	w.s.mu.Lock()
	delete(w.s.watchers, w)
	w.s.mu.Unlock()
}

// RequestProgress implements storage.Watch. The Progress event is queued
// under s.mu, which the committer holds while it hands out events, so it
// lands behind every event up to the current revision and ahead of every
// later one: the order is exact without asking anyone.
func (w *watcher) RequestProgress(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.s.mu.RLock()
	defer w.s.mu.RUnlock()
	if w.s.closed {
		return storage.ErrClosed
	}
	select {
	case <-w.dead:
		return fmt.Errorf("embedded: watch %q: %w: the watch has ended", w.prefix, storage.ErrClosed)
	default:
	}
	w.push(storage.Event{Type: storage.Progress, KV: storage.KeyValue{ModRevision: w.s.current}})
	return nil
}

// fail ends the watch with err; used by Store.Close under s.mu, so it must
// not wait for run (which takes s.mu to unregister).
func (w *watcher) fail(err error) { w.end(err) }

// Events implements storage.Watch.
func (w *watcher) Events() <-chan storage.Event { return w.out }

// Err implements storage.Watch.
func (w *watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop implements storage.Watch. It returns once the watch's goroutine has
// finished and Events is closed.
func (w *watcher) Stop() {
	w.end(nil)
	<-w.finished
}
