package apiserver

import (
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCreateConfigMap measures the server's create path in process
// (client cost included): 1 KiB ConfigMaps, parallel clients. cpu-ns/op is
// the process's CPU time per create, what it costs a busy machine.
func BenchmarkCreateConfigMap(b *testing.B) {
	_, hs := newTestServer(b)
	value := strings.Repeat("x", 1024)
	var n atomic.Int64
	b.SetParallelism(32)
	cpu0 := processCPU()
	defer func() { b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op") }()
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

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
