package daemonset

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"skiff.dev/skiff/internal/controller/replicaset"
)

// TemplateGenerationLabel is the label upstream's DaemonSet controller
// puts on pods with the DaemonSet's template generation (the
// deprecated.daemonset.template.generation annotation), from before
// ControllerRevisions; a pod carrying the current one counts as updated.
const TemplateGenerationLabel = "pod-template-generation"

// NodePods is one node as a sync sees it: whether the DaemonSet belongs
// there and the DaemonSet's pods for it (bound to it or, unscheduled,
// aimed at it), deleted pods that finished already left out.
type NodePods struct {
	Name string
	// Exists is false for a node the node informer does not hold: pods
	// aim at it, but it was deleted.
	Exists                           bool
	ShouldRun, ShouldContinueRunning bool
	Pods                             []*corev1.Pod
	// FailedBackoff, when positive, is how long a failed pod on this
	// node must wait before it is deleted and replaced: the node's
	// failed-pod backoff is running.
	FailedBackoff time.Duration
}

// Revision is what identifies the DaemonSet's current template on its
// pods: the controller-revision-hash of its current ControllerRevision
// and, when the annotation is set, its template generation.
type Revision struct {
	Hash       string
	Generation *int64
}

// RevisionOf is ds's revision with hash as its current revision's hash.
func RevisionOf(ds *appsv1.DaemonSet, hash string) Revision {
	r := Revision{Hash: hash}
	if v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]; ok {
		if g, err := strconv.ParseInt(v, 10, 64); err == nil {
			r.Generation = &g
		}
	}
	return r
}

// Updated reports whether p runs the current template: its hash label
// or its template generation label says so, as upstream's IsPodUpdated.
func (r Revision) Updated(p *corev1.Pod) bool {
	if r.Hash != "" && p.Labels[appsv1.DefaultDaemonSetUniqueLabelKey] == r.Hash {
		return true
	}
	return r.Generation != nil && p.Labels[TemplateGenerationLabel] == strconv.FormatInt(*r.Generation, 10)
}

// NodeDecision is what one node needs.
type NodeDecision struct {
	// Create: start a daemon pod for the node.
	Create bool
	// Delete are the pods to delete (failed and succeeded ones among
	// them).
	Delete []*corev1.Pod
	// Failed and Succeeded are the finished pods in Delete, for the
	// FailedDaemonPod and SucceededDaemonPod Events; a failed one also
	// advances the node's backoff.
	Failed, Succeeded []*corev1.Pod
	// RequeueAfter, when positive: a failed pod waits out its backoff;
	// look again then.
	RequeueAfter time.Duration
}

// DecideNode is upstream's podsShouldBeOnNode for one existing node: a
// pod is created where one should run and none is there; pods are
// deleted where none may stay; failed pods are deleted (once the node's
// backoff allows) so that a new one replaces them, succeeded ones too;
// of several running pods the oldest stays, or, when the update strategy
// surges, the oldest updated pod and the oldest old one may stay
// together until the updated one is available (or the old one no longer
// ready).
func DecideNode(n NodePods, rev Revision, surge bool, minReadySeconds int32, now time.Time) NodeDecision {
	var d NodeDecision
	switch {
	case n.ShouldRun && len(n.Pods) == 0:
		d.Create = true
	case n.ShouldContinueRunning:
		var running []*corev1.Pod
		for _, p := range n.Pods {
			switch {
			case p.DeletionTimestamp != nil:
			case p.Status.Phase == corev1.PodFailed:
				if n.FailedBackoff > 0 {
					d.RequeueAfter = n.FailedBackoff
					continue
				}
				d.Delete = append(d.Delete, p)
				d.Failed = append(d.Failed, p)
			case p.Status.Phase == corev1.PodSucceeded:
				d.Delete = append(d.Delete, p)
				d.Succeeded = append(d.Succeeded, p)
			default:
				running = append(running, p)
			}
		}
		slices.SortFunc(running, olderFirst)
		if !surge {
			if len(running) > 1 {
				d.Delete = append(d.Delete, running[1:]...)
			}
			break
		}
		if len(running) == 0 {
			d.Create = n.ShouldRun
			break
		}
		var oldestNew, oldestOld *corev1.Pod
		for _, p := range running {
			switch {
			case rev.Updated(p) && oldestNew == nil:
				oldestNew = p
			case !rev.Updated(p) && oldestOld == nil:
				oldestOld = p
			default:
				d.Delete = append(d.Delete, p)
			}
		}
		if oldestNew != nil && oldestOld != nil &&
			(!replicaset.IsPodReady(oldestOld) || replicaset.IsPodAvailable(oldestNew, minReadySeconds, now)) {
			d.Delete = append(d.Delete, oldestOld)
		}
	default:
		for _, p := range n.Pods {
			if p.DeletionTimestamp == nil {
				d.Delete = append(d.Delete, p)
			}
		}
	}
	return d
}

