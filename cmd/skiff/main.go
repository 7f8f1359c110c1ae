// Command skiff is the single skiff binary: API server, controllers,
// scheduler and node agent. This file only wires subcommands to packages.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"skiff.dev/skiff/internal/admission"
	"skiff.dev/skiff/internal/controller/nodeipam"
	"skiff.dev/skiff/internal/controller/nodelifecycle"
	"skiff.dev/skiff/internal/controller/podautoscaler"
	"skiff.dev/skiff/internal/controller/resourcequota"
	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/version"
)

func main() {
	if err := newRootCommand().Execute(); err != nil {
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	var logLevel string
	var verbosity int
	root := &cobra.Command{
		Use:          "skiff",
		Short:        "A small, fast Kubernetes-compatible control plane in one binary",
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return setupLogging(logLevel, verbosity)
		},
	}
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().IntVarP(&verbosity, "v", "v", 0, "log verbosity; 4 or more means debug")
	root.AddCommand(&cobra.Command{
		Use:   "version",
		Short: "Print skiff's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintln(cmd.OutOrStdout(), version.String())
			return err
		},
	})
	root.AddCommand(newUpCommand(), newServerCommand())
	root.AddCommand(newNodeCommand())
	return root
}

func setupLogging(level string, verbosity int) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	if verbosity >= 4 {
		l = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})))
	return nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newUpCommand() *cobra.Command {
	cfg := controlplane.Config{Store: "embedded"}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start a whole single-machine cluster on the embedded store",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			cfg.Ready = func(kubeconfig string) {
				fmt.Fprintf(cmd.OutOrStdout(), "export KUBECONFIG=%s\n", kubeconfig)
			}
			return controlplane.Run(ctx, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:6443", "HTTPS address to serve the API on (HOST:PORT)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", "./skiff-data", "directory for state, credentials and the admin kubeconfig")
	cmd.Flags().StringVar(&cfg.TokenFile, "token-auth-file", "", "static bearer tokens, CSV lines token,user,uid,\"group1,group2\"")
	cmd.Flags().BoolVar(&cfg.DisableScheduler, "disable-scheduler", false, "do not run the scheduler in this process")
	cmd.Flags().StringVar(&cfg.Controllers, "controllers", "*", "built-in controllers to run: * for all, NAME to enable, -NAME to disable, comma-separated ("+strings.Join(controlplane.Controllers, ", ")+")")
	cmd.Flags().IntVar(&cfg.Nodes, "nodes", 1, "simulated nodes to run in the process, named skiff-node-0, -1, ... (0: none)")
	serviceFlags(cmd, &cfg)
	nodeFlags(cmd, &cfg)
	autoscalingFlags(cmd, &cfg)
	return cmd
}

func newServerCommand() *cobra.Command {
	cfg := controlplane.Config{}
	var etcdServers string
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the API server on the embedded store or an etcd cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signalContext()
			defer stop()
			cfg.EtcdServers = controlplane.ParseEtcdServers(etcdServers)
			cfg.Ready = func(kubeconfig string) {
				fmt.Fprintf(cmd.OutOrStdout(), "export KUBECONFIG=%s\n", kubeconfig)
			}
			return controlplane.Run(ctx, cfg)
		},
	}
	cmd.Flags().StringVar(&cfg.Listen, "listen", "127.0.0.1:6443", "HTTPS address to serve the API on (HOST:PORT)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", "./skiff-data", "directory for credentials, the admin kubeconfig and embedded state")
	cmd.Flags().StringVar(&cfg.Store, "store", "embedded", "state store: embedded or etcd")
	cmd.Flags().StringVar(&etcdServers, "etcd-servers", "", "comma-separated etcd endpoints, for --store etcd")
	cmd.Flags().StringVar(&cfg.EtcdPrefix, "etcd-prefix", "", "key prefix in etcd, to share a cluster")
	cmd.Flags().StringVar(&cfg.TokenFile, "token-auth-file", "", "static bearer tokens, CSV lines token,user,uid,\"group1,group2\"")
	cmd.Flags().BoolVar(&cfg.DisableScheduler, "disable-scheduler", false, "do not run the scheduler in this process")
	cmd.Flags().StringVar(&cfg.Controllers, "controllers", "*", "built-in controllers to run: * for all, NAME to enable, -NAME to disable, comma-separated ("+strings.Join(controlplane.Controllers, ", ")+")")
	serviceFlags(cmd, &cfg)
	nodeFlags(cmd, &cfg)
	autoscalingFlags(cmd, &cfg)
	return cmd
}

