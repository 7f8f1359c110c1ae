package job

import (
	"maps"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func uncounted(s, f []types.UID) jobOpt {
	return func(j *batchv1.Job) {
		j.Status.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{Succeeded: s, Failed: f}
	}
}

func released(p *corev1.Pod) *corev1.Pod { p.Finalizers = nil; return p }

func deleting(p *corev1.Pod) *corev1.Pod { p.DeletionTimestamp = &metav1.Time{Time: t0}; return p }

func podNames(ps []*corev1.Pod) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	slices.Sort(out)
	return out
}

// One Reconcile at a time: the two steps of counting a finished pod.
func TestTrackingFinalizer(t *testing.T) {
	var zero time.Time
	tests := []struct {
		name              string
		job               *batchv1.Job
		pods              []*corev1.Pod
		succeeded, failed int32
		uncS, uncF        []types.UID
		release           []string
		deletes           int
	}{
		{name: "a finished pod is listed, then released", job: newJob(started),
			pods: []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0), pod("b", corev1.PodFailed, -1, t0.Add(-time.Minute))},
			uncS: []types.UID{"a"}, uncF: []types.UID{"b"}, release: []string{"a", "b"}},
		{name: "a listed pod released is counted", job: newJob(started, uncounted([]types.UID{"a"}, []types.UID{"b"})),
			pods:      []*corev1.Pod{released(pod("a", corev1.PodSucceeded, -1, t0)), released(pod("b", corev1.PodFailed, -1, t0.Add(-time.Minute)))},
			succeeded: 1, failed: 1},
		{name: "a listed pod deleted meanwhile is counted", job: newJob(started, uncounted([]types.UID{"gone"}, nil)),
			succeeded: 1},
		{name: "a listed pod still held stays listed", job: newJob(started, uncounted([]types.UID{"a"}, nil)),
			pods: []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0)}, uncS: []types.UID{"a"}, release: []string{"a"}},
		{name: "a released pod not listed was counted before: not again", job: newJob(started, func(j *batchv1.Job) { j.Status.Succeeded = 1 }),
			pods: []*corev1.Pod{released(pod("a", corev1.PodSucceeded, -1, t0))}, succeeded: 1},
		{name: "a running pod deleted by someone else is a failure", job: newJob(started),
			pods: []*corev1.Pod{deleting(pod("a", corev1.PodRunning, -1, zero))}, uncF: []types.UID{"a"}, release: []string{"a"}},
		{name: "extra pods are released and deleted, not counted", job: newJob(started, func(j *batchv1.Job) { j.Spec.Parallelism = ptr[int32](1) }),
			pods: []*corev1.Pod{func() *corev1.Pod { p := pod("a", corev1.PodRunning, -1, zero); p.Spec.NodeName = "n1"; return p }(),
				pod("b", corev1.PodPending, -1, zero)},
			release: []string{"b"}, deletes: 1}, // the unscheduled one goes
		{name: "a finished job releases every pod", job: newJob(started, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
		}), pods: []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0), pod("b", corev1.PodFailed, -1, t0)}, release: []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Reconcile(tt.job, tt.pods, t0, Backoff{Base: 10 * time.Second, Max: time.Minute})
			st := d.Status
			if st.Succeeded != tt.succeeded || st.Failed != tt.failed {
				t.Errorf("succeeded/failed %d/%d, want %d/%d", st.Succeeded, st.Failed, tt.succeeded, tt.failed)
			}
			if u := st.UncountedTerminatedPods; !slices.Equal(u.Succeeded, tt.uncS) || !slices.Equal(u.Failed, tt.uncF) {
				t.Errorf("uncounted %v/%v, want %v/%v", u.Succeeded, u.Failed, tt.uncS, tt.uncF)
			}
			if got := podNames(d.RemoveFinalizers); !slices.Equal(got, tt.release) {
				t.Errorf("release %v, want %v", got, tt.release)
			}
			if len(d.Delete) != tt.deletes {
				t.Errorf("delete %v, want %d", podNames(d.Delete), tt.deletes)
			}
		})
	}
}

