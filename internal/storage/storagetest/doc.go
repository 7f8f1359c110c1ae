// Package storagetest is the conformance suite every storage.Store backend
// must pass. A backend's tests call it with a constructor for fresh stores:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, newStore, storagetest.RunOptions{ExclusiveRevisions: true})
//	}
//
//	func TestModel(t *testing.T) { storagetest.RunModel(t, newStore, 20, 300) }
//
//	func FuzzStore(f *testing.F) {
//		f.Fuzz(func(t *testing.T, data []byte) {
//			storagetest.RunModelFromBytes(t, newStore(t), data)
//		})
//	}
//
// Run checks each rule of the storage package's contract in its own subtest;
// RunModel and RunModelFromBytes drive random operation sequences against a
// reference model of the contract (model.go) and compare every answer.
//
// # What newStore must provide
//
// newStore returns a fresh store whose key space is empty, and registers its
// Close with t.Cleanup. The Close subtest closes the store itself, so that
// cleanup must tolerate a second Close (ignore its error). Run's subtests
// call t.Parallel, except those that compact: compaction is global on an
// etcd cluster shared by key-prefixed stores, so they run alone, before the
// parallel ones. RunModel does not run seeds in parallel.
//
// Revision numbers are never assumed absolute: every check is relative to
// CurrentRevision read at the start. Without RunOptions.ExclusiveRevisions
// (a key-prefixed store on a shared etcd, where other stores' writes
// interleave) the suite checks only that the store's own writes get strictly
// increasing revisions. With it, it also checks that each write advances the
// revision by exactly one and that failed writes advance nothing. RunModel
// and RunModelFromBytes predict every revision exactly, so they need a store
// that nothing else writes to while they run.
//
// # How the suite reads the contract
//
// Where the storage package's doc comments leave room, the suite settles it
// as follows (each a deliberate choice, named here so backends agree):
//
//   - Values are compared with bytes.Equal: nil and an empty slice are the
//     same value, and a Deleted event's KV.Value must be empty (nil or
//     []byte{}).
//   - A Created event's Prev is the zero KeyValue, not just one with an
//     empty Key.
//   - Update and Delete of a missing key fail with ErrNotFound whatever the
//     expected revision; ErrConflict only when the key exists.
//   - ListResult.Continue is non-empty exactly when Remaining > 0, so a page
//     that ends exactly at the last key has no Continue. A List at an
//     explicit Revision reports that Revision; a List at AnyRevision reports
//     a revision at or above the store's latest acknowledged write.
//   - Compact(c) keeps the state at c: List at c works, at c-1 it fails
//     with ErrCompacted. Watch(since) needs the events after since, the
//     first of which is at since+1; so since < c-1 must fail with
//     ErrCompacted and since >= c must replay exactly. since == c-1 is left
//     open (the doc's "watches need a revision >= rev" says ErrCompacted,
//     etcd serves it but may have lost the event at c): the suite accepts
//     ErrCompacted or a stream that is exact after revision c.
//   - ErrCompacted from a watch may come either as Watch's error or as Err
//     after Events closes without delivering anything; both are accepted.
//     A running watch that is overtaken by a later Compact may also end with
//     ErrCompacted, provided everything it delivered was right (an etcd
//     backend must end the watch rather than deliver an Updated or Deleted
//     event whose Prev etcd dropped because it was compacted).
//   - A method called with an already-cancelled context fails with an error
//     that wraps context.Canceled and has no effect; Watch may instead
//     return a watch whose Events closes at once with Err() == nil.
//   - An empty key, a negative ListOptions.Limit and a negative
//     ListOptions.Revision are ErrInvalid.
//   - After Close, calls fail with ErrClosed.
//   - A watcher that does not read must not block writers; it may be closed
//     with ErrWatcherTooSlow, after delivering a correct prefix of its
//     events. A watcher that reads promptly must not be.
//   - A Progress event carries only KV.ModRevision (>= 0: a store at
//     revision 0 may report 0). The Progress subtests check that it comes
//     after every undelivered event of the watch, at or above the
//     CurrentRevision read before the request, never decreasing; they skip
//     when RequestProgress returns ErrUnsupported (an etcd server without
//     ordered progress), and a watch that has ended refuses the request
//     with ErrClosed.
//   - ListOptions.Start includes the start key itself; it works at past
//     revisions and with a limit (the Continue it returns is the backend's
//     own).
//
// Left unchecked: Watch from a revision above the current one, a Continue
// token used without the first page's Revision, and Compact at zero.
//
// # Self-test
//
// The package's own tests run Run, RunModel and a fuzz target against a
// small reference store (memstore_test.go), and TestSuiteCatchesBugs runs
// the suite on that store with each of a list of deliberate bugs switched
// on (an off-by-one watch start, a Continue that skips a key, a wrong
// Remaining, ...), in a child process, and requires it to fail.
//
// # Waiting
//
// The suite never sleeps to synchronise: it waits for a watch event or a
// closed channel with a deadline (waitTimeout), and uses a final "sentinel"
// write to prove that nothing unexpected was delivered before it.
package storagetest
