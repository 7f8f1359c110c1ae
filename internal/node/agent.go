package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/client"
	"skiff.dev/skiff/internal/node/simulated"
)

// wheelSlots is how many slots the lease wheel has: every tick (the renew
// interval / wheelSlots) renews the leases of one slot, so the renewals of
// many nodes spread evenly over the interval instead of arriving at once.
const wheelSlots = 10

// nodeWorkers is how many node writes (leases, status) are in flight at
// once: 1,000 nodes renew 100 leases a second, which a busy server (each
// write waiting ~300 ms behind pod writes) serves only with ~32 in flight.
func nodeWorkers(count int) int { return min(max(count/30, 2), 32) }

// Agent runs simulated nodes: it registers them, renews their leases,
// posts their status, and moves the pods bound to them through their
// lifecycle. It holds no goroutine per node or per pod.
type Agent struct {
	opts  Options
	log   *slog.Logger
	clock clock.WithTicker
	core  *client.Core
	coord *client.Group

	// queue holds pod work; nodeQueue registrations, lease renewals and
	// status reports, with workers of its own, so that a backlog of pods
	// never delays a heartbeat past the lease's expiry.
	queue     workqueue.TypedRateLimitingInterface[key]
	nodeQueue workqueue.TypedRateLimitingInterface[key]
	pods      cache.SharedIndexInformer
	nodeInf   cache.SharedIndexInformer // the agent's nodes, slimmed to their pod CIDRs

	// capacity is what each node can admit.
	capacity usage
	// events buffers Events for writeEvents; eventSeq makes their names
	// unique.
	events   chan eventRecord
	eventSeq atomic.Int64

	// nodes and slots are filled by plan before any worker runs and are
	// read-only afterwards; the fields of a simNode marked so are guarded
	// by mu.
	nodes map[string]*simNode
	order []*simNode
	slots [wheelSlots][]*simNode

	mu sync.Mutex
	// ownMu serializes the agent's own picks of pod CIDRs (ownCIDR).
	ownMu sync.Mutex
}

// simNode is one simulated node.
type simNode struct {
	// spec is decided by plan; its podCIDR and ip are filled in, guarded
	// by Agent.mu, when the control plane assigns the node a pod CIDR.
	spec     nodeSpec
	ips      *podIPs   // guarded by Agent.mu; nil until the node has a pod CIDR
	admitted admission // guarded by Agent.mu

	node       *corev1.Node          // guarded by Agent.mu: as last written; nil until registered
	lease      *coordinationv1.Lease // guarded by Agent.mu: as last written
	lastReport time.Time             // guarded by Agent.mu: when status was last posted
}

// key is a unit of work: a pod to sync, or a node to register, renew the
// lease of, or post the status of.
type key struct {
	kind      keyKind
	namespace string
	name      string
}

type keyKind uint8

const (
	kindPod keyKind = iota
	kindRegister
	kindLease
	kindStatus
	// kindOwnCIDR: the node waited PodCIDRWait for a pod CIDR from the
	// control plane; it picks one itself.
	kindOwnCIDR
)