func exited(name string, code int32, conds ...corev1.PodConditionType) *corev1.Pod {
	p := pod(name, corev1.PodFailed, -1, time.Time{})
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(t0.Add(-time.Second))}}}}
	for _, c := range conds {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: c, Status: corev1.ConditionTrue})
	}
	return p
}

func TestPodFailurePolicy(t *testing.T) {
	rules := func(rs ...batchv1.PodFailurePolicyRule) jobOpt {
		return func(j *batchv1.Job) { j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: rs} }
	}
	onCodes := func(a batchv1.PodFailurePolicyAction, op batchv1.PodFailurePolicyOnExitCodesOperator, codes ...int32) batchv1.PodFailurePolicyRule {
		return batchv1.PodFailurePolicyRule{Action: a, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: codes}}
	}
	onCond := func(a batchv1.PodFailurePolicyAction, ct corev1.PodConditionType) batchv1.PodFailurePolicyRule {
		return batchv1.PodFailurePolicyRule{Action: a, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: ct, Status: corev1.ConditionTrue}}}
	}
	failJob42 := onCodes(batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyOnExitCodesOpIn, 42)
	ignoreDisruption := onCond(batchv1.PodFailurePolicyActionIgnore, corev1.DisruptionTarget)
	tests := []struct {
		name    string
		job     *batchv1.Job
		pods    []*corev1.Pod
		failed  int32
		create  int
		reason  string // of the Failed condition, "" if none
		message string
	}{
		{name: "FailJob on a matching exit code", job: newJob(started, rules(ignoreDisruption, failJob42)),
			pods: []*corev1.Pod{exited("a", 42), pod("b", corev1.PodRunning, -1, time.Time{})}, failed: 2,
			reason: "PodFailurePolicy", message: "Container app for pod ns/a failed with exit code 42 matching FailJob rule at index 1"},
		{name: "another exit code counts and backs off", job: newJob(started, rules(failJob42)),
			pods: []*corev1.Pod{exited("a", 1)}, failed: 1},
		{name: "NotIn matches the codes not listed", job: newJob(started, rules(onCodes(batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyOnExitCodesOpNotIn, 1, 2))),
			pods: []*corev1.Pod{exited("a", 3)}, failed: 1,
			reason: "PodFailurePolicy", message: "Container app for pod ns/a failed with exit code 3 matching FailJob rule at index 0"},
		{name: "Ignore: not counted, replaced without backoff", job: newJob(started, rules(ignoreDisruption, failJob42)),
			pods: []*corev1.Pod{exited("a", 42, corev1.DisruptionTarget)}, create: 2},
		{name: "FailJob on a pod condition", job: newJob(started, rules(onCond(batchv1.PodFailurePolicyActionFailJob, corev1.DisruptionTarget))),
			pods: []*corev1.Pod{exited("a", 137, corev1.DisruptionTarget)}, failed: 1,
			reason: "PodFailurePolicy", message: "Pod ns/a has condition DisruptionTarget matching FailJob rule at index 0"},
		{name: "Count counts", job: newJob(started, rules(onCodes(batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyOnExitCodesOpIn, 42), failJob42)),
			pods: []*corev1.Pod{exited("a", 42)}, failed: 1},
		{name: "another container's name does not match", job: newJob(started, rules(func() batchv1.PodFailurePolicyRule {
			r := failJob42
			r.OnExitCodes = &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr("sidecar"), Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}
			return r
		}())), pods: []*corev1.Pod{exited("a", 42)}, failed: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := settle(tt.job, tt.pods, t0, Backoff{Base: 10 * time.Second, Max: time.Minute})
			if d.Status.Failed != tt.failed || len(d.Create) != tt.create {
				t.Errorf("failed %d create %d, want %d %d", d.Status.Failed, len(d.Create), tt.failed, tt.create)
			}
			c := condition(&d.Status, batchv1.JobFailureTarget)
			switch {
			case tt.reason == "" && c != nil:
				t.Errorf("FailureTarget %+v, want none", c)
			case tt.reason != "" && (c == nil || c.Reason != tt.reason || c.Message != tt.message):
				t.Errorf("FailureTarget %+v, want %s: %s", c, tt.reason, tt.message)
			}
		})
	}
}

