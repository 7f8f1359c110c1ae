package etcdtest_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"skiff.dev/skiff/internal/etcdtest"
)

func newClient(t *testing.T, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, Logger: zap.NewNop(), DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// A single member keeps acknowledged writes across SIGKILL and restart.
func TestSingleMemberKillRestart(t *testing.T) {
	c := etcdtest.StartCluster(t, 1)
	if got := len(c.Endpoints()); got != 1 {
		t.Fatalf("Endpoints: %d, want 1", got)
	}
	ctx := ctxTimeout(t, 30*time.Second)
	cli := newClient(t, c.Endpoints()...)
	put, err := cli.Put(ctx, "k", "v")
	if err != nil {
		t.Fatalf("Put: %v", err)
	}

	c.Kill(0)
	if c.Running(0) {
		t.Fatal("member 0 still running after Kill")
	}
	c.Restart(0)

	got, err := cli.Get(ctx, "k")
	if err != nil {
		t.Fatalf("Get after restart: %v", err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "v" || got.Kvs[0].ModRevision != put.Header.Revision {
		t.Fatalf("Get after restart = %v, want v at revision %d", got.Kvs, put.Header.Revision)
	}
}

// Three members elect a new leader when the leader is killed, keep taking
// writes, and the restarted member catches up.
func TestThreeMembersFailover(t *testing.T) {
	c := etcdtest.StartCluster(t, 3)
	ctx := ctxTimeout(t, 60*time.Second)
	cli := newClient(t, c.Endpoints()...)

	old, _ := c.Leader()
	c.Kill(old)
	leader, _ := c.Leader()
	if leader == old {
		t.Fatalf("leader is still the killed member %d", old)
	}
	put, err := cli.Put(ctx, "after-kill", "x")
	if err != nil {
		t.Fatalf("Put with a member down: %v", err)
	}

	c.Restart(old)
	// Restart returned, so the member serves linearizable reads; ask it alone.
	got, err := newClient(t, c.Endpoint(old)).Get(ctx, "after-kill")
	if err != nil {
		t.Fatalf("Get from restarted member: %v", err)
	}
	if len(got.Kvs) != 1 || got.Kvs[0].ModRevision != put.Header.Revision {
		t.Fatalf("restarted member returned %v, want the write at revision %d", got.Kvs, put.Header.Revision)
	}
}

// A missing binary is an error that says how to install it; StartCluster
// turns that error into a test failure, never a skip.
func TestMissingBinary(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, opts := range []etcdtest.Options{{}, {Binary: "/nonexistent/etcd"}} {
		c, err := etcdtest.Start(t.Context(), opts)
		if err == nil {
			c.Stop()
			t.Fatalf("Start(%+v) succeeded without an etcd binary", opts)
		}
		if !strings.Contains(err.Error(), "apt-get install -y etcd-server") {
			t.Errorf("Start(%+v) error lacks the install hint: %v", opts, err)
		}
	}

	rec := &recordingTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		etcdtest.StartCluster(rec, 1)
	}()
	<-done
	if rec.skipped || !strings.Contains(rec.fatal, "apt-get install -y etcd-server") {
		t.Fatalf("StartCluster without etcd: Fatalf %q, skipped %v; want a Fatalf with the install hint", rec.fatal, rec.skipped)
	}
}

// recordingTB records how StartCluster gives up instead of ending the test.
type recordingTB struct {
	testing.TB
	fatal   string
	skipped bool
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recordingTB) Skipf(string, ...any) { r.skipped = true; runtime.Goexit() }
func (r *recordingTB) Skip(...any)          { r.skipped = true; runtime.Goexit() }
func (r *recordingTB) SkipNow()             { r.skipped = true; runtime.Goexit() }

// A member that cannot start fails Start at once, quoting its log.
func TestStartFailureQuotesLog(t *testing.T) {
	start := time.Now()
	c, err := etcdtest.Start(t.Context(), etcdtest.Options{Dir: t.TempDir(), ExtraArgs: []string{"--no-such-flag"}})
	if err == nil {
		c.Stop()
		t.Fatal("Start succeeded with a bad flag")
	}
	if !strings.Contains(err.Error(), "no-such-flag") {
		t.Fatalf("Start error does not quote the member's log: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("Start took %v to notice the member exited", d)
	}
}
