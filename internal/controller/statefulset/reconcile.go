package statefulset

import (
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Input is what one pass over a StatefulSet reads.
type Input struct {
	Set *appsv1.StatefulSet
	// Current and Update are the revisions RevisionPlan settled on
	// (after any creation); they may be the same revision.
	Current, Update *appsv1.ControllerRevision
	// CurrentTemplate is the pod template Current holds; nil means the
	// set's own (when Current is Update).
	CurrentTemplate *corev1.PodTemplateSpec
	CollisionCount  int32
	// Pods are the pods the set controls.
	Pods []*corev1.Pod
	// Claims looks up a claim of the set's namespace by name.
	Claims func(name string) (*corev1.PersistentVolumeClaim, bool)
	Now    time.Time
}

// Reason says why a pod is deleted.
type Reason string

const (
	// ReasonFinished: the pod failed or succeeded and is replaced.
	ReasonFinished Reason = "finished"
	// ReasonScaleDown: its ordinal is outside the set's range.
	ReasonScaleDown Reason = "scale down"
	// ReasonUpdate: a rolling update replaces it at the update revision.
	ReasonUpdate Reason = "update"
)

// Deletion is a pod to delete and why.
type Deletion struct {
	Pod    *corev1.Pod
	Reason Reason
}

// ClaimOwners is a claim whose owner references must become Owners.
type ClaimOwners struct {
	Claim  *corev1.PersistentVolumeClaim
	Owners []metav1.OwnerReference
}

// Plan is what a pass does, in this order: create the claims, then the
// pods (each pod's claims are among CreateClaims or exist), relabel pods,
// set claims' owners, delete pods; then write Status.
type Plan struct {
	CreateClaims []*corev1.PersistentVolumeClaim
	CreatePods   []*corev1.Pod
	// Relabel are pods lacking the pod-name or pod-index label (adopted
	// ones): they get both.
	Relabel     []*corev1.Pod
	ClaimOwners []ClaimOwners
	Delete      []Deletion
	Status      appsv1.StatefulSetStatus
	// RequeueAfter, when not 0, is when a pod becomes available
	// (minReadySeconds) and the status changes with no event to say so.
	RequeueAfter time.Duration
	// Waiting names the pod an OrderedReady pass stopped at, and why.
	Waiting string
}

// Reconcile decides one pass over a StatefulSet, as upstream's
// StatefulSet control does:
//   - a pod whose ordinal is in [start, start+replicas) is a replica,
//     one outside it is condemned; pods whose names carry no ordinal of
//     the set are ignored;
//   - each replica in ordinal order: a failed or succeeded pod is
//     deleted (a later pass recreates it); a missing pod is created with
//     its claims (at the current revision below the partition, else the
//     update revision) unless a claim is still being deleted or still
//     belongs to an earlier pod of that name; OrderedReady stops at the
//     first pod it created or that is not yet Running, Ready and available;
//   - condemned pods, highest ordinal first: OrderedReady deletes one at
//     a time, only once every replica is healthy, and waits for it;
//     Parallel deletes them all;
//   - claims get owner references as the retention policy asks;
//   - RollingUpdate then deletes, from the highest ordinal down to the
//     partition, pods not at the update revision, as many as
//     maxUnavailable allows given the replicas already unhealthy;
//     OnDelete leaves them to the user.
func Reconcile(in Input) (p Plan) {
	set := in.Set
	replicas, condemned := split(set, in.Pods)
	p.Status = status(in, replicas, condemned)
	p.RequeueAfter = requeue(set, in.Pods, in.Now)
	defer completeRollingUpdate(set, &p.Status)
	if set.DeletionTimestamp != nil {
		return p
	}
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	start := startOrdinal(set)

	firstUnhealthy := -1
	for i, pod := range replicas {
		if !healthy(pod) {
			firstUnhealthy = start + i
			break
		}
	}
	if firstUnhealthy < 0 {
		for i := len(condemned) - 1; i >= 0; i-- {
			if !healthy(condemned[i]) {
				firstUnhealthy = ordinalOf(set, condemned[i])
				break
			}
		}
	}

	for i, pod := range replicas {
		if stop := p.replica(in, start+i, pod, monotonic); stop && monotonic {
			return p
		}
	}
	for _, pod := range condemned {
		p.claimOwners(in, pod, ordinalOf(set, pod), true)
	}
	for _, pod := range condemned {
		ord := ordinalOf(set, pod)
		if isTerminating(pod) {
			if monotonic {
				p.Waiting = pod.Name + " to terminate before scaling down"
				return p
			}
			continue
		}
		if monotonic && ord != firstUnhealthy && !runningAndAvailable(pod, set.Spec.MinReadySeconds, in.Now) {
			p.Waiting = pod.Name + " to be Running and Ready before scaling down"
			return p
		}
		p.Delete = append(p.Delete, Deletion{pod, ReasonScaleDown})
		if monotonic {
			return p
		}
	}
	if set.Spec.UpdateStrategy.Type == appsv1.OnDeleteStatefulSetStrategyType {
		return p
	}
	p.rollingUpdate(in, replicas)
	return p
}

// split sorts pods into replicas, indexed by ordinal-start (nil where
// missing), and condemned, highest ordinal first.
func split(set *appsv1.StatefulSet, pods []*corev1.Pod) (replicas, condemned []*corev1.Pod) {
	replicas = make([]*corev1.Pod, replicasOf(set))
	start := startOrdinal(set)
	for _, pod := range pods {
		switch ord := ordinalOf(set, pod); {
		case ord < 0:
		case inRange(set, ord):
			replicas[ord-start] = pod
		default:
			condemned = append(condemned, pod)
		}
	}
	slices.SortFunc(condemned, func(a, b *corev1.Pod) int { return ordinalOf(set, b) - ordinalOf(set, a) })
	return replicas, condemned
}

// replica handles the replica with ordinal ord (pod nil if missing) and
// reports whether an OrderedReady pass must stop there.
func (p *Plan) replica(in Input, ord int, pod *corev1.Pod, monotonic bool) bool {
	set := in.Set
	if pod != nil && isFinished(pod) {
		if !isTerminating(pod) {
			p.Delete = append(p.Delete, Deletion{pod, ReasonFinished})
		}
		p.Waiting = pod.Name + " to be deleted and recreated"
		return true
	}
	if pod == nil {
		name := PodName(set, ord)
		var missing []*corev1.PersistentVolumeClaim
		for _, c := range claims(set, ord) {
			have, ok := in.Claims(c.Name)
			switch {
			case !ok:
				missing = append(missing, c)
			case have.DeletionTimestamp != nil || staleClaim(have, name):
				p.Waiting = "claim " + c.Name + " of " + name + " to be deleted"
				return true
			}
		}
		p.CreateClaims = append(p.CreateClaims, missing...)
		p.CreatePods = append(p.CreatePods, newVersionedPod(in, ord))
		p.Waiting = name + " to be created"
		return true
	}
	if pod.Status.Phase == corev1.PodPending {
		// A claim deleted under a pending pod is made again.
		for _, c := range claims(set, ord) {
			if _, ok := in.Claims(c.Name); !ok {
				p.CreateClaims = append(p.CreateClaims, c)
			}
		}
	}
	if monotonic {
		switch {
		case isTerminating(pod):
			p.Waiting = pod.Name + " to terminate"
			return true
		case !runningAndReady(pod):
			p.Waiting = pod.Name + " to be Running and Ready"
			return true
		case !runningAndAvailable(pod, set.Spec.MinReadySeconds, in.Now):
			p.Waiting = pod.Name + " to be available"
			return true
		}
	}
	if pod.Labels[appsv1.StatefulSetPodNameLabel] != pod.Name || pod.Labels[appsv1.PodIndexLabel] != strconv.Itoa(ord) {
		p.Relabel = append(p.Relabel, pod)
	}
	p.claimOwners(in, pod, ord, false)
	return false
}

// claimOwners records the owner changes pod's existing claims need.
func (p *Plan) claimOwners(in Input, pod *corev1.Pod, ord int, scaledDown bool) {
	for _, c := range claims(in.Set, ord) {
		have, ok := in.Claims(c.Name)
		if !ok || have.DeletionTimestamp != nil {
			continue
		}
		if owners, change := claimOwners(in.Set, have, pod, scaledDown); change {
			p.ClaimOwners = append(p.ClaimOwners, ClaimOwners{have, owners})
		}
	}
}

// newVersionedPod is the pod to create for ordinal ord: at the current
// revision below a rolling update's partition, else at the update one.
func newVersionedPod(in Input, ord int) *corev1.Pod {
	set := in.Set
	start := startOrdinal(set)
	current := false
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType || set.Spec.UpdateStrategy.Type == "" {
		if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
			current = ord < start+int(*ru.Partition)
		} else {
			current = ord < start+int(set.Status.CurrentReplicas)
		}
	}
	if current && in.Current.Name != in.Update.Name {
		t := in.CurrentTemplate
		if t == nil {
			t = &set.Spec.Template
		}
		return newPod(set, t, in.Current.Name, ord)
	}
	return newPod(set, &set.Spec.Template, in.Update.Name, ord)
}

