package embedded

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"skiff.dev/skiff/internal/storage"
)

type opKind uint8

const (
	opCreate opKind = iota + 1
	opUpdate
	opDelete
	opCompact
)

// op is one write waiting for the committer. The committer fills in the
// result fields and then closes done.
type op struct {
	kind     opKind
	key      string
	value    []byte           // inside frame once submitted
	frame    []byte           // see record.frame
	expected storage.Revision // update/delete precondition; compact target

	rev  storage.Revision
	prev storage.KeyValue
	err  error
	done chan struct{}
}

// Create implements storage.Store.
func (s *Store) Create(ctx context.Context, key string, value []byte) (storage.Revision, error) {
	o, err := s.submit(ctx, &op{kind: opCreate, key: key, value: value})
	if err != nil {
		return 0, err
	}
	return o.rev, nil
}

// Update implements storage.Store.
func (s *Store) Update(ctx context.Context, key string, value []byte, expected storage.Revision) (storage.Revision, error) {
	o, err := s.submit(ctx, &op{kind: opUpdate, key: key, value: value, expected: expected})
	if err != nil {
		return 0, err
	}
	return o.rev, nil
}

// Delete implements storage.Store.
func (s *Store) Delete(ctx context.Context, key string, expected storage.Revision) (storage.Revision, storage.KeyValue, error) {
	o, err := s.submit(ctx, &op{kind: opDelete, key: key, expected: expected})
	if err != nil {
		return 0, storage.KeyValue{}, err
	}
	return o.rev, o.prev, nil
}

// Compact implements storage.Store. The obsolete log records are removed in
// the same commit that records the new compaction revision.
func (s *Store) Compact(ctx context.Context, rev storage.Revision) error {
	_, err := s.submit(ctx, &op{kind: opCompact, expected: rev})
	return err
}

