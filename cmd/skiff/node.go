package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"skiff.dev/skiff/internal/node"
)

// newNodeCommand is `skiff node`: a node agent that joins a running
// control plane. Only the simulated runtime exists so far.
func newNodeCommand() *cobra.Command {
	var (
		runtimeName, server, token, tokenFile, kubeconfig, caFile string
		insecure                                                  bool
		zones                                                     []string
		cpu, memory                                               string
		labels                                                    map[string]string
		taints                                                    []string
		opts                                                      node.Options
	)
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run node agents that join a skiff (or Kubernetes) control plane",
		Long: `Run node agents that join a control plane. With --runtime simulated, one
process runs --count nodes that register, renew their leases and move the
pods bound to them through their lifecycle without running containers.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runtimeName != "simulated" {
				return fmt.Errorf("--runtime %q: only \"simulated\" is available", runtimeName)
			}
			cfg, err := agentConfig(server, token, tokenFile, kubeconfig, caFile, insecure)
			if err != nil {
				return err
			}
			if opts.CPU, err = resource.ParseQuantity(cpu); err != nil {
				return fmt.Errorf("--capacity-cpu: %w", err)
			}
			if opts.Memory, err = resource.ParseQuantity(memory); err != nil {
				return fmt.Errorf("--capacity-memory: %w", err)
			}
			if opts.NamePrefix == "" {
				opts.NamePrefix = hostnamePrefix()
			}
			if msgs := validation.IsDNS1123Subdomain(node.NodeName(opts.NamePrefix, opts.Count)); len(msgs) > 0 {
				return fmt.Errorf("--name-prefix %q: %s", opts.NamePrefix, strings.Join(msgs, "; "))
			}
			opts.Zones, opts.Labels = zones, labels
			if opts.LeaseDurationSeconds <= 0 {
				return fmt.Errorf("--node-lease-duration-seconds %d: must be positive", opts.LeaseDurationSeconds)
			}
			opts.LeaseRenewInterval = time.Duration(opts.LeaseDurationSeconds) * time.Second / 4
			for _, spec := range taints {
				t, err := parseTaint(spec)
				if err != nil {
					return fmt.Errorf("--register-with-taints: %w", err)
				}
				opts.Taints = append(opts.Taints, t)
			}
			ctx, stop := signalContext()
			defer stop()
			return node.RunSimulated(ctx, cfg, opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&runtimeName, "runtime", "simulated", "container runtime: simulated")
	f.IntVar(&opts.Count, "count", 1, "how many nodes this agent runs")
	f.StringVar(&opts.NamePrefix, "name-prefix", "", "nodes are named PREFIX-0, PREFIX-1, ... (default: the host name)")
	f.StringSliceVar(&zones, "zones", nil, "spread the nodes over these zones (topology.kubernetes.io/zone), round-robin")
	f.StringVar(&opts.Region, "region", "skiff", "topology.kubernetes.io/region of the nodes, with --zones")
	f.StringToStringVar(&labels, "node-labels", nil, "labels to add to every node, key=value,...")
	f.StringSliceVar(&taints, "register-with-taints", nil, "taints every node registers with, key[=value]:Effect,...")
	f.StringVar(&cpu, "capacity-cpu", "8", "cpu capacity of each node")
	f.StringVar(&memory, "capacity-memory", "32Gi", "memory capacity of each node")
	f.IntVar(&opts.MaxPods, "max-pods", node.DefaultMaxPods, "pod capacity of each node")
	f.DurationVar(&opts.RunDuration, "run-duration", node.DefaultRunDuration, "how long containers of pods that may complete run, unless the pod says (skiff.dev/simulate-duration)")
	f.DurationVar(&opts.StartDelay, "start-delay", 0, "how long pods stay ContainerCreating before their containers start")
	f.Int32Var(&opts.LeaseDurationSeconds, "node-lease-duration-seconds", node.DefaultLeaseDurationSeconds, "duration of each node's Lease; it is renewed every quarter of it, as the kubelet's nodeLeaseDurationSeconds")
	f.StringVar(&server, "server", "", "API server URL, e.g. https://10.0.0.1:6443 (with --token or --token-file)")
	f.StringVar(&token, "token", "", "bearer token for --server")
	f.StringVar(&tokenFile, "token-file", "", "file holding the bearer token for --server")
	f.StringVar(&caFile, "certificate-authority", "", "CA bundle that signed the server's certificate, for --server")
	f.BoolVar(&insecure, "insecure-skip-tls-verify", false, "do not verify the server's certificate, for --server")
	f.StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig to reach the API server with (instead of --server)")
	return cmd
}

// agentConfig is how the agent reaches the API server: a kubeconfig, or a
// URL with a bearer token.
func agentConfig(server, token, tokenFile, kubeconfig, caFile string, insecure bool) (*rest.Config, error) {
	var cfg *rest.Config
	switch {
	case kubeconfig != "":
		c, err := clientcmd.BuildConfigFromFlags(server, kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig: %w", err)
		}
		cfg = c
	case server != "":
		cfg = &rest.Config{
			Host:            server,
			BearerToken:     token,
			BearerTokenFile: tokenFile,
			TLSClientConfig: rest.TLSClientConfig{CAFile: caFile, Insecure: insecure},
		}
	default:
		return nil, errors.New("give --kubeconfig, or --server with --token or --token-file")
	}
	// Many nodes renew leases and write pod status: client-go's default
	// of 5 requests a second would starve them.
	cfg.QPS, cfg.Burst = 1000, 2000
	// Protobuf, as the kubelet speaks: decoding a busy cluster's pod
	// watch in JSON took the agent's CPU. No client timeout: it would cut
	// every watch after that long (an http.Client timeout covers reading
	// the body), and a watch resumed after the watch cache's window has
	// moved on is a re-list of every pod. A dead connection is found by
	// client-go's HTTP/2 health checks.
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	cfg.UserAgent = "skiff-node"
	return cfg, nil
}

// hostnamePrefix is the host name made fit for node names.
func hostnamePrefix() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return node.DefaultNamePrefix
	}
	h = strings.ToLower(strings.SplitN(h, ".", 2)[0])
	var b strings.Builder
	for _, r := range h {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	if p := strings.Trim(b.String(), "-"); p != "" {
		return p
	}
	return node.DefaultNamePrefix
}

// parseTaint reads key[=value]:Effect, as the kubelet's
// --register-with-taints.
func parseTaint(spec string) (corev1.Taint, error) {
	kv, effect, ok := strings.Cut(spec, ":")
	if !ok {
		return corev1.Taint{}, fmt.Errorf("%q: want key[=value]:Effect", spec)
	}
	key, value, _ := strings.Cut(kv, "=")
	t := corev1.Taint{Key: key, Value: value, Effect: corev1.TaintEffect(effect)}
	switch t.Effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
	default:
		return t, fmt.Errorf("%q: effect must be NoSchedule, PreferNoSchedule or NoExecute", spec)
	}
	if msgs := validation.IsQualifiedName(key); len(msgs) > 0 {
		return t, fmt.Errorf("%q: %s", spec, strings.Join(msgs, "; "))
	}
	return t, nil
}
