package controlplane

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/leaderelection"
	"skiff.dev/skiff/internal/scheduler"
)

// schedulerLease is the Lease kube-scheduler elects its leader with; every
// skiff server sharing a store campaigns for it, so only one schedules.
const schedulerLease = "kube-scheduler"

// runScheduler runs the default scheduler while this process holds the
// scheduler Lease, until ctx ends. A lost Lease stops the scheduler and a
// new one starts, with fresh caches, when the Lease is won again.
func runScheduler(ctx context.Context, cfg *rest.Config) error {
	coord, err := client.NewGroup(cfg, coordinationv1.SchemeGroupVersion)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = "skiff-scheduler"
	return leaderelection.Run(ctx, leaderelection.Config{
		Client:    coord.Leases("kube-system"),
		Namespace: "kube-system",
		Name:      schedulerLease,
		Identity:  fmt.Sprintf("%s_%s", host, uuid.NewUUID()),
		OnStartedLeading: func(ctx context.Context) {
			s, err := scheduler.New(cfg, scheduler.Options{})
			if err != nil {
				slog.Error("scheduler: starting", "err", err)
				return
			}
			if err := s.Run(ctx); err != nil {
				slog.Error("scheduler: stopped", "err", err)
			}
		},
	})
}
