package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"
	bolt "go.etcd.io/bbolt"

	"skiff.dev/skiff/internal/storage"
)

var _ storage.Store = (*Store)(nil)

var (
	bucketLog  = []byte("log")
	bucketMeta = []byte("meta")
	keyCompact = []byte("compact")
)

// FileName is the database file inside the data directory.
const FileName = "state.db"

// Options tune a Store. The zero value is a good default.
type Options struct {
	// History is how many recent revisions are kept for watch replay and
	// reads at a past revision (default 20,000). Older history is compacted
	// automatically.
	History int
	// WatchQueue is how many live events a watcher may have undelivered
	// before it is closed with ErrWatcherTooSlow (default 10,000).
	WatchQueue int
	// MaxBatch caps how many writes share one commit (default 1,024).
	MaxBatch int
	// CheckpointEvery is how many writes the write-ahead log holds before
	// the committer copies them into the database (default 2,048).
	CheckpointEvery int
	// OpenTimeout is how long Open waits for another process to release the
	// database file (default 1 s).
	OpenTimeout time.Duration
}

func (o *Options) setDefaults() {
	if o.History <= 0 {
		o.History = 20_000
	}
	if o.WatchQueue <= 0 {
		o.WatchQueue = 10_000
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = 2048
	}
	if o.OpenTimeout <= 0 {
		o.OpenTimeout = time.Second
	}
}

// Store is the embedded state store. See the package documentation.
type Store struct {
	opts Options
	db   *bolt.DB

	// The write-ahead log: two files used in turn, so that commits go on
	// in one while the other is checkpointed. Only the committer (or Open,
	// before it starts) touches these fields.
	wals       [2]*wal
	active     int            // the file commits append to
	walRecords []record       // the writes in wals[active], not yet in db
	inFlight   *checkpointJob // the checkpoint of the other file, if running
	ckptDone   chan error     // inFlight's result
	// A compaction done in memory and not yet recorded in db: its
	// revision (0: none) and the log records it makes obsolete.
	compactTo storage.Revision
	obsolete  []storage.Revision
	// Scratch space of commit, kept between batches: the pending state of
	// the keys a batch writes, and its log records.
	overlay map[string]pending
	records []record
	// spareRecords is the records array of the last checkpoint finished,
	// for the next walRecords.
	spareRecords []record

	ops  chan *op      // writes waiting for the committer
	quit chan struct{} // closed by Close: the committer stops
	done chan struct{} // closed when the committer has returned

	closeOnce sync.Once

	// mu guards everything below. The committer is the only goroutine that
	// changes state, history and current, and it does so only after the
	// batch that produced the change is durable. Readers take mu.RLock.
	mu       sync.RWMutex
	state    *btree.BTreeG[item] // live keys at revision current
	hist     history             // events in (hist.compacted, current]
	current  storage.Revision
	watchers map[*watcher]struct{}
	closed   bool
	cloneMu  sync.Mutex // serializes state.Clone among readers

	fatal   error // a failed commit; no write is accepted after it. Committer only.
	metrics storeMetrics
}

// item is one live key in the state tree.
type item struct {
	key       string
	value     []byte
	createRev storage.Revision
	modRev    storage.Revision
}

func (i item) kv() storage.KeyValue {
	return storage.KeyValue{Key: i.key, Value: i.value, CreateRevision: i.createRev, ModRevision: i.modRev}
}

func itemLess(a, b item) bool { return a.key < b.key }

// Open opens (creating if needed) the store in dir and recovers its state
// from the log. It fails if another process holds the database.
func Open(dir string, opts Options) (*Store, error) {
	opts.setDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:        opts.OpenTimeout,
		NoFreelistSync: true,
		FreelistType:   bolt.FreelistMapType,
	})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("embedded: %s is in use by another process", path)
		}
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	var wals [2]*wal
	for i, name := range walFileNames {
		if wals[i], err = openWAL(dir, name); err != nil {
			if i == 1 {
				wals[0].close()
			}
			db.Close()
			return nil, err
		}
	}
	s := &Store{
		opts:     opts,
		db:       db,
		wals:     wals,
		ckptDone: make(chan error, 1),
		ops:      make(chan *op, opts.MaxBatch),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		state:    btree.NewG(32, itemLess),
		watchers: make(map[*watcher]struct{}),
		metrics:  newStoreMetrics(),
	}
	if err := s.recover(); err != nil {
		wals[0].close()
		wals[1].close()
		db.Close()
		return nil, err
	}
	go s.commitLoop()
	return s, nil
}

