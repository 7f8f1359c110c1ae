package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"skiff.dev/skiff/internal/storage"
)

// waitTimeout bounds every wait for a watch event or a closing watch. A
// correct backend answers in milliseconds; the bound only turns a hang into
// a failure. The package's own tests shorten it.
var waitTimeout = 10 * time.Second

// runTimeout bounds the context of a whole subtest or model sequence, so a
// call that hangs fails (for a backend that honours its context) instead of
// running into the test binary's timeout.
const runTimeout = 2 * time.Minute

func runContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), runTimeout)
	t.Cleanup(cancel)
	return ctx
}

// sameKV reports whether two KeyValues are equal; values compare with
// bytes.Equal, so nil and empty are the same value.
func sameKV(a, b storage.KeyValue) bool {
	return a.Key == b.Key && bytes.Equal(a.Value, b.Value) &&
		a.CreateRevision == b.CreateRevision && a.ModRevision == b.ModRevision
}

func sameEvent(a, b storage.Event) bool {
	return a.Type == b.Type && sameKV(a.KV, b.KV) && sameKV(a.Prev, b.Prev)
}

func sameKVs(a, b []storage.KeyValue) bool { return slices.EqualFunc(a, b, sameKV) }

func fmtValue(v []byte) string {
	switch {
	case v == nil:
		return "nil"
	case len(v) > 24:
		return fmt.Sprintf("<%d bytes crc %08x>", len(v), crc32.ChecksumIEEE(v))
	}
	return fmt.Sprintf("%q", v)
}

func fmtKV(kv storage.KeyValue) string {
	if kv.Key == "" && len(kv.Value) == 0 && kv.CreateRevision == 0 && kv.ModRevision == 0 {
		return "{}"
	}
	return fmt.Sprintf("{%q %s create=%d mod=%d}", kv.Key, fmtValue(kv.Value), kv.CreateRevision, kv.ModRevision)
}

