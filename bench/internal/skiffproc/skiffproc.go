// Package skiffproc runs the skiff binary for the benchmarks: it builds
// ./cmd/skiff, starts `skiff up` on a free loopback port with a fresh data
// dir, waits until it is ready, starts `skiff node` agents and waits for
// their nodes, stops them with SIGTERM, and reads what the benchmarks
// report of them and of the machine (RSS, CPU time, logs, load average).
package skiffproc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Build compiles ./cmd/skiff of the module the benchmark runs in.
func Build(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the skiff module; run from its checkout")
	}
	bin := filepath.Join(dir, "skiff")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/skiff")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/skiff: %w\n%s", err, out)
	}
	return bin, nil
}

// StartupTimes are measured from just before the process is started.
type StartupTimes struct {
	Ready  time.Duration // first 200 from /readyz
	Export time.Duration // the `export KUBECONFIG=` line on stdout
	Polls  int           // /readyz requests sent until the 200
}

// Process is a running `skiff up`.
type Process struct {
	// Kubeconfig is the admin kubeconfig the server printed.
	Kubeconfig string
	// Startup is how long it took to become ready.
	Startup StartupTimes
	// ShutdownTime is SIGTERM to exit, once Stop has returned.
	ShutdownTime time.Duration

	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid once exited is closed

	stopOnce sync.Once
	stopErr  error
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Start starts `skiff up args...` on a free loopback port with a fresh
// data dir under dir and returns once it is ready: /readyz answered 200 and the
// kubeconfig line was printed.
func Start(ctx context.Context, bin, dir string, args ...string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "skiff.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor

	cmd := exec.Command(bin, append([]string{"up", "--data-dir", dataDir, "--listen", addr}, args...)...)
	cmd.Stderr = logFile
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	setProcAttr(cmd)
	p := &Process{cmd: cmd, logPath: logPath, exited: make(chan struct{})}

	exportLine := make(chan string, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var exportAt time.Time
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "export KUBECONFIG=") && exportAt.IsZero() {
				exportAt = time.Now()
				exportLine <- strings.TrimPrefix(line, "export KUBECONFIG=")
			}
		}
		io.Copy(io.Discard, stdout)
		// Wait only after stdout is drained, as os/exec requires.
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()

	ready, polls, err := pollReady(ctx, "https://"+addr+"/readyz", p.exited)
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("waiting for /readyz: %w%s", err, p.LogTail())
	}
	p.Startup = StartupTimes{Ready: ready.Sub(start), Polls: polls}

	select {
	case kc := <-exportLine:
		p.Kubeconfig = kc
		p.Startup.Export = exportAt.Sub(start)
	case <-p.exited:
		return nil, fmt.Errorf("skiff exited before printing its kubeconfig: %v%s", p.waitErr, p.LogTail())
	case <-time.After(30 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("no `export KUBECONFIG=` line within 30s of /readyz%s", p.LogTail())
	case <-ctx.Done():
		p.Stop()
		return nil, ctx.Err()
	}
	return p, nil
}

// pollReady asks url every millisecond until it answers 200 and returns
// when that answer arrived. Until the server has written its certificates
// there is no CA to check against, so this one client skips verification.
func pollReady(ctx context.Context, url string, exited <-chan struct{}) (time.Time, int, error) {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2: true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for polls := 1; ; polls++ {
		resp, err := client.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Now(), polls, nil
			}
		}
		if time.Now().After(deadline) {
			return time.Time{}, polls, fmt.Errorf("not ready after 60s (last: %v)", err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, polls, ctx.Err()
		case <-exited:
			return time.Time{}, polls, errors.New("skiff exited")
		case <-time.After(time.Millisecond):
		}
	}
}

// FreeAddr returns a loopback address with a port nothing listens on now.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (p *Process) PID() int { return p.cmd.Process.Pid }

func (p *Process) ExitError() error {
	return fmt.Errorf("skiff exited unexpectedly: %v%s", p.waitErr, p.LogTail())
}

// stop sends SIGTERM and waits for a clean exit; after 30s it kills.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
			p.stopErr = p.ExitError()
			return
		default:
		}
		t0 := time.Now()
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
			p.ShutdownTime = time.Since(t0)
			if p.waitErr != nil {
				p.stopErr = fmt.Errorf("skiff did not exit cleanly on SIGTERM: %v%s", p.waitErr, p.LogTail())
			}
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-p.exited
			p.stopErr = fmt.Errorf("skiff still running 30s after SIGTERM; killed%s", p.LogTail())
		}
	})
	return p.stopErr
}

