package storagetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// model is the storage contract as a pure state machine: current state,
// every event since the run began, the revision and the compaction
// revision. It knows nothing of the store it is compared with.
type model struct {
	base      storage.Revision // the store's revision when the run began
	rev       storage.Revision
	compacted storage.Revision // 0 until the run compacts
	kvs       map[string]storage.KeyValue
	hist      []storage.Event // every write of the run, in order
}

func newModel(base storage.Revision) *model {
	return &model{base: base, rev: base, kvs: map[string]storage.KeyValue{}}
}

func (m *model) apply(ev storage.Event) storage.Revision {
	m.hist = append(m.hist, ev)
	m.rev = ev.Revision()
	if ev.Type == storage.Deleted {
		delete(m.kvs, ev.KV.Key)
	} else {
		m.kvs[ev.KV.Key] = ev.KV
	}
	return m.rev
}

func (m *model) get(key string) (storage.KeyValue, error) {
	kv, ok := m.kvs[key]
	if !ok {
		return storage.KeyValue{}, storage.ErrNotFound
	}
	return kv, nil
}

func (m *model) create(key string, value []byte) (storage.Revision, error) {
	if _, ok := m.kvs[key]; ok {
		return 0, storage.ErrKeyExists
	}
	rev := m.rev + 1
	return m.apply(created(storage.KeyValue{Key: key, Value: bytes.Clone(value), CreateRevision: rev, ModRevision: rev})), nil
}

func (m *model) update(key string, value []byte, expected storage.Revision) (storage.Revision, error) {
	prev, ok := m.kvs[key]
	switch {
	case !ok:
		return 0, storage.ErrNotFound
	case expected != storage.AnyRevision && expected != prev.ModRevision:
		return 0, storage.ErrConflict
	}
	kv := storage.KeyValue{Key: key, Value: bytes.Clone(value), CreateRevision: prev.CreateRevision, ModRevision: m.rev + 1}
	return m.apply(updated(prev, kv)), nil
}

func (m *model) delete(key string, expected storage.Revision) (storage.Revision, storage.KeyValue, error) {
	prev, ok := m.kvs[key]
	switch {
	case !ok:
		return 0, storage.KeyValue{}, storage.ErrNotFound
	case expected != storage.AnyRevision && expected != prev.ModRevision:
		return 0, storage.KeyValue{}, storage.ErrConflict
	}
	return m.apply(deleted(prev, m.rev+1)), prev, nil
}

// list returns every key under prefix at rev (AnyRevision: current), in
// order, and the revision read.
func (m *model) list(prefix string, rev storage.Revision) ([]storage.KeyValue, storage.Revision, error) {
	switch {
	case rev == storage.AnyRevision:
		rev = m.rev
	case rev > m.rev:
		return nil, 0, storage.ErrFutureRevision
	case rev < m.compacted:
		return nil, 0, storage.ErrCompacted
	}
	state := m.kvs
	if rev != m.rev {
		state = map[string]storage.KeyValue{} // the store was empty at base
		for _, ev := range m.hist {
			if ev.Revision() > rev {
				break
			}
			if ev.Type == storage.Deleted {
				delete(state, ev.KV.Key)
			} else {
				state[ev.KV.Key] = ev.KV
			}
		}
	}
	var kvs []storage.KeyValue
	for _, kv := range state {
		if strings.HasPrefix(kv.Key, prefix) {
			kvs = append(kvs, kv)
		}
	}
	slices.SortFunc(kvs, func(a, b storage.KeyValue) int { return strings.Compare(a.Key, b.Key) })
	return kvs, rev, nil
}

func (m *model) compact(rev storage.Revision) error {
	switch {
	case rev <= m.compacted:
		return storage.ErrCompacted
	case rev > m.rev:
		return storage.ErrFutureRevision
	}
	m.compacted = rev
	return nil
}

// events returns the events a watch of prefix from since must deliver.
func (m *model) events(prefix string, since storage.Revision) []storage.Event {
	var evs []storage.Event
	for _, ev := range m.hist {
		if ev.Revision() > since && strings.HasPrefix(ev.KV.Key, prefix) {
			evs = append(evs, ev)
		}
	}
	return evs
}