// serviceFlags are where Services get their addresses, named as
// kube-apiserver names them.
func serviceFlags(cmd *cobra.Command, cfg *controlplane.Config) {
	cmd.Flags().StringVar(&cfg.ServiceCIDR, "service-cluster-ip-range", "10.43.0.0/16", "IPv4 CIDR Services get cluster IPs from; its first address is the kubernetes Service's")
	cmd.Flags().StringVar(&cfg.NodePortRange, "service-node-port-range", "30000-32767", "port range Services get node ports from, low-high")
	cmd.Flags().StringVar(&cfg.AdvertiseAddress, "advertise-address", "", "IP the kubernetes Service's Endpoints publish (default: the --listen host, when other hosts can reach it)")
}

// nodeFlags are the node controllers' settings, named as
// kube-controller-manager names them, and the default tolerations of the
// not-ready and unreachable taints, named as kube-apiserver does.
func nodeFlags(cmd *cobra.Command, cfg *controlplane.Config) {
	f, nl := cmd.Flags(), &cfg.NodeLifecycle
	f.DurationVar(&nl.MonitorPeriod, "node-monitor-period", nodelifecycle.DefaultMonitorPeriod, "how often node health is checked")
	f.DurationVar(&nl.MonitorGracePeriod, "node-monitor-grace-period", nodelifecycle.DefaultMonitorGracePeriod, "how long a node may go without renewing its lease or posting status before it is Unknown")
	f.DurationVar(&nl.StartupGracePeriod, "node-startup-grace-period", nodelifecycle.DefaultStartupGracePeriod, "how long a node that never posted status may take before it is Unknown")
	f.Float64Var(&nl.EvictionRate, "node-eviction-rate", nodelifecycle.DefaultEvictionRate, "nodes per second tainted NoExecute when their zone is healthy")
	f.Float64Var(&nl.SecondaryEvictionRate, "secondary-node-eviction-rate", nodelifecycle.DefaultSecondaryEvictionRate, "nodes per second tainted NoExecute when their zone is unhealthy (0 in zones up to --large-cluster-size-threshold nodes)")
	f.Float64Var(&nl.UnhealthyZoneThreshold, "unhealthy-zone-threshold", nodelifecycle.DefaultUnhealthyZoneThreshold, "fraction of not-Ready nodes (at least 3) that makes a zone unhealthy")
	f.IntVar(&nl.LargeClusterThreshold, "large-cluster-size-threshold", nodelifecycle.DefaultLargeClusterThreshold, "zones above this many nodes keep the secondary eviction rate when unhealthy")
	allocate := f.Bool("allocate-node-cidrs", true, "give nodes pod CIDRs from --cluster-cidr (the nodeipam controller); without it nodes pick their own")
	cmd.PreRun = func(*cobra.Command, []string) { cfg.DisableNodeCIDRAllocation = !*allocate }
	f.StringVar(&cfg.NodeIPAM.ClusterCIDR, "cluster-cidr", nodeipam.DefaultClusterCIDR, "CIDR nodes' pod CIDRs are carved from")
	f.IntVar(&cfg.NodeIPAM.NodeMaskSize, "node-cidr-mask-size", nodeipam.DefaultNodeMaskSize, "mask size of each node's pod CIDR")
	notReady, unreachable := int64(admission.DefaultNoExecuteSeconds), int64(admission.DefaultNoExecuteSeconds)
	cfg.DefaultNotReadyTolerationSeconds, cfg.DefaultUnreachableTolerationSeconds = &notReady, &unreachable
	f.Int64Var(&notReady, "default-not-ready-toleration-seconds", notReady, "tolerationSeconds of the not-ready:NoExecute toleration added to pods that have none")
	f.Int64Var(&unreachable, "default-unreachable-toleration-seconds", unreachable, "tolerationSeconds of the unreachable:NoExecute toleration added to pods that have none")
}

// autoscalingFlags are the resourcequota and horizontalpodautoscaling
// controllers' settings, named as kube-controller-manager names them.
func autoscalingFlags(cmd *cobra.Command, cfg *controlplane.Config) {
	f, hpa := cmd.Flags(), &cfg.HPA
	f.DurationVar(&cfg.ResourceQuotaSyncPeriod, "resource-quota-sync-period", resourcequota.DefaultResyncPeriod, "how often every quota's usage is recounted in full")
	f.DurationVar(&hpa.SyncPeriod, "horizontal-pod-autoscaler-sync-period", podautoscaler.DefaultSyncPeriod, "how often every HorizontalPodAutoscaler is reconciled")
	f.DurationVar(&hpa.DownscaleStabilization, "horizontal-pod-autoscaler-downscale-stabilization", podautoscaler.DefaultDownscaleStabilization, "how long an HPA without spec.behavior waits before scaling down")
	f.Float64Var(&hpa.Tolerance, "horizontal-pod-autoscaler-tolerance", podautoscaler.DefaultTolerance, "how far from the target the usage ratio must be before an HPA scales")
}
