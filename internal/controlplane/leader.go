package controlplane

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/leaderelection"
)

// Leases in kube-system that the control-plane components elect their
// leader with, under upstream's names: every skiff server sharing a store
// campaigns for them, so one schedules and one runs the controllers.
const (
	schedulerLease         = "kube-scheduler"
	controllerManagerLease = "kube-controller-manager"
)

// runLeading runs lead while this process holds the Lease kube-system/name,
// until ctx ends. A lost Lease cancels lead's context; lead runs again,
// from scratch, when the Lease is won again.
func runLeading(ctx context.Context, cfg *rest.Config, name, identity string, lead func(ctx context.Context)) error {
	coord, err := client.NewGroup(cfg, coordinationv1.SchemeGroupVersion)
	if err != nil {
		return err
	}
	return leaderelection.Run(ctx, leaderelection.Config{
		Client:           coord.Leases("kube-system"),
		Namespace:        "kube-system",
		Name:             name,
		Identity:         identity,
		OnStartedLeading: lead,
	})
}

// leaderIdentity names this server in the Leases it holds: the host and
// its data dir, so a server restarted after a crash (kill -9, no release)
// recognises its own Lease and leads again at once instead of waiting out
// the lease duration. Two servers never share a data dir (the embedded
// store locks it; with etcd each keeps its own credentials there).
func leaderIdentity(dataDir string) string {
	host, _ := os.Hostname()
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		abs = dataDir
	}
	sum := sha256.Sum256([]byte(abs))
	return fmt.Sprintf("%s_%x", host, sum[:6])
}
