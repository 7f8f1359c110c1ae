// Package e2e holds black-box tests: they build the real skiff binary, start
// it as a separate process on a loopback port with a fresh data directory,
// and drive it with the real kubectl and with client-go, as users do.
//
// Every test owns its server (startSkiff), so tests run in parallel. Nothing
// here sleeps to synchronize: the harness waits for the "export KUBECONFIG="
// line skiff prints once it is ready, and tests wait for conditions with
// deadlines (kubectl wait, watches, polling with a deadline).
//
// When the test binary is built with -race, skiff is built with -race too and
// a data race reported by the server fails the test that ran it.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Timeouts. They are generous because the suite runs many servers and
// kubectl processes in parallel on small machines, under the race detector.
const (
	readyTimeout    = 30 * time.Second // process start → "export KUBECONFIG=" line
	stopTimeout     = 15 * time.Second // SIGTERM → exit
	kubectlTimeout  = 60 * time.Second // one kubectl invocation
	waitTimeout     = 20 * time.Second // a condition a test waits for
	pollInterval    = 20 * time.Millisecond
	stderrTailBytes = 32 << 10
)

var (
	skiffBin   string // built once by TestMain
	kubectlBin string
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	// The tests mostly wait on other processes (skiff, kubectl), so run more
	// of them at once than there are CPUs, unless -test.parallel was given.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", strconv.Itoa(max(4, 2*runtime.GOMAXPROCS(0))))
	}

	dir, err := os.MkdirTemp("", "skiff-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	skiffBin = filepath.Join(dir, "skiff")
	args := []string{"build", "-o", skiffBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "skiff.dev/skiff/cmd/skiff")
	gobin, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: the go command is needed to build skiff:", err)
		return 1
	}
	build := exec.Command(gobin, args...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building skiff:", err)
		return 1
	}

	if kubectlBin, err = exec.LookPath("kubectl"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: kubectl not found in PATH:", err)
		return 1
	}
	return m.Run()
}

// Skiff is one skiff server process (and its restarts) owned by a test.
type Skiff struct {
	t *testing.T

	args       []string // subcommand and flags, without --data-dir and --listen
	DataDir    string
	Addr       string // host:port it listens on; fixed after the first start
	Kubeconfig string // DataDir/kubeconfig
	home       string // HOME and kubectl --cache-dir for this server's kubectl runs

	// StartupTime is how long the last start took from exec to the ready line.
	StartupTime time.Duration

	mu     sync.Mutex
	proc   *skiffProc // nil while not running
	starts int
	output *syncBuffer // stdout and stderr of every run
}

type skiffProc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // cmd.Wait's result; read after done
}

// startSkiff starts `skiff up` with a fresh data directory on a free
// loopback port and stops it (SIGTERM) when the test ends.
func startSkiff(t *testing.T, extraArgs ...string) *Skiff {
	t.Helper()
	s := newSkiff(t, append([]string{"up"}, extraArgs...))
	s.Start()
	return s
}

// startSkiffEtcd starts `skiff server --store etcd` against the given etcd
// endpoints, with its own data directory (credentials) and the given key
// prefix, so several servers can share one etcd.
func startSkiffEtcd(t *testing.T, endpoints []string, prefix string) *Skiff {
	t.Helper()
	s := newSkiff(t, []string{"server", "--store", "etcd",
		"--etcd-servers", strings.Join(endpoints, ","), "--etcd-prefix", prefix})
	s.Start()
	return s
}

func newSkiff(t *testing.T, args []string) *Skiff {
	t.Helper()
	base := t.TempDir()
	s := &Skiff{
		t:       t,
		args:    args,
		DataDir: filepath.Join(base, "data"),
		home:    filepath.Join(base, "home"),
		output:  &syncBuffer{},
	}
	s.Kubeconfig = filepath.Join(s.DataDir, "kubeconfig")
	if err := os.MkdirAll(s.home, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.cleanup)
	return s
}

