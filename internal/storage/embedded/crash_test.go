package embedded

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"skiff.dev/skiff/internal/storage"
)

// The crash test runs this test binary again as a child that writes to a
// store as fast as it can and prints one line per acknowledged write. The
// parent SIGKILLs it at a random moment, reopens the store and checks that
// every write the child reported is there.

const (
	crashChildEnv = "SKIFF_CRASH_CHILD_DIR"
	crashWriters  = 8
	crashKeys     = 8 // per writer; each writer owns its keys, so no conflicts
	crashHistory  = 400
	// Checkpoints every few dozen writes, so that kills land before,
	// during and after them, and the write-ahead log is started over often.
	crashCheckpointEvery = 50
)

var crashRounds = flag.Int("crash-rounds", 200, "kill rounds of TestCrashSafety")

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild writes until killed. Line format: "<op> <rev> <key> <value>",
// op one of c (create), u (update), d (delete; value "-").
func crashChild(dir string) {
	s, err := Open(dir, Options{History: crashHistory, CheckpointEvery: crashCheckpointEvery})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var out sync.Mutex
	report := func(line string) {
		out.Lock()
		defer out.Unlock()
		if _, err := io.WriteString(os.Stdout, line); err != nil {
			os.Exit(3)
		}
	}
	ctx := context.Background()
	run := os.Getpid()
	var wg sync.WaitGroup
	for w := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(run), uint64(w)))
			for seq := 0; ; seq++ {
				key := fmt.Sprintf("/k/%d/%d", w, rng.IntN(crashKeys))
				val := fmt.Sprintf("v-%d-%d-%d", run, w, seq)
				if _, err := s.Get(ctx, key); errors.Is(err, storage.ErrNotFound) {
					rev, err := s.Create(ctx, key, []byte(val))
					if err != nil {
						fmt.Fprintln(os.Stderr, "create:", err)
						os.Exit(4)
					}
					report(fmt.Sprintf("c %d %s %s\n", rev, key, val))
				} else if rng.IntN(4) == 0 {
					rev, _, err := s.Delete(ctx, key, storage.AnyRevision)
					if err != nil {
						fmt.Fprintln(os.Stderr, "delete:", err)
						os.Exit(4)
					}
					report(fmt.Sprintf("d %d %s -\n", rev, key))
				} else {
					rev, err := s.Update(ctx, key, []byte(val), storage.AnyRevision)
					if err != nil {
						fmt.Fprintln(os.Stderr, "update:", err)
						os.Exit(4)
					}
					report(fmt.Sprintf("u %d %s %s\n", rev, key, val))
				}
			}
		})
	}
	wg.Wait()
}

type ackedWrite struct {
	op    byte
	rev   storage.Revision
	key   string
	value string
}

func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash rounds are long; run without -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	last := map[string]ackedWrite{} // the latest acknowledged write per key, over all rounds
	var total int
	for round := range *crashRounds {
		acked := runCrashChild(t, dir, rng)
		total += len(acked)
		for _, a := range acked {
			if prev, ok := last[a.key]; !ok || a.rev > prev.rev {
				last[a.key] = a
			}
		}
		verifyAfterCrash(t, round, dir, acked, last)
	}
	t.Logf("%d rounds, %d acknowledged writes verified", *crashRounds, total)
}

