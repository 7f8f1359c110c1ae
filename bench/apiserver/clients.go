package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// clients builds client-go clients for the server, all of which count the
// connections they dial and every response that is not a success.
type clients struct {
	base  *rest.Config
	dials atomic.Int64
	codes codeCounter
}

func newClients(kubeconfig string) (*clients, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS = -1 // a negative QPS turns client-go's rate limiter off
	cfg.ContentType = *contentType
	cfg.UserAgent = "skiff-bench-apiserver"
	c := &clients{base: cfg}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	// A custom Dial also keeps client-go from sharing one cached transport
	// between clientsets: each clientset made here has its own connections.
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.dials.Add(1)
		return dialer.DialContext(ctx, network, addr)
	}
	cfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		return &countingTransport{next: rt, codes: &c.codes}
	}
	return c, nil
}

// clientsets returns n clientsets, each with its own transport. timeout
// bounds each request (0: none, for watches).
func (c *clients) clientsets(n int, timeout time.Duration) ([]*kubernetes.Clientset, error) {
	cfg := rest.CopyConfig(c.base)
	cfg.Timeout = timeout
	out := make([]*kubernetes.Clientset, max(n, 1))
	for i := range out {
		cs, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return nil, err
		}
		out[i] = cs
	}
	return out, nil
}

// httpClient is a plain HTTP client with the admin credentials.
func (c *clients) httpClient() (*http.Client, error) {
	return rest.HTTPClientFor(c.base)
}

// countingTransport records the status of every response >= 400 and every
// failed round trip, so retries that client-go hides (429 with
// Retry-After, for one) are still seen.
type countingTransport struct {
	next  http.RoundTripper
	codes *codeCounter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil:
		if !errors.Is(err, context.Canceled) {
			t.codes.add(fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err), "transport error")
		}
	case resp.StatusCode >= 400:
		t.codes.add(fmt.Sprintf("%s %s: %s", req.Method, req.URL.Path, resp.Status), fmt.Sprint(resp.StatusCode))
	}
	return resp, err
}

// codeCounter counts failures by kind ("429", "500", "transport error")
// since it was last taken, keeping an example of each.
type codeCounter struct {
	mu       sync.Mutex
	counts   map[string]int
	examples map[string]string
}

func (c *codeCounter) add(example, kind string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts, c.examples = map[string]int{}, map[string]string{}
	}
	c.counts[kind]++
	if _, ok := c.examples[kind]; !ok {
		c.examples[kind] = example
	}
}

// take returns the failures since the last take and starts afresh.
func (c *codeCounter) take() failures {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := failures{counts: c.counts, examples: c.examples}
	c.counts, c.examples = nil, nil
	return f
}

// failures are the HTTP-level failures seen during one phase.
type failures struct {
	counts   map[string]int
	examples map[string]string
}

func (f failures) total() int {
	n := 0
	for _, v := range f.counts {
		n += v
	}
	return n
}

// String is "429×3 500×1", or "0".
func (f failures) String() string {
	if len(f.counts) == 0 {
		return "0"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(f.counts)) {
		parts = append(parts, fmt.Sprintf("%s×%d", strings.ReplaceAll(k, " ", "-"), f.counts[k]))
	}
	return strings.Join(parts, " ")
}

// scrapeServerMetrics returns the server's own counts of refused and failed
// requests from /metrics: every apiserver_request_total series whose code
// is 429 or 5xx, and apiserver_dropped_requests_total.
func scrapeServerMetrics(ctx context.Context, c *clients) []string {
	hc, err := c.httpClient()
	if err != nil {
		return []string{"scraping /metrics: " + err.Error()}
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.base.Host, "/")+"/metrics", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return []string{"scraping /metrics: " + err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return []string{fmt.Sprintf("scraping /metrics: %s %v", resp.Status, err)}
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "apiserver_request_total{") &&
			(strings.Contains(line, `code="429"`) || strings.Contains(line, `code="5`)),
			strings.HasPrefix(line, "apiserver_dropped_requests_total{") && !strings.HasSuffix(line, " 0"):
			out = append(out, line)
		}
	}
	return out
}
