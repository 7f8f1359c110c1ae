package etcd

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"skiff.dev/skiff/internal/storage"
)

// Watch streams events under prefix with revisions above since. See the
// package documentation for how it starts, ends and survives member loss.
func (s *Store) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	if since < 0 {
		return nil, fmt.Errorf("etcd: watch %q: %w: negative revision %d", prefix, storage.ErrInvalid, since)
	}
	if s.isClosed() {
		return nil, storage.ErrClosed
	}
	// etcd is asked for history from since itself, not since+1, and the
	// events at since are dropped (forward). A compaction at since+1
	// racing with the watch's start then makes etcd report the watch
	// compacted; watching from since+1, an etcd without the fix for
	// etcd-io/etcd#18089 would instead skip a delete at exactly since+1.
	// Revision 1 holds no event, and 0 would mean "from now".
	startRev := max(since, 1)

	// Answer "since is compacted" now rather than through Err a moment
	// later: the watch's first response cannot tell (etcd reports a
	// compacted start revision asynchronously), a read at startRev can.
	if _, err := s.cli.Get(ctx, s.probeKey(), clientv3.WithRev(int64(startRev)), clientv3.WithCountOnly()); err != nil &&
		!errors.Is(err, rpctypes.ErrFutureRev) {
		return nil, s.wrap(fmt.Sprintf("watch %q from revision %d", prefix, since), err)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, storage.ErrClosed
	}
	s.wg.Add(1)
	s.mu.Unlock()

	wctx, cancel := context.WithCancel(ctx)
	w := &watch{
		store:      s,
		prefix:     prefix,
		since:      since,
		parent:     ctx,
		ctx:        wctx,
		cancel:     cancel,
		events:     make(chan storage.Event, s.watchBuffer),
		done:       make(chan struct{}),
		wc:         clientv3.NewWatcher(s.cli),
		progressed: make(chan struct{}, 1),
		ask:        make(chan struct{}, 1),
		askerDone:  make(chan struct{}),
	}
	unlink := context.AfterFunc(s.ctx, cancel) // Close ends the watch
	wch := w.wc.Watch(wctx, s.full(prefix),
		clientv3.WithPrefix(), clientv3.WithRev(int64(startRev)), clientv3.WithPrevKV())
	go w.askProgress()
	go w.run(wch, unlink)
	return w, nil
}

// progressRetry is how long a watch waits for etcd to answer a progress
// request before asking again. etcd answers only while the watch is synced
// (not replaying history, not set aside as slow), and a member that lags
// may answer with a revision below the one asked for; asking again after
// either settles is what makes the answer arrive.
const progressRetry = 100 * time.Millisecond

// watch is one running storage watch: a goroutine (run) forwarding one
// client watch into events, and one (askProgress) sending etcd the
// progress requests run decides on.
//
// Each watch has a clientv3.Watcher of its own, hence its own gRPC stream:
// etcd answers a progress request for a whole stream, and only once every
// watch on that stream is synced, so sharing a stream would let other
// watches delay (or, on a shared client, misdirect) the answer.
type watch struct {
	store  *Store
	prefix string
	since  storage.Revision // events at or below are not delivered
	parent context.Context  // the caller's context
	ctx    context.Context  // parent, also cancelled by Stop and Store.Close
	cancel context.CancelFunc
	events chan storage.Event
	done   chan struct{} // closed after events, when run has returned

	wc         clientv3.Watcher // this watch's own stream
	progressed chan struct{}    // capacity 1: RequestProgress raised target
	ask        chan struct{}    // capacity 1: askProgress should send a request
	askerDone  chan struct{}    // closed when askProgress has returned

	stopped atomic.Bool // Stop was called

	mu     sync.Mutex
	err    error            // why events was closed; guarded by mu
	target storage.Revision // a Progress event at or above it is owed; 0: none. Guarded by mu
}

func (w *watch) Events() <-chan storage.Event { return w.events }

func (w *watch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Stop ends the watch and waits until its goroutine has exited and Events is
// closed. It never waits on the consumer.
func (w *watch) Stop() {
	w.stopped.Store(true)
	w.cancel()
	<-w.done
}

// RequestProgress implements storage.Watch. It reads the current revision
// linearizably (a member's own revision may lag) and leaves the rest to
// run, which answers at once when its events already reach that revision
// and otherwise asks etcd until a progress notification does.
func (w *watch) RequestProgress(ctx context.Context) error {
	if !w.store.orderedProgress {
		return fmt.Errorf("etcd: watch %q: %w: etcd %s can send a requested progress notification ahead of the watch's events (etcd-io/etcd#15220, fixed in 3.4.25 and 3.5.8)",
			w.prefix, storage.ErrUnsupported, w.store.serverVersion)
	}
	select {
	case <-w.done:
		return fmt.Errorf("etcd: watch %q: %w: the watch has ended", w.prefix, storage.ErrClosed)
	default:
	}
	rev, err := w.store.CurrentRevision(ctx)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.target = max(w.target, rev)
	w.mu.Unlock()
	select {
	case w.progressed <- struct{}{}:
	default:
	}
	return nil
}

// askProgress sends a progress request on the watch's stream whenever run
// asks. It runs apart from run because the request waits while the client
// reconnects the stream, and run must go on forwarding meanwhile.
func (w *watch) askProgress() {
	defer close(w.askerDone)
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-w.ask:
			// An error means the stream is being replaced or the watch
			// is ending; run asks again after progressRetry.
			_ = w.wc.RequestProgress(w.ctx)
		}
	}
}