// rollingUpdate deletes replicas not at the update revision, from the
// highest ordinal down to the partition, while fewer than maxUnavailable
// replicas are unhealthy.
func (p *Plan) rollingUpdate(in Input, replicas []*corev1.Pod) {
	set := in.Set
	partition, maxUnavailable := 0, 1
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		if ru.Partition != nil {
			partition = int(*ru.Partition)
		}
		mu := intstr.FromInt32(1)
		if ru.MaxUnavailable != nil {
			mu = *ru.MaxUnavailable
		}
		if n, err := intstr.GetScaledValueFromIntOrPercent(&mu, len(replicas), false); err == nil {
			maxUnavailable = max(n, 1)
		}
	}
	unavailable := 0
	for _, pod := range replicas {
		if !healthy(pod) {
			unavailable++
		}
	}
	budget := maxUnavailable - unavailable
	if budget <= 0 {
		p.Waiting = "unavailable replicas to come back before updating more"
		return
	}
	for i := len(replicas) - 1; i >= partition && budget > 0; i-- {
		pod := replicas[i]
		if pod != nil && revisionOf(pod) != in.Update.Name && !isTerminating(pod) {
			p.Delete = append(p.Delete, Deletion{pod, ReasonUpdate})
			p.Status.CurrentReplicas--
			budget--
		}
	}
}

