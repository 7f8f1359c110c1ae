package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/controller/endpoints"
	"skiff.dev/skiff/internal/controller/garbagecollector"
	"skiff.dev/skiff/internal/controller/job"
	"skiff.dev/skiff/internal/controller/namespace"
	"skiff.dev/skiff/internal/controller/podgc"
	"skiff.dev/skiff/internal/controller/serviceaccount"
	"skiff.dev/skiff/internal/informers"
)

// managerContext is what every built-in controller is started from.
type managerContext struct {
	cfg    *rest.Config
	rootCA []byte
	// on holds the enabled controllers' names, for starters that serve
	// several names from shared informers.
	on map[string]bool
	// informers are the process's shared informers: a controller takes
	// its informers from here, so each kind is watched and held once.
	informers *informers.Factory
}

// starter builds one or more controllers and returns the function that
// runs them until ctx ends. It is called only when one of its names is
// enabled.
type starter struct {
	names []string
	start func(ctx context.Context, mc *managerContext) (run func(), err error)
}

// starters are the built-in controllers, in the order they start. Their
// names are kube-controller-manager's --controllers names.
var starters = []starter{
	{[]string{"namespace"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := namespace.New(mc.cfg)
		return func() { c.Run(ctx, 2) }, err
	}},
	{[]string{"serviceaccount"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := serviceaccount.New(mc.cfg, mc.rootCA)
		return func() { c.Run(ctx, 2) }, err
	}},
	{[]string{"garbagecollector"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := garbagecollector.New(mc.cfg, 0, mc.informers.Existing)
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"podgc"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := podgc.New(mc.cfg, mc.informers)
		return func() { c.Run(ctx) }, err
	}},
	{[]string{"replicaset", "replicationcontroller", "deployment"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := newWorkloads(mc.cfg, mc.informers)
		return func() { c.Run(ctx, mc.on) }, err
	}},
	{[]string{"endpoint", "endpointslice"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := endpoints.New(mc.cfg, mc.informers, mc.on["endpoint"], mc.on["endpointslice"])
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"job"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := job.New(mc.cfg)
		return func() { c.Run(ctx, 5) }, err
	}},
}

// Controllers are the built-in controllers' names, as
// kube-controller-manager's --controllers spells them.
var Controllers = func() []string {
	var names []string
	for _, s := range starters {
		names = append(names, s.names...)
	}
	return names
}()

// ParseControllers reads a --controllers value: a comma-separated list of
// controller names, where "*" is every controller, "name" enables one and
// "-name" disables one (later entries win), as kube-controller-manager
// reads it. "" is "*".
func ParseControllers(spec string) (map[string]bool, error) {
	if strings.TrimSpace(spec) == "" {
		spec = "*"
	}
	on := map[string]bool{}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		name, disable := strings.CutPrefix(item, "-")
		switch {
		case item == "*":
			for _, c := range Controllers {
				on[c] = true
			}
		case slices.Contains(Controllers, name):
			on[name] = !disable
		default:
			return nil, fmt.Errorf("--controllers: unknown controller %q; known: %s", item, strings.Join(Controllers, ", "))
		}
	}
	return on, nil
}

// runControllerManager runs the built-in controllers until ctx ends: while
// this process holds the controller-manager Lease, so that servers sharing
// a store never both create a ReplicaSet's pods.
func runControllerManager(ctx context.Context, mc *managerContext) error {
	var runs []func()
	for _, s := range starters {
		if !slices.ContainsFunc(s.names, func(n string) bool { return mc.on[n] }) {
			continue
		}
		run, err := s.start(ctx, mc)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(s.names, ", "), err)
		}
		runs = append(runs, run)
	}
	var wg sync.WaitGroup
	for _, run := range runs {
		wg.Go(run)
	}
	wg.Wait()
	return nil
}