// New returns an agent for the simulated nodes opts describes, talking to
// the API server cfg points at. Nothing happens until Run.
func New(cfg *rest.Config, opts Options) (*Agent, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	core, err := client.NewCore(cfg)
	if err != nil {
		return nil, err
	}
	coord, err := client.NewGroup(cfg, coordinationv1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	a := &Agent{
		opts:   opts,
		log:    opts.Logger.With("component", "node-agent"),
		clock:  opts.Clock,
		core:   core,
		coord:  coord,
		nodes:  make(map[string]*simNode, opts.Count),
		events: make(chan eventRecord, eventBuffer),
		capacity: usage{pods: int64(opts.MaxPods), milliCPU: opts.CPU.MilliValue(),
			memory: opts.Memory.Value(), storage: opts.EphemeralStorage.Value()},
	}
	newQueue := func(name string) workqueue.TypedRateLimitingInterface[key] {
		return workqueue.NewTypedRateLimitingQueueWithConfig(
			workqueue.NewTypedItemExponentialFailureRateLimiter[key](50*time.Millisecond, 30*time.Second),
			workqueue.TypedRateLimitingQueueConfig[key]{Name: name, Clock: opts.Clock})
	}
	a.queue, a.nodeQueue = newQueue("node-agent-pods"), newQueue("node-agent-nodes")

	// One informer of the pods bound to any node serves every node of the
	// agent: one watch, however many nodes. With one node the server
	// filters for it.
	// A shared informer of every pod serves as well: the handlers skip
	// pods of other nodes.
	if a.pods = opts.Pods; a.pods == nil {
		selector := fields.OneTermNotEqualSelector("spec.nodeName", "").String()
		if opts.Count == 1 {
			selector = fields.OneTermEqualSelector("spec.nodeName", NodeName(opts.NamePrefix, 0)).String()
		}
		lw := client.ListWatch(core.Pods(""), func(o *metav1.ListOptions) { o.FieldSelector = selector })
		a.pods = cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
		if err := a.pods.SetTransform(slimPod); err != nil {
			return nil, err
		}
	}
	// The agent's nodes, to learn the pod CIDR the control plane (the
	// node IPAM controller) gives each.
	nodeSelector := func(o *metav1.ListOptions) {
		if opts.Count == 1 {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", NodeName(opts.NamePrefix, 0)).String()
		}
	}
	if a.nodeInf = opts.Nodes; a.nodeInf == nil {
		a.nodeInf = cache.NewSharedIndexInformer(client.ListWatch(core.Nodes(), nodeSelector), &corev1.Node{}, 0, cache.Indexers{})
		if err := a.nodeInf.SetTransform(slimNode); err != nil {
			return nil, err
		}
	}
	if _, err := a.nodeInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.nodeSeen,
		UpdateFunc: func(_, obj any) { a.nodeSeen(obj) },
	}); err != nil {
		return nil, err
	}
	if _, err := a.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    a.podChanged,
		UpdateFunc: func(_, obj any) { a.podChanged(obj) },
		DeleteFunc: a.podDeleted,
	}); err != nil {
		return nil, err
	}
	return a, nil
}

// slimPod keeps of a pod only what the lifecycle and admission read: its
// identity, deletion, the simulate annotations, the containers' names,
// images, restart policies, requests and probe delays, and the status. The cache then holds
// a fraction of each pod. Writing status back from the slim copy is safe:
// a status write takes the spec and the metadata from the stored pod.
func slimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	slim := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID, ResourceVersion: pod.ResourceVersion,
			Generation: pod.Generation, DeletionTimestamp: pod.DeletionTimestamp,
			DeletionGracePeriodSeconds: pod.DeletionGracePeriodSeconds,
		},
		Spec: corev1.PodSpec{
			NodeName: pod.Spec.NodeName, RestartPolicy: pod.Spec.RestartPolicy, HostNetwork: pod.Spec.HostNetwork,
			InitContainers: slimContainers(pod.Spec.InitContainers), Containers: slimContainers(pod.Spec.Containers),
			ReadinessGates: pod.Spec.ReadinessGates, ActiveDeadlineSeconds: pod.Spec.ActiveDeadlineSeconds,
			Overhead: pod.Spec.Overhead, Resources: pod.Spec.Resources,
		},
		Status: pod.Status,
	}
	for _, k := range []string{simulated.AnnotationDuration, simulated.AnnotationExitCode} {
		if v, ok := pod.Annotations[k]; ok {
			if slim.Annotations == nil {
				slim.Annotations = map[string]string{}
			}
			slim.Annotations[k] = v
		}
	}
	return slim, nil
}

func slimContainers(cs []corev1.Container) []corev1.Container {
	if len(cs) == 0 {
		return nil
	}
	out := make([]corev1.Container, len(cs))
	for i, c := range cs {
		out[i] = corev1.Container{Name: c.Name, Image: c.Image, RestartPolicy: c.RestartPolicy,
			Resources:      corev1.ResourceRequirements{Requests: c.Resources.Requests},
			ReadinessProbe: slimProbe(c.ReadinessProbe), StartupProbe: slimProbe(c.StartupProbe)}
	}
	return out
}

func slimProbe(p *corev1.Probe) *corev1.Probe {
	if p == nil {
		return nil
	}
	return &corev1.Probe{InitialDelaySeconds: p.InitialDelaySeconds}
}