// Start starts the server (again) and returns once it printed its ready
// line. The first start picks a free port; later starts reuse it.
func (s *Skiff) Start() {
	s.t.Helper()
	firstStart := s.Addr == ""
	for attempt := 1; ; attempt++ {
		if firstStart {
			s.Addr = freeLoopbackAddr(s.t)
		}
		err := s.launch()
		if err == nil {
			return
		}
		// Another process may have taken the port between our probe and
		// skiff's bind; only a first start may move to another port.
		if firstStart && attempt < 3 && strings.Contains(err.Error(), "address already in use") {
			s.t.Logf("port %s was taken, retrying on another port", s.Addr)
			continue
		}
		s.t.Fatalf("starting skiff %v: %v\n--- skiff output ---\n%s", s.args, err, s.output.Tail(stderrTailBytes))
	}
}

func (s *Skiff) launch() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("skiff is already running")
	}
	s.starts++
	fmt.Fprintf(s.output, "=== start %d: skiff %s --data-dir %s --listen %s\n", s.starts, strings.Join(s.args, " "), s.DataDir, s.Addr)

	args := append(append([]string{}, s.args...), "--data-dir", s.DataDir, "--listen", s.Addr)
	cmd := exec.Command(skiffBin, args...)
	// client-go's mutation detector checks every object the server's
	// informers hold against a copy and panics when one changed in place:
	// in skiff they are the API server's own cached objects, and a
	// controller changing one would change what clients are served.
	cmd.Env = append(cleanEnv(), "KUBE_CACHE_MUTATION_DETECTOR=true")
	if raceEnabled {
		// The race runtime sleeps 1 s at exit by default; every stop would pay it.
		cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	// The detector warns once per informer at start; dozens of identical
	// lines per start would push what a failure needs out of the tail.
	stderr := &lineFilter{out: s.output, drop: "Mutation detector is enabled"}
	cmd.Stderr = stderr
	// stdout through an os.Pipe we own, so reading it never races cmd.Wait.
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // no orphan servers if the test binary dies
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	pw.Close()
	p := &skiffProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		stderr.Flush()
		close(p.done)
	}()

	ready := make(chan string, 1)
	go func() {
		defer pr.Close()
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintf(s.output, "[stdout] %s\n", line)
			if v, ok := strings.CutPrefix(line, "export KUBECONFIG="); ok && !sent {
				ready <- v
				sent = true
			}
		}
	}()

	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case kc := <-ready:
		s.StartupTime = time.Since(begin)
		want, _ := filepath.Abs(s.Kubeconfig)
		if kc != want {
			s.killLocked(p)
			return fmt.Errorf("skiff printed KUBECONFIG=%s, want %s", kc, want)
		}
		s.proc = p
		return nil
	case <-p.done:
		return fmt.Errorf("skiff exited before it was ready (%v): %s", p.err, s.output.Tail(4096))
	case <-timer.C:
		s.killLocked(p)
		return fmt.Errorf("skiff printed no ready line within %v", readyTimeout)
	}
}

func (s *Skiff) killLocked(p *skiffProc) {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop sends SIGTERM and waits for the process to exit. A server that needs
// SIGKILL, or exits with an error, fails the test: clean shutdown is part of
// the contract.
func (s *Skiff) Stop() {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		if p.err != nil {
			s.t.Errorf("skiff exited with %v after SIGTERM, want a clean exit", p.err)
		}
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.done
		s.t.Errorf("skiff did not exit within %v of SIGTERM; killed it", stopTimeout)
	}
}

// Restart stops the server with SIGTERM (if it runs) and starts it again on
// the same data directory and port.
func (s *Skiff) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// Kill sends SIGKILL and waits for the process to exit: a crash.
func (s *Skiff) Kill() {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p != nil {
		s.killLocked(p)
	}
}

func (s *Skiff) cleanup() {
	s.Stop()
	out := s.output.String()
	if i := strings.Index(out, "WARNING: DATA RACE"); i >= 0 {
		s.t.Errorf("skiff reported a data race:\n%s", out[i:])
		return
	}
	if s.t.Failed() {
		s.t.Logf("--- skiff output (tail) ---\n%s", s.output.Tail(stderrTailBytes))
	}
}

// URL is the https URL of path on this server.
func (s *Skiff) URL(path string) string { return "https://" + s.Addr + path }

// --- kubectl ---

// kubectlRun describes one kubectl invocation.
type kubectlRun struct {
	env        []string // extra KEY=VALUE
	stdin      string
	kubeconfig string // default: s.Kubeconfig
}