// watchMode is what a watch from some revision may answer.
type watchMode uint8

const (
	watchExact     watchMode = iota // every event after since
	watchCompacted                  // ErrCompacted
	watchBoundary                   // since == compacted-1: either (see doc.go)
)

func (m *model) watchMode(since storage.Revision) watchMode {
	switch {
	case m.compacted == 0 || since >= m.compacted:
		return watchExact
	case since == m.compacted-1:
		return watchBoundary
	}
	return watchCompacted
}

// chooser is where an operation sequence comes from: a seeded generator or
// fuzz input.
type chooser interface {
	// intn returns a number in [0, n); n > 0.
	intn(n int) int
	// exhausted says the sequence is over.
	exhausted() bool
}

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int  { return c.r.IntN(n) }
func (c randChooser) exhausted() bool { return false }

// byteChooser reads choices from fuzz input: one byte per choice of up to
// 256 options, zeros once the input is used up.
type byteChooser struct {
	data []byte
	pos  int
}

func (c *byteChooser) intn(n int) int {
	v := 0
	for rest := n - 1; rest > 0; rest >>= 8 {
		v <<= 8
		if c.pos < len(c.data) {
			v |= int(c.data[c.pos])
			c.pos++
		}
	}
	return v % n
}

func (c *byteChooser) exhausted() bool { return c.pos >= len(c.data) }

// The key space is small so that creates collide and revisions go stale;
// "/a/1" is a prefix of "/a/10" and "/a" of "/ab/1".
var (
	modelKeys     = []string{"/a/1", "/a/10", "/a/2", "/a/3", "/ab/1", "/b/1", "/b/2", "/b/3"}
	modelPrefixes = []string{"", "/a", "/a/", "/a/1", "/ab/", "/b/", "/b/2", "/c/"}
)

const (
	maxModelWatches = 6
	maxFuzzOps      = 200
	seedEnv         = "STORAGETEST_SEED"
)

// RunModel runs seeds random operation sequences of opsPerSeed operations
// each, every one on a fresh store from newStore, and compares every answer
// with the reference model: values, revisions and error classes. At the end
// of a sequence it drains every watch the sequence started and compares its
// events with the model's history.
//
// The model predicts revisions exactly, so nothing else may write to the
// store's revision counter while a sequence runs (a shared etcd is fine if
// nothing else uses it meanwhile); seeds run one after another.
//
// The seeds are consecutive from a random root, logged at the start; set
// STORAGETEST_SEED to fix the root, e.g. to reproduce a failure (the failure
// message says how).
func RunModel(t *testing.T, newStore func(t *testing.T) storage.Store, seeds int, opsPerSeed int) {
	t.Helper()
	root := rand.Uint64N(1 << 40)
	if env := os.Getenv(seedEnv); env != "" {
		var err error
		if root, err = strconv.ParseUint(env, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, env, err)
		}
	}
	t.Logf("RunModel: seeds %d to %d (%s=%d reproduces them)", root, root+uint64(seeds)-1, seedEnv, root)
	for i := range seeds {
		seed := root + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			run := "^" + strings.ReplaceAll(t.Name(), "/", "$/^") + "$"
			label := fmt.Sprintf("seed %d (reproduce: %s=%d go test -run '%s')", seed, seedEnv, seed, run)
			c := randChooser{rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
			runModel(t, newStore(t), c, opsPerSeed, label)
		})
	}
}

// RunModelFromBytes decodes an operation sequence (up to 200 operations)
// from data and runs it against s as RunModel does, so a backend can fuzz:
//
//	func FuzzStore(f *testing.F) {
//		f.Add([]byte("seed corpus"))
//		f.Fuzz(func(t *testing.T, data []byte) {
//			storagetest.RunModelFromBytes(t, newStore(t), data)
//		})
//	}
//
// s must be fresh and empty, and nothing else may write to its revision
// counter during the run.
func RunModelFromBytes(t *testing.T, s storage.Store, data []byte) {
	t.Helper()
	runModel(t, s, &byteChooser{data: data}, maxFuzzOps, "fuzz input")
}