// submit hands o to the committer and waits until it is durable (or failed).
// If ctx ends first the write may still happen, as with any remote store.
func (s *Store) submit(ctx context.Context, o *op) (*op, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if o.kind != opCompact && o.key == "" {
		return nil, fmt.Errorf("%w: empty key", storage.ErrInvalid)
	}
	if o.expected < 0 {
		return nil, fmt.Errorf("%w: negative revision", storage.ErrInvalid)
	}
	// The caller may reuse its slice once we return; the value must outlive
	// that in state, history and watch events. The copy goes into the
	// buffer the log record is made in, so the commit copies nothing.
	if o.kind != opCompact {
		o.frame, o.value = newFrame(o.key, o.value)
	}
	o.done = make(chan struct{})
	select {
	case s.ops <- o:
	case <-s.quit:
		return nil, storage.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-o.done:
		return o, o.err
	case <-s.done:
		// The committer is gone; o may have been queued after it drained
		// the queue, or it may have been done just before it returned.
		select {
		case <-o.done:
			return o, o.err
		default:
			return nil, storage.ErrClosed
		}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// commitLoop is the single writer. It takes every write that is waiting,
// commits them in one write-ahead log frame (one fdatasync), and only then
// makes them visible and acknowledges them: group commit. On Close it
// checkpoints what the write-ahead log holds, so the next Open need not
// replay it.
func (s *Store) commitLoop() {
	defer close(s.done)
	batch := make([]*op, 0, s.opts.MaxBatch)
	last := 0 // the previous commit's writes
	for {
		select {
		case <-s.quit:
			s.failQueued()
			s.awaitCheckpoint()
			if s.fatal == nil && len(s.walRecords) > 0 {
				if err := s.checkpointNow(0); err != nil {
					s.fatal = fmt.Errorf("embedded: checkpoint failed: %w", err)
				}
			}
			return
		case err := <-s.ckptDone:
			s.finishCheckpoint(err)
			continue
		case o := <-s.ops:
			batch = append(batch[:0], o)
		}
		batch = s.drain(batch)
		if last > 1 {
			batch = s.gather(batch)
		}
		last = len(batch)
		s.commit(batch)
		clear(batch)
	}
}

// gatherRounds bounds how often gather yields for more writes.
const gatherRounds = 4

// gather adds to batch the writes that other goroutines, runnable now,
// are about to submit: it yields the processor to them, up to
// gatherRounds times while writes keep coming, before the commit's
// fdatasync. Concurrent writers that are busy preparing their writes
// (API requests: decoding, admission, encoding) arrived one or two per
// commit, each commit an fdatasync of 100 us of CPU on this project's
// machines; writers that all wait on the commit, or a lone one, make
// every yield return at once.
func (s *Store) gather(batch []*op) []*op {
	for range gatherRounds {
		runtime.Gosched()
		n := len(batch)
		if batch = s.drain(batch); len(batch) == n {
			break
		}
	}
	return batch
}

// drain adds to batch the writes waiting, up to MaxBatch.
func (s *Store) drain(batch []*op) []*op {
	for len(batch) < s.opts.MaxBatch {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		default:
			return batch
		}
	}
	return batch
}

func (s *Store) failQueued() {
	for {
		select {
		case o := <-s.ops:
			o.err = storage.ErrClosed
			close(o.done)
		default:
			return
		}
	}
}

// pending is a key's state as changed by earlier writes of the same batch.
type pending struct {
	it     item
	exists bool
}

// commit runs one batch. Only the committer calls it, so reading s.state,
// s.current and s.hist without mu is safe here: nobody else writes them.
func (s *Store) commit(batch []*op) {
	if s.fatal != nil {
		for _, o := range batch {
			o.err = s.fatal
			close(o.done)
		}
		return
	}
	for _, o := range batch {
		if o.kind == opCompact {
			// Compactions are checked against, and recorded after, every
			// compaction before them.
			s.awaitCheckpoint()
			break
		}
	}
	if s.overlay == nil {
		s.overlay = make(map[string]pending, len(batch))
	}
	var (
		overlay   = s.overlay
		records   = s.records[:0]
		rev       = s.current
		compactTo storage.Revision
	)
	defer func() {
		clear(overlay)
		clear(records) // the values are not ours to keep alive
		s.records = records[:0]
	}()
	lookup := func(key string) pending {
		if p, ok := overlay[key]; ok {
			return p
		}
		it, ok := s.state.Get(item{key: key})
		return pending{it: it, exists: ok}
	}
	for _, o := range batch {
		if o.kind == opCompact {
			// A revision is only known to a caller once it is acknowledged, so
			// the target must already be committed: at most s.current.
			o.err = checkCompact(o.expected, max(compactTo, s.hist.compacted), s.current)
			if o.err == nil {
				compactTo = o.expected
			}
			continue
		}
		cur := lookup(o.key)
		if o.err = check(o, cur); o.err != nil {
			continue
		}
		rev++
		o.rev = rev
		r := record{rev: rev, key: o.key, value: o.value, createRev: rev, frame: o.frame}
		switch o.kind {
		case opCreate:
			overlay[o.key] = pending{it: item{key: o.key, value: o.value, createRev: rev, modRev: rev}, exists: true}
		case opUpdate:
			r.createRev = cur.it.createRev
			overlay[o.key] = pending{it: item{key: o.key, value: o.value, createRev: cur.it.createRev, modRev: rev}, exists: true}
		case opDelete:
			o.prev = cur.it.kv()
			r.createRev, r.value, r.tombstone = cur.it.createRev, nil, true
			overlay[o.key] = pending{}
		}
		records = append(records, r)
	}

	if len(records) == 0 && compactTo == 0 {
		s.ack(batch)
		return
	}
	if len(records) > 0 {
		start := time.Now()
		err := s.wals[s.active].append(records)
		s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
		s.metrics.batchSize.Observe(float64(len(records)))
		if err != nil {
			s.fatal = fmt.Errorf("embedded: commit failed, store is read-only: %w", err)
			for _, o := range batch {
				if o.err == nil {
					o.err = s.fatal
				}
			}
			s.ack(batch)
			return
		}
	}

	s.mu.Lock()
	for _, r := range records {
		ev := s.apply(r)
		s.hist.append(ev)
		s.current = r.rev
		s.notifyLocked(ev)
	}
	s.mu.Unlock()
	s.walRecords = append(s.walRecords, records...)

	// The writes are durable in the write-ahead log; a compaction is
	// durable once a checkpoint has recorded it in the database.
	if compactTo != 0 {
		if err := s.checkpointNow(compactTo); err != nil {
			s.fatal = fmt.Errorf("embedded: checkpoint failed, store is read-only: %w", err)
			for _, o := range batch {
				if o.kind == opCompact && o.err == nil {
					o.err = s.fatal
				}
			}
		}
	} else {
		s.maybeCheckpoint()
	}
	s.ack(batch)
}

func (s *Store) ack(batch []*op) {
	for _, o := range batch {
		close(o.done)
	}
}

// check validates a write against the key's current state.
func check(o *op, cur pending) error {
	switch o.kind {
	case opCreate:
		if cur.exists {
			return fmt.Errorf("%w: %s", storage.ErrKeyExists, o.key)
		}
	case opUpdate, opDelete:
		if !cur.exists {
			return fmt.Errorf("%w: %s", storage.ErrNotFound, o.key)
		}
		if o.expected != storage.AnyRevision && o.expected != cur.it.modRev {
			return fmt.Errorf("%w: %s is at revision %d, not %d", storage.ErrConflict, o.key, cur.it.modRev, o.expected)
		}
	}
	return nil
}

func checkCompact(target, compacted, current storage.Revision) error {
	switch {
	case target <= compacted:
		return fmt.Errorf("%w: %d (compacted %d)", storage.ErrCompacted, target, compacted)
	case target > current:
		return fmt.Errorf("%w: %d (current %d)", storage.ErrFutureRevision, target, current)
	}
	return nil
}
