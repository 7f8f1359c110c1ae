package job

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/controller/replicaset"
)

// Upstream's backoff before a failed pod is replaced: 10 s, doubled per
// consecutive failure, at most 6 minutes.
const (
	DefaultBackoff    = 10 * time.Second
	DefaultMaxBackoff = 6 * time.Minute
)

// Condition reasons and messages, as upstream spells them.
const (
	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
	ReasonCompletionsReached   = "CompletionsReached"
	ReasonSuspended            = "JobSuspended"
	ReasonResumed              = "JobResumed"

	msgBackoffLimit = "Job has reached the specified backoff limit"
	msgDeadline     = "Job was active longer than specified deadline"
	msgCompletions  = "Reached expected number of succeeded pods"

	msgMaxFailedIndexes = "Job has exceeded the specified maximal number of failed indexes"
	msgFailedIndexes    = "Job has failed indexes"
)

// Decision is what Reconcile wants done.
type Decision struct {
	// Create holds one entry per pod to create: its completion index in
	// Indexed mode, -1 otherwise.
	Create []int
	// Delete are active pods to delete.
	Delete []*corev1.Pod
	// RemoveFinalizers are pods whose job-tracking finalizer is to be
	// removed, once Status is written: pods it lists as uncounted, pods
	// not to be counted (failures the policy ignores, a second success of
	// an index), pods to delete, and every pod of a finished Job.
	RemoveFinalizers []*corev1.Pod
	// Status is the Job's new status.
	Status batchv1.JobStatus
	// IndexFailures is, with backoffLimitPerIndex, how many failures
	// each index in Create has had, for its pod's
	// batch.kubernetes.io/job-index-failure-count annotation.
	IndexFailures map[int]int
	// RequeueAfter, when > 0, asks to look again then (backoff ends,
	// deadline passes).
	RequeueAfter time.Duration
}

// Backoff is the replacement backoff: Base doubled per consecutive
// failure, at most Max.
type Backoff struct{ Base, Max time.Duration }

