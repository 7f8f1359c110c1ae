// Package controlplanetest runs a whole skiff control plane inside a test
// process, for tests of the parts that run in it (controllers, node
// agents) against the real API server and store.
package controlplanetest

import (
	"context"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/internal/controlplane"
)

// Start runs a control plane on the embedded store in a temporary
// directory, on a free loopback port, with cfg's other settings
// (controllers, scheduler, nodes), until the test ends, and returns an
// admin client config of it without client-side rate limits.
func Start(t testing.TB, cfg controlplane.Config) *rest.Config {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	cfg.DataDir, cfg.Listen, cfg.Store = t.TempDir(), "127.0.0.1:0", "embedded"
	cfg.Ready = func(kubeconfig string) { ready <- kubeconfig }
	go func() { done <- controlplane.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("control plane: %v", err)
		}
	})
	select {
	case kc := <-ready:
		c, err := clientcmd.BuildConfigFromFlags("", kc)
		if err != nil {
			t.Fatal(err)
		}
		c.QPS, c.Burst = -1, 0
		return c
	case err := <-done:
		t.Fatalf("control plane stopped before it was ready: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("control plane not ready after a minute")
	}
	return nil
}