// olderFirst orders a node's pods as upstream keeps them: scheduled
// before unscheduled, then older first, then by name.
func olderFirst(a, b *corev1.Pod) int {
	if sa, sb := a.Spec.NodeName != "", b.Spec.NodeName != ""; sa != sb {
		if sa {
			return -1
		}
		return 1
	}
	if c := a.CreationTimestamp.Compare(b.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}

// Counts are the rolling update's limits for a DaemonSet: how many pods
// may be unavailable, how many nodes may run an extra (surge) pod.
type Counts struct {
	MaxSurge, MaxUnavailable int
}

// UpdateCounts resolves ds's maxSurge and maxUnavailable against the
// number of nodes that should run it (percentages round up), as
// upstream; a strategy that allows neither gets maxUnavailable 1, so a
// rollout always moves. OnDelete DaemonSets have no limits to resolve.
func UpdateCounts(ds *appsv1.DaemonSet, desired int) (Counts, error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return Counts{}, nil
	}
	var c Counts
	var err error
	if ru.MaxSurge != nil {
		if c.MaxSurge, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true); err != nil {
			return Counts{}, err
		}
	}
	if ru.MaxUnavailable != nil {
		if c.MaxUnavailable, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true); err != nil {
			return Counts{}, err
		}
	}
	if desired > 0 && c.MaxSurge == 0 && c.MaxUnavailable == 0 {
		c.MaxUnavailable = 1
	}
	return c, nil
}

// updatedPodsOn is upstream's findUpdatedPodsOnNode: the node's one
// updated and one old pod (not being deleted); ok is false when it has
// several of either, which the per-node pass prunes first.
func updatedPodsOn(n *NodePods, rev Revision) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range n.Pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if rev.Updated(p) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}

// RollingUpdate is upstream's rolling update pass, run when the per-node
// pass had nothing to do. Without surge it deletes old pods (the
// per-node pass then creates their replacements): every unavailable old
// pod, and available ones while fewer than maxUnavailable of the
// DaemonSet's nodes are unavailable. With surge it creates an updated
// pod beside an old one: at once where the old one is unavailable,
// elsewhere while fewer than maxSurge nodes are surging; an old pod is
// deleted once the updated one beside it is available, and old pods on
// nodes that no longer want one once enough others are available.
// Nodes are taken in the order given.
func RollingUpdate(nodes []NodePods, rev Revision, c Counts, desired int, minReadySeconds int32, now time.Time) (del []*corev1.Pod, create []string) {
	available := func(p *corev1.Pod) bool { return replicaset.IsPodAvailable(p, minReadySeconds, now) }
	if c.MaxSurge == 0 {
		unavailable := 0
		var candidates []*corev1.Pod
		for i := range nodes {
			n := &nodes[i]
			if !n.ShouldRun && len(n.Pods) == 0 {
				continue
			}
			newPod, oldPod, ok := updatedPodsOn(n, rev)
			switch {
			case !ok, oldPod == nil && newPod == nil, oldPod != nil && newPod != nil:
				unavailable++
			case newPod != nil:
				if !available(newPod) {
					unavailable++
				}
			case !available(oldPod):
				del = append(del, oldPod)
				unavailable++
			case unavailable < c.MaxUnavailable:
				candidates = append(candidates, oldPod)
			}
		}
		room := min(max(c.MaxUnavailable-unavailable, 0), len(candidates))
		return append(del, candidates[:room]...), nil
	}

	var surging, numAvailable int
	var shouldNotRun []*corev1.Pod
	var candidates []string
	for i := range nodes {
		n := &nodes[i]
		if !n.ShouldRun && len(n.Pods) == 0 {
			continue
		}
		newPod, oldPod, ok := updatedPodsOn(n, rev)
		if !ok {
			surging++
			continue
		}
		if oldPod != nil && available(oldPod) || oldPod == nil && newPod != nil && available(newPod) {
			numAvailable++
		}
		switch {
		case oldPod == nil:
		case newPod == nil:
			switch {
			case !available(oldPod):
				if !n.ShouldRun {
					del = append(del, oldPod)
					continue
				}
				create = append(create, n.Name)
			case !n.ShouldRun:
				shouldNotRun = append(shouldNotRun, oldPod)
			case surging < c.MaxSurge:
				candidates = append(candidates, n.Name)
			}
		case !available(newPod):
			surging++
		default:
			del = append(del, oldPod)
		}
	}
	// With surge the owner wants every node served: a pod on a node that
	// no longer wants one goes only once as many others are available.
	if spare := numAvailable - desired; spare > 0 {
		del = append(del, shouldNotRun[:min(spare, len(shouldNotRun))]...)
	}
	room := min(max(c.MaxSurge-surging, 0), len(candidates))
	return del, append(create, candidates[:room]...)
}