// modelRunner applies operations to the store and the model side by side.
type modelRunner struct {
	t     *testing.T
	s     storage.Store
	ctx   context.Context
	c     chooser
	m     *model
	label string
	trace []string // every operation so far, for failure messages

	watches     []*modelWatch
	compactions []compaction
}

type compaction struct {
	op  int // index in trace
	rev storage.Revision
}

// modelWatch is a watch the sequence started.
type modelWatch struct {
	desc      string
	prefix    string
	since     storage.Revision
	op        int // index in trace
	mode      watchMode
	compacted storage.Revision // the compaction revision when it started
	refused   bool             // Watch returned ErrCompacted
	col       *Collector
}

func runModel(t *testing.T, s storage.Store, c chooser, maxOps int, label string) {
	t.Helper()
	ctx := runContext(t)
	base, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatalf("%s: CurrentRevision: %v", label, err)
	}
	res, err := s.List(ctx, "", storage.ListOptions{})
	if err != nil {
		t.Fatalf("%s: List: %v", label, err)
	}
	if len(res.KVs) != 0 {
		t.Fatalf("%s: the model needs an empty store; this one holds %s", label, fmtKVs(res.KVs))
	}
	r := &modelRunner{t: t, s: s, ctx: ctx, c: c, m: newModel(base), label: label}
	for i := 0; i < maxOps && !c.exhausted(); i++ {
		r.step()
	}
	r.finish()
}

// fail reports a difference with the last 40 operations.
func (r *modelRunner) fail(format string, args ...any) {
	r.t.Helper()
	r.failFrom(len(r.trace)-40, format, args...)
}

// failFrom reports a difference with the operations from index from on.
func (r *modelRunner) failFrom(from int, format string, args ...any) {
	r.t.Helper()
	from = max(from, 0)
	skipped := ""
	if from > 0 {
		skipped = fmt.Sprintf("\t... %d earlier operations\n", from)
	}
	r.t.Fatalf("%s: %s\noperations (store revision before the run: %d):\n%s\t%s",
		r.label, fmt.Sprintf(format, args...), r.m.base, skipped, strings.Join(r.trace[from:], "\n\t"))
}

func (r *modelRunner) log(format string, args ...any) {
	r.trace = append(r.trace, fmt.Sprintf("%3d: ", len(r.trace))+fmt.Sprintf(format, args...))
}

func (r *modelRunner) checkErr(what string, got, want error) {
	r.t.Helper()
	switch {
	case want == nil && got != nil:
		r.fail("%s: unexpected error %v", what, got)
	case want != nil && !errors.Is(got, want):
		r.fail("%s: error %v, want %v", what, got, want)
	}
}

func (r *modelRunner) step() {
	r.t.Helper()
	switch n := r.c.intn(100); {
	case n < 20:
		r.create()
	case n < 40:
		r.update()
	case n < 52:
		r.delete()
	case n < 62:
		r.get()
	case n < 81:
		r.list()
	case n < 85:
		r.compact()
	case n < 91:
		r.watch()
	default:
		r.currentRevision()
	}
}

func (r *modelRunner) write() {
	r.t.Helper()
	switch r.c.intn(3) {
	case 0:
		r.create()
	case 1:
		r.update()
	default:
		r.delete()
	}
}

// Choices.

func (r *modelRunner) key() string { return modelKeys[r.c.intn(len(modelKeys))] }

// existingKey is usually a key that exists, so that updates and deletes
// mostly reach their revision check.
func (r *modelRunner) existingKey() string {
	if len(r.m.kvs) == 0 || r.c.intn(4) == 0 {
		return r.key()
	}
	keys := make([]string, 0, len(r.m.kvs))
	for k := range r.m.kvs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[r.c.intn(len(keys))]
}

func (r *modelRunner) prefix() string { return modelPrefixes[r.c.intn(len(modelPrefixes))] }

func (r *modelRunner) value() []byte {
	v := make([]byte, r.c.intn(5))
	for i := range v {
		v[i] = byte(r.c.intn(256))
	}
	return v
}