// status counts the observed pods, as upstream: replicas are pods with a
// phase, current and updated replicas those not being deleted.
func status(in Input, replicas, condemned []*corev1.Pod) appsv1.StatefulSetStatus {
	set := in.Set
	st := appsv1.StatefulSetStatus{
		ObservedGeneration: set.Generation,
		CurrentRevision:    in.Current.Name,
		UpdateRevision:     in.Update.Name,
		CollisionCount:     &in.CollisionCount,
		Conditions:         set.Status.Conditions,
	}
	for _, pod := range slices.Concat(replicas, condemned) {
		if pod == nil {
			continue
		}
		if isCreated(pod) {
			st.Replicas++
		}
		if runningAndReady(pod) {
			st.ReadyReplicas++
			if runningAndAvailable(pod, set.Spec.MinReadySeconds, in.Now) {
				st.AvailableReplicas++
			}
		}
		if isCreated(pod) && !isTerminating(pod) {
			if revisionOf(pod) == in.Current.Name {
				st.CurrentReplicas++
			}
			if revisionOf(pod) == in.Update.Name {
				st.UpdatedReplicas++
			}
		}
	}
	return st
}

// completeRollingUpdate makes the update revision current once every
// replica is at it and ready.
func completeRollingUpdate(set *appsv1.StatefulSet, st *appsv1.StatefulSetStatus) {
	n := int32(replicasOf(set))
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		st.UpdatedReplicas == n && st.ReadyReplicas == n && st.Replicas == n {
		st.CurrentReplicas = st.UpdatedReplicas
		st.CurrentRevision = st.UpdateRevision
	}
}

func requeue(set *appsv1.StatefulSet, pods []*corev1.Pod, now time.Time) time.Duration {
	var d time.Duration
	for _, pod := range pods {
		if u := untilAvailable(pod, set.Spec.MinReadySeconds, now); u > 0 && (d == 0 || u < d) {
			d = u
		}
	}
	return d
}