// runCrashChild starts a writer child and SIGKILLs it after a random number
// of acknowledged writes (sometimes zero: killed while opening).
func runCrashChild(t *testing.T, dir string, rng *rand.Rand) []ackedWrite {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killAfter := 0
	if rng.IntN(10) != 0 {
		killAfter = 1 + rng.IntN(400)
	}
	var acked []ackedWrite
	sc := bufio.NewScanner(stdout)
	killed := false
	kill := func() {
		if !killed {
			killed = true
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	if killAfter == 0 {
		kill()
	}
	// Keep reading after the kill: lines the child wrote before dying are
	// acknowledged writes too.
	for sc.Scan() {
		a, err := parseAcked(sc.Text())
		if err != nil {
			t.Fatalf("child output: %v", err)
		}
		acked = append(acked, a)
		if len(acked) >= killAfter {
			kill()
		}
	}
	kill()
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\nstderr:\n%s", err, stderr.String())
	}
	return acked
}

func parseAcked(line string) (ackedWrite, error) {
	f := strings.Fields(line)
	if len(f) != 4 || len(f[0]) != 1 {
		return ackedWrite{}, fmt.Errorf("bad line %q", line)
	}
	rev, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return ackedWrite{}, fmt.Errorf("bad line %q: %v", line, err)
	}
	return ackedWrite{op: f[0][0], rev: storage.Revision(rev), key: f[2], value: f[3]}, nil
}

// verifyAfterCrash reopens the store and checks every acknowledged write of
// the round against the history, and the latest write of every key against
// the state; the bbolt file must pass its own consistency check.
func verifyAfterCrash(t *testing.T, round int, dir string, acked []ackedWrite, last map[string]ackedWrite) {
	t.Helper()
	s, err := Open(dir, Options{History: crashHistory, CheckpointEvery: crashCheckpointEvery})
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer s.Close()
	if err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Fatalf("round %d: bbolt check: %v", round, err)
	}

	ctx := context.Background()
	cur, err := s.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.RLock()
	compacted := s.hist.compacted
	var events []storage.Event
	for _, c := range s.hist.since(compacted) {
		events = append(events, c...)
	}
	s.mu.RUnlock()
	if got, want := len(events), int(cur-compacted); got != want {
		t.Fatalf("round %d: history holds %d events for revisions (%d, %d]", round, got, compacted, cur)
	}
	for i, ev := range events {
		if ev.Revision() != compacted+storage.Revision(i)+1 {
			t.Fatalf("round %d: history gap: event %d has revision %d after compaction %d", round, i, ev.Revision(), compacted)
		}
	}
	for _, a := range acked {
		if a.rev > cur {
			t.Fatalf("round %d: acknowledged %c of %s at revision %d, but the store is at %d", round, a.op, a.key, a.rev, cur)
		}
		if a.rev <= compacted {
			continue
		}
		ev := events[a.rev-compacted-1]
		wantType := map[byte]storage.EventType{'c': storage.Created, 'u': storage.Updated, 'd': storage.Deleted}[a.op]
		if ev.KV.Key != a.key || ev.Type != wantType || (a.op != 'd' && string(ev.KV.Value) != a.value) {
			t.Fatalf("round %d: revision %d: acknowledged %c %s %q, history has %v %s %q",
				round, a.rev, a.op, a.key, a.value, ev.Type, ev.KV.Key, ev.KV.Value)
		}
	}
	for key, a := range last {
		kv, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, storage.ErrNotFound):
			// Only a delete after the acknowledged write (committed, but the
			// child died before reporting it) explains the absence.
			if a.op != 'd' && a.rev >= compacted && !deletedAfter(events, key, a.rev) {
				t.Fatalf("round %d: %s missing; last acknowledged write was %c at %d", round, key, a.op, a.rev)
			}
		case err != nil:
			t.Fatal(err)
		case kv.ModRevision < a.rev:
			t.Fatalf("round %d: %s is at revision %d, older than its acknowledged write at %d", round, key, kv.ModRevision, a.rev)
		case kv.ModRevision == a.rev && string(kv.Value) != a.value:
			t.Fatalf("round %d: %s at %d holds %q, acknowledged %q", round, key, a.rev, kv.Value, a.value)
		}
	}
}

func deletedAfter(events []storage.Event, key string, rev storage.Revision) bool {
	for _, ev := range events {
		if ev.Revision() > rev && ev.Type == storage.Deleted && ev.KV.Key == key {
			return true
		}
	}
	return false
}
