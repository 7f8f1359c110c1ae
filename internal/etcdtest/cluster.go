package etcdtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// installHint is how to get the binary; it ends every "etcd not found" error.
const installHint = "install it with `apt-get install -y etcd-server`"

// startAttempts bounds relaunches after a member lost the race for its port.
const startAttempts = 3

// Options configure Start. The zero value starts one member with etcd's
// default timing.
type Options struct {
	// Members is the cluster size; 0 means 1.
	Members int
	// Dir holds the members' data directories and logs. Empty: a new
	// temporary directory that Stop removes. A given Dir is left in place.
	Dir string
	// Binary is the etcd executable. Empty: "etcd" looked up in PATH.
	Binary string
	// HeartbeatInterval and ElectionTimeout are the raft timing passed to
	// every member; zero means etcd's defaults (100ms and 1s).
	HeartbeatInterval time.Duration
	ElectionTimeout   time.Duration
	// StartTimeout bounds how long Start, Restart and Leader wait for the
	// cluster to answer; zero means 30s.
	StartTimeout time.Duration
	// ExtraArgs are appended to every member's command line.
	ExtraArgs []string
}

// Cluster is a running set of etcd processes.
type Cluster struct {
	opts      Options // defaults filled in
	dir       string
	removeDir bool
	token     string
	members   []*member // fixed after Start; member.proc guarded by mu

	// tb, when set (StartCluster), receives Fatalf for every failing method.
	tb testing.TB

	mu      sync.Mutex
	stopped bool
}

// member is one etcd process slot. Its name, directory and ports never change,
// so Restart brings back the same member.
type member struct {
	name      string
	dataDir   string
	logPath   string
	clientURL string
	peerURL   string
	proc      *process // nil while not running; guarded by Cluster.mu
}

// process is one launch of a member.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's result; read after done is closed
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// StartCluster starts a cluster of the given size for a test or benchmark and
// stops it in tb.Cleanup. Any failure, including a missing etcd binary, is
// fatal to the test.
func StartCluster(tb testing.TB, members int) *Cluster {
	tb.Helper()
	return StartClusterOptions(tb, Options{Members: members})
}

// StartClusterOptions is StartCluster with full Options. An empty opts.Dir
// becomes tb.TempDir().
func StartClusterOptions(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		tb.Fatalf("%v", err)
	}
	c.tb = tb
	tb.Cleanup(func() {
		if tb.Failed() {
			for i := range c.members {
				tb.Logf("etcdtest: tail of member %d (%s) log:\n%s", i, c.members[i].name, c.LogTail(i, 4096))
			}
		}
		c.Stop()
	})
	return c
}

// Start launches the cluster and returns once every member serves
// linearizable reads. On error nothing is left running. Call Stop when done.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Members == 0 {
		opts.Members = 1
	}
	if opts.Members < 0 {
		return nil, fmt.Errorf("etcdtest: invalid member count %d", opts.Members)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 30 * time.Second
	}
	bin, err := findBinary(opts.Binary)
	if err != nil {
		return nil, err
	}
	opts.Binary = bin

	c := &Cluster{opts: opts, dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "etcdtest-"); err != nil {
			return nil, fmt.Errorf("etcdtest: %w", err)
		}
		c.removeDir = true
	}
	for i := range opts.Members {
		name := "m" + strconv.Itoa(i)
		c.members = append(c.members, &member{
			name:    name,
			dataDir: filepath.Join(c.dir, name),
			logPath: filepath.Join(c.dir, name+".log"),
		})
	}

	for attempt := 1; ; attempt++ {
		err = c.launchAll(ctx)
		if err == nil {
			return c, nil
		}
		c.killAll()
		if attempt == startAttempts || !c.lostPortRace() {
			c.Stop()
			return nil, err
		}
		// Another process took a port between our probe and etcd's bind:
		// start over from empty data directories on fresh ports.
		for _, m := range c.members {
			if rmErr := os.RemoveAll(m.dataDir); rmErr != nil {
				c.Stop()
				return nil, fmt.Errorf("etcdtest: %w", rmErr)
			}
		}
	}
}

func findBinary(bin string) (string, error) {
	if bin == "" {
		path, err := exec.LookPath("etcd")
		if err != nil {
			return "", fmt.Errorf("etcdtest: etcd binary not found in PATH (%v); %s", err, installHint)
		}
		return path, nil
	}
	st, err := os.Stat(bin)
	if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("etcdtest: etcd binary %q is not an executable file; %s", bin, installHint)
	}
	return bin, nil
}

