// Package controlplane assembles a running skiff control plane from its
// parts: the state store, credentials, the API server with every served
// resource, and the HTTPS listener. `skiff up` and `skiff server` are thin
// flag parsers over Run.
package controlplane

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"

	"skiff.dev/skiff/internal/admission"
	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/controller/nodeipam"
	"skiff.dev/skiff/internal/controller/nodelifecycle"
	"skiff.dev/skiff/internal/controller/podautoscaler"
	"skiff.dev/skiff/internal/informers"
	"skiff.dev/skiff/internal/pki"
	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/admissionregistration"
	"skiff.dev/skiff/internal/registry/apiextensions"
	"skiff.dev/skiff/internal/registry/apps"
	"skiff.dev/skiff/internal/registry/autoscaling"
	"skiff.dev/skiff/internal/registry/batch"
	"skiff.dev/skiff/internal/registry/certificates"
	"skiff.dev/skiff/internal/registry/coordination"
	"skiff.dev/skiff/internal/registry/core"
	"skiff.dev/skiff/internal/registry/discovery"
	"skiff.dev/skiff/internal/registry/events"
	"skiff.dev/skiff/internal/registry/networking"
	"skiff.dev/skiff/internal/registry/node"
	"skiff.dev/skiff/internal/registry/policy"
	"skiff.dev/skiff/internal/registry/rbac"
	"skiff.dev/skiff/internal/registry/scheduling"
	"skiff.dev/skiff/internal/registry/storagek8s"
	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	etcdstore "skiff.dev/skiff/internal/storage/etcd"
	"skiff.dev/skiff/internal/version"
)

// Config says how to run.
type Config struct {
	// DataDir holds credentials, the kubeconfig and (embedded store) state.
	DataDir string
	// Listen is the HTTPS address, host:port.
	Listen string
	// Store is "embedded" or "etcd".
	Store string
	// EtcdServers are the etcd endpoints for Store "etcd".
	EtcdServers []string
	// EtcdPrefix is prepended to every key in etcd.
	EtcdPrefix string
	// TokenFile is an optional static bearer-token file (token,user,uid,"groups").
	TokenFile string
	// ServiceCIDR is where Services get their cluster IPs; "" means
	// svcalloc.DefaultServiceCIDR. Its first address is the `kubernetes`
	// Service's.
	ServiceCIDR string
	// AdvertiseAddress is the IP the `kubernetes` Service's Endpoints
	// publish; "" means the listen address when other hosts can reach it.
	AdvertiseAddress string
	// NodePortRange is where Services get their node ports, "low-high";
	// "" means svcalloc.DefaultNodePortRange.
	NodePortRange string
	// Nodes is how many simulated nodes run in the process (0: none).
	Nodes int
	// Controllers selects the built-in controllers to run, as
	// ParseControllers reads it; "" runs them all.
	Controllers string
	// DisableScheduler keeps this process out of the scheduler's leader
	// election, so it never schedules pods.
	DisableScheduler bool
	// NodeLifecycle and NodeIPAM are the node controllers'
	// kube-controller-manager settings; zero values take their defaults.
	// DisableNodeCIDRAllocation is --allocate-node-cidrs=false: no pod
	// CIDRs from the control plane; nodes pick their own.
	NodeLifecycle             nodelifecycle.Options
	NodeIPAM                  nodeipam.Options
	DisableNodeCIDRAllocation bool
	// DefaultNotReadyTolerationSeconds and
	// DefaultUnreachableTolerationSeconds are kube-apiserver's; nil is 300.
	DefaultNotReadyTolerationSeconds, DefaultUnreachableTolerationSeconds *int64
	// ResourceQuotaSyncPeriod and HPA are the resourcequota and
	// horizontalpodautoscaling controllers' settings; zero values take
	// their defaults.
	ResourceQuotaSyncPeriod time.Duration
	HPA                     podautoscaler.Options
	// Ready, if set, is called once the server accepts requests.
	Ready func(kubeconfig string)
}

// KubeconfigName is the admin kubeconfig inside the data dir.
const KubeconfigName = "kubeconfig"