// Kubectl runs kubectl against this server with a private HOME and
// discovery cache, and returns its stdout, stderr and error (an
// *exec.ExitError when kubectl exited non-zero).
func (s *Skiff) Kubectl(args ...string) (stdout, stderr string, err error) {
	return s.kubectl(kubectlRun{}, args...)
}

// MustKubectl runs kubectl and fails the test if it exits non-zero.
func (s *Skiff) MustKubectl(args ...string) string {
	s.t.Helper()
	stdout, stderr, err := s.Kubectl(args...)
	if err != nil {
		s.t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

func (s *Skiff) kubectl(run kubectlRun, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	cmd := s.kubectlCmd(ctx, run, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if run.stdin != "" {
		cmd.Stdin = strings.NewReader(run.stdin)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("kubectl timed out after %v: %w", kubectlTimeout, err)
	}
	return stdout.String(), stderr.String(), err
}

func (s *Skiff) kubectlCmd(ctx context.Context, run kubectlRun, args ...string) *exec.Cmd {
	kc := run.kubeconfig
	if kc == "" {
		kc = s.Kubeconfig
	}
	full := append([]string{"--cache-dir", filepath.Join(s.home, ".kube", "cache")}, args...)
	cmd := exec.CommandContext(ctx, kubectlBin, full...)
	cmd.Env = append(cleanEnv(), "HOME="+s.home, "KUBECONFIG="+kc)
	cmd.Env = append(cmd.Env, run.env...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// exitCode is the exit status of a finished kubectl (or -1 when err is not
// an exit status).
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}

// lineStream is a background process (kubectl get -w, kubectl wait) whose
// stdout is read line by line as it arrives.
type lineStream struct {
	t      *testing.T
	desc   string
	cancel context.CancelFunc
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{}
	err    error // after exited

	mu      sync.Mutex
	lines   []string
	next    int           // WaitLine searches from here
	changed chan struct{} // closed and replaced on every new line or EOF
	eof     bool
}

// KubectlBackground starts kubectl and returns at once; its stdout lines are
// available to WaitLine. The process is killed when the test ends.
func (s *Skiff) KubectlBackground(args ...string) *lineStream {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*kubectlTimeout)
	cmd := s.kubectlCmd(ctx, kubectlRun{}, args...)
	ls := &lineStream{
		t:       s.t,
		desc:    "kubectl " + strings.Join(args, " "),
		cancel:  cancel,
		cmd:     cmd,
		stderr:  &syncBuffer{},
		exited:  make(chan struct{}),
		changed: make(chan struct{}),
	}
	cmd.Stderr = ls.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		s.t.Fatalf("%s: %v", ls.desc, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			ls.mu.Lock()
			ls.lines = append(ls.lines, sc.Text())
			close(ls.changed)
			ls.changed = make(chan struct{})
			ls.mu.Unlock()
		}
		ls.err = cmd.Wait()
		ls.mu.Lock()
		ls.eof = true
		close(ls.changed)
		ls.changed = make(chan struct{})
		ls.mu.Unlock()
		close(ls.exited)
	}()
	s.t.Cleanup(func() {
		cancel()
		<-ls.exited
	})
	return ls
}

// WaitLine waits for a line after the previously matched one for which match
// is true and returns it; it fails the test after waitTimeout.
func (ls *lineStream) WaitLine(what string, match func(line string) bool) string {
	ls.t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		ls.mu.Lock()
		for i := ls.next; i < len(ls.lines); i++ {
			if match(ls.lines[i]) {
				ls.next = i + 1
				line := ls.lines[i]
				ls.mu.Unlock()
				return line
			}
		}
		eof, changed := ls.eof, ls.changed
		ls.mu.Unlock()
		if eof {
			ls.t.Fatalf("%s exited (%v) before printing %s\nstdout:\n%s\nstderr:\n%s", ls.desc, ls.err, what, ls.Output(), ls.stderr.String())
		}
		select {
		case <-changed:
		case <-deadline.C:
			ls.t.Fatalf("%s printed no %s within %v\nstdout:\n%s\nstderr:\n%s", ls.desc, what, waitTimeout, ls.Output(), ls.stderr.String())
		}
	}
}

// Wait waits for the process to exit and returns its error.
func (ls *lineStream) Wait() error {
	ls.t.Helper()
	select {
	case <-ls.exited:
		return ls.err
	case <-time.After(2 * kubectlTimeout):
		ls.t.Fatalf("%s did not exit", ls.desc)
		return nil
	}
}

// Output is every stdout line so far.
func (ls *lineStream) Output() string {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return strings.Join(ls.lines, "\n")
}

// fieldsAre reports whether line's whitespace-separated fields start with want.
func fieldsAre(want ...string) func(string) bool {
	return func(line string) bool {
		f := strings.Fields(line)
		if len(f) < len(want) {
			return false
		}
		for i := range want {
			if f[i] != want[i] {
				return false
			}
		}
		return true
	}
}

// --- client-go and raw HTTP ---

// RESTConfig is a client-go config from the server's kubeconfig, with the
// client-side rate limits raised so tests are never throttled.
func (s *Skiff) RESTConfig() *rest.Config {
	s.t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		s.t.Fatalf("loading %s: %v", s.Kubeconfig, err)
	}
	cfg.QPS = 1000
	cfg.Burst = 2000
	return cfg
}