// RunSimulated runs the simulated nodes opts describes until ctx ends.
func RunSimulated(ctx context.Context, cfg *rest.Config, opts Options) error {
	a, err := New(cfg, opts)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// Names are the names of the agent's nodes, in index order.
func (a *Agent) Names() []string {
	out := make([]string, a.opts.Count)
	for i := range out {
		out[i] = NodeName(a.opts.NamePrefix, i)
	}
	return out
}

// Run registers the nodes and keeps them alive until ctx ends; it returns
// once every goroutine it started has stopped. It returns an error only
// when the nodes could not be planned (the server never answered).
func (a *Agent) Run(ctx context.Context) error {
	defer a.queue.ShutDown()
	defer a.nodeQueue.ShutDown()
	if err := a.plan(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, n := range a.order {
		a.nodeQueue.Add(key{kind: kindRegister, name: n.spec.name})
	}
	wg.Go(func() { a.pods.RunWithContext(ctx) })
	wg.Go(func() { a.nodeInf.RunWithContext(ctx) })
	if !cache.WaitForCacheSync(ctx.Done(), a.pods.HasSynced, a.nodeInf.HasSynced) {
		return nil
	}
	a.claimExisting()
	// The ticker starts before any node registers, so the first renewal
	// comes one interval after registration, whatever the clock.
	ticker := a.clock.NewTicker(a.opts.LeaseRenewInterval / wheelSlots)
	defer ticker.Stop()
	for range a.opts.Workers {
		wg.Go(func() { wait.UntilWithContext(ctx, func(ctx context.Context) { a.work(ctx, a.queue) }, time.Second) })
	}
	for range nodeWorkers(len(a.order)) {
		wg.Go(func() {
			wait.UntilWithContext(ctx, func(ctx context.Context) { a.work(ctx, a.nodeQueue) }, time.Second)
		})
	}
	wg.Go(func() { a.turnWheel(ctx, ticker) })
	wg.Go(func() { a.writeEvents(ctx) })
	a.log.Info("simulated nodes running", "count", len(a.order), "first", a.order[0].spec.name)
	<-ctx.Done()
	a.queue.ShutDown()
	a.nodeQueue.ShutDown()
	return nil
}

// plan decides what it can of each node before registering it: a node
// that exists keeps its pod CIDR and address; a new one waits for the
// control plane to give it a pod CIDR (its address derives from that),
// unless the agent is to pick CIDRs itself (PodCIDRWait < 0).
func (a *Agent) plan(ctx context.Context) error {
	var existing *corev1.NodeList
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		var err error
		existing, err = a.core.Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			a.log.Warn("listing nodes", "err", err)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("node: listing nodes: %w", err)
	}
	byName := make(map[string]*corev1.Node, len(existing.Items))
	for i := range existing.Items {
		byName[existing.Items[i].Name] = &existing.Items[i]
	}
	free := freeCIDRIndices(existing.Items)
	for i := range a.opts.Count {
		s := nodeSpec{name: NodeName(a.opts.NamePrefix, i), zone: zoneFor(a.opts.Zones, i)}
		if old := byName[s.name]; old != nil {
			if p, err := netip.ParsePrefix(old.Spec.PodCIDR); err == nil {
				s.podCIDR = p.Masked()
			}
			for _, ad := range old.Status.Addresses {
				if ad.Type == corev1.NodeInternalIP {
					if ip, err := netip.ParseAddr(ad.Address); err == nil {
						s.ip = ip
					}
				}
			}
		}
		if !s.podCIDR.IsValid() && a.opts.PodCIDRWait < 0 {
			k, err := free()
			if err != nil {
				return err
			}
			s.podCIDR = podCIDRForIndex(k)
		}
		if s.podCIDR.IsValid() && !s.ip.IsValid() {
			s.ip = nodeIPForCIDR(s.podCIDR)
		}
		n := &simNode{spec: s}
		if s.podCIDR.IsValid() {
			n.ips = newPodIPs(s.podCIDR)
		}
		a.nodes[s.name] = n
		a.order = append(a.order, n)
		a.slots[i%wheelSlots] = append(a.slots[i%wheelSlots], n)
	}
	return nil
}

// claimExisting records the addresses of pods the nodes already run (an
// agent restarted), before any new pod gets one.
func (a *Agent) claimExisting() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, obj := range a.pods.GetStore().List() {
		pod := obj.(*corev1.Pod)
		n := a.nodes[pod.Spec.NodeName]
		if n == nil || terminal(pod) {
			continue
		}
		if pod.Status.StartTime != nil {
			n.admitted.record(pod.UID, podUsage(pod))
		}
		if ip, err := netip.ParseAddr(pod.Status.PodIP); err == nil && !pod.Spec.HostNetwork {
			n.ips.claim(pod.UID, ip)
		}
	}
}

