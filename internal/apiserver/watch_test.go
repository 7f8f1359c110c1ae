package apiserver

import (
	"bufio"
	"encoding/json"
	"net/http"
	"testing"
)

// A metadata-only or Table watch that streams its initial events ends them
// with a bookmark in the negotiated form; client-go's streaming lists wait
// for it, so a bookmark the encoder refused ended such informers' watches
// before they ever synced.
func TestWatchBookmarkInNegotiatedForm(t *testing.T) {
	_, hs := newTestServer(t)
	for _, accept := range []string{
		"application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1",
		"application/json;as=Table;g=meta.k8s.io;v=v1",
	} {
		t.Run(accept, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/namespaces?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=5", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", accept)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			dec := json.NewDecoder(bufio.NewReader(resp.Body))
			for {
				var ev struct {
					Type   string `json:"type"`
					Object struct {
						Kind     string `json:"kind"`
						Metadata struct {
							ResourceVersion string            `json:"resourceVersion"`
							Annotations     map[string]string `json:"annotations"`
						} `json:"metadata"`
					} `json:"object"`
				}
				if err := dec.Decode(&ev); err != nil {
					t.Fatalf("watch ended before the initial-events bookmark: %v", err)
				}
				if ev.Type != "BOOKMARK" {
					continue
				}
				if ev.Object.Metadata.ResourceVersion == "" {
					t.Errorf("bookmark %+v has no resourceVersion", ev.Object)
				}
				if ev.Object.Kind != "PartialObjectMetadata" && ev.Object.Kind != "Table" {
					t.Errorf("bookmark kind %q", ev.Object.Kind)
				}
				return
			}
		})
	}
}