func (w *watch) run(wch clientv3.WatchChan, unlink func() bool) {
	defer w.store.wg.Done()
	err := w.forward(wch)
	w.cancel()
	// The client closes wch promptly once its context is cancelled; drain
	// it so the client's goroutines for this watch finish.
	for range wch {
	}
	<-w.askerDone
	w.wc.Close()
	unlink()

	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
	close(w.events)
	close(w.done)
}

// forward moves events from the client to the consumer until the watch ends
// and returns the reason (nil for Stop or the caller's context). It also
// owes the consumer Progress events (see RequestProgress): reached is the
// revision up to which everything has been forwarded, from events and from
// etcd's progress notifications, which fixed etcd servers send through the
// watch's own ordered channel.
func (w *watch) forward(wch clientv3.WatchChan) error {
	reached := w.since // events at or below since are not part of the watch
	retry := time.NewTimer(progressRetry)
	retry.Stop()
	defer retry.Stop()
	asking := false // a progress request is out and retry is armed
	for {
		var resp clientv3.WatchResponse
		var ok bool
		select {
		case <-w.ctx.Done():
			return w.cancelled()
		case <-w.progressed:
			if err := w.settleProgress(reached, &asking, retry); err != nil {
				return err
			}
			continue
		case <-retry.C:
			asking = false
			if err := w.settleProgress(reached, &asking, retry); err != nil {
				return err
			}
			continue
		case resp, ok = <-wch:
		}
		if !ok {
			if w.ctx.Err() != nil {
				return w.cancelled()
			}
			return fmt.Errorf("etcd: watch %q: client closed the watch without a reason", w.prefix)
		}
		if resp.CompactRevision != 0 {
			return fmt.Errorf("etcd: watch %q: %w: history up to revision %d is gone", w.prefix, storage.ErrCompacted, resp.CompactRevision)
		}
		if err := resp.Err(); err != nil {
			if w.ctx.Err() != nil {
				return w.cancelled()
			}
			return w.store.wrap(fmt.Sprintf("watch %q", w.prefix), err)
		}
		if resp.IsProgressNotify() {
			reached = max(reached, storage.Revision(resp.Header.Revision))
		}
		for _, ev := range resp.Events {
			if storage.Revision(ev.Kv.ModRevision) <= w.since {
				continue
			}
			e, ok := w.store.event(ev)
			if !ok {
				// etcd sends no PrevKv when the previous version was
				// compacted before the event went out; an Updated or
				// Deleted without Prev would break the contract.
				return fmt.Errorf("etcd: watch %q: %w: previous version of %q at revision %d is gone",
					w.prefix, storage.ErrCompacted, e.KV.Key, ev.Kv.ModRevision)
			}
			if err := w.send(e); err != nil {
				return err
			}
			// All events of one revision come in one response, so once
			// the response is forwarded its last revision is reached.
			reached = max(reached, e.Revision())
		}
		if err := w.settleProgress(reached, &asking, retry); err != nil {
			return err
		}
	}
}

// send hands e to the consumer without waiting: a full buffer ends the
// watch.
func (w *watch) send(e storage.Event) error {
	select {
	case w.events <- e:
		return nil
	default:
		return fmt.Errorf("etcd: watch %q: %w: %d events unread at revision %d",
			w.prefix, storage.ErrWatcherTooSlow, len(w.events), e.Revision())
	}
}

// settleProgress delivers the Progress event owed, if reached is high
// enough, and otherwise makes sure etcd has been asked (again, once retry
// fires) for a progress notification. Only forward calls it.
func (w *watch) settleProgress(reached storage.Revision, asking *bool, retry *time.Timer) error {
	w.mu.Lock()
	target := w.target
	if target != 0 && reached >= target {
		w.target = 0
	}
	w.mu.Unlock()
	switch {
	case target == 0:
		return nil
	case reached >= target:
		if *asking {
			retry.Stop()
			*asking = false
		}
		return w.send(storage.Event{Type: storage.Progress, KV: storage.KeyValue{ModRevision: reached}})
	case !*asking:
		select {
		case w.ask <- struct{}{}:
		default:
		}
		retry.Reset(progressRetry)
		*asking = true
	}
	return nil
}

// cancelled is the end reason once the watch's context is done: nil when the
// consumer asked (Stop, its context), storage.ErrClosed when the Store closed.
func (w *watch) cancelled() error {
	if w.stopped.Load() || w.parent.Err() != nil || !w.store.isClosed() {
		return nil
	}
	return storage.ErrClosed
}

// event converts a client event under the prefix to a storage event. ok is
// false for an Updated or Deleted event that lacks its previous version.
func (s *Store) event(ev *clientv3.Event) (e storage.Event, ok bool) {
	e = storage.Event{KV: s.keyValue(ev.Kv)}
	if ev.PrevKv != nil {
		e.Prev = s.keyValue(ev.PrevKv)
	}
	switch {
	case ev.Type == mvccpb.DELETE:
		e.Type = storage.Deleted
		e.KV.Value = nil
		e.KV.CreateRevision = e.Prev.CreateRevision
	case ev.Kv.CreateRevision == ev.Kv.ModRevision:
		e.Type = storage.Created
		e.Prev = storage.KeyValue{}
	default:
		e.Type = storage.Updated
	}
	return e, e.Type == storage.Created || ev.PrevKv != nil
}
