package embedded

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"skiff.dev/skiff/internal/storage"
)

// A checkpoint copies the writes of one write-ahead log file into the
// database in one bbolt transaction, together with a compaction when one is
// due. Usually it runs in the background while commits go on in the other
// file; an explicit Compact, Open and Close run one on the spot.

// checkpointJob is a checkpoint in the background. Its fields are fixed
// when it starts: the goroutine running it only reads them.
type checkpointJob struct {
	records   []record
	obsolete  []storage.Revision // log records the compaction removes
	compactTo storage.Revision   // 0: no compaction
	started   time.Time
}

// walCheckpointBytes is how much the active write-ahead log file takes
// before it is checkpointed, whatever its number of writes.
const walCheckpointBytes = 64 << 20

// maybeCheckpoint starts a background checkpoint of the active file when
// one is due and none is running; the commits that follow go to the other
// file. A file that keeps growing while a checkpoint runs (four times what
// makes one due) waits for it: that bounds the log and the memory it pins.
func (s *Store) maybeCheckpoint() {
	s.compactInMemory(s.autoCompaction())
	due := len(s.walRecords) >= s.opts.CheckpointEvery ||
		s.wals[s.active].off >= walCheckpointBytes ||
		s.compactTo != 0
	if !due {
		return
	}
	if s.inFlight != nil {
		if len(s.walRecords) < 4*s.opts.CheckpointEvery && s.wals[s.active].off < 4*walCheckpointBytes {
			return
		}
		s.awaitCheckpoint()
		if s.fatal != nil {
			return
		}
	}
	job := s.takeCheckpoint()
	s.inFlight = job
	s.walRecords = s.spareRecords
	s.spareRecords = nil
	if s.walRecords == nil {
		s.walRecords = make([]record, 0, s.opts.CheckpointEvery)
	}
	s.active ^= 1
	s.wals[s.active].reset()
	go func() { s.ckptDone <- s.persist(job) }()
}

// compactInMemory drops the history at or below rev (if above the
// compaction revision) now; the next checkpoint records the compaction and
// removes the log records it makes obsolete. No one was promised that the
// compaction is durable, and a crash before then only leaves more history
// on disk. Compacting here rather than when a checkpoint starts keeps the
// window bounded while a checkpoint runs.
func (s *Store) compactInMemory(rev storage.Revision) {
	if rev <= s.hist.compacted {
		return
	}
	s.obsolete = append(s.obsolete, s.hist.obsolete(rev)...)
	s.compactTo = rev
	s.mu.Lock()
	s.hist.compact(rev)
	s.mu.Unlock()
}

// takeCheckpoint makes the checkpoint of the write-ahead log's writes and
// the compaction waiting to be recorded.
func (s *Store) takeCheckpoint() *checkpointJob {
	job := &checkpointJob{records: s.walRecords, obsolete: s.obsolete, compactTo: s.compactTo, started: time.Now()}
	s.obsolete, s.compactTo = nil, 0
	return job
}

// awaitCheckpoint waits for the background checkpoint, if one runs, and
// finishes it.
func (s *Store) awaitCheckpoint() {
	if s.inFlight != nil {
		s.finishCheckpoint(<-s.ckptDone)
	}
}

// finishCheckpoint takes the result of the background checkpoint. A failed
// checkpoint makes the store read-only, as a failed commit does (the writes
// it held are still in the write-ahead log, which the next Open replays).
func (s *Store) finishCheckpoint(err error) {
	job := s.inFlight
	s.inFlight = nil
	s.metrics.checkpointSeconds.Observe(time.Since(job.started).Seconds())
	if cap(job.records) <= 2*s.opts.CheckpointEvery {
		clear(job.records) // the values are not ours to keep alive
		s.spareRecords = job.records[:0]
	}
	if err != nil && s.fatal == nil {
		s.fatal = fmt.Errorf("embedded: checkpoint failed, store is read-only: %w", err)
	}
}

// checkpointNow checkpoints everything in the write-ahead log, compacting at
// compactTo (or automatically, when due), and returns when it is durable.
func (s *Store) checkpointNow(compactTo storage.Revision) error {
	s.awaitCheckpoint()
	if s.fatal != nil {
		return s.fatal
	}
	s.compactInMemory(max(compactTo, s.autoCompaction()))
	job := s.takeCheckpoint()
	if err := s.persist(job); err != nil {
		return err
	}
	s.metrics.checkpointSeconds.Observe(time.Since(job.started).Seconds())
	clear(s.walRecords)
	s.walRecords = s.walRecords[:0]
	// Both files hold only what the database has now.
	s.wals[s.active].reset()
	return nil
}

// autoCompaction is the revision automatic compaction moves to, or 0 when
// it is not due: it keeps the window near opts.History revisions, in steps
// of a quarter window to amortize its cost.
func (s *Store) autoCompaction() storage.Revision {
	if auto := s.current - storage.Revision(s.opts.History); auto-s.hist.compacted > storage.Revision(s.opts.History/4) {
		return auto
	}
	return 0
}

// persist durably writes a checkpoint's records into the log bucket and,
// when it compacts, the new compaction revision together with the removal
// of the log records that makes obsolete, all in one bbolt transaction.
func (s *Store) persist(job *checkpointJob) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		log := tx.Bucket(bucketLog)
		log.FillPercent = 1.0 // keys are appended in order
		for _, r := range job.records {
			if err := log.Put(revKey(r.rev), r.encode()); err != nil {
				return err
			}
		}
		if job.compactTo == 0 {
			return nil
		}
		for _, old := range job.obsolete {
			if err := log.Delete(revKey(old)); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyCompact, revKey(job.compactTo))
	})
}