func terminal(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed
}

func (a *Agent) podChanged(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if _, ours := a.nodes[pod.Spec.NodeName]; ours {
		a.queue.Add(key{kind: kindPod, namespace: pod.Namespace, name: pod.Name})
	}
}

func (a *Agent) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if n := a.nodes[pod.Spec.NodeName]; n != nil {
		a.mu.Lock()
		n.ips.release(pod.UID)
		n.admitted.release(pod.UID)
		a.mu.Unlock()
	}
}

// turnWheel enqueues, every tick, the lease renewals of one slot of nodes
// and the status reports that are due in it.
func (a *Agent) turnWheel(ctx context.Context, t clock.Ticker) {
	slot := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
		slot = (slot + 1) % wheelSlots
		now := a.clock.Now()
		a.mu.Lock()
		for _, n := range a.slots[slot] {
			if n.node == nil {
				continue // not registered yet; registration retries itself
			}
			a.nodeQueue.Add(key{kind: kindLease, name: n.spec.name})
			if now.Sub(n.lastReport) >= a.opts.StatusReportFrequency {
				a.nodeQueue.Add(key{kind: kindStatus, name: n.spec.name})
			}
		}
		a.mu.Unlock()
	}
}

func (a *Agent) work(ctx context.Context, q workqueue.TypedRateLimitingInterface[key]) {
	for {
		k, quit := q.Get()
		if quit {
			return
		}
		err := a.sync(ctx, k)
		switch {
		case err == nil:
			q.Forget(k)
		case ctx.Err() != nil:
			q.Forget(k)
		default:
			a.log.Debug("sync failed; retrying", "kind", k.kind, "namespace", k.namespace, "name", k.name, "err", err)
			q.AddRateLimited(k)
		}
		q.Done(k)
	}
}

func (a *Agent) sync(ctx context.Context, k key) error {
	if k.kind == kindPod {
		return a.syncPod(ctx, k)
	}
	n := a.nodes[k.name]
	if n == nil {
		return nil
	}
	switch k.kind {
	case kindRegister:
		return a.register(ctx, n)
	case kindLease:
		return a.renewLease(ctx, n)
	case kindStatus:
		return a.reportStatus(ctx, n)
	case kindOwnCIDR:
		return a.ownCIDR(ctx, n)
	}
	return nil
}

// register creates the node, or adopts it when it exists (the agent was
// restarted): its status is posted fresh, a pod CIDR set if it had none
// and the agent has one. Then the node's lease is created or taken over.
// Admission's not-ready NoSchedule taint stays: the node lifecycle
// controller lifts it once the node is Ready, as upstream.
func (a *Agent) register(ctx context.Context, n *simNode) error {
	now := a.clock.Now()
	a.mu.Lock()
	spec := n.spec
	a.mu.Unlock()
	want := buildNode(spec, &a.opts, now)
	got, err := a.core.Nodes().Create(ctx, want, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		got, err = a.adopt(ctx, want, spec.podCIDR.IsValid(), now)
	}
	if err != nil {
		return fmt.Errorf("registering node %s: %w", n.spec.name, err)
	}
	a.mu.Lock()
	n.node, n.lastReport = got, now
	// A pod CIDR that arrived while the node registered without one was
	// not in the status just posted: post it now.
	cidrSince := n.ips != nil && !spec.podCIDR.IsValid()
	waiting := n.ips == nil
	a.mu.Unlock()
	if cidrSince {
		a.nodeQueue.Add(key{kind: kindStatus, name: spec.name})
	}
	if waiting && a.opts.PodCIDRWait >= 0 {
		a.nodeQueue.AddAfter(key{kind: kindOwnCIDR, name: spec.name}, a.opts.PodCIDRWait)
	}
	a.log.Debug("node registered", "node", n.spec.name)
	return a.renewLease(ctx, n)
}

