package controlplane

import (
	"context"
	"sync"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/controller/deployment"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

// workloads are the ReplicaSet, ReplicationController and Deployment
// controllers.
type workloads struct {
	rs, rc *replicaset.Controller
	deploy *deployment.Controller
}

func newWorkloads(cfg *rest.Config, inf *informers.Factory) (*workloads, error) {
	rs, err := replicaset.NewReplicaSets(cfg, inf)
	if err != nil {
		return nil, err
	}
	rc, err := replicaset.NewReplicationControllers(cfg, inf)
	if err != nil {
		return nil, err
	}
	d, err := deployment.New(cfg, inf)
	if err != nil {
		return nil, err
	}
	return &workloads{rs: rs, rc: rc, deploy: d}, nil
}

// Run runs those of the three that on enables, with
// kube-controller-manager's default worker counts, until ctx ends.
func (w *workloads) Run(ctx context.Context, on map[string]bool) {
	var wg sync.WaitGroup
	if on["replicaset"] {
		wg.Go(func() { w.rs.Run(ctx, 5) })
	}
	if on["replicationcontroller"] {
		wg.Go(func() { w.rc.Run(ctx, 5) })
	}
	if on["deployment"] {
		wg.Go(func() { w.deploy.Run(ctx, 5) })
	}
	wg.Wait()
}
