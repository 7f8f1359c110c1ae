package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"skiff.dev/skiff/bench/internal/skiffproc"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const listNamespace = "bench-list"

// setupWorkers create the listed ConfigMaps.
const setupWorkers = 64

// listResult is one LIST mode.
type listResult struct {
	mode     string // "rv=0", "consistent"
	query    string
	runs     []time.Duration // sorted
	items    int
	bytes    int64
	encoding string // Content-Encoding of the response, if any
	failures failures
	cpu      skiffproc.CPUTimes // all runs, the warm-up included
}

// listSetup is how the listed objects were created.
type listSetup struct {
	objects  int
	elapsed  time.Duration
	failures failures
	cpu      skiffproc.CPUTimes
}

func measureList(ctx context.Context, c *clients, srv *skiffproc.Process, r *report) error {
	css, err := c.clientsets(min(*clientsets, setupWorkers), requestTimeout)
	if err != nil {
		return err
	}
	if err := createNamespace(ctx, css[0], listNamespace); err != nil {
		return err
	}
	c.codes.take()

	// Setup: exactly -list-objects ConfigMaps, created concurrently.
	value := strings.Repeat("x", *valueSize)
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errMu    sync.Mutex
		setupErr error
	)
	cpu0 := skiffproc.ReadCPU(srv.PID())
	start := time.Now()
	for i := range setupWorkers {
		cs := css[i%len(css)]
		wg.Go(func() {
			for {
				k := next.Add(1) - 1
				if k >= int64(*listObjects) || ctx.Err() != nil {
					return
				}
				name := fmt.Sprintf("cm-%05d", k)
				if _, err := cs.CoreV1().ConfigMaps(listNamespace).Create(ctx, configMap(name, value), metav1.CreateOptions{}); err != nil {
					errMu.Lock()
					setupErr = fmt.Errorf("creating %s/%s: %w", listNamespace, name, err)
					errMu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	r.listSetup = listSetup{objects: *listObjects, elapsed: time.Since(start), failures: c.codes.take(), cpu: skiffproc.ReadCPU(srv.PID()).Sub(cpu0)}
	if setupErr != nil {
		return setupErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(c.base.Host, "/") + "/api/v1/namespaces/" + listNamespace + "/configmaps"
	if r.listBaseRSS, err = skiffproc.ProcStatusKiB(srv.PID(), "VmRSS"); err != nil {
		return err
	}
	if err := skiffproc.ResetPeakRSS(srv.PID()); err != nil {
		r.listPeakNote = "VmHWM could not be reset (" + err.Error() + "); peak is since process start"
	}
	for _, m := range []struct{ mode, query string }{
		{"rv=0", "?resourceVersion=0"},
		{"consistent", ""},
	} {
		res := listResult{mode: m.mode, query: m.query}
		cpu0 := skiffproc.ReadCPU(srv.PID())
		for run := range *listRuns + 1 {
			d, items, n, enc, err := listOnce(ctx, hc, url+m.query, run == 0)
			if err != nil {
				return fmt.Errorf("LIST %s: %w", m.mode, err)
			}
			if run == 0 { // warm-up: checks the answer, not timed
				// The service account controller adds kube-root-ca.crt
				// to every namespace, the listed one too.
				if items != *listObjects && items != *listObjects+1 {
					return fmt.Errorf("LIST %s returned %d items, want %d (and kube-root-ca.crt)", m.mode, items, *listObjects)
				}
				res.items, res.bytes, res.encoding = items, n, enc
				continue
			}
			res.runs = append(res.runs, d)
		}
		slices.Sort(res.runs)
		res.failures = c.codes.take()
		res.cpu = skiffproc.ReadCPU(srv.PID()).Sub(cpu0)
		r.lists = append(r.lists, res)
	}
	if r.listPeakRSS, err = skiffproc.ProcStatusKiB(srv.PID(), "VmHWM"); err != nil {
		return err
	}
	return nil
}

// listOnce GETs url as JSON and reads the whole body. It decodes the body
// only when count is set (to check the number of items); the time returned
// is from sending the request to reading the last byte, either way.
func listOnce(ctx context.Context, hc *http.Client, url string, count bool) (time.Duration, int, int64, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, 0, "", err
	}
	req.Header.Set("Accept", "application/json")
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer resp.Body.Close()
	var body []byte
	var n int64
	if count {
		body, err = io.ReadAll(resp.Body)
		n = int64(len(body))
	} else {
		n, err = io.Copy(io.Discard, resp.Body)
	}
	d := time.Since(t0)
	if err != nil {
		return 0, 0, 0, "", err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, "", fmt.Errorf("%s: %.300s", resp.Status, body)
	}
	enc := resp.Header.Get("Content-Encoding")
	if resp.Uncompressed {
		enc = "gzip (undone by the client)"
	}
	items := 0
	if count {
		var list struct {
			Items []struct{} `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return 0, 0, 0, "", fmt.Errorf("decoding the list: %w", err)
		}
		items = len(list.Items)
	}
	return d, items, n, enc, nil
}