func (a *Agent) adopt(ctx context.Context, want *corev1.Node, networkReady bool, now time.Time) (*corev1.Node, error) {
	old, err := a.core.Nodes().Get(ctx, want.Name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	if old.Spec.PodCIDR == "" && want.Spec.PodCIDR != "" {
		upd := old.DeepCopy()
		upd.Spec.PodCIDR, upd.Spec.PodCIDRs = want.Spec.PodCIDR, want.Spec.PodCIDRs
		if old, err = a.core.Nodes().Update(ctx, upd, metav1.UpdateOptions{}); err != nil {
			return nil, err
		}
	}
	upd := old.DeepCopy()
	upd.Status = want.Status
	upd.Status.Conditions = nodeConditions(old.Status.Conditions, now, networkReady)
	return a.core.Nodes().UpdateStatus(ctx, upd, metav1.UpdateOptions{})
}

// reportStatus posts the node's status with fresh heartbeat times. It
// is a merge patch of the conditions and addresses, as the kubelet
// patches its status, so that a write to the node's spec meanwhile (a
// controller's taint or pod CIDR) costs no conflict and no re-read.
func (a *Agent) reportStatus(ctx context.Context, n *simNode) error {
	a.mu.Lock()
	cur, spec, networkReady := n.node, n.spec, n.ips != nil
	a.mu.Unlock()
	if cur == nil {
		return nil
	}
	now := a.clock.Now()
	patch, err := json.Marshal(map[string]any{"status": map[string]any{
		"conditions": nodeConditions(cur.Status.Conditions, now, networkReady),
		"addresses":  nodeAddresses(spec),
	}})
	if err != nil {
		return err
	}
	got, err := a.core.Nodes().Patch(ctx, spec.name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if apierrors.IsNotFound(err) {
		// Deleted by someone: as the kubelet, do not re-register
		// until restarted.
		a.log.Warn("node was deleted; not reporting its status", "node", n.spec.name)
		a.mu.Lock()
		n.node = nil
		a.mu.Unlock()
		return nil
	}
	if err != nil {
		return err
	}
	a.mu.Lock()
	n.node, n.lastReport = got, now
	a.mu.Unlock()
	return nil
}

// renewLease writes the node's lease with renewTime now, creating it if
// it does not exist and re-reading it when the cached copy is stale.
func (a *Agent) renewLease(ctx context.Context, n *simNode) error {
	a.mu.Lock()
	cur, node := n.lease, n.node
	a.mu.Unlock()
	if node == nil {
		return nil
	}
	leases := a.coord.Leases(LeaseNamespace)
	now := metav1.NewMicroTime(a.clock.Now())
	for attempt := 0; ; attempt++ {
		var got *coordinationv1.Lease
		var err error
		if cur == nil {
			cur, err = leases.Get(ctx, n.spec.name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				got, err = leases.Create(ctx, a.newLease(node, now), metav1.CreateOptions{})
				cur = nil
			} else if err != nil {
				return err
			}
		}
		if cur != nil {
			upd := cur.DeepCopy()
			a.fillLease(upd, node, now)
			got, err = leases.Update(ctx, upd, metav1.UpdateOptions{})
		}
		if (apierrors.IsConflict(err) || apierrors.IsNotFound(err) || apierrors.IsAlreadyExists(err)) && attempt < 2 {
			cur = nil
			continue
		}
		if err != nil {
			return fmt.Errorf("renewing lease of node %s: %w", n.spec.name, err)
		}
		a.mu.Lock()
		n.lease = got
		a.mu.Unlock()
		return nil
	}
}

func (a *Agent) newLease(node *corev1.Node, now metav1.MicroTime) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: node.Name, Namespace: LeaseNamespace}}
	a.fillLease(l, node, now)
	return l
}