func TestSuccessPolicy(t *testing.T) {
	rule := func(idx *string, count *int32) batchv1.SuccessPolicyRule {
		return batchv1.SuccessPolicyRule{SucceededIndexes: idx, SucceededCount: count}
	}
	job := func(rs ...batchv1.SuccessPolicyRule) *batchv1.Job {
		return newJob(started, indexed, func(j *batchv1.Job) {
			j.Spec.Completions, j.Spec.Parallelism = ptr[int32](5), ptr[int32](5)
			j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{Rules: rs}
		})
	}
	running := func(i int) *corev1.Pod { return pod("r"+itoa(i), corev1.PodRunning, i, time.Time{}) }
	done := func(i int) *corev1.Pod { return pod("d"+itoa(i), corev1.PodSucceeded, i, t0) }
	tests := []struct {
		name    string
		job     *batchv1.Job
		pods    []*corev1.Pod
		message string // of SuccessCriteriaMet, "" for none
		deletes int
	}{
		{name: "all the named indexes done", job: job(rule(ptr("0,2"), nil)),
			pods: []*corev1.Pod{done(0), running(1), done(2), running(3), running(4)}, message: "Matched rules at index 0", deletes: 3},
		{name: "a named index not done", job: job(rule(ptr("0-2"), nil)),
			pods: []*corev1.Pod{done(0), running(1), done(2), running(3), running(4)}},
		{name: "a count of the named indexes", job: job(rule(ptr("1-3"), nil), rule(ptr("0-2"), ptr[int32](2))),
			pods: []*corev1.Pod{done(0), running(1), done(2), running(3), running(4)}, message: "Matched rules at index 1", deletes: 3},
		{name: "a count of any indexes", job: job(rule(nil, ptr[int32](3))),
			pods: []*corev1.Pod{done(0), done(1), running(2), done(3), running(4)}, message: "Matched rules at index 0", deletes: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := settle(tt.job, tt.pods, t0, Backoff{Base: 10 * time.Second, Max: time.Minute})
			c := condition(&d.Status, batchv1.JobSuccessCriteriaMet)
			switch {
			case tt.message == "" && c != nil:
				t.Errorf("SuccessCriteriaMet %+v, want none", c)
			case tt.message != "" && (c == nil || c.Reason != "SuccessPolicy" || c.Message != tt.message):
				t.Errorf("SuccessCriteriaMet %+v, want SuccessPolicy: %s", c, tt.message)
			}
			if len(d.Delete) != tt.deletes || d.Status.Failed != 0 {
				t.Errorf("deletes %d failed %d, want %d 0", len(d.Delete), d.Status.Failed, tt.deletes)
			}
		})
	}
}

func TestPodReplacementPolicy(t *testing.T) {
	var zero time.Time
	failedOnly := func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr(batchv1.Failed) }
	tests := []struct {
		name   string
		job    *batchv1.Job
		pods   []*corev1.Pod
		create []int
		failed int32
	}{
		{name: "TerminatingOrFailed: a deleted pod is a failure and replaced at once", job: newJob(started),
			pods: []*corev1.Pod{deleting(pod("a", corev1.PodRunning, -1, zero)), pod("b", corev1.PodRunning, -1, zero)}, create: []int{-1}, failed: 1},
		{name: "Failed: a terminating pod holds its place", job: newJob(started, failedOnly),
			pods: []*corev1.Pod{deleting(pod("a", corev1.PodRunning, -1, zero)), pod("b", corev1.PodRunning, -1, zero)}},
		{name: "Failed, indexed: its index too", job: newJob(started, indexed, failedOnly),
			pods: []*corev1.Pod{deleting(pod("a", corev1.PodRunning, 0, zero))}, create: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := settle(tt.job, tt.pods, t0, Backoff{Base: 10 * time.Second, Max: time.Minute})
			if !slices.Equal(d.Create, tt.create) || d.Status.Failed != tt.failed {
				t.Errorf("create %v failed %d, want %v %d", d.Create, d.Status.Failed, tt.create, tt.failed)
			}
		})
	}
}

