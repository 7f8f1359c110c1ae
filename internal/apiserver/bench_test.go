package apiserver

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkCreateConfigMap measures the server's create path in process
// (client cost included): 1 KiB ConfigMaps, parallel clients.
func BenchmarkCreateConfigMap(b *testing.B) {
	_, hs := newTestServer(b)
	value := strings.Repeat("x", 1024)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c%d"},"data":{"k":%q}}`, n.Add(1), value)
			if code, _, resp := do(b, "POST", hs.URL+"/api/v1/namespaces/default/configmaps", "application/json", "application/json", []byte(body)); code != 201 {
				b.Fatalf("create: %d %s", code, resp)
			}
		}
	})
}
