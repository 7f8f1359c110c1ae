package storagetest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"skiff.dev/skiff/internal/storage"
)

// memStore is a reference storage.Store: a mutex, a map and the full event
// log. It exists to show that the suite passes on a correct store and, with
// a bug switched on, fails.
type memStore struct {
	opts memOptions
	wg   sync.WaitGroup // watch goroutines

	mu        sync.Mutex // guards everything below
	rnd       *rand.Rand
	closed    bool
	rev       storage.Revision
	compacted storage.Revision
	kvs       map[string]storage.KeyValue
	log       []storage.Event // every write, in revision order
	watchers  map[*memWatch]struct{}
}

type memOptions struct {
	// start is the revision of the new store.
	start storage.Revision
	// foreign makes the store look like one key prefix of a shared etcd:
	// other writers' revisions appear between its own writes.
	foreign bool
	// lateCompacted reports a too-old Watch through Err, not Watch's error.
	lateCompacted bool
	// strictBoundary refuses Watch(since) for since == compacted-1 too.
	strictBoundary bool
	// maxQueue is how many undelivered events a watcher may have.
	maxQueue int
	// bug switches on one deliberate contract violation (see bugs).
	bug string
}

var _ storage.Store = (*memStore)(nil)

func newMemStore(opts memOptions) *memStore {
	if opts.maxQueue == 0 {
		opts.maxQueue = 1 << 14
	}
	return &memStore{
		opts:     opts,
		rnd:      rand.New(rand.NewPCG(uint64(opts.start), 7)),
		rev:      opts.start,
		kvs:      map[string]storage.KeyValue{},
		watchers: map[*memWatch]struct{}{},
	}
}

func (s *memStore) bug(name string) bool { return s.opts.bug == name }

// enter checks what every call checks first; it returns with s.mu held
// when err is nil.
func (s *memStore) enter(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return storage.ErrClosed
	}
	return nil
}

// foreignWriteLocked lets another store's write take a revision.
func (s *memStore) foreignWriteLocked() {
	if s.opts.foreign && s.rnd.IntN(2) == 0 {
		s.rev++
	}
}