// SystemNamespaces exist from the first start and cannot be deleted.
var SystemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// Run serves until ctx ends, then shuts down gracefully: new connections
// stop, in-flight requests finish, watches end, the store closes.
func Run(ctx context.Context, cfg Config) error {
	// Registered first, so it runs after every other deferred cleanup.
	var stopWatchdog func()
	defer func() {
		if stopWatchdog != nil {
			stopWatchdog()
		}
	}()
	start := time.Now()
	svcCfg, err := serviceConfig(cfg)
	if err != nil {
		return err
	}
	controllers, err := ParseControllers(cfg.Controllers)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", cfg.Listen, err)
	}
	var advertise netip.Addr
	if cfg.AdvertiseAddress != "" {
		if advertise, err = netip.ParseAddr(cfg.AdvertiseAddress); err != nil || advertise.IsUnspecified() || advertise.IsLoopback() {
			return fmt.Errorf("--advertise-address %q: want an IP address other hosts can reach", cfg.AdvertiseAddress)
		}
	}
	bundle, err := pki.Ensure(cfg.DataDir, pki.Options{Hosts: []string{host}})
	if err != nil {
		return err
	}
	for _, c := range bundle.Changes {
		slog.Info("credentials", "change", c)
	}

	api := apiserver.New(st, apiserver.VersionInfo{GitVersion: version.Kubernetes, GitCommit: version.Commit})
	api.SetAdmission(admission.Default(api.AdmissionReader()).WithTolerationSeconds(cfg.DefaultNotReadyTolerationSeconds, cfg.DefaultUnreachableTolerationSeconds))
	if c, ok := st.(interface{ Collectors() []prometheus.Collector }); ok {
		api.Registerer().MustRegister(c.Collectors()...)
	}
	for _, r := range resources(svcCfg) {
		if _, err := api.Register(r); err != nil {
			return err
		}
	}
	apiCtx, stopAPI := context.WithCancel(context.Background())
	apiDone := make(chan struct{})
	go func() {
		defer close(apiDone)
		api.Run(apiCtx)
	}()
	defer func() {
		stopAPI()
		<-apiDone
	}()
	if err := api.WaitReady(ctx); err != nil {
		return err
	}
	if err := api.PublishOpenAPI(); err != nil {
		return err
	}
	if err := bootstrap(ctx, api); err != nil {
		return err
	}
	if err := bootstrapDefaultStorageClass(ctx, api, controllers); err != nil {
		return err
	}
	crdsDone, err := startCRDs(apiCtx, api)
	if err != nil {
		return err
	}
	defer func() {
		stopAPI()
		<-crdsDone
	}()

	authn := []auth.Authenticator{auth.NewX509Authenticator(bundle.CAPool)}
	if cfg.TokenFile != "" {
		tokens, err := auth.LoadTokenFile(cfg.TokenFile)
		if err != nil {
			return err
		}
		authn = append(authn, tokens)
	}
	handler := auth.Middleware(auth.Union(authn...), api, auth.PublicPath)

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	// The kubernetes Service points at the port actually bound.
	if err := bootstrapKubernetesService(ctx, api, svcCfg, ln.Addr(), host, advertise); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           handler,
		TLSConfig:         bundle.ServerTLSConfig(),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelDebug),
	}
	kubeconfig, err := filepath.Abs(filepath.Join(cfg.DataDir, KubeconfigName))
	if err != nil {
		return err
	}
	if err := pki.WriteKubeconfig(kubeconfig, "https://"+hostPortForClients(ln.Addr(), host), bundle); err != nil {
		return err
	}

	served := make(chan error, 1)
	go func() { served <- srv.ServeTLS(ln, "", "") }()

	// Controllers are API clients like any other: through the API handler
	// in process (inProcess), and over loopback for watches.
	loopbackDialer := connrotation.NewDialer((&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	loopback, err := inProcessConfig(loopbackConfig(ln.Addr(), host, bundle, loopbackDialer), api, auth.Union(authn...))
	if err != nil {
		return err
	}
	ctrlCtx, stopControllers := context.WithCancel(ctx)
	// One informer per kind for the controllers, the scheduler and the
	// simulated nodes of this process, fed by the API server's watch
	// caches in process.
	shared, err := informers.New(ctrlCtx, loopback, api.LocalListWatch)
	if err != nil {
		stopControllers()
		return err
	}
	controllersDone, err := startControllers(ctrlCtx, &managerContext{cfg: loopback, rootCA: bundle.CAPEM, on: controllers, informers: shared,
		nodeLifecycle: cfg.NodeLifecycle, allocateNodeCIDRs: !cfg.DisableNodeCIDRAllocation, nodeIPAM: cfg.NodeIPAM,
		quotaSyncPeriod: cfg.ResourceQuotaSyncPeriod, hpa: cfg.HPA}, !cfg.DisableScheduler, leaderIdentity(cfg.DataDir))
	if err != nil {
		stopControllers()
		return err
	}
	nodesDone := startNodes(ctrlCtx, loopback, shared, cfg.Nodes, !cfg.DisableNodeCIDRAllocation && controllers["nodeipam"])
	defer func() {
		stopControllers()
		<-controllersDone
		<-nodesDone
		shared.Wait()
	}()
	slog.Info("skiff is ready", "listen", ln.Addr().String(), "store", cfg.Store, "startup", time.Since(start).Round(time.Millisecond))
	if cfg.Ready != nil {
		cfg.Ready(kubeconfig)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	slog.Info("skiff is shutting down")
	stopWatchdog = shutdownWatchdog(10 * time.Second)
	stopControllers()
	<-controllersDone
	<-nodesDone
	loopbackDialer.CloseAll()
	api.Shutdown() // watches end, so Shutdown does not wait for them
	// In-flight requests get a grace period; then what is left (a client
	// holding an idle connection open) is closed.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); errors.Is(err, context.DeadlineExceeded) {
		slog.Warn("connections still open after the shutdown grace period; closing them", "grace", shutdownGrace)
		srv.Close()
	} else if err != nil {
		return err
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	slog.Info("skiff stopped")
	return nil
}

// shutdownGrace is how long in-flight requests may run after SIGTERM.
const shutdownGrace = 10 * time.Second

// hostPortForClients is the address clients should dial: the listen host,
// with an unspecified address replaced by loopback.
func hostPortForClients(addr net.Addr, host string) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func openStore(ctx context.Context, cfg Config) (storage.Store, error) {
	switch cfg.Store {
	case "", "embedded":
		return embedded.Open(filepath.Join(cfg.DataDir, "state"), embedded.Options{})
	case "etcd":
		if len(cfg.EtcdServers) == 0 {
			return nil, errors.New("--store etcd needs --etcd-servers")
		}
		return etcdstore.New(ctx, etcdstore.Config{Endpoints: cfg.EtcdServers, Prefix: cfg.EtcdPrefix})
	}
	return nil, fmt.Errorf("--store must be embedded or etcd, not %q", cfg.Store)
}

// Resources are every resource the control plane serves, Services with
// the default service CIDR and node-port range.
func Resources() []*registry.Resource { return resources(core.DefaultServiceConfig()) }

func resources(svc core.ServiceConfig) []*registry.Resource {
	var out []*registry.Resource
	coreResources := core.Resources()
	out = append(out, coreResources...)
	out = append(out, core.ServiceResource(svc))
	for _, r := range coreResources {
		if r.GVR.Resource == "events" {
			out = append(out, events.Resources(r)...)
		}
	}
	out = append(out, core.WorkloadResources()...)
	out = append(out, core.ClusterResources()...)
	out = append(out, coordination.Resources()...)
	out = append(out, apps.Resources()...)
	out = append(out, batch.Resources()...)
	// autoscaling/v2 first: the preferred version is the first registered.
	hpaV2 := autoscaling.Resources()
	out = append(out, hpaV2...)
	out = append(out, autoscaling.V1Resources(hpaV2[0])...)
	for _, group := range [][]*registry.Resource{
		rbac.Resources(), networking.Resources(), discovery.Resources(), policy.Resources(), admissionregistration.Resources(),
		scheduling.Resources(), node.Resources(), storagek8s.Resources(), certificates.Resources(),
		apiextensions.Resources(),
	} {
		out = append(out, group...)
	}
	return out
}

// bootstrap creates what every cluster has from the start; existing
// objects are left as they are, so it is safe on every start.
func bootstrap(ctx context.Context, api *apiserver.Server) error {
	nsStore, ok := api.Store(corev1.SchemeGroupVersion.WithResource("namespaces"))
	if !ok {
		return errors.New("namespaces are not served")
	}
	for _, name := range SystemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := nsStore.Create(ctx, "", ns, registry.WriteOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap namespace %s: %w", name, err)
		}
	}
	pcStore, ok := api.Store(schedulingv1.SchemeGroupVersion.WithResource("priorityclasses"))
	if !ok {
		return errors.New("priorityclasses are not served")
	}
	for name, value := range scheduling.SystemPriorityClasses {
		pc := &schedulingv1.PriorityClass{
			ObjectMeta:  metav1.ObjectMeta{Name: name},
			Value:       value,
			Description: systemPriorityClassDescriptions[name],
		}
		if _, err := pcStore.Create(ctx, "", pc, registry.WriteOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("bootstrap priority class %s: %w", name, err)
		}
	}
	return nil
}

// systemPriorityClassDescriptions are upstream's, word for word.
var systemPriorityClassDescriptions = map[string]string{
	"system-node-critical":    "Used for system critical pods that must not be moved from their current node.",
	"system-cluster-critical": "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.",
}

// ParseEtcdServers splits a comma-separated --etcd-servers value.
func ParseEtcdServers(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// loopbackConfig is how in-process controllers reach the API server. Its
// connections are dialed through dialer, so that shutdown can close them:
// an idle client connection would otherwise keep the HTTP server's
// graceful shutdown waiting.
//
// The controllers speak protobuf, as kube-controller-manager and
// kube-scheduler do: decoding JSON watch events and encoding JSON bodies
// was the largest single cost of a busy server (a third of its CPU with
// 10,000 pods on 1,000 simulated nodes). Every in-process client decodes
// protobuf: internal/client's codecs include it, and the metadata client
// sets it itself. A kind the server has no protobuf for (a custom
// resource) is answered in JSON, the second accepted type.
func loopbackConfig(addr net.Addr, host string, b *pki.Bundle, dialer *connrotation.Dialer) *rest.Config {
	return &rest.Config{
		Host: "https://" + hostPortForClients(addr, host),
		Dial: dialer.DialContext,
		TLSClientConfig: rest.TLSClientConfig{
			CAData:   b.CAPEM,
			CertData: b.AdminCertPEM,
			KeyData:  b.AdminKeyPEM,
		},
		ContentConfig: rest.ContentConfig{
			ContentType:        "application/vnd.kubernetes.protobuf",
			AcceptContentTypes: "application/vnd.kubernetes.protobuf,application/json",
		},
		QPS:       1000,
		Burst:     2000,
		UserAgent: "skiff-controller-manager",
	}
}

// startControllers runs the built-in controllers until ctx ends; the
// returned channel closes when they have all stopped.
func startControllers(ctx context.Context, mc *managerContext, scheduling bool, identity string) (<-chan struct{}, error) {
	cfg := mc.cfg
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		err := runLeading(ctx, cfg, controllerManagerLease, identity, func(ctx context.Context) {
			// This term's controllers stop with ctx; their handlers go
			// with them, before a next term adds its own.
			term := *mc
			term.informers = mc.informers.Scope()
			defer term.informers.Release()
			if err := runControllerManager(ctx, &term); err != nil {
				slog.Error("controller manager", "err", err)
			}
		})
		if err != nil {
			slog.Error("controller manager: leader election", "err", err)
		}
	})
	if scheduling {
		wg.Go(func() {
			if err := runScheduler(ctx, cfg, mc.informers, identity); err != nil {
				slog.Error("scheduler", "err", err)
			}
		})
	}
	go func() {
		wg.Wait()
		close(done)
	}()
	return done, nil
}

// shutdownWatchdog logs every goroutine's stack if shutdown has not
// finished after d, so a shutdown that hangs says where. The returned
// function stops it.
func shutdownWatchdog(d time.Duration) (stop func()) {
	t := time.AfterFunc(d, func() {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		slog.Error("shutdown is taking long; goroutines follow", "after", d)
		os.Stderr.Write(buf[:n])
	})
	return func() { t.Stop() }
}
