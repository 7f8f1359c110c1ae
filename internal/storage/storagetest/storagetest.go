package storagetest

import (
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// RunOptions says what a backend's stores can promise beyond the contract's
// minimum.
type RunOptions struct {
	// ExclusiveRevisions: nothing but the store itself advances its
	// revision (an embedded store; an etcd cluster used by one store only).
	// Run then also checks that every write advances the revision by
	// exactly one, that failed writes advance nothing, and that
	// CurrentRevision is exactly the latest write. Leave it false for a
	// key-prefixed store on a shared etcd, where other writers interleave.
	ExclusiveRevisions bool
	// ProgressUnsupported: the backend cannot keep requested progress in
	// order with a watch's events (etcd before 3.4.25/3.5.8). The progress
	// subtests then check that RequestProgress answers ErrUnsupported;
	// a backend that answers it without declaring it fails them.
	ProgressUnsupported bool
}

// Run runs the conformance suite, one subtest per rule. Each subtest gets a
// fresh, empty store from newStore, which also registers its cleanup.
// Subtests that compact run first, one at a time; the rest run in parallel.
// At most one RunOptions may be given.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store, opts ...RunOptions) {
	t.Helper()
	var o RunOptions
	switch len(opts) {
	case 0:
	case 1:
		o = opts[0]
	default:
		t.Fatalf("storagetest.Run: %d RunOptions, want at most one", len(opts))
	}
	for _, st := range suite {
		if st.exclusive && !o.ExclusiveRevisions {
			continue // only meaningful when revisions are the store's alone
		}
		t.Run(st.name, func(t *testing.T) {
			if !st.serial {
				t.Parallel()
			}
			f := newFixture(t, newStore, o)
			if st.progress && o.ProgressUnsupported {
				testProgressUnsupported(f)
				return
			}
			st.run(f)
		})
	}
}

type subtest struct {
	name string
	run  func(*fixture)
	// serial: the subtest compacts, which on a shared etcd affects every
	// store, so it must not overlap other subtests.
	serial bool
	// progress: the subtest needs ordered progress (RequestProgress).
	progress bool
	// exclusive: the subtest needs RunOptions.ExclusiveRevisions.
	exclusive bool
}

// suite lists the subtests in the order they run (serial ones first anyway).
var suite = []subtest{
	{name: "Get", run: testGet},
	{name: "Create", run: testCreate},
	{name: "Update", run: testUpdate},
	{name: "Delete", run: testDelete},
	{name: "ValuesRoundTrip", run: testValues},
	{name: "ValuesNotRetained", run: testValuesNotRetained},
	{name: "InvalidRequests", run: testInvalid},
	{name: "CancelledContext", run: testCancelledContext},
	{name: "CurrentRevision", run: testCurrentRevision},
	{name: "RevisionsGapless", run: testRevisionsGapless, exclusive: true},

	{name: "ListPrefix", run: testListPrefix},
	{name: "ListKeyOrder", run: testListKeyOrder},
	{name: "ListPagination", run: testListPagination},
	{name: "ListPaginationSnapshot", run: testListPaginationSnapshot},
	{name: "ListPastRevision", run: testListPastRevision},
	{name: "ListFutureRevision", run: testListFutureRevision},
	{name: "ListStart", run: testListStart},

	{name: "Compact", run: testCompact, serial: true},
	{name: "CompactErrors", run: testCompactErrors, serial: true},
	{name: "WatchAfterCompact", run: testWatchAfterCompact, serial: true},

	{name: "WatchFromCurrent", run: testWatchFromCurrent},
	{name: "WatchReplay", run: testWatchReplay},
	{name: "WatchPrefix", run: testWatchPrefix},
	{name: "WatchEventShapes", run: testWatchEventShapes},
	{name: "WatchConcurrentWriters", run: testWatchConcurrentWriters},
	{name: "WatchSlowReader", run: testWatchSlowReader},
	{name: "WatchStop", run: testWatchStop},
	{name: "WatchContextCancel", run: testWatchContextCancel},

	{name: "ProgressQuietPrefix", run: testProgressQuietPrefix, progress: true},
	{name: "ProgressBehindEvents", run: testProgressBehindEvents, progress: true},
	{name: "ProgressConcurrentWriters", run: testProgressConcurrentWriters, progress: true},
	{name: "ProgressAfterStop", run: testProgressAfterStop, progress: true},
	{name: "Close", run: testClose},
}
