package controlplane

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"

	"skiff.dev/skiff/internal/controller/cronjob"
	"skiff.dev/skiff/internal/controller/daemonset"
	"skiff.dev/skiff/internal/controller/disruption"
	"skiff.dev/skiff/internal/controller/endpoints"
	"skiff.dev/skiff/internal/controller/garbagecollector"
	"skiff.dev/skiff/internal/controller/job"
	"skiff.dev/skiff/internal/controller/namespace"
	"skiff.dev/skiff/internal/controller/nodeipam"
	"skiff.dev/skiff/internal/controller/nodelifecycle"
	"skiff.dev/skiff/internal/controller/podautoscaler"
	"skiff.dev/skiff/internal/controller/podgc"
	"skiff.dev/skiff/internal/controller/resourcequota"
	"skiff.dev/skiff/internal/controller/serviceaccount"
	"skiff.dev/skiff/internal/controller/statefulset"
	"skiff.dev/skiff/internal/controller/ttlafterfinished"
	"skiff.dev/skiff/internal/controller/volume"
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
	// The node controllers' settings.
	nodeLifecycle     nodelifecycle.Options
	allocateNodeCIDRs bool
	nodeIPAM          nodeipam.Options
	// The resourcequota and horizontalpodautoscaling settings.
	quotaSyncPeriod time.Duration
	hpa             podautoscaler.Options
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
		c, err := job.New(mc.cfg, job.WithInformers(mc.informers.Pods(), mc.informers.Jobs()))
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"statefulset"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := statefulset.New(mc.cfg, statefulset.SharedInformers(mc.informers))
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"daemonset"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := daemonset.New(mc.cfg, daemonset.SharedInformers(mc.informers))
		return func() { c.Run(ctx, 2) }, err
	}},
	{[]string{"cronjob"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := cronjob.New(mc.cfg, cronjob.WithJobInformer(mc.informers.Jobs()))
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"ttl-after-finished"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := ttlafterfinished.New(mc.cfg, ttlafterfinished.WithJobInformer(mc.informers.Jobs()))
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"resourcequota"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := resourcequota.New(mc.cfg, mc.quotaSyncPeriod, mc.informers)
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"disruption"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := disruption.New(mc.cfg, disruption.Informers{
			Pods: mc.informers.Pods(), PDBs: mc.informers.PodDisruptionBudgets(), ReplicaSets: mc.informers.ReplicaSets(),
		})
		return func() { c.Run(ctx, 2) }, err
	}},
	{[]string{"horizontalpodautoscaling"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := podautoscaler.New(mc.cfg, mc.hpa)
		return func() { c.Run(ctx, 5) }, err
	}},
	{[]string{"nodelifecycle", "taint-eviction-controller"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		opts := mc.nodeLifecycle
		opts.Lifecycle, opts.Eviction = mc.on["nodelifecycle"], mc.on["taint-eviction-controller"]
		c, err := nodelifecycle.New(mc.cfg, opts, nodelifecycle.Informers{Pods: mc.informers.Pods(), Nodes: mc.informers.Nodes()})
		return func() { c.Run(ctx) }, err
	}},
	{[]string{"nodeipam"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		if !mc.allocateNodeCIDRs {
			return func() {}, nil // as kube-controller-manager without --allocate-node-cidrs
		}
		c, err := nodeipam.New(mc.cfg, mc.nodeIPAM, mc.informers.Nodes())
		return func() { c.Run(ctx, 2) }, err
	}},
	{[]string{"persistentvolume-binder", localPathProvisioner, "pvc-protection", "pv-protection"}, func(ctx context.Context, mc *managerContext) (func(), error) {
		c, err := volume.New(mc.informers, volume.Options{
			Binder: mc.on["persistentvolume-binder"], Provisioner: mc.on[localPathProvisioner],
			PVCProtection: mc.on["pvc-protection"], PVProtection: mc.on["pv-protection"],
		})
		return func() { c.Run(ctx, 2) }, err
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