// ClientSet is a typed client-go clientset for the server.
func (s *Skiff) ClientSet() *kubernetes.Clientset {
	s.t.Helper()
	cs, err := kubernetes.NewForConfig(s.RESTConfig())
	if err != nil {
		s.t.Fatal(err)
	}
	return cs
}

// HTTPClient authenticates with the admin client certificate.
func (s *Skiff) HTTPClient() *http.Client {
	s.t.Helper()
	c, err := rest.HTTPClientFor(s.RESTConfig())
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

// AnonymousHTTPClient trusts the server's CA but presents no credentials.
func (s *Skiff) AnonymousHTTPClient() *http.Client {
	s.t.Helper()
	cfg := s.RESTConfig()
	pool := x509.NewCertPool()
	ca := cfg.CAData
	if len(ca) == 0 && cfg.CAFile != "" {
		var err error
		if ca, err = os.ReadFile(cfg.CAFile); err != nil {
			s.t.Fatal(err)
		}
	}
	if !pool.AppendCertsFromPEM(ca) {
		s.t.Fatalf("no CA certificate in %s", s.Kubeconfig)
	}
	return &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
}

// httpResult is a finished raw HTTP exchange.
type httpResult struct {
	Code   int
	Header http.Header
	Body   []byte
}

// Do sends one request with the admin credentials.
func (s *Skiff) Do(method, path, contentType string, body []byte) httpResult {
	s.t.Helper()
	return doHTTP(s.t, s.HTTPClient(), method, s.URL(path), contentType, body, nil)
}

func doHTTP(t *testing.T, c *http.Client, method, url, contentType string, body []byte, header http.Header) httpResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return httpResult{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// --- helpers ---

// eventually polls cond until it reports true or the deadline passes; the
// last message explains the failure.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var msg string
	err := wait.PollUntilContextTimeout(context.Background(), pollInterval, waitTimeout, true, func(context.Context) (bool, error) {
		var ok bool
		ok, msg = cond()
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not true within %v: %s", what, waitTimeout, msg)
	}
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is the test's environment without anything that would point a
// child at another cluster, home or editor.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "KUBECONFIG", k == "HOME", k == "EDITOR", k == "KUBE_EDITOR", k == "VISUAL",
			k == "KUBECTL_EXTERNAL_DIFF", k == "XDG_CACHE_HOME", strings.HasPrefix(k, "KUBECTL_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// lineFilter passes whole lines to out except those containing drop.
// Writes come from one goroutine (exec's stderr copier).
type lineFilter struct {
	out     io.Writer
	drop    string
	partial []byte
}

func (f *lineFilter) Write(p []byte) (int, error) {
	f.partial = append(f.partial, p...)
	for {
		i := bytes.IndexByte(f.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := f.partial[:i+1]
		if !bytes.Contains(line, []byte(f.drop)) {
			if _, err := f.out.Write(line); err != nil {
				return len(p), err
			}
		}
		f.partial = f.partial[i+1:]
	}
}

// Flush passes on an unfinished last line.
func (f *lineFilter) Flush() {
	if len(f.partial) > 0 {
		_, _ = f.out.Write(f.partial)
		f.partial = nil
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *syncBuffer) Tail(n int) string {
	s := b.String()
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