// recover rebuilds state and history from the log, then from the
// write-ahead log, and checkpoints what the latter held. A fresh store
// starts at revision 1 with history beginning after it, as etcd does.
func (s *Store) recover() error {
	if err := s.recoverDB(); err != nil {
		return err
	}
	apply := func(r record) error {
		s.hist.append(s.apply(r))
		s.current = r.rev
		s.walRecords = append(s.walRecords, r)
		return nil
	}
	// The file whose first frame continues the database goes first; the
	// other may continue where it ends (it was being written while the
	// first was checkpointed).
	var replayed [2]bool
	for progress := true; progress; {
		progress = false
		for i, w := range s.wals {
			if replayed[i] {
				continue
			}
			from := s.current
			if err := w.replay(from, apply); err != nil {
				return err
			}
			if s.current != from {
				replayed[i], progress = true, true
			}
		}
	}
	if len(s.walRecords) > 0 {
		if err := s.checkpointNow(0); err != nil {
			return fmt.Errorf("embedded: checkpoint of the write-ahead log: %w", err)
		}
	}
	s.wals[0].reset()
	s.wals[1].reset()
	return nil
}

func (s *Store) recoverDB() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		log, err := tx.CreateBucketIfNotExists(bucketLog)
		if err != nil {
			return err
		}
		compacted := storage.Revision(1)
		if v := meta.Get(keyCompact); v != nil {
			if compacted, err = parseRevKey(v); err != nil {
				return fmt.Errorf("embedded: meta: %w", err)
			}
		} else if err := meta.Put(keyCompact, revKey(compacted)); err != nil {
			return err
		}
		s.hist = history{compacted: compacted}
		s.current = compacted
		c := log.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			rev, err := parseRevKey(k)
			if err != nil {
				return err
			}
			r, err := decodeRecord(rev, v)
			if err != nil {
				return err
			}
			if rev > compacted && rev != s.current+1 {
				return fmt.Errorf("%w: revision %d follows %d: history has a gap", errCorruptRecord, rev, s.current)
			}
			ev := s.apply(r)
			if rev > compacted {
				s.hist.append(ev)
			}
			if rev > s.current {
				s.current = rev
			}
		}
		return nil
	})
}

// apply changes the state tree by one record and returns the event it
// makes. Caller holds mu (or is recovering).
func (s *Store) apply(r record) storage.Event {
	ev := storage.Event{KV: storage.KeyValue{Key: r.key, Value: r.value, CreateRevision: r.createRev, ModRevision: r.rev}}
	// One walk of the tree both changes the key and finds its previous state.
	var prev item
	var had bool
	if r.tombstone {
		ev.Type = storage.Deleted
		prev, had = s.state.Delete(item{key: r.key})
	} else {
		ev.Type = storage.Created
		prev, had = s.state.ReplaceOrInsert(item{key: r.key, value: r.value, createRev: r.createRev, modRev: r.rev})
		if had {
			ev.Type = storage.Updated
		}
	}
	if had {
		ev.Prev = prev.kv()
	}
	return ev
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	if err := ctx.Err(); err != nil {
		return storage.KeyValue{}, err
	}
	if key == "" {
		return storage.KeyValue{}, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.KeyValue{}, storage.ErrClosed
	}
	it, ok := s.state.Get(item{key: key})
	if !ok {
		return storage.KeyValue{}, fmt.Errorf("%w: %s", storage.ErrNotFound, key)
	}
	return it.kv(), nil
}

// CurrentRevision implements storage.Store.
func (s *Store) CurrentRevision(ctx context.Context) (storage.Revision, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, storage.ErrClosed
	}
	return s.current, nil
}