// fillLease sets what the kubelet's lease controller sets: the holder,
// duration and renew time, and the node as owner so the lease goes with
// it.
func (a *Agent) fillLease(l *coordinationv1.Lease, node *corev1.Node, now metav1.MicroTime) {
	holder, dur := node.Name, a.opts.LeaseDurationSeconds
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &dur, &now
	owner := metav1.OwnerReference{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}
	if !slices.ContainsFunc(l.OwnerReferences, func(o metav1.OwnerReference) bool { return o.UID == node.UID }) {
		l.OwnerReferences = []metav1.OwnerReference{owner}
	}
}

// maxCoalesced bounds how many lifecycle steps one write may coalesce; a
// pod has far fewer steps that can follow each other without time passing.
const maxCoalesced = 16

// step runs the lifecycle until it rests at this instant and returns the
// status it ends in as one write: like the kubelet's status manager, the
// agent posts the latest status, not every state a pod passed through
// (a pod that starts at once goes from Pending to Running in one write).
func (a *Agent) step(pod *corev1.Pod, env simulated.Env) simulated.Result {
	now := a.clock.Now()
	var out simulated.Result
	cur := pod
	for range maxCoalesced {
		r := simulated.Step(cur, env, now)
		out.Delete, out.After = r.Delete, r.After
		if r.Status == nil || r.Delete {
			break
		}
		out.Status = r.Status
		next := *cur
		next.Status = *r.Status
		cur = &next
	}
	return out
}

// syncPod moves one pod a step through its lifecycle: it computes the
// status the pod should have now, writes it, deletes the pod once it has
// stopped after a deletion, and asks to be woken when a simulated
// duration ends.
func (a *Agent) syncPod(ctx context.Context, k key) error {
	obj, exists, err := a.pods.GetIndexer().GetByKey(k.namespace + "/" + k.name)
	if err != nil || !exists {
		return err
	}
	pod := obj.(*corev1.Pod)
	n := a.nodes[pod.Spec.NodeName]
	if n == nil {
		return nil
	}
	a.mu.Lock()
	if n.ips == nil && !terminal(pod) && pod.DeletionTimestamp == nil {
		// No pod network yet: the pod waits for the node's pod CIDR,
		// whose arrival brings it back.
		a.mu.Unlock()
		return nil
	}
	env := simulated.Env{HostIP: n.spec.ip, RunDuration: a.opts.RunDuration, StartDelay: a.opts.StartDelay}
	switch {
	case terminal(pod):
		n.ips.release(pod.UID)
		n.admitted.release(pod.UID)
	case pod.Status.StartTime != nil:
		n.admitted.record(pod.UID, podUsage(pod))
	case pod.DeletionTimestamp == nil:
		env.Reject = n.admitted.admit(pod, a.capacity)
	}
	switch {
	case terminal(pod) || env.Reject != nil:
	case pod.Spec.HostNetwork:
		env.PodIP = n.spec.ip // a pod in the node's network has the node's address
	case pod.Status.PodIP != "":
		if ip, err := netip.ParseAddr(pod.Status.PodIP); err == nil {
			n.ips.claim(pod.UID, ip)
		}
	case pod.DeletionTimestamp == nil:
		ip, ok := n.ips.get(pod.UID)
		if !ok {
			a.mu.Unlock()
			return fmt.Errorf("node %s: no pod IP left in %s", n.spec.name, n.spec.podCIDR)
		}
		env.PodIP = ip
	}
	a.mu.Unlock()

	res := a.step(pod, env)
	if res.Status != nil {
		upd := *pod
		upd.Status = *res.Status
		// The server keeps the stored managed fields on a status write.
		upd.ManagedFields = nil
		if _, err := a.core.UpdatePodStatus(ctx, &upd, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				// The informer has or will have the newer pod, and its
				// event brings the pod back here.
				return nil
			}
			return fmt.Errorf("updating status of pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		a.record(pod, n.spec.name, podEvents(pod, &pod.Status, res.Status))
	}
	if res.Delete {
		zero, uid := int64(0), pod.UID
		err := a.core.Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: &zero,
			Preconditions:      &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	if res.After > 0 {
		a.queue.AddAfter(k, res.After)
	}
	return nil
}