// launchAll picks fresh ports, starts every member and waits for all of them.
func (c *Cluster) launchAll(ctx context.Context) error {
	ports, err := freePorts(2 * len(c.members))
	if err != nil {
		return err
	}
	var peers []string
	for i, m := range c.members {
		m.clientURL = "http://127.0.0.1:" + strconv.Itoa(ports[2*i])
		m.peerURL = "http://127.0.0.1:" + strconv.Itoa(ports[2*i+1])
		peers = append(peers, m.name+"="+m.peerURL)
	}
	c.token = "etcdtest-" + randomHex(8)
	initial := strings.Join(peers, ",")

	c.mu.Lock()
	for i := range c.members {
		if err := c.launchLocked(i, initial); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	for i := range c.members {
		if err := c.waitServing(ctx, i, true); err != nil {
			return err
		}
	}
	return nil
}

// freePorts returns n distinct loopback ports that were free a moment ago.
// All listeners stay open until every port is picked, so they are distinct.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: picking a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// args is member i's command line. initialCluster only matters for the first
// launch: with an existing data directory etcd ignores the --initial-* flags.
func (c *Cluster) args(i int, initialCluster string) []string {
	m := c.members[i]
	a := []string{
		"--name", m.name,
		"--data-dir", m.dataDir,
		"--listen-client-urls", m.clientURL,
		"--advertise-client-urls", m.clientURL,
		"--listen-peer-urls", m.peerURL,
		"--initial-advertise-peer-urls", m.peerURL,
		"--initial-cluster", initialCluster,
		"--initial-cluster-state", "new",
		"--initial-cluster-token", c.token,
		"--logger", "zap",
		"--log-outputs", "stderr",
	}
	if d := c.opts.HeartbeatInterval; d > 0 {
		a = append(a, "--heartbeat-interval", strconv.FormatInt(d.Milliseconds(), 10))
	}
	if d := c.opts.ElectionTimeout; d > 0 {
		a = append(a, "--election-timeout", strconv.FormatInt(d.Milliseconds(), 10))
	}
	return append(a, c.opts.ExtraArgs...)
}

// initialCluster rebuilds the --initial-cluster value from the members.
func (c *Cluster) initialCluster() string {
	var peers []string
	for _, m := range c.members {
		peers = append(peers, m.name+"="+m.peerURL)
	}
	return strings.Join(peers, ",")
}

// launchLocked starts member i's process. Its output is appended to its log.
func (c *Cluster) launchLocked(i int, initialCluster string) error {
	m := c.members[i]
	if m.proc != nil {
		return fmt.Errorf("member %d (%s) is already running", i, m.name)
	}
	logf, err := os.OpenFile(m.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	defer logf.Close() // the child has its own descriptor
	fmt.Fprintf(logf, "=== etcdtest: launching %s at %s\n", m.name, time.Now().Format(time.RFC3339Nano))

	cmd := exec.Command(c.opts.Binary, c.args(i, initialCluster)...)
	cmd.Env = memberEnv()
	cmd.Stdout = logf
	cmd.Stderr = logf
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("etcdtest: starting member %d (%s): %w", i, m.name, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	m.proc = p
	return nil
}

// memberEnv is the test's environment without ETCD_* variables, which etcd
// would read as flags.
func memberEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ETCD_") {
			env = append(env, kv)
		}
	}
	if runtime.GOARCH != "amd64" {
		// etcd 3.4 refuses to start on other architectures unless told.
		env = append(env, "ETCD_UNSUPPORTED_ARCH="+runtime.GOARCH)
	}
	return env
}

// lostPortRace reports whether a member failed because its port was taken.
func (c *Cluster) lostPortRace() bool {
	for _, m := range c.members {
		b, _ := os.ReadFile(m.logPath)
		if strings.Contains(string(b), "address already in use") {
			return true
		}
	}
	return false
}

// Endpoints are the members' client URLs, member i at index i.
func (c *Cluster) Endpoints() []string {
	eps := make([]string, len(c.members))
	for i, m := range c.members {
		eps[i] = m.clientURL
	}
	return eps
}

// Endpoint is member i's client URL.
func (c *Cluster) Endpoint(i int) string { return c.members[i].clientURL }

// Size is the number of members, running or not.
func (c *Cluster) Size() int { return len(c.members) }

// Dir is the directory holding the members' data and logs.
func (c *Cluster) Dir() string { return c.dir }

// Running reports whether member i's process is running.
func (c *Cluster) Running(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.members[i].proc
	return p != nil && !p.exited()
}

// Kill sends SIGKILL to member i and waits for the process to exit.
func (c *Cluster) Kill(i int) error {
	if c.tb != nil {
		c.tb.Helper()
	}
	return c.check(c.kill(i))
}

func (c *Cluster) kill(i int) error {
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("no member %d in a cluster of %d", i, len(c.members))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.members[i]
	if m.proc == nil {
		return fmt.Errorf("member %d (%s) is not running", i, m.name)
	}
	killLocked(m)
	return nil
}

func killLocked(m *member) {
	// Kill fails only when the process is gone already; Wait sees to it.
	m.proc.cmd.Process.Kill()
	<-m.proc.done
	m.proc = nil
}

// Restart starts member i again with its data directory and ports and waits
// until it serves linearizable reads (it has rejoined the leader).
func (c *Cluster) Restart(i int) error {
	if c.tb != nil {
		c.tb.Helper()
	}
	return c.check(c.restart(i))
}

func (c *Cluster) restart(i int) error {
	if i < 0 || i >= len(c.members) {
		return fmt.Errorf("no member %d in a cluster of %d", i, len(c.members))
	}
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return errors.New("cluster is stopped")
	}
	m := c.members[i]
	if m.proc != nil && m.proc.exited() {
		m.proc = nil // it died on its own; allow bringing it back
	}
	err := c.launchLocked(i, c.initialCluster())
	c.mu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
	defer cancel()
	return c.waitServing(ctx, i, false)
}

// check hands err to the test, if there is one, and returns it.
func (c *Cluster) check(err error) error {
	if err != nil && c.tb != nil {
		c.tb.Helper()
		c.tb.Fatalf("etcdtest: %v", err)
	}
	return err
}

// LogTail returns up to the last n bytes of member i's log (all its launches).
func (c *Cluster) LogTail(i int, n int64) string {
	f, err := os.Open(c.members[i].logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > n {
		f.Seek(st.Size()-n, io.SeekStart)
	}
	b := make([]byte, n)
	k, _ := f.Read(b)
	return string(b[:k])
}

// Stop kills every member, waits for the processes and removes the directory
// if Start created it. It is safe to call more than once.
func (c *Cluster) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.stopped = true
	c.killAllLocked()
	if c.removeDir {
		os.RemoveAll(c.dir)
	}
}

func (c *Cluster) killAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.killAllLocked()
}

func (c *Cluster) killAllLocked() {
	for _, m := range c.members {
		if m.proc != nil {
			killLocked(m)
		}
	}
}
