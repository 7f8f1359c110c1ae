package operator

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// Options configure NewManager.
type Options struct {
	// LeaderElectionNamespace, when set, turns on leader election with a
	// Lease in that namespace, as production operators run.
	LeaderElectionNamespace string
	// LeaseDuration and RenewDeadline tune leader election; zero keeps
	// controller-runtime's defaults.
	LeaseDuration, RenewDeadline time.Duration
}

// NewScheme is the scheme the operator's client uses: core kinds, the
// apiextensions kinds (to install its CRD) and Widget.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, apiextensionsv1.AddToScheme, AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// NewManager builds a controller-runtime manager with the Widget
// controller registered. The caller runs it with Start(ctx) and stops it by
// cancelling ctx.
func NewManager(cfg *rest.Config, opts Options) (manager.Manager, *WidgetReconciler, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, nil, err
	}
	mopts := ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// Several tests may run a manager in one process; controller names
		// need not be unique across them.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	}
	if opts.LeaderElectionNamespace != "" {
		mopts.LeaderElection = true
		mopts.LeaderElectionID = "widget-operator.yourco.io"
		mopts.LeaderElectionNamespace = opts.LeaderElectionNamespace
		mopts.LeaderElectionReleaseOnCancel = true
		if opts.LeaseDuration > 0 {
			mopts.LeaseDuration = ptr.To(opts.LeaseDuration)
		}
		if opts.RenewDeadline > 0 {
			mopts.RenewDeadline = ptr.To(opts.RenewDeadline)
		}
	}
	mgr, err := ctrl.NewManager(cfg, mopts)
	if err != nil {
		return nil, nil, fmt.Errorf("operator: new manager: %w", err)
	}
	r := &WidgetReconciler{Client: mgr.GetClient()}
	if err := ctrl.NewControllerManagedBy(mgr).
		Named("widget").
		For(&Widget{}).
		Owns(&corev1.ConfigMap{}).
		Complete(r); err != nil {
		return nil, nil, fmt.Errorf("operator: widget controller: %w", err)
	}
	return mgr, r, nil
}
