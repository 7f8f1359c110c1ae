package controlplane

import (
	"context"
	"log/slog"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/informers"
	"skiff.dev/skiff/internal/scheduler"
)

// runScheduler runs the default scheduler while this process holds the
// scheduler Lease, until ctx ends. A lost Lease stops the scheduler and a
// new one starts, with fresh caches, when the Lease is won again.
func runScheduler(ctx context.Context, cfg *rest.Config, inf *informers.Factory, identity string) error {
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "skiff-scheduler"
	return runLeading(ctx, cfg, schedulerLease, identity, func(ctx context.Context) {
		term := inf.Scope()
		defer term.Release()
		s, err := scheduler.New(cfg, term, scheduler.Options{})
		if err != nil {
			slog.Error("scheduler: starting", "err", err)
			return
		}
		if err := s.Run(ctx); err != nil {
			slog.Error("scheduler: stopped", "err", err)
		}
	})
}