// Status counts what the DaemonSet's status reports over existing
// nodes, as upstream: desiredNumberScheduled nodes should run it,
// currentNumberScheduled of those have a pod for it, numberMisscheduled
// nodes that should not have one; of each wanted node's oldest pod,
// numberReady are ready, numberAvailable ready for minReadySeconds, and
// updatedNumberScheduled run the current revision; numberUnavailable is
// desired minus available. ObservedGeneration and CollisionCount are
// left for the caller.
func Status(nodes []NodePods, rev Revision, minReadySeconds int32, now time.Time) appsv1.DaemonSetStatus {
	var s appsv1.DaemonSetStatus
	for i := range nodes {
		n := &nodes[i]
		if !n.Exists {
			continue
		}
		scheduled := len(n.Pods) > 0
		if !n.ShouldRun {
			if scheduled {
				s.NumberMisscheduled++
			}
			continue
		}
		s.DesiredNumberScheduled++
		if !scheduled {
			continue
		}
		s.CurrentNumberScheduled++
		p := slices.MinFunc(n.Pods, olderFirst)
		if replicaset.IsPodReady(p) {
			s.NumberReady++
			if replicaset.IsPodAvailable(p, minReadySeconds, now) {
				s.NumberAvailable++
			}
		}
		if rev.Updated(p) {
			s.UpdatedNumberScheduled++
		}
	}
	s.NumberUnavailable = s.DesiredNumberScheduled - s.NumberAvailable
	return s
}

// Plan is one sync's decision for a DaemonSet.
type Plan struct {
	// Create names the nodes to start a daemon pod for.
	Create []string
	// Delete are the pods to delete.
	Delete []*corev1.Pod
	// Orphaned are pods bound to nodes the informer no longer holds, to
	// delete at once (grace 0) once a live read confirms the node is
	// gone: no kubelet will ever stop them.
	Orphaned []*corev1.Pod
	// Failed and Succeeded are the finished pods among Delete.
	Failed, Succeeded []*corev1.Pod
	// Backoff lists the nodes whose failed pod is deleted now, whose
	// backoff advances.
	Backoff []string
	// RequeueAfter, when positive: look again then.
	RequeueAfter time.Duration
}

// Empty reports whether the plan writes nothing.
func (p *Plan) Empty() bool { return len(p.Create)+len(p.Delete)+len(p.Orphaned) == 0 }

// Decide is the DaemonSet controller's decision for one pass: the
// per-node pass (DecideNode) over the nodes that exist; the pods aimed
// at nodes that do not, deleted (upstream deletes only the unscheduled
// ones and leaves the bound ones to PodGC's 40 s quarantine); and, when
// all of that has nothing to do and the strategy is RollingUpdate, the
// rolling update pass. nodes must hold every node that exists and every
// node some pod aims at, in a stable order.
func Decide(ds *appsv1.DaemonSet, nodes []NodePods, rev Revision, now time.Time) (Plan, error) {
	var p Plan
	surge := false
	var desired int
	for i := range nodes {
		if nodes[i].Exists && nodes[i].ShouldRun {
			desired++
		}
	}
	c, err := UpdateCounts(ds, desired)
	if err != nil {
		return Plan{}, err
	}
	surge = c.MaxSurge > 0
	for i := range nodes {
		n := &nodes[i]
		if !n.Exists {
			for _, pod := range n.Pods {
				switch {
				case pod.Spec.NodeName == "" && pod.DeletionTimestamp == nil:
					p.Delete = append(p.Delete, pod)
				case pod.Spec.NodeName != "":
					p.Orphaned = append(p.Orphaned, pod)
				}
			}
			continue
		}
		d := DecideNode(*n, rev, surge, ds.Spec.MinReadySeconds, now)
		if d.Create {
			p.Create = append(p.Create, n.Name)
		}
		p.Delete = append(p.Delete, d.Delete...)
		p.Failed = append(p.Failed, d.Failed...)
		p.Succeeded = append(p.Succeeded, d.Succeeded...)
		if len(d.Failed) > 0 {
			p.Backoff = append(p.Backoff, n.Name)
		}
		if d.RequeueAfter > 0 && (p.RequeueAfter == 0 || d.RequeueAfter < p.RequeueAfter) {
			p.RequeueAfter = d.RequeueAfter
		}
	}
	if !p.Empty() || ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return p, nil
	}
	existing := nodes
	if slices.ContainsFunc(nodes, func(n NodePods) bool { return !n.Exists }) {
		existing = slices.DeleteFunc(slices.Clone(nodes), func(n NodePods) bool { return !n.Exists })
	}
	p.Delete, p.Create = RollingUpdate(existing, rev, c, desired, ds.Spec.MinReadySeconds, now)
	return p, nil
}
