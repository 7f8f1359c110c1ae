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
	"time"
)

// openapiResult is the openapi phase: fetching every OpenAPI document the
// way kubectl does, the first time (skiff builds each on first request).
type openapiResult struct {
	v2       time.Duration // GET /openapi/v2 as protobuf
	v3       time.Duration // GET /openapi/v3 and every document it lists
	v3Docs   int
	bytes    int64 // response bytes, as sent (gzip undone by the client)
	rssAfter int64 // KiB, VmRSS after the fetches
	failures failures
}

// measureOpenAPI fetches /openapi/v2 as protobuf (kubectl's client-side
// validation), then /openapi/v3 and every document its index lists
// (kubectl explain, apply's field validation), and reads the server's RSS:
// the cost of the documents once they have been asked for. It runs before
// the crud phase, on a small heap, so the figure is not mostly the garbage
// a large heap lets pile up before the next collection.
func measureOpenAPI(ctx context.Context, c *clients, srv *skiffproc.Process, r *report) error {
	hc, err := c.httpClient()
	if err != nil {
		return err
	}
	base := strings.TrimSuffix(c.base.Host, "/")
	res := &r.openapi
	fetch := func(path, accept string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", accept)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
		}
		res.bytes += int64(len(body))
		return body, nil
	}

	t0 := time.Now()
	if _, err := fetch("/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"); err != nil {
		return err
	}
	res.v2 = time.Since(t0)

	t0 = time.Now()
	raw, err := fetch("/openapi/v3", "application/json")
	if err != nil {
		return err
	}
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return fmt.Errorf("decoding /openapi/v3: %w", err)
	}
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range index.Paths {
			if !yield(k) {
				return
			}
		}
	}) {
		if _, err := fetch(index.Paths[key].ServerRelativeURL, "application/json"); err != nil {
			return err
		}
		res.v3Docs++
	}
	res.v3 = time.Since(t0)
	res.failures = c.codes.take()
	res.rssAfter, err = skiffproc.ProcStatusKiB(srv.PID(), "VmRSS")
	return err
}