func fmtKVs(kvs []storage.KeyValue) string {
	s := make([]string, len(kvs))
	for i, kv := range kvs {
		s[i] = fmtKV(kv)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func fmtEvent(ev storage.Event) string {
	return fmt.Sprintf("%v@%d kv=%s prev=%s", ev.Type, ev.KV.ModRevision, fmtKV(ev.KV), fmtKV(ev.Prev))
}

func fmtEvents(evs []storage.Event) string {
	s := make([]string, len(evs))
	for i, ev := range evs {
		s[i] = "\n\t" + fmtEvent(ev)
	}
	return strings.Join(s, "")
}

// diffEvents describes how got differs from want: the first difference and
// the events around it.
func diffEvents(got, want []storage.Event) string {
	i := 0
	for i < len(got) && i < len(want) && sameEvent(got[i], want[i]) {
		i++
	}
	lo := max(i-3, 0)
	window := func(evs []storage.Event) string {
		if i >= len(evs) {
			return fmtEvents(evs[min(lo, len(evs)):]) + "\n\t(end)"
		}
		return fmtEvents(evs[lo:min(i+4, len(evs))])
	}
	return fmt.Sprintf("%d events, want %d; first difference at event %d:\ngot (from event %d):%s\nwant (from event %d):%s",
		len(got), len(want), i+1, lo+1, window(got), lo+1, window(want))
}

// Expected events, built from what the writes returned.

func created(kv storage.KeyValue) storage.Event {
	return storage.Event{Type: storage.Created, KV: kv}
}

func updated(prev, kv storage.KeyValue) storage.Event {
	return storage.Event{Type: storage.Updated, KV: kv, Prev: prev}
}

func deleted(prev storage.KeyValue, rev storage.Revision) storage.Event {
	return storage.Event{
		Type: storage.Deleted,
		KV:   storage.KeyValue{Key: prev.Key, CreateRevision: prev.CreateRevision, ModRevision: rev},
		Prev: prev,
	}
}

// eventShapeError checks the rules every event obeys on its own, so a
// malformed event is reported as such rather than as a mismatch.
func eventShapeError(ev storage.Event) error {
	kv, prev := ev.KV, ev.Prev
	switch ev.Type {
	case storage.Progress:
		if kv.Key != "" || len(kv.Value) != 0 || kv.CreateRevision != 0 || !sameKV(prev, storage.KeyValue{}) {
			return fmt.Errorf("Progress event carries more than a revision: KV %s, Prev %s", fmtKV(kv), fmtKV(prev))
		}
		if kv.ModRevision < 0 {
			return fmt.Errorf("Progress event has revision %d", kv.ModRevision)
		}
		return nil
	case storage.Created:
		if !sameKV(prev, storage.KeyValue{}) {
			return fmt.Errorf("Created event has Prev %s, want the zero KeyValue", fmtKV(prev))
		}
		if kv.CreateRevision != kv.ModRevision {
			return fmt.Errorf("Created event has CreateRevision %d != ModRevision %d", kv.CreateRevision, kv.ModRevision)
		}
	case storage.Updated, storage.Deleted:
		if prev.Key != kv.Key {
			return fmt.Errorf("%v event has Prev.Key %q, want %q", ev.Type, prev.Key, kv.Key)
		}
		if prev.CreateRevision != kv.CreateRevision {
			return fmt.Errorf("%v event has Prev.CreateRevision %d, want KV.CreateRevision %d", ev.Type, prev.CreateRevision, kv.CreateRevision)
		}
		if prev.ModRevision >= kv.ModRevision || prev.ModRevision < prev.CreateRevision {
			return fmt.Errorf("%v event has Prev.ModRevision %d, want in [%d, %d)", ev.Type, prev.ModRevision, prev.CreateRevision, kv.ModRevision)
		}
		if ev.Type == storage.Deleted && len(kv.Value) != 0 {
			return fmt.Errorf("Deleted event has KV.Value %s, want empty", fmtValue(kv.Value))
		}
	default:
		return fmt.Errorf("event has unknown type %v", ev.Type)
	}
	if kv.Key == "" || kv.ModRevision <= 0 {
		return fmt.Errorf("event has empty key or revision: %s", fmtKV(kv))
	}
	if ev.Revision() != kv.ModRevision {
		return fmt.Errorf("event Revision() = %d, want KV.ModRevision %d", ev.Revision(), kv.ModRevision)
	}
	return nil
}

// fixture is one subtest's store plus what the subtest has observed of its
// revisions.
type fixture struct {
	t         *testing.T
	s         storage.Store
	ctx       context.Context
	exclusive bool
	// last is the revision of this store's latest write, or the store's
	// revision when the subtest started.
	last storage.Revision
	// seen is the highest CurrentRevision observed.
	seen storage.Revision
}

func newFixture(t *testing.T, newStore func(*testing.T) storage.Store, o RunOptions) *fixture {
	t.Helper()
	s := newStore(t)
	f := &fixture{t: t, s: s, ctx: runContext(t), exclusive: o.ExclusiveRevisions}
	rev, err := s.CurrentRevision(f.ctx)
	if err != nil {
		t.Fatalf("CurrentRevision of a new store: %v", err)
	}
	if rev < 0 {
		t.Fatalf("CurrentRevision of a new store = %d, want >= 0", rev)
	}
	res, err := s.List(f.ctx, "", storage.ListOptions{})
	if err != nil {
		t.Fatalf("List of a new store: %v", err)
	}
	if len(res.KVs) != 0 {
		t.Fatalf("newStore returned a store that is not empty: %s", fmtKVs(res.KVs))
	}
	f.last, f.seen = rev, rev
	return f
}

// current reads CurrentRevision and checks it against everything seen so far.
func (f *fixture) current() storage.Revision {
	f.t.Helper()
	rev, err := f.s.CurrentRevision(f.ctx)
	if err != nil {
		f.t.Fatalf("CurrentRevision: %v", err)
	}
	if rev < f.seen {
		f.t.Fatalf("CurrentRevision went backwards: %d after %d", rev, f.seen)
	}
	if rev < f.last {
		f.t.Fatalf("CurrentRevision = %d, below the acknowledged write at %d", rev, f.last)
	}
	if f.exclusive && rev != f.last {
		f.t.Fatalf("CurrentRevision = %d, want %d, the revision of the latest write (ExclusiveRevisions)", rev, f.last)
	}
	f.seen = rev
	return rev
}

// wrote records a write's revision: above everything before it and, with
// exclusive revisions, exactly one above the previous write.
func (f *fixture) wrote(what string, rev storage.Revision) {
	f.t.Helper()
	floor := max(f.last, f.seen)
	if rev <= floor {
		f.t.Fatalf("%s returned revision %d, want above %d (the store's revision before the write)", what, rev, floor)
	}
	if f.exclusive && rev != f.last+1 {
		f.t.Fatalf("%s returned revision %d, want %d: each write advances the revision by exactly one (ExclusiveRevisions)", what, rev, f.last+1)
	}
	f.last = rev
}

// advanced records the revisions of writes made concurrently: all distinct,
// above the revision before them and, with exclusive revisions, exactly the
// next len(revs) revisions.
func (f *fixture) advanced(what string, revs []storage.Revision) {
	f.t.Helper()
	revs = slices.Clone(revs)
	slices.Sort(revs)
	floor := max(f.last, f.seen)
	for i, rev := range revs {
		if i > 0 && rev == revs[i-1] {
			f.t.Fatalf("%s: two writes got revision %d", what, rev)
		}
		if rev <= floor {
			f.t.Fatalf("%s: a write got revision %d, want above %d", what, rev, floor)
		}
		if f.exclusive && rev != f.last+storage.Revision(i+1) {
			f.t.Fatalf("%s: revisions %v are not the %d revisions after %d (ExclusiveRevisions)", what, revs, len(revs), f.last)
		}
	}
	if len(revs) > 0 {
		f.last = revs[len(revs)-1]
	}
}

func (f *fixture) wantErr(err, target error, what string) {
	f.t.Helper()
	if !errors.Is(err, target) {
		f.t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}

func (f *fixture) get(key string) storage.KeyValue {
	f.t.Helper()
	kv, err := f.s.Get(f.ctx, key)
	if err != nil {
		f.t.Fatalf("Get(%q): %v", key, err)
	}
	return kv
}

func (f *fixture) expectGet(want storage.KeyValue) {
	f.t.Helper()
	if got := f.get(want.Key); !sameKV(got, want) {
		f.t.Fatalf("Get(%q) = %s, want %s", want.Key, fmtKV(got), fmtKV(want))
	}
}

func (f *fixture) expectMissing(key string) {
	f.t.Helper()
	kv, err := f.s.Get(f.ctx, key)
	if !errors.Is(err, storage.ErrNotFound) {
		f.t.Fatalf("Get(%q) = %s, %v; want ErrNotFound", key, fmtKV(kv), err)
	}
}

// create creates key and returns its state, checked through Get.
func (f *fixture) create(key string, value []byte) storage.KeyValue {
	f.t.Helper()
	rev, err := f.s.Create(f.ctx, key, value)
	if err != nil {
		f.t.Fatalf("Create(%q): %v", key, err)
	}
	f.wrote(fmt.Sprintf("Create(%q)", key), rev)
	kv := storage.KeyValue{Key: key, Value: bytes.Clone(value), CreateRevision: rev, ModRevision: rev}
	f.expectGet(kv)
	return kv
}

// update updates prev's key to value, expecting expected, and returns the
// new state, checked through Get.
func (f *fixture) update(prev storage.KeyValue, value []byte, expected storage.Revision) storage.KeyValue {
	f.t.Helper()
	rev, err := f.s.Update(f.ctx, prev.Key, value, expected)
	if err != nil {
		f.t.Fatalf("Update(%q, expected %d): %v", prev.Key, expected, err)
	}
	f.wrote(fmt.Sprintf("Update(%q)", prev.Key), rev)
	kv := storage.KeyValue{Key: prev.Key, Value: bytes.Clone(value), CreateRevision: prev.CreateRevision, ModRevision: rev}
	f.expectGet(kv)
	return kv
}

// delete deletes prev's key, expecting expected, checks that Delete returned
// prev and that the key is gone, and returns the delete's revision.
func (f *fixture) delete(prev storage.KeyValue, expected storage.Revision) storage.Revision {
	f.t.Helper()
	rev, old, err := f.s.Delete(f.ctx, prev.Key, expected)
	if err != nil {
		f.t.Fatalf("Delete(%q, expected %d): %v", prev.Key, expected, err)
	}
	f.wrote(fmt.Sprintf("Delete(%q)", prev.Key), rev)
	if !sameKV(old, prev) {
		f.t.Fatalf("Delete(%q) returned the deleted state %s, want %s", prev.Key, fmtKV(old), fmtKV(prev))
	}
	f.expectMissing(prev.Key)
	return rev
}

// list runs a List and checks what every result must satisfy.
func (f *fixture) list(prefix string, opts storage.ListOptions) storage.ListResult {
	f.t.Helper()
	res, err := f.s.List(f.ctx, prefix, opts)
	if err != nil {
		f.t.Fatalf("List(%q, %+v): %v", prefix, opts, err)
	}
	what := fmt.Sprintf("List(%q, %+v)", prefix, opts)
	for i, kv := range res.KVs {
		if !strings.HasPrefix(kv.Key, prefix) {
			f.t.Fatalf("%s returned %q, which is not under the prefix", what, kv.Key)
		}
		if i > 0 && kv.Key <= res.KVs[i-1].Key {
			f.t.Fatalf("%s returned keys out of order: %q after %q", what, kv.Key, res.KVs[i-1].Key)
		}
	}
	if opts.Limit > 0 && int64(len(res.KVs)) > opts.Limit {
		f.t.Fatalf("%s returned %d keys, above the limit", what, len(res.KVs))
	}
	if res.Remaining < 0 || (res.Continue != "") != (res.Remaining > 0) {
		f.t.Fatalf("%s: Continue %q with Remaining %d; want a Continue exactly when keys remain", what, res.Continue, res.Remaining)
	}
	if opts.Limit == 0 && res.Remaining != 0 {
		f.t.Fatalf("%s without a limit has Remaining %d", what, res.Remaining)
	}
	switch {
	case opts.Revision != storage.AnyRevision && res.Revision != opts.Revision:
		f.t.Fatalf("%s reports revision %d, want the requested %d", what, res.Revision, opts.Revision)
	case opts.Revision == storage.AnyRevision && res.Revision < f.last:
		f.t.Fatalf("%s reports revision %d, below the acknowledged write at %d", what, res.Revision, f.last)
	case opts.Revision == storage.AnyRevision && f.exclusive && res.Revision != f.last:
		f.t.Fatalf("%s reports revision %d, want the current %d (ExclusiveRevisions)", what, res.Revision, f.last)
	}
	return res
}

// expectList lists and checks the page and Remaining.
func (f *fixture) expectList(prefix string, opts storage.ListOptions, want []storage.KeyValue, remaining int64) storage.ListResult {
	f.t.Helper()
	res := f.list(prefix, opts)
	if !sameKVs(res.KVs, want) {
		f.t.Fatalf("List(%q, %+v) =\n\t%s\nwant\n\t%s", prefix, opts, fmtKVs(res.KVs), fmtKVs(want))
	}
	if res.Remaining != remaining {
		f.t.Fatalf("List(%q, %+v): Remaining = %d, want %d", prefix, opts, res.Remaining, remaining)
	}
	return res
}

// listAll reads every page of prefix at one revision with the given limit,
// checking Remaining on every page, and returns the keys and the revision.
func (f *fixture) listAll(prefix string, rev storage.Revision, limit int64) ([]storage.KeyValue, storage.Revision) {
	f.t.Helper()
	opts := storage.ListOptions{Revision: rev, Limit: limit}
	var all []storage.KeyValue
	type pageInfo struct{ end, remaining int64 }
	var pages []pageInfo
	for page := 0; ; page++ {
		if page > 10000 {
			f.t.Fatalf("List(%q) pagination did not end after %d pages", prefix, page)
		}
		res := f.list(prefix, opts)
		if opts.Revision == storage.AnyRevision {
			opts.Revision = res.Revision
		}
		all = append(all, res.KVs...)
		pages = append(pages, pageInfo{int64(len(all)), res.Remaining})
		if res.Continue == "" {
			break
		}
		if len(res.KVs) == 0 {
			f.t.Fatalf("List(%q, %+v) returned an empty page with a Continue", prefix, opts)
		}
		opts.Continue = res.Continue
	}
	// Remaining on each page is the number of keys on the later pages.
	for i, p := range pages {
		if want := int64(len(all)) - p.end; p.remaining != want {
			f.t.Fatalf("List(%q, limit %d) page %d: Remaining = %d, want %d (keys on later pages)", prefix, limit, i+1, p.remaining, want)
		}
	}
	return all, opts.Revision
}

// Watches.

// watchT is a watch read by the test goroutine.
type watchT struct {
	t    *testing.T
	w    storage.Watch
	name string
}

func (f *fixture) watchCtx(ctx context.Context, prefix string, since storage.Revision) *watchT {
	f.t.Helper()
	w, err := f.s.Watch(ctx, prefix, since)
	if err != nil {
		f.t.Fatalf("Watch(%q, %d): %v", prefix, since, err)
	}
	f.t.Cleanup(w.Stop)
	return &watchT{t: f.t, w: w, name: fmt.Sprintf("Watch(%q, %d)", prefix, since)}
}

func (f *fixture) watch(prefix string, since storage.Revision) *watchT {
	f.t.Helper()
	return f.watchCtx(f.ctx, prefix, since)
}

// next returns the next event, failing when the watch closes or nothing
// arrives in time.
func (w *watchT) next() storage.Event {
	w.t.Helper()
	select {
	case ev, ok := <-w.w.Events():
		if !ok {
			w.t.Fatalf("%s closed early, Err() = %v", w.name, w.w.Err())
		}
		if err := eventShapeError(ev); err != nil {
			w.t.Fatalf("%s: %v", w.name, err)
		}
		return ev
	case <-time.After(waitTimeout):
		w.t.Fatalf("%s: no event within %v", w.name, waitTimeout)
	}
	panic("unreachable")
}

// expect reads len(want) events and compares them with want, in order.
func (w *watchT) expect(want ...storage.Event) {
	w.t.Helper()
	for i, e := range want {
		if got := w.next(); !sameEvent(got, e) {
			w.t.Fatalf("%s: event %d of %d is\n\t%s\nwant\n\t%s", w.name, i+1, len(want), fmtEvent(got), fmtEvent(e))
		}
	}
}

// expectClosed waits for Events to close, accepting on the way only the
// events of allowed, in order, and then checks Err against want (nil: Err
// must be nil).
func (w *watchT) expectClosed(want error, allowed ...storage.Event) {
	w.t.Helper()
	deadline := time.After(waitTimeout)
	for i := 0; ; i++ {
		select {
		case ev, ok := <-w.w.Events():
			if !ok {
				err := w.w.Err()
				if (want == nil && err != nil) || !errors.Is(err, want) {
					w.t.Fatalf("%s closed with Err() = %v, want %v", w.name, err, want)
				}
				return
			}
			if i >= len(allowed) || !sameEvent(ev, allowed[i]) {
				w.t.Fatalf("%s: unexpected event %s while waiting for it to close with %v", w.name, fmtEvent(ev), want)
			}
		case <-deadline:
			w.t.Fatalf("%s: Events not closed within %v (want Err %v)", w.name, waitTimeout, want)
		}
	}
}

// expectWatchFails checks that a watch from since cannot start: Watch
// returns target, or returns a watch whose Events closes without delivering
// anything and whose Err is target.
func (f *fixture) expectWatchFails(ctx context.Context, prefix string, since storage.Revision, target error) {
	f.t.Helper()
	w, err := f.s.Watch(ctx, prefix, since)
	if err != nil {
		f.wantErr(err, target, fmt.Sprintf("Watch(%q, %d)", prefix, since))
		return
	}
	defer w.Stop()
	wt := &watchT{t: f.t, w: w, name: fmt.Sprintf("Watch(%q, %d)", prefix, since)}
	wt.expectClosed(target)
}

// Collector drains a watch on its own goroutine, so a test can write a lot
// while the watch keeps up, and then inspect what arrived.
type Collector struct {
	w       storage.Watch
	changed chan struct{} // one pending wake-up
	done    chan struct{} // closed when Events is closed and drained

	mu     sync.Mutex
	events []storage.Event
	closed bool
	err    error
}

// Collect starts draining w; the test's cleanup stops it.
func Collect(t testing.TB, w storage.Watch) *Collector {
	c := &Collector{w: w, changed: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for ev := range w.Events() {
			c.mu.Lock()
			c.events = append(c.events, ev)
			c.mu.Unlock()
			c.wake()
		}
		err := w.Err()
		c.mu.Lock()
		c.closed, c.err = true, err
		c.mu.Unlock()
		c.wake()
	}()
	t.Cleanup(func() {
		w.Stop()
		<-c.done
	})
	return c
}

func (c *Collector) wake() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// waitUntil waits until cond holds for what has arrived, or waitTimeout
// passes, and returns a snapshot; ok says whether cond held.
func (c *Collector) waitUntil(cond func(events []storage.Event, closed bool) bool) (events []storage.Event, closed bool, err error, ok bool) {
	deadline := time.After(waitTimeout)
	for {
		c.mu.Lock()
		events, closed, err = slices.Clone(c.events), c.closed, c.err
		c.mu.Unlock()
		if cond(events, closed) {
			return events, closed, err, true
		}
		select {
		case <-c.changed:
		case <-deadline:
			return events, closed, err, false
		}
	}
}

// stop stops the watch and waits for Events to close; it reports whether it
// closed in time and returns everything that arrived.
func (c *Collector) stop() (events []storage.Event, err error, ok bool) {
	c.w.Stop()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		return nil, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events), c.err, true
}

// WaitUntil waits until cond holds on what arrived so far and returns it
// with the watch's error; it fails t when the watch closes first or after
// the suite's wait timeout.
func (c *Collector) WaitUntil(t testing.TB, what string, cond func(events []storage.Event, closed bool) bool) ([]storage.Event, error) {
	t.Helper()
	events, closed, err, ok := c.waitUntil(func(events []storage.Event, closed bool) bool {
		return cond(events, closed) || closed
	})
	switch {
	case ok && cond(events, closed):
		return events, err
	case closed:
		t.Fatalf("waiting for %s: watch closed with %v after %d events", what, err, len(events))
	default:
		t.Fatalf("waiting for %s: not within %v (%d events so far)", what, waitTimeout, len(events))
	}
	return nil, nil
}

// WaitClosed waits until the watch's Events channel closes by itself and
// returns everything delivered and Err; it fails t after the wait timeout.
func (c *Collector) WaitClosed(t testing.TB) ([]storage.Event, error) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(waitTimeout):
		t.Fatalf("watch not closed within %v", waitTimeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.events), c.err
}

// waitGroupDone returns a channel closed when wg's goroutines are done, so a
// test can wait for them with a deadline.
func waitGroupDone(wg *sync.WaitGroup) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}
