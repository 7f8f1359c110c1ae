package controlplane

import (
	"context"
	"log/slog"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/informers"
	"skiff.dev/skiff/internal/node"
)

// startNodes runs count simulated nodes (skiff-node-0 ...) over the
// loopback client, reading the control plane's shared pod informer, until
// ctx ends; the returned channel closes when they
// have stopped. Their names are fixed, so a restarted `skiff up` adopts
// the nodes, leases and pods of the previous run. count 0 runs none.
// Without allocatedCIDRs (no node IPAM controller) the nodes pick their
// pod CIDRs themselves at once.
func startNodes(ctx context.Context, cfg *rest.Config, inf *informers.Factory, count int, allocatedCIDRs bool) <-chan struct{} {
	done := make(chan struct{})
	if count <= 0 {
		close(done)
		return done
	}
	c := rest.CopyConfig(cfg)
	c.UserAgent = "skiff-node"
	go func() {
		defer close(done)
		opts := node.Options{Count: count, NamePrefix: node.DefaultNamePrefix, Pods: inf.Pods(), Nodes: inf.Nodes()}
		if !allocatedCIDRs {
			opts.PodCIDRWait = -1
		}
		if err := node.RunSimulated(ctx, c, opts); err != nil && ctx.Err() == nil {
			slog.Error("simulated nodes stopped", "err", err)
		}
	}()
	return done
}