// List implements storage.Store. It reads a copy-on-write snapshot of the
// state tree, so a long list never holds up writers; a read at a past
// revision undoes the newer history on top of that snapshot.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if err := ctx.Err(); err != nil {
		return storage.ListResult{}, err
	}
	if opts.Limit < 0 || opts.Revision < 0 {
		return storage.ListResult{}, fmt.Errorf("%w: negative limit or revision", storage.ErrInvalid)
	}
	start := prefix
	switch {
	case opts.Continue != "" && opts.Start != "":
		return storage.ListResult{}, fmt.Errorf("%w: both Continue and Start set", storage.ErrInvalid)
	case opts.Continue != "":
		if !strings.HasPrefix(opts.Continue, prefix) {
			return storage.ListResult{}, fmt.Errorf("%w: continue token is not under prefix %q", storage.ErrInvalid, prefix)
		}
		start = opts.Continue
	case opts.Start != "":
		if !strings.HasPrefix(opts.Start, prefix) {
			return storage.ListResult{}, fmt.Errorf("%w: start key %q is not under prefix %q", storage.ErrInvalid, opts.Start, prefix)
		}
		start = opts.Start
	}

	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return storage.ListResult{}, storage.ErrClosed
	}
	rev := s.current
	var undo events
	switch {
	case opts.Revision == storage.AnyRevision || opts.Revision == s.current:
	case opts.Revision > s.current:
		s.mu.RUnlock()
		return storage.ListResult{}, fmt.Errorf("%w: %d (current %d)", storage.ErrFutureRevision, opts.Revision, rev)
	case opts.Revision < s.hist.compacted:
		compacted := s.hist.compacted
		s.mu.RUnlock()
		return storage.ListResult{}, fmt.Errorf("%w: %d (compacted %d)", storage.ErrCompacted, opts.Revision, compacted)
	default:
		undo = s.hist.since(opts.Revision)
		rev = opts.Revision
	}
	s.cloneMu.Lock() // Clone writes the tree's copy-on-write marker
	snap := s.state.Clone()
	s.cloneMu.Unlock()
	s.mu.RUnlock()

	res := storage.ListResult{Revision: rev}
	pastState := undoOverlay(undo, prefix)
	var last string
	mergeRange(snap, pastState, prefix, start, func(kv storage.KeyValue) bool {
		if opts.Limit > 0 && int64(len(res.KVs)) == opts.Limit {
			res.Remaining++
			return true
		}
		res.KVs = append(res.KVs, kv)
		last = kv.Key
		return true
	})
	if res.Remaining > 0 {
		res.Continue = last + "\x00"
	}
	return res, nil
}

// undoOverlay returns, for each key under prefix changed by events (which
// follow revision R in order), the key's state at R: absent (Key == "") when
// the first change created it.
func undoOverlay(undo events, prefix string) map[string]storage.KeyValue {
	if len(undo) == 0 {
		return nil
	}
	past := make(map[string]storage.KeyValue)
	for _, c := range undo {
		for _, ev := range c {
			if !strings.HasPrefix(ev.KV.Key, prefix) {
				continue
			}
			if _, seen := past[ev.KV.Key]; !seen {
				past[ev.KV.Key] = ev.Prev
			}
		}
	}
	return past
}

// mergeRange calls fn, in key order, for every key under prefix at or after
// start as of the overlaid revision: keys of snap not in past, plus the keys
// past says existed. It stops when fn returns false.
func mergeRange(snap *btree.BTreeG[item], past map[string]storage.KeyValue, prefix, start string, fn func(storage.KeyValue) bool) {
	var older []storage.KeyValue // existed at the past revision, sorted
	for k, kv := range past {
		if kv.Key != "" && k >= start {
			older = append(older, kv)
		}
	}
	sortKVs(older)
	i := 0
	cont := true
	snap.AscendGreaterOrEqual(item{key: start}, func(it item) bool {
		if !strings.HasPrefix(it.key, prefix) {
			return false
		}
		for i < len(older) && older[i].Key < it.key {
			if cont = fn(older[i]); !cont {
				return false
			}
			i++
		}
		if _, changed := past[it.key]; changed {
			return true // its past state (if any) comes from older
		}
		cont = fn(it.kv())
		return cont
	})
	for ; cont && i < len(older); i++ {
		cont = fn(older[i])
	}
}

// Close stops the committer (queued writes fail with ErrClosed), ends every
// watch with ErrClosed and closes the database.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
		s.mu.Lock()
		s.closed = true
		watchers := make([]*watcher, 0, len(s.watchers))
		for w := range s.watchers {
			w.fail(storage.ErrClosed)
			watchers = append(watchers, w)
		}
		s.watchers = nil // run's unregister deletes from a nil map: a no-op
		s.mu.Unlock()
		for _, w := range watchers {
			<-w.finished
		}
		err = errors.Join(s.wals[0].close(), s.wals[1].close(), s.db.Close())
	})
	return err
}
