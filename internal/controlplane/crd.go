package controlplane

import (
	"context"
	"fmt"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/crd"
)

// startCRDs serves the custom resources of every CRD until ctx ends and
// returns once those present at start are served, so a restarted server
// answers for them from its first request. done closes when it stops.
func startCRDs(ctx context.Context, api *apiserver.Server) (done <-chan struct{}, err error) {
	st, ok := api.Store(apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
	if !ok {
		return nil, fmt.Errorf("controlplane: customresourcedefinitions are not registered")
	}
	c := crd.NewController(api, st)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		c.Run(ctx)
	}()
	select {
	case <-c.Synced():
	case <-ctx.Done():
		<-stopped
		return nil, ctx.Err()
	}
	return stopped, nil
}