// logTail is the end of the server's log, to explain a failure.
func (p *Process) LogTail() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil || len(b) == 0 {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return "\nskiff log (last lines):\n  " + strings.Join(lines[max(0, len(lines)-20):], "\n  ")
}

// LogSummary is every ERROR and WARN line the server logged (the first
// few of each) and how many there were.
type LogSummary struct {
	Errors, Warnings int
	Examples         []string
}

func (p *Process) LogSummary() LogSummary {
	var s LogSummary
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		s.Examples = append(s.Examples, "reading the server log: "+err.Error())
		return s
	}
	for line := range bytes.Lines(b) {
		l := strings.TrimSpace(string(line))
		switch {
		case strings.Contains(l, "level=ERROR"):
			s.Errors++
		case strings.Contains(l, "level=WARN"):
			s.Warnings++
		case strings.HasPrefix(l, "panic:") || strings.HasPrefix(l, "fatal error:"):
			s.Errors++
		default:
			continue
		}
		if len(s.Examples) < 10 {
			s.Examples = append(s.Examples, l)
		}
	}
	return s
}

// ProcStatusKiB reads one "Name: N kB" field of /proc/PID/status.
func ProcStatusKiB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range bytes.Lines(b) {
		name, rest, ok := strings.Cut(string(line), ":")
		if !ok || name != field {
			continue
		}
		return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", pid, field)
}

// ResetPeakRSS sets the process's VmHWM back to its current RSS
// (proc(5), /proc/PID/clear_refs, value 5).
func ResetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// CPUTimes is CPU time (user + system) used by the server, by this
// benchmark, and by every other process on the machine, which share its
// cores: "other" is what makes a run noisy.
type CPUTimes struct{ Server, Bench, Other time.Duration }

func ReadCPU(pid int) CPUTimes {
	c := CPUTimes{Server: ProcCPU(strconv.Itoa(pid)), Bench: ProcCPU("self")}
	c.Other = MachineCPU() - c.Server - c.Bench
	return c
}

func (c CPUTimes) Sub(o CPUTimes) CPUTimes {
	return CPUTimes{Server: c.Server - o.Server, Bench: c.Bench - o.Bench, Other: max(c.Other-o.Other, 0)}
}

// String is "server/bench/other" in seconds.
func (c CPUTimes) String() string {
	return fmt.Sprintf("%.1f/%.1f/%.1f", c.Server.Seconds(), c.Bench.Seconds(), c.Other.Seconds())
}

// MachineCPU is the busy time of all CPUs from /proc/stat: user, nice,
// system, irq, softirq and steal (guest time is inside user).
func MachineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, _ := strconv.ParseInt(f[i], 10, 64)
		busy += v
	}
	return time.Duration(busy) * (time.Second / 100)
}

// ProcCPU is utime + stime of /proc/<pid>/stat; 0 if it cannot be read.
func ProcCPU(pid string) time.Duration {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name (field 2) may contain spaces; fields after it are
	// numbered from 3. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(utime+stime) * (time.Second / 100)
}

// WorkDir makes the temporary directory of benchmark name (the binary,
// the data directory, the logs). The returned function removes it, or,
// with keep, leaves it and says where it is.
func WorkDir(name string, keep bool) (string, func(), error) {
	dir, err := os.MkdirTemp("", "skiff-bench-"+name+"-")
	if err != nil {
		return "", nil, err
	}
	return dir, func() {
		if keep {
			fmt.Fprintf(os.Stderr, "bench/%s: kept %s\n", name, dir)
			return
		}
		os.RemoveAll(dir)
	}, nil
}

// PerSecond summarizes per-second counts for a table: the median, the
// highest and the lowest full second (the last second is partial and is
// left out of the median and the lowest).
func PerSecond(counts []int) string {
	if len(counts) == 0 {
		return "-"
	}
	full := slices.Clone(counts)
	if len(full) > 1 {
		full = full[:len(full)-1]
	}
	slices.Sort(full)
	return fmt.Sprintf("median %d, max %d, min %d over %d s", full[len(full)/2], slices.Max(counts), full[0], len(counts))
}