func (b Backoff) delay(failures int) time.Duration {
	if failures <= 0 || b.Base <= 0 {
		return 0
	}
	d := b.Base
	for i := 1; i < failures && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// IsFinished reports whether the Job has its Complete or Failed condition.
func IsFinished(j *batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

func condition(st *batchv1.JobStatus, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range st.Conditions {
		if st.Conditions[i].Type == t {
			return &st.Conditions[i]
		}
	}
	return nil
}

func hasTrue(st *batchv1.JobStatus, t batchv1.JobConditionType) bool {
	c := condition(st, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// setCondition sets a condition, keeping its transition time when its
// status does not change.
func setCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now metav1.Time) {
	if c := condition(st, t); c != nil {
		if c.Status == status && c.Reason == reason && c.Message == msg {
			return // unchanged: no write
		}
		if c.Status != status {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = status, reason, msg, now
		return
	}
	st.Conditions = append(st.Conditions, batchv1.JobCondition{Type: t, Status: status, Reason: reason, Message: msg, LastProbeTime: now, LastTransitionTime: now})
}

// PodIndex is the pod's completion index, or -1.
func PodIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		v, ok = p.Labels[batchv1.JobCompletionIndexAnnotation]
	}
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

// indexFailures is the pod's batch.kubernetes.io/job-index-failure-count:
// how many times its index failed before it.
func indexFailures(p *corev1.Pod) int {
	n, err := strconv.Atoi(p.Annotations[batchv1.JobIndexFailureCountAnnotation])
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// finishTime is when a terminated pod finished: its containers' latest
// finish, else its Ready condition's last change, else its creation.
func finishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && !c.LastTransitionTime.IsZero() {
			return c.LastTransitionTime.Time
		}
	}
	return p.CreationTimestamp.Time
}

// parseIndexes reads a completedIndexes interval list ("1,3-5").
func parseIndexes(s string, limit int) map[int]bool {
	out := map[int]bool{}
	for part := range strings.SplitSeq(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, found := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if found {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil {
			continue
		}
		for i := a; i <= b && i < limit; i++ {
			out[i] = true
		}
	}
	return out
}

// formatIndexes writes indexes as an ordered interval list.
func formatIndexes(set map[int]bool) string {
	idx := make([]int, 0, len(set))
	for i := range set {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if i == j {
			fmt.Fprint(&b, idx[i])
		} else {
			fmt.Fprintf(&b, "%d-%d", idx[i], idx[j])
		}
		i = j + 1
	}
	return b.String()
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// HasTrackingFinalizer reports whether the pod still holds the
// batch.kubernetes.io/job-tracking finalizer, i.e. its end is not yet
// counted in its Job's status.
func HasTrackingFinalizer(p *corev1.Pod) bool {
	return slices.Contains(p.Finalizers, batchv1.JobTrackingFinalizer)
}

// Reconcile decides, for a Job and the pods it controls at now, what to
// create and delete, whose tracking finalizer to remove, and what its
// status becomes.
//
// Finished pods are counted with upstream's two steps: a finished pod
// that still has the finalizer goes into status.uncountedTerminatedPods;
// once that status is written its finalizer is removed; a listed pod that
// has lost its finalizer, or is gone, then moves into succeeded/failed.
// A pod without the finalizer is never counted again, so each end counts
// exactly once however pods are deleted.
func Reconcile(job *batchv1.Job, pods []*corev1.Pod, now time.Time, bo Backoff) Decision {
	st := *job.Status.DeepCopy()
	d := Decision{}
	mnow := metav1.NewTime(now)
	indexed := job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
	completions := job.Spec.Completions
	parallelism := int(deref(job.Spec.Parallelism, 1))
	suspended := job.Spec.Suspend != nil && *job.Spec.Suspend
	policy := job.Spec.PodFailurePolicy
	// Replace only Failed pods, not terminating ones, as upstream does for
	// podReplacementPolicy Failed and whenever a podFailurePolicy is set.
	onlyFailed := policy != nil || (job.Spec.PodReplacementPolicy != nil && *job.Spec.PodReplacementPolicy == batchv1.Failed)

	unc := st.UncountedTerminatedPods
	if unc == nil {
		unc = &batchv1.UncountedTerminatedPods{}
	}
	st.UncountedTerminatedPods = unc
	byUID := make(map[types.UID]*corev1.Pod, len(pods))
	for _, p := range pods {
		byUID[p.UID] = p
	}
	// Step two of the count: listed pods whose finalizer is gone.
	flush := func(uids []types.UID, count *int32) []types.UID {
		kept := uids[:0:0]
		for _, uid := range uids {
			if p := byUID[uid]; p != nil && HasTrackingFinalizer(p) {
				kept = append(kept, uid)
			} else {
				*count++
			}
		}
		return kept
	}
	unc.Succeeded = flush(unc.Succeeded, &st.Succeeded)
	unc.Failed = flush(unc.Failed, &st.Failed)
	listed := map[types.UID]bool{}
	for _, uid := range slices.Concat(unc.Succeeded, unc.Failed) {
		listed[uid] = true
	}
	isNew := func(p *corev1.Pod) bool { return HasTrackingFinalizer(p) && !listed[p.UID] }
	count := func(list *[]types.UID, p *corev1.Pod) {
		*list = append(*list, p.UID)
		listed[p.UID] = true
	}
	// release are pods whose finalizer goes without their being counted.
	release := map[types.UID]bool{}

	var active, succeededPods, failedPods, terminatingPods []*corev1.Pod
	terminating := 0
	for _, p := range pods {
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			succeededPods = append(succeededPods, p)
		case p.Status.Phase == corev1.PodFailed && p.DeletionTimestamp != nil && suspended && !HasTrackingFinalizer(p):
			// Deleted by the suspension and failed on the way out (a
			// kubelet marks a deleted pod Failed): not a failure, as
			// upstream.
			terminating++
		case p.Status.Phase == corev1.PodFailed:
			failedPods = append(failedPods, p)
		case p.DeletionTimestamp != nil && HasTrackingFinalizer(p) && !onlyFailed:
			// Deleted by someone else before it finished: a failure, as
			// upstream counts it (with a podFailurePolicy, only once it
			// is Failed and the policy has seen how).
			failedPods = append(failedPods, p)
		case p.DeletionTimestamp != nil:
			terminating++
			terminatingPods = append(terminatingPods, p)
		default:
			active = append(active, p)
		}
	}

	completed := map[int]bool{}
	if indexed && completions != nil {
		completed = parseIndexes(st.CompletedIndexes, int(*completions))
	}
	setCounts := func(act []*corev1.Pod, term int) {
		st.Active = int32(len(act))
		ready := int32(0)
		for _, p := range act {
			if replicaset.IsPodReady(p) {
				ready++
			}
		}
		st.Ready = &ready
		t := int32(term)
		st.Terminating = &t
	}
	// decide fills in what every return shares: whose finalizer to
	// remove (counted or released pods, and pods to delete, which a
	// controller deleting them does not count) and the status.
	decide := func() Decision {
		for _, p := range d.Delete {
			release[p.UID] = true
		}
		for _, p := range pods {
			if HasTrackingFinalizer(p) && (listed[p.UID] || release[p.UID]) {
				d.RemoveFinalizers = append(d.RemoveFinalizers, p)
			}
		}
		d.Status = st
		return d
	}

	if IsFinished(job) {
		// A finished Job keeps its counts; pods still running go, and
		// every finalizer is released.
		d.Delete = active
		for _, p := range pods {
			release[p.UID] = true
		}
		setCounts(nil, terminating+len(active))
		return decide()
	}

	// Step one of the count: newly finished pods are listed.
	if indexed && completions != nil {
		for _, p := range succeededPods {
			if i := PodIndex(p); !isNew(p) && i >= 0 && i < int(*completions) {
				completed[i] = true
			}
		}
	}
	for _, p := range succeededPods {
		if !isNew(p) {
			continue
		}
		if indexed {
			i := PodIndex(p)
			if completions == nil || i < 0 || i >= int(*completions) || completed[i] {
				release[p.UID] = true // out of range, or its index already done
				continue
			}
			completed[i] = true
		}
		count(&unc.Succeeded, p)
	}
	if indexed && completions != nil {
		st.CompletedIndexes = formatIndexes(completed)
	}
	perIndex := indexed && completions != nil && job.Spec.BackoffLimitPerIndex != nil
	failedIdx := map[int]bool{}
	if perIndex {
		failedIdx = parseIndexes(deref(st.FailedIndexes, ""), int(*completions))
	}
	var failJob string
	ignored := map[types.UID]bool{}
	// lastFail is, per index, the latest failure the policy does not
	// ignore: when it ended and how many failures the index has had.
	type indexFailure struct {
		at    time.Time
		count int
	}
	lastFail := map[int]indexFailure{}
	for _, p := range failedPods {
		action, msg := matchPolicy(policy, p)
		if action == batchv1.PodFailurePolicyActionIgnore {
			ignored[p.UID] = true
		} else if i := PodIndex(p); perIndex && i >= 0 {
			if t := finishTime(p); !t.Before(lastFail[i].at) {
				lastFail[i] = indexFailure{t, indexFailures(p) + 1}
			}
		}
		if !isNew(p) {
			continue
		}
		switch action {
		case batchv1.PodFailurePolicyActionIgnore:
			release[p.UID] = true
			continue
		case batchv1.PodFailurePolicyActionFailJob:
			if failJob == "" {
				failJob = msg
			}
		}
		if i := PodIndex(p); perIndex && i >= 0 && i < int(*completions) && !completed[i] &&
			(action == batchv1.PodFailurePolicyActionFailIndex || indexFailures(p)+1 > int(*job.Spec.BackoffLimitPerIndex)) {
			failedIdx[i] = true
		}
		count(&unc.Failed, p)
	}
	if perIndex {
		f := formatIndexes(failedIdx)
		st.FailedIndexes = &f
	}
	succeeded := st.Succeeded + int32(len(unc.Succeeded))
	failed := st.Failed + int32(len(unc.Failed))

	// finish deletes the active pods under an interim condition and
	// sets the final one once none is left running or uncounted. On
	// failure the deleted pods count as failed, as upstream.
	finish := func(interim, final batchv1.JobConditionType, reason, msg string) Decision {
		setCondition(&st, interim, corev1.ConditionTrue, reason, msg, mnow)
		d.Delete = active
		if final == batchv1.JobFailed {
			for _, p := range active {
				if isNew(p) {
					count(&unc.Failed, p)
				}
			}
		}
		setCounts(nil, terminating+len(active))
		if len(active) == 0 && terminating == 0 && len(unc.Succeeded)+len(unc.Failed) == 0 {
			setCondition(&st, final, corev1.ConditionTrue, reason, msg, mnow)
			if final == batchv1.JobComplete {
				st.CompletionTime = &mnow
			}
		}
		return decide()
	}
	// An interim condition already set decides the outcome.
	if c := condition(&st, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
		return finish(batchv1.JobFailureTarget, batchv1.JobFailed, c.Reason, c.Message)
	}
	if c := condition(&st, batchv1.JobSuccessCriteriaMet); c != nil && c.Status == corev1.ConditionTrue {
		return finish(batchv1.JobSuccessCriteriaMet, batchv1.JobComplete, c.Reason, c.Message)
	}
	if failJob != "" {
		return finish(batchv1.JobFailureTarget, batchv1.JobFailed, batchv1.JobReasonPodFailurePolicy, failJob)
	}
	if perIndex {
		if m := job.Spec.MaxFailedIndexes; m != nil && len(failedIdx) > int(*m) {
			return finish(batchv1.JobFailureTarget, batchv1.JobFailed, batchv1.JobReasonMaxFailedIndexesExceeded, msgMaxFailedIndexes)
		}
		if len(failedIdx) > 0 && len(failedIdx)+len(completed) >= int(*completions) {
			return finish(batchv1.JobFailureTarget, batchv1.JobFailed, batchv1.JobReasonFailedIndexes, msgFailedIndexes)
		}
	}

	// Success.
	if indexed && completions != nil {
		if msg := matchSuccessPolicy(job.Spec.SuccessPolicy, int(*completions), completed); msg != "" {
			return finish(batchv1.JobSuccessCriteriaMet, batchv1.JobComplete, batchv1.JobReasonSuccessPolicy, msg)
		}
	}
	switch {
	case completions != nil && indexed && len(completed) >= int(*completions),
		completions != nil && !indexed && succeeded >= *completions,
		completions == nil && len(succeededPods) > 0 && len(active) == 0 && terminating == 0:
		return finish(batchv1.JobSuccessCriteriaMet, batchv1.JobComplete, ReasonCompletionsReached, msgCompletions)
	}
	// Failure.
	if failed > deref(job.Spec.BackoffLimit, 6) {
		return finish(batchv1.JobFailureTarget, batchv1.JobFailed, ReasonBackoffLimitExceeded, msgBackoffLimit)
	}

	if suspended {
		if !hasTrue(&st, batchv1.JobSuspended) {
			setCondition(&st, batchv1.JobSuspended, corev1.ConditionTrue, ReasonSuspended, "Job suspended", mnow)
		}
		d.Delete = active
		setCounts(nil, terminating+len(active))
		return decide()
	}
	if hasTrue(&st, batchv1.JobSuspended) {
		// Resumed: the active deadline counts from now, as upstream.
		setCondition(&st, batchv1.JobSuspended, corev1.ConditionFalse, ReasonResumed, "Job resumed", mnow)
		st.StartTime = &mnow
	}
	if st.StartTime == nil {
		st.StartTime = &mnow
	}
	if ads := job.Spec.ActiveDeadlineSeconds; ads != nil {
		end := st.StartTime.Add(time.Duration(*ads) * time.Second)
		if !now.Before(end) {
			return finish(batchv1.JobFailureTarget, batchv1.JobFailed, ReasonDeadlineExceeded, msgDeadline)
		}
		d.RequeueAfter = end.Sub(now)
	}

	// How many should run.
	var keep []*corev1.Pod
	var createIdx []int
	// Terminating pods hold their place until they are Failed when only
	// failed pods are replaced.
	var holding []*corev1.Pod
	if onlyFailed {
		holding = terminatingPods
	}
	if indexed {
		holder := map[int]bool{}
		for _, p := range holding {
			holder[PodIndex(p)] = true
		}
		for _, p := range active {
			i := PodIndex(p)
			if i < 0 || i >= int(*completions) || completed[i] || failedIdx[i] || holder[i] {
				d.Delete = append(d.Delete, p) // out of range, done, failed, or a duplicate
				continue
			}
			holder[i] = true
			keep = append(keep, p)
		}
		for i := 0; i < int(*completions) && len(keep)+len(holding)+len(createIdx) < parallelism; i++ {
			if completed[i] || failedIdx[i] || holder[i] {
				continue
			}
			if f, ok := lastFail[i]; ok {
				// Each index backs off on its own failures.
				if wait := f.at.Add(bo.delay(f.count)).Sub(now); wait > 0 {
					if d.RequeueAfter == 0 || wait < d.RequeueAfter {
						d.RequeueAfter = wait
					}
					continue
				}
			}
			createIdx = append(createIdx, i)
		}
	} else {
		want := parallelism
		switch {
		case completions != nil:
			want = min(want, int(*completions-succeeded))
		case len(succeededPods) > 0:
			want = min(want, len(active)) // a work queue: once one succeeded, no new pods
		}
		keep = active
		if len(active) > want {
			extra := replicaset.PodsToDelete(active, active, len(active)-want, now)
			d.Delete = append(d.Delete, extra...)
			keep = slices.DeleteFunc(slices.Clone(active), func(p *corev1.Pod) bool { return slices.Contains(extra, p) })
		} else if completions != nil || len(succeededPods) == 0 {
			for range want - len(active) - len(holding) {
				createIdx = append(createIdx, -1)
			}
		}
	}
	setCounts(keep, terminating+len(d.Delete))

	if perIndex {
		d.IndexFailures = make(map[int]int, len(createIdx))
		for _, i := range createIdx {
			d.IndexFailures[i] = lastFail[i].count
		}
	} else if len(createIdx) > 0 {
		// Failed pods since the latest success back off replacement;
		// failures the policy ignores do not.
		var lastSuccess, lastFailure time.Time
		for _, p := range succeededPods {
			if t := finishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		}
		n := 0
		for _, p := range failedPods {
			if t := finishTime(p); !ignored[p.UID] && t.After(lastSuccess) {
				n++
				if t.After(lastFailure) {
					lastFailure = t
				}
			}
		}
		if wait := lastFailure.Add(bo.delay(n)).Sub(now); n > 0 && wait > 0 {
			createIdx = nil
			if d.RequeueAfter == 0 || wait < d.RequeueAfter {
				d.RequeueAfter = wait
			}
		}
	}
	d.Create = createIdx
	return decide()
}