// revisionIn returns a revision in [lo, hi], or lo if the range is empty.
func (r *modelRunner) revisionIn(lo, hi storage.Revision) storage.Revision {
	if hi <= lo {
		return lo
	}
	return lo + storage.Revision(r.c.intn(int(hi-lo+1)))
}

// expected picks the expected revision of an Update or Delete: the key's
// own, AnyRevision, or one the key does not have.
func (r *modelRunner) expected(key string) (storage.Revision, string) {
	cur, ok := r.m.kvs[key]
	switch r.c.intn(4) {
	case 0:
		return storage.AnyRevision, "any"
	case 1, 2:
		if ok {
			return cur.ModRevision, "current"
		}
	}
	rev := r.revisionIn(max(r.m.base, 1), r.m.rev+1)
	if ok && rev == cur.ModRevision {
		rev++
	}
	return rev, "stale"
}

// Operations.

func (r *modelRunner) create() {
	r.t.Helper()
	key, val := r.key(), r.value()
	what := fmt.Sprintf("Create(%q, %s)", key, fmtValue(val))
	rev, err := r.s.Create(r.ctx, key, val)
	r.log("%s = %d, %v", what, rev, err)
	wantRev, wantErr := r.m.create(key, val)
	clear(val) // the store must have copied it
	r.checkErr(what, err, wantErr)
	if wantErr == nil && rev != wantRev {
		r.fail("%s = revision %d, want %d", what, rev, wantRev)
	}
}

func (r *modelRunner) update() {
	r.t.Helper()
	key, val := r.existingKey(), r.value()
	exp, kind := r.expected(key)
	what := fmt.Sprintf("Update(%q, %s, %d %s)", key, fmtValue(val), exp, kind)
	rev, err := r.s.Update(r.ctx, key, val, exp)
	r.log("%s = %d, %v", what, rev, err)
	wantRev, wantErr := r.m.update(key, val, exp)
	clear(val)
	r.checkErr(what, err, wantErr)
	if wantErr == nil && rev != wantRev {
		r.fail("%s = revision %d, want %d", what, rev, wantRev)
	}
}

func (r *modelRunner) delete() {
	r.t.Helper()
	key := r.existingKey()
	exp, kind := r.expected(key)
	what := fmt.Sprintf("Delete(%q, %d %s)", key, exp, kind)
	rev, old, err := r.s.Delete(r.ctx, key, exp)
	r.log("%s = %d, %s, %v", what, rev, fmtKV(old), err)
	wantRev, wantOld, wantErr := r.m.delete(key, exp)
	r.checkErr(what, err, wantErr)
	if wantErr == nil && (rev != wantRev || !sameKV(old, wantOld)) {
		r.fail("%s = %d, %s; want %d, %s", what, rev, fmtKV(old), wantRev, fmtKV(wantOld))
	}
}

func (r *modelRunner) get() {
	r.t.Helper()
	key := r.key()
	kv, err := r.s.Get(r.ctx, key)
	r.log("Get(%q) = %s, %v", key, fmtKV(kv), err)
	want, wantErr := r.m.get(key)
	r.checkErr(fmt.Sprintf("Get(%q)", key), err, wantErr)
	if wantErr == nil && !sameKV(kv, want) {
		r.fail("Get(%q) = %s, want %s", key, fmtKV(kv), fmtKV(want))
	}
}

func (r *modelRunner) currentRevision() {
	r.t.Helper()
	rev, err := r.s.CurrentRevision(r.ctx)
	r.log("CurrentRevision() = %d, %v", rev, err)
	r.checkErr("CurrentRevision", err, nil)
	if rev != r.m.rev {
		r.fail("CurrentRevision() = %d, want %d", rev, r.m.rev)
	}
}

func (r *modelRunner) listRevision() storage.Revision {
	m := r.m
	lo := max(m.base, 1)
	switch r.c.intn(7) {
	case 2:
		return m.rev // explicitly current (AnyRevision if nothing was written yet)
	case 3, 4:
		if m.rev >= lo {
			return r.revisionIn(lo, m.rev)
		}
	case 5:
		if m.compacted > lo {
			return r.revisionIn(lo, m.compacted-1)
		}
	case 6:
		return m.rev + 1 + storage.Revision(r.c.intn(3))
	}
	return storage.AnyRevision
}

