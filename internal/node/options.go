package node

import (
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"
)

// Defaults, named as the kubelet's settings they stand for.
const (
	// DefaultNamePrefix names nodes DefaultNamePrefix-0, -1, ...
	DefaultNamePrefix = "skiff-node"
	// DefaultMaxPods is the kubelet's --max-pods default.
	DefaultMaxPods = 110
	// LeaseNamespace holds one Lease per node, named after it.
	LeaseNamespace = corev1.NamespaceNodeLease
	// DefaultLeaseDurationSeconds is the kubelet's nodeLeaseDurationSeconds.
	DefaultLeaseDurationSeconds = 40
	// DefaultLeaseRenewInterval is the kubelet's renew interval: a
	// quarter of the lease duration, 10 s.
	DefaultLeaseRenewInterval = 10 * time.Second
	// DefaultStatusReportFrequency is the kubelet's
	// nodeStatusReportFrequency: an unchanged node status is posted this
	// often, so the heartbeat times stay fresh.
	DefaultStatusReportFrequency = 5 * time.Minute
	// DefaultRunDuration is how long a container that may complete
	// (restartPolicy Never or OnFailure, or an init container) runs.
	DefaultRunDuration = time.Second
	// DefaultPodCIDRWait is how long a node waits for a pod CIDR from the
	// control plane before it picks one itself.
	DefaultPodCIDRWait = 10 * time.Second
	// DefaultWorkers is how many pod and node writes are in flight at once.
	DefaultWorkers = 64
)

// Options say which simulated nodes to run and how they look. The zero
// value of every field means its default.
type Options struct {
	// Count is how many nodes to run; 0 means 1.
	Count int
	// NamePrefix names node i "<NamePrefix>-<i>". Names are the identity
	// of a node: an agent started again with the same prefix adopts its
	// nodes, their leases and their pods.
	NamePrefix string
	// Zones, when set, spread the nodes over these zones round-robin
	// (label topology.kubernetes.io/zone) in Region
	// (topology.kubernetes.io/region, default "skiff").
	Zones  []string
	Region string
	// Labels are added to every node.
	Labels map[string]string
	// Taints every node registers with (the kubelet's --register-with-taints).
	Taints []corev1.Taint
	// CPU, Memory, EphemeralStorage and MaxPods are each node's capacity,
	// all of it allocatable. Defaults: 8 cpu, 32Gi, 100Gi, 110 pods.
	CPU              resource.Quantity
	Memory           resource.Quantity
	EphemeralStorage resource.Quantity
	MaxPods          int

	// RunDuration is how long containers that may complete run; default 1 s.
	RunDuration time.Duration
	// StartDelay is how long pods stay ContainerCreating before their
	// containers start; default 0 (they start at once, and the agent
	// writes one status from Pending to Running).
	StartDelay time.Duration
	// LeaseRenewInterval and LeaseDurationSeconds: defaults 10 s and 40.
	LeaseRenewInterval   time.Duration
	LeaseDurationSeconds int32
	// StatusReportFrequency: default 5 min.
	StatusReportFrequency time.Duration
	// Workers is how many API writes are in flight at once; default 64
	// (writes wait on the server far more than they use CPU here).
	Workers int

	// Pods, when set, is an informer of every pod shared with the rest of
	// the process (`skiff up`'s nodes read the control plane's): the
	// agent reads it instead of watching the pods bound to its nodes. It
	// must not be changed: the agent never writes to the pods it holds.
	Pods cache.SharedIndexInformer
	// Nodes, when set, is an informer of every node shared in the same
	// way: the agent reads its nodes' pod CIDRs from it instead of
	// watching them itself.
	Nodes cache.SharedIndexInformer

	// PodCIDRWait is how long a new node waits for the control plane to
	// set its pod CIDR (the node IPAM controller) before it picks one
	// itself; 0 means DefaultPodCIDRWait, negative: pick at once (no
	// allocator runs).
	PodCIDRWait time.Duration

	// Clock drives leases, heartbeats and simulated durations; default
	// the real clock. Tests pass a fake one.
	Clock clock.WithTicker
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// withDefaults fills in the zero fields.
func (o Options) withDefaults() (Options, error) {
	if o.Count < 0 {
		return o, fmt.Errorf("node: count %d is negative", o.Count)
	}
	if o.Count == 0 {
		o.Count = 1
	}
	if o.NamePrefix == "" {
		o.NamePrefix = DefaultNamePrefix
	}
	if o.Region == "" {
		o.Region = "skiff"
	}
	if o.CPU.IsZero() {
		o.CPU = resource.MustParse("8")
	}
	if o.Memory.IsZero() {
		o.Memory = resource.MustParse("32Gi")
	}
	if o.EphemeralStorage.IsZero() {
		o.EphemeralStorage = resource.MustParse("100Gi")
	}
	if o.MaxPods == 0 {
		o.MaxPods = DefaultMaxPods
	}
	if o.RunDuration == 0 {
		o.RunDuration = DefaultRunDuration
	}
	if o.LeaseRenewInterval == 0 {
		o.LeaseRenewInterval = DefaultLeaseRenewInterval
	}
	if o.LeaseDurationSeconds == 0 {
		o.LeaseDurationSeconds = DefaultLeaseDurationSeconds
	}
	if o.StatusReportFrequency == 0 {
		o.StatusReportFrequency = DefaultStatusReportFrequency
	}
	if o.PodCIDRWait == 0 {
		o.PodCIDRWait = DefaultPodCIDRWait
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o, nil
}

// NodeName is the name of node i of an agent with prefix.
func NodeName(prefix string, i int) string {
	if prefix == "" {
		prefix = DefaultNamePrefix
	}
	return fmt.Sprintf("%s-%d", prefix, i)
}
