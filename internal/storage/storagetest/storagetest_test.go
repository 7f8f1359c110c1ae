package storagetest

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"skiff.dev/skiff/internal/storage"
)

func memStoreFactory(opts memOptions) func(t *testing.T) storage.Store {
	return func(t *testing.T) storage.Store {
		s := newMemStore(opts)
		t.Cleanup(func() { s.Close() })
		return s
	}
}

// TestMemStore runs the suite on the reference store, configured as each
// backend will be: an embedded-like store from revision 0, one from an
// arbitrary revision that reports ErrCompacted late and closes slow
// watchers early, and one that looks like a key prefix on a shared etcd.
func TestMemStore(t *testing.T) {
	configs := []struct {
		name string
		opts memOptions
		run  RunOptions
	}{
		{"Exclusive", memOptions{}, RunOptions{ExclusiveRevisions: true}},
		{"ExclusiveFrom1000", memOptions{start: 1000, lateCompacted: true, strictBoundary: true, maxQueue: 64}, RunOptions{ExclusiveRevisions: true}},
		{"Shared", memOptions{start: 1, foreign: true}, RunOptions{}},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			Run(t, memStoreFactory(c.opts), c.run)
		})
	}
}

func TestMemStoreModel(t *testing.T) {
	t.Run("From0", func(t *testing.T) {
		RunModel(t, memStoreFactory(memOptions{}), 20, 300)
	})
	t.Run("From1Strict", func(t *testing.T) {
		RunModel(t, memStoreFactory(memOptions{start: 1, lateCompacted: true, strictBoundary: true}), 20, 300)
	})
}

func FuzzMemStore(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("create update delete list compact watch"))
	f.Add(bytes.Repeat([]byte{0, 25, 50, 75, 90, 81, 3}, 40))
	f.Add(bytes.Repeat([]byte{83, 1, 86, 4, 88, 2, 30, 60, 70}, 30))
	f.Fuzz(func(t *testing.T, data []byte) {
		RunModelFromBytes(t, memStoreFactory(memOptions{})(t), data)
	})
}

const mutantEnv = "STORAGETEST_MUTANT"

// bugs are deliberate contract violations the suite must catch.
var bugs = []string{
	"watchSinceInclusive",        // replays the event at since
	"watchIgnoresCompaction",     // serves watches from compacted history
	"continueSkipsKey",           // next page starts one key late
	"remainingCountsPage",        // Remaining includes the page itself
	"paginationIgnoresSnapshot",  // later pages read the current state
	"listPastIgnoresDeletes",     // past reads resurrect deleted keys
	"compactBoundary",            // List at the compaction revision fails
	"deletedWithoutPrev",         // Deleted events lack Prev
	"createdHasPrev",             // a re-created key's event carries the old state
	"deleteReturnsTombstone",     // Delete returns the tombstone, not the deleted state
	"updateResetsCreateRevision", // Update moves CreateRevision
	"conflictOnMissing",          // Update/Delete of a missing key says ErrConflict
	"retainsValue",               // keeps the caller's value slice
	"failedWriteTakesRevision",   // failed writes advance the revision
	"stopReportsClosed",          // Err after Stop is ErrClosed, not nil
	"foreignWithExclusive",       // gaps in revisions, yet run as ExclusiveRevisions
	"startExclusive",             // List with Start skips the start key itself
	"progressOvertakes",          // a Progress event jumps ahead of queued events
	"progressStale",              // Progress reports the watch's last event, not the store's revision
}

// TestMemStoreMutant runs the suite on a memStore with one bug; only
// TestSuiteCatchesBugs runs it, in a child process, and expects it to fail.
func TestMemStoreMutant(t *testing.T) {
	bug := os.Getenv(mutantEnv)
	if bug == "" {
		t.Skip("run by TestSuiteCatchesBugs")
	}
	waitTimeout = 2 * time.Second
	opts := memOptions{bug: bug}
	if bug == "foreignWithExclusive" {
		opts.foreign = true
	}
	Run(t, memStoreFactory(opts), RunOptions{ExclusiveRevisions: true})
	RunModel(t, memStoreFactory(opts), 5, 200)
}

func TestSuiteCatchesBugs(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("inside a mutant run")
	}
	failLine := regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	for _, bug := range bugs {
		t.Run(bug, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMemStoreMutant$", "-test.count=1", "-test.v", "-test.timeout=120s")
			cmd.Env = append(os.Environ(), mutantEnv+"="+bug, seedEnv+"=1")
			out, err := cmd.CombinedOutput()
			fails := failLine.FindAllSubmatch(out, -1)
			switch {
			case err == nil:
				t.Fatalf("the suite passed a store with bug %q", bug)
			case len(fails) == 0 || bytes.Contains(out, []byte("panic: ")):
				t.Fatalf("bug %q: the child failed without a clean test failure (%v):\n%s", bug, err, out)
			}
			var names []string
			for _, m := range fails {
				names = append(names, string(m[1]))
			}
			t.Logf("caught by %v", names)
		})
	}
}