// list reads every page of a List, sometimes writing between pages, and
// compares each page with the model's snapshot.
func (r *modelRunner) list() {
	r.t.Helper()
	prefix := r.prefix()
	opts := storage.ListOptions{Revision: r.listRevision(), Limit: []int64{0, 0, 1, 2, 3}[r.c.intn(5)]}
	interleave := r.c.intn(3) == 0

	want, wantRev, wantErr := r.m.list(prefix, opts.Revision)
	for page, seen := 1, 0; ; page++ {
		what := fmt.Sprintf("List(%q, rev %d, limit %d) page %d", prefix, opts.Revision, opts.Limit, page)
		res, err := r.s.List(r.ctx, prefix, opts)
		r.log("%s = %s rev %d remaining %d continue %t, %v", what, fmtKVs(res.KVs), res.Revision, res.Remaining, res.Continue != "", err)
		r.checkErr(what, err, wantErr)
		if wantErr != nil {
			return
		}
		end := len(want)
		if opts.Limit > 0 {
			end = min(end, seen+int(opts.Limit))
		}
		remaining := int64(len(want) - end)
		switch {
		case res.Revision != wantRev:
			r.fail("%s: Revision %d, want %d", what, res.Revision, wantRev)
		case !sameKVs(res.KVs, want[seen:end]):
			r.fail("%s = %s, want %s", what, fmtKVs(res.KVs), fmtKVs(want[seen:end]))
		case res.Remaining != remaining:
			r.fail("%s: Remaining %d, want %d", what, res.Remaining, remaining)
		case (res.Continue != "") != (remaining > 0):
			r.fail("%s: Continue %q with %d keys remaining", what, res.Continue, remaining)
		}
		if remaining == 0 {
			return
		}
		seen = end
		opts.Revision, opts.Continue = wantRev, res.Continue
		if interleave {
			r.write()
		}
	}
}

func (r *modelRunner) compact() {
	r.t.Helper()
	m := r.m
	lo := m.base + 1 // at or below base the store may have been compacted before the run
	var rev storage.Revision
	switch r.c.intn(4) {
	case 0, 1:
		rev = r.revisionIn(max(lo, m.compacted+1), m.rev)
	case 2:
		rev = r.revisionIn(lo, max(m.compacted, lo))
	default:
		rev = m.rev + 1 + storage.Revision(r.c.intn(2))
	}
	err := r.s.Compact(r.ctx, rev)
	r.log("Compact(%d) = %v", rev, err)
	wantErr := m.compact(rev)
	r.checkErr(fmt.Sprintf("Compact(%d)", rev), err, wantErr)
	if wantErr == nil {
		r.compactions = append(r.compactions, compaction{op: len(r.trace) - 1, rev: rev})
	}
}

func (r *modelRunner) watch() {
	r.t.Helper()
	if len(r.watches) >= maxModelWatches {
		r.get()
		return
	}
	m := r.m
	prefix := r.prefix()
	var since storage.Revision
	switch r.c.intn(6) {
	case 0, 1:
		since = m.rev
	case 2, 3:
		since = r.revisionIn(max(m.base, m.compacted), m.rev)
	case 4:
		since = r.revisionIn(m.base, max(m.compacted-2, m.base)) // below the compaction, if any
	default:
		since = max(m.compacted-1, m.base) // the boundary, if any
	}
	mw := &modelWatch{
		desc:   fmt.Sprintf("Watch(%q, %d)", prefix, since),
		prefix: prefix, since: since, op: len(r.trace),
		mode: m.watchMode(since), compacted: m.compacted,
	}
	w, err := r.s.Watch(r.ctx, prefix, since)
	r.log("%s = %v", mw.desc, err)
	switch {
	case err == nil:
		mw.col = Collect(r.t, w)
	case errors.Is(err, storage.ErrCompacted) && mw.mode != watchExact:
		mw.refused = true
	case mw.mode == watchCompacted:
		r.fail("%s: error %v, want %v", mw.desc, err, storage.ErrCompacted)
	default:
		r.fail("%s: unexpected error %v", mw.desc, err)
	}
	r.watches = append(r.watches, mw)
}