func (s *memStore) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	if key == "" {
		return storage.KeyValue{}, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	if err := s.enter(ctx); err != nil {
		return storage.KeyValue{}, err
	}
	defer s.mu.Unlock()
	kv, ok := s.kvs[key]
	if !ok {
		return storage.KeyValue{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return kv, nil
}

// stateAtLocked is the state at rev, rebuilt from the log.
func (s *memStore) stateAtLocked(rev storage.Revision) map[string]storage.KeyValue {
	if rev == s.rev {
		return s.kvs
	}
	state := map[string]storage.KeyValue{}
	for _, ev := range s.log {
		if ev.Revision() > rev {
			break
		}
		switch {
		case ev.Type != storage.Deleted:
			state[ev.KV.Key] = ev.KV
		case !s.bug("listPastIgnoresDeletes"):
			delete(state, ev.KV.Key)
		}
	}
	return state
}

func (s *memStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if opts.Limit < 0 || opts.Revision < 0 {
		return storage.ListResult{}, fmt.Errorf("%w: %+v", storage.ErrInvalid, opts)
	}
	after, err := hex.DecodeString(opts.Continue)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("%w: continue %q", storage.ErrInvalid, opts.Continue)
	}
	if opts.Start != "" && (opts.Continue != "" || !strings.HasPrefix(opts.Start, prefix)) {
		return storage.ListResult{}, fmt.Errorf("%w: start %q", storage.ErrInvalid, opts.Start)
	}
	if err := s.enter(ctx); err != nil {
		return storage.ListResult{}, err
	}
	defer s.mu.Unlock()
	if opts.Revision == storage.AnyRevision {
		s.foreignWriteLocked()
	}
	rev := opts.Revision
	if rev == storage.AnyRevision || (s.bug("paginationIgnoresSnapshot") && opts.Continue != "") {
		rev = s.rev
	}
	switch {
	case rev > s.rev:
		return storage.ListResult{}, fmt.Errorf("%w: %d > %d", storage.ErrFutureRevision, rev, s.rev)
	case rev < s.compacted, s.bug("compactBoundary") && s.compacted > 0 && rev == s.compacted:
		return storage.ListResult{}, fmt.Errorf("%w: %d < %d", storage.ErrCompacted, rev, s.compacted)
	}
	var kvs []storage.KeyValue
	for key, kv := range s.stateAtLocked(rev) {
		if strings.HasPrefix(key, prefix) && (opts.Continue == "" || key > string(after)) &&
			(opts.Start == "" || key >= opts.Start && !(s.bug("startExclusive") && key == opts.Start)) {
			kvs = append(kvs, kv)
		}
	}
	slices.SortFunc(kvs, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	if s.bug("continueSkipsKey") && opts.Continue != "" && len(kvs) > 0 {
		kvs = kvs[1:]
	}
	res := storage.ListResult{KVs: kvs, Revision: rev}
	if opts.Limit > 0 && int64(len(kvs)) > opts.Limit {
		res.KVs = kvs[:opts.Limit]
		res.Remaining = int64(len(kvs)) - opts.Limit
		res.Continue = hex.EncodeToString([]byte(res.KVs[len(res.KVs)-1].Key))
		if s.bug("remainingCountsPage") {
			res.Remaining = int64(len(kvs))
		}
	}
	return res, nil
}

func (s *memStore) value(v []byte) []byte {
	if s.bug("retainsValue") {
		return v
	}
	return bytes.Clone(v)
}

// commitLocked applies a write, built for the next revision, and hands it
// to the watchers.
func (s *memStore) commitLocked(ev storage.Event) storage.Revision {
	s.log = append(s.log, ev)
	s.rev = ev.Revision()
	if ev.Type == storage.Deleted {
		delete(s.kvs, ev.KV.Key)
	} else {
		s.kvs[ev.KV.Key] = ev.KV
	}
	for w := range s.watchers {
		if strings.HasPrefix(ev.KV.Key, w.prefix) {
			w.push(ev)
		}
	}
	return s.rev
}

func (s *memStore) nextLocked() storage.Revision {
	s.foreignWriteLocked()
	return s.rev + 1
}

// failedLocked is a write that did not happen.
func (s *memStore) failedLocked() {
	if s.bug("failedWriteTakesRevision") {
		s.rev++
	}
}

func (s *memStore) Create(ctx context.Context, key string, value []byte) (storage.Revision, error) {
	if key == "" {
		return 0, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	if _, ok := s.kvs[key]; ok {
		s.failedLocked()
		return 0, fmt.Errorf("%w: %s", storage.ErrKeyExists, key)
	}
	rev := s.nextLocked()
	ev := storage.Event{Type: storage.Created, KV: storage.KeyValue{Key: key, Value: s.value(value), CreateRevision: rev, ModRevision: rev}}
	if s.bug("createdHasPrev") {
		// Prev of a re-created key set to the deleted state.
		for _, old := range slices.Backward(s.log) {
			if old.KV.Key == key {
				ev.Prev = old.Prev
				break
			}
		}
	}
	return s.commitLocked(ev), nil
}

// checkLocked finds key for an Update or Delete expecting expected.
func (s *memStore) checkLocked(key string, expected storage.Revision) (storage.KeyValue, error) {
	prev, ok := s.kvs[key]
	switch {
	case !ok && s.bug("conflictOnMissing") && expected != storage.AnyRevision:
		return prev, fmt.Errorf("%w: %s", storage.ErrConflict, key)
	case !ok:
		return prev, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	case expected != storage.AnyRevision && expected != prev.ModRevision:
		return prev, fmt.Errorf("%w: %s is at %d, not %d", storage.ErrConflict, key, prev.ModRevision, expected)
	}
	return prev, nil
}

func (s *memStore) Update(ctx context.Context, key string, value []byte, expected storage.Revision) (storage.Revision, error) {
	if key == "" {
		return 0, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	prev, err := s.checkLocked(key, expected)
	if err != nil {
		s.failedLocked()
		return 0, err
	}
	rev := s.nextLocked()
	kv := storage.KeyValue{Key: key, Value: s.value(value), CreateRevision: prev.CreateRevision, ModRevision: rev}
	if s.bug("updateResetsCreateRevision") {
		kv.CreateRevision = rev
	}
	return s.commitLocked(storage.Event{Type: storage.Updated, KV: kv, Prev: prev}), nil
}

func (s *memStore) Delete(ctx context.Context, key string, expected storage.Revision) (storage.Revision, storage.KeyValue, error) {
	if key == "" {
		return 0, storage.KeyValue{}, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	if err := s.enter(ctx); err != nil {
		return 0, storage.KeyValue{}, err
	}
	defer s.mu.Unlock()
	prev, err := s.checkLocked(key, expected)
	if err != nil {
		s.failedLocked()
		return 0, storage.KeyValue{}, err
	}
	rev := s.nextLocked()
	ev := storage.Event{
		Type: storage.Deleted,
		KV:   storage.KeyValue{Key: key, CreateRevision: prev.CreateRevision, ModRevision: rev},
		Prev: prev,
	}
	if s.bug("deletedWithoutPrev") {
		ev.Prev = storage.KeyValue{}
	}
	s.commitLocked(ev)
	if s.bug("deleteReturnsTombstone") {
		return rev, ev.KV, nil
	}
	return rev, prev, nil
}

func (s *memStore) CurrentRevision(ctx context.Context) (storage.Revision, error) {
	if err := s.enter(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	s.foreignWriteLocked()
	return s.rev, nil
}

func (s *memStore) Compact(ctx context.Context, rev storage.Revision) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	switch {
	case rev <= 0:
		return fmt.Errorf("%w: compact at %d", storage.ErrInvalid, rev)
	case rev <= s.compacted:
		return fmt.Errorf("%w: compact at %d, compacted at %d", storage.ErrCompacted, rev, s.compacted)
	case rev > s.rev:
		return fmt.Errorf("%w: compact at %d > %d", storage.ErrFutureRevision, rev, s.rev)
	}
	s.compacted = rev
	return nil
}

func (s *memStore) Watch(ctx context.Context, prefix string, since storage.Revision) (storage.Watch, error) {
	if since < 0 {
		return nil, fmt.Errorf("%w: watch from %d", storage.ErrInvalid, since)
	}
	if err := s.enter(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	w := &memWatch{
		s: s, prefix: prefix,
		events: make(chan storage.Event),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	tooOld := s.compacted > 0 && (since < s.compacted-1 || s.opts.strictBoundary && since < s.compacted)
	if tooOld && !s.bug("watchIgnoresCompaction") {
		err := fmt.Errorf("%w: watch from %d, compacted at %d", storage.ErrCompacted, since, s.compacted)
		if !s.opts.lateCompacted {
			return nil, err
		}
		w.finish(err)
		close(w.events)
		return w, nil
	}
	for _, ev := range s.log {
		if (ev.Revision() > since || s.bug("watchSinceInclusive") && ev.Revision() == since) && strings.HasPrefix(ev.KV.Key, prefix) {
			w.queue = append(w.queue, ev)
		}
	}
	s.watchers[w] = struct{}{}
	s.wg.Add(1)
	go w.run(ctx)
	return w, nil
}

func (s *memStore) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for w := range s.watchers {
		w.finish(storage.ErrClosed)
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

// memWatch is one watch; its goroutine (run) owns delivery, writers only
// append to its queue.
type memWatch struct {
	s      *memStore
	prefix string
	events chan storage.Event
	wake   chan struct{} // one pending wake-up
	done   chan struct{} // closed by finish

	mu       sync.Mutex
	queue    []storage.Event
	finished bool
	err      error // why it finished; read after events is closed
}

// RequestProgress queues a Progress event at the store's revision behind
// everything queued so far.
func (w *memWatch) RequestProgress(ctx context.Context) error {
	if err := w.s.enter(ctx); err != nil {
		return err
	}
	defer w.s.mu.Unlock()
	w.mu.Lock()
	finished := w.finished
	rev := w.s.rev
	if w.s.bug("progressStale") {
		// the revision of the watch's own latest event, not the store's
		rev = 0
		for _, ev := range w.s.log {
			if strings.HasPrefix(ev.KV.Key, w.prefix) {
				rev = ev.Revision()
			}
		}
	}
	w.mu.Unlock()
	if finished {
		return fmt.Errorf("%w: watch ended", storage.ErrClosed)
	}
	w.push(storage.Event{Type: storage.Progress, KV: storage.KeyValue{ModRevision: rev}})
	return nil
}

// push queues ev, or ends a watcher that has fallen too far behind.
func (w *memWatch) push(ev storage.Event) {
	w.mu.Lock()
	full := len(w.queue) >= w.s.opts.maxQueue
	switch {
	case full || w.finished:
	case ev.Type == storage.Progress && w.s.bug("progressOvertakes"):
		w.queue = append([]storage.Event{ev}, w.queue...)
	default:
		w.queue = append(w.queue, ev)
	}
	w.mu.Unlock()
	if full {
		w.finish(storage.ErrWatcherTooSlow)
		return
	}
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// finish ends the watch with err unless it has ended already.
func (w *memWatch) finish(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return
	}
	w.finished, w.err, w.queue = true, err, nil
	close(w.done)
}

func (w *memWatch) run(ctx context.Context) {
	defer w.s.wg.Done()
	defer close(w.events)
	defer func() {
		w.s.mu.Lock()
		delete(w.s.watchers, w)
		w.s.mu.Unlock()
	}()
	for {
		w.mu.Lock()
		var ev storage.Event
		pending := len(w.queue) > 0
		if pending {
			ev = w.queue[0]
			w.queue = w.queue[1:]
		}
		w.mu.Unlock()
		if !pending {
			select {
			case <-w.wake:
				continue
			case <-w.done:
				return
			case <-ctx.Done():
				w.finish(nil)
				return
			}
		}
		select {
		case w.events <- ev:
		case <-w.done:
			return
		case <-ctx.Done():
			w.finish(nil)
			return
		}
	}
}

func (w *memWatch) Events() <-chan storage.Event { return w.events }

func (w *memWatch) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *memWatch) Stop() {
	if w.s.bug("stopReportsClosed") {
		w.finish(storage.ErrClosed)
		return
	}
	w.finish(nil)
}