func TestBackoffLimitPerIndex(t *testing.T) {
	perIndex := func(limit int32, maxFailed *int32) jobOpt {
		return func(j *batchv1.Job) {
			j.Spec.Completions, j.Spec.Parallelism = ptr[int32](3), ptr[int32](3)
			j.Spec.BackoffLimitPerIndex, j.Spec.MaxFailedIndexes = ptr(limit), maxFailed
			j.Spec.BackoffLimit = ptr[int32](1<<31 - 1)
		}
	}
	// failedAt is index i's pod that failed at t, after n earlier failures.
	failedAt := func(name string, i, n int, t time.Time) *corev1.Pod {
		p := pod(name, corev1.PodFailed, i, t)
		p.Annotations[batchv1.JobIndexFailureCountAnnotation] = itoa(n)
		return p
	}
	run := func(i int) *corev1.Pod { return pod("run"+itoa(i), corev1.PodRunning, i, time.Time{}) }
	tests := []struct {
		name          string
		job           *batchv1.Job
		pods          []*corev1.Pod
		create        []int
		failures      map[int]int
		failedIndexes string
		reason        string
		requeue       time.Duration
	}{
		{name: "a failed index is retried after its own backoff, with its count", job: newJob(started, indexed, perIndex(2, nil)),
			pods:   []*corev1.Pod{failedAt("a", 0, 0, t0.Add(-11*time.Second)), failedAt("b", 1, 1, t0.Add(-21*time.Second)), run(2)},
			create: []int{0, 1}, failures: map[int]int{0: 1, 1: 2}},
		{name: "an index within its backoff waits", job: newJob(started, indexed, perIndex(2, nil)),
			pods:   []*corev1.Pod{failedAt("a", 0, 1, t0.Add(-5*time.Second)), run(1), run(2)},
			create: nil, failures: map[int]int{}, requeue: 15 * time.Second},
		{name: "past its limit an index fails and is not retried", job: newJob(started, indexed, perIndex(1, nil)),
			pods:   []*corev1.Pod{failedAt("a", 0, 1, t0.Add(-time.Minute)), run(1), run(2)},
			create: nil, failures: map[int]int{}, failedIndexes: "0"},
		{name: "every index done or failed: FailedIndexes", job: newJob(started, indexed, perIndex(0, nil)),
			pods:          []*corev1.Pod{failedAt("a", 0, 0, t0), pod("b", corev1.PodSucceeded, 1, t0), pod("c", corev1.PodSucceeded, 2, t0)},
			failedIndexes: "0", reason: "FailedIndexes"},
		{name: "more failed indexes than allowed: MaxFailedIndexesExceeded", job: newJob(started, indexed, perIndex(0, ptr[int32](0))),
			pods:          []*corev1.Pod{failedAt("a", 0, 0, t0), run(1), run(2)},
			failedIndexes: "0", reason: "MaxFailedIndexesExceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := settle(tt.job, tt.pods, t0, Backoff{Base: 10 * time.Second, Max: time.Minute})
			if !slices.Equal(d.Create, tt.create) || (tt.failures != nil && !maps.Equal(d.IndexFailures, tt.failures)) {
				t.Errorf("create %v with failures %v, want %v %v", d.Create, d.IndexFailures, tt.create, tt.failures)
			}
			if got := deref(d.Status.FailedIndexes, ""); got != tt.failedIndexes {
				t.Errorf("failedIndexes %q, want %q", got, tt.failedIndexes)
			}
			c := condition(&d.Status, batchv1.JobFailureTarget)
			if (tt.reason == "" && c != nil) || (tt.reason != "" && (c == nil || c.Reason != tt.reason)) {
				t.Errorf("FailureTarget %+v, want reason %q", c, tt.reason)
			}
			if d.RequeueAfter != tt.requeue {
				t.Errorf("requeue %v, want %v", d.RequeueAfter, tt.requeue)
			}
		})
	}
}