// finish compares the final state and every watch's events with the model.
func (r *modelRunner) finish() {
	r.t.Helper()
	r.currentRevision()
	res, err := r.s.List(r.ctx, "", storage.ListOptions{})
	r.checkErr("final List", err, nil)
	want, _, _ := r.m.list("", storage.AnyRevision)
	if !sameKVs(res.KVs, want) || res.Revision != r.m.rev {
		r.fail("final List at %d = %s, want at %d %s", res.Revision, fmtKVs(res.KVs), r.m.rev, fmtKVs(want))
	}
	for _, mw := range r.watches {
		r.checkWatch(mw)
	}
}

func countAfter(evs []storage.Event, rev storage.Revision) int {
	n := 0
	for _, ev := range evs {
		if ev.Revision() > rev {
			n++
		}
	}
	return n
}

func (r *modelRunner) checkWatch(mw *modelWatch) {
	r.t.Helper()
	if mw.refused {
		return
	}
	want := r.m.events(mw.prefix, mw.since)
	var enough func(evs []storage.Event, closed bool) bool
	switch mw.mode {
	case watchCompacted:
		enough = func(evs []storage.Event, closed bool) bool { return closed || len(evs) > 0 }
	case watchBoundary:
		n := countAfter(want, mw.compacted)
		enough = func(evs []storage.Event, closed bool) bool { return closed || countAfter(evs, mw.compacted) >= n }
	default:
		enough = func(evs []storage.Event, closed bool) bool { return closed || len(evs) >= len(want) }
	}
	if got, _, _, ok := mw.col.waitUntil(enough); !ok {
		r.failFrom(mw.op-5, "%s (operation %d): timed out after %v with %s", mw.desc, mw.op, waitTimeout, diffEvents(got, want))
	}
	got, err, ok := mw.col.stop()
	if !ok {
		r.failFrom(mw.op-5, "%s (operation %d): Events not closed within %v of Stop", mw.desc, mw.op, waitTimeout)
	}

	switch mw.mode {
	case watchCompacted:
		if len(got) > 0 || !errors.Is(err, storage.ErrCompacted) {
			r.failFrom(mw.op-5, "%s (operation %d) below the compaction at %d: got Err %v and events:%s\nwant ErrCompacted and none",
				mw.desc, mw.op, mw.compacted, err, fmtEvents(got))
		}
		return
	case watchBoundary:
		if errors.Is(err, storage.ErrCompacted) && len(got) == 0 {
			return
		}
		// The event at the compaction revision may be missing or lack Prev.
		if len(want) > 0 && want[0].Revision() == mw.compacted {
			if len(got) > 0 && got[0].Revision() == mw.compacted {
				if got[0].Type != want[0].Type || !sameKV(got[0].KV, want[0].KV) {
					r.failFrom(mw.op-5, "%s (operation %d): first event %s, want %s", mw.desc, mw.op, fmtEvent(got[0]), fmtEvent(want[0]))
				}
				got = got[1:]
			}
			want = want[1:]
		}
	}
	isPrefix := len(got) <= len(want) && slices.EqualFunc(got, want[:len(got)], sameEvent)
	switch {
	case err == nil && isPrefix && len(got) == len(want):
	case errors.Is(err, storage.ErrCompacted) && isPrefix && r.compactedAfter(mw):
		// Overtaken by a later compaction before it caught up.
	default:
		r.failFrom(mw.op-5, "%s (operation %d) ended with Err %v after %s", mw.desc, mw.op, err, diffEvents(got, want))
	}
}

// compactedAfter says whether a compaction after mw started discarded
// history mw might still have needed.
func (r *modelRunner) compactedAfter(mw *modelWatch) bool {
	for _, c := range r.compactions {
		if c.op > mw.op && c.rev > mw.since {
			return true
		}
	}
	return false
}
