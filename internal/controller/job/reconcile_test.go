package job

import (
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

type jobOpt func(*batchv1.Job)

func newJob(opts ...jobOpt) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "ns", UID: "uid-j"},
		Spec: batchv1.JobSpec{
			Completions: ptr[int32](3), Parallelism: ptr[int32](2), BackoffLimit: ptr[int32](6),
			CompletionMode: ptr(batchv1.NonIndexedCompletion), Suspend: ptr(false),
		},
	}
	for _, o := range opts {
		o(j)
	}
	return j
}

func indexed(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) }
func started(j *batchv1.Job) { j.Status.StartTime = &metav1.Time{Time: t0.Add(-time.Minute)} }

func pod(name string, phase corev1.PodPhase, index int, finished time.Time) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID(name), CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour)),
		Finalizers: []string{batchv1.JobTrackingFinalizer}},
		Status: corev1.PodStatus{Phase: phase}}
	if index >= 0 {
		p.Annotations = map[string]string{batchv1.JobCompletionIndexAnnotation: itoa(index)}
	}
	if !finished.IsZero() {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{FinishedAt: metav1.NewTime(finished)}}}}
	}
	return p
}

func itoa(i int) string { return formatIndexes(map[int]bool{i: true}) }

func condTypes(st batchv1.JobStatus) map[batchv1.JobConditionType]string {
	out := map[batchv1.JobConditionType]string{}
	for _, c := range st.Conditions {
		out[c.Type] = string(c.Status) + "/" + c.Reason
	}
	return out
}

func TestReconcile(t *testing.T) {
	bo := Backoff{Base: 10 * time.Second, Max: 6 * time.Minute}
	var zero time.Time
	tests := []struct {
		name        string
		job         *batchv1.Job
		pods        []*corev1.Pod
		create      []int
		deletes     int
		active      int32
		succeeded   int32
		failed      int32
		conds       map[batchv1.JobConditionType]string
		completed   string
		requeue     time.Duration
		completion  bool
		startTimeIs time.Time
	}{
		{name: "new job starts parallelism pods", job: newJob(), create: []int{-1, -1}, conds: map[batchv1.JobConditionType]string{}, startTimeIs: t0},
		{name: "never more than completions left", job: newJob(started),
			pods:   []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0), pod("b", corev1.PodSucceeded, -1, t0), pod("c", corev1.PodRunning, -1, zero)},
			active: 1, succeeded: 2, conds: map[batchv1.JobConditionType]string{}},
		{name: "extra active pods are deleted", job: newJob(started, func(j *batchv1.Job) { j.Spec.Parallelism = ptr[int32](1) }),
			pods:   []*corev1.Pod{pod("a", corev1.PodRunning, -1, zero), pod("b", corev1.PodRunning, -1, zero)},
			active: 1, deletes: 1, conds: map[batchv1.JobConditionType]string{}},
		{name: "completions reached: SuccessCriteriaMet then Complete", job: newJob(started),
			pods:      []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0), pod("b", corev1.PodSucceeded, -1, t0), pod("c", corev1.PodSucceeded, -1, t0)},
			succeeded: 3, completion: true,
			conds: map[batchv1.JobConditionType]string{batchv1.JobSuccessCriteriaMet: "True/CompletionsReached", batchv1.JobComplete: "True/CompletionsReached"}},
		{name: "a failure backs off 10s", job: newJob(started),
			pods:   []*corev1.Pod{pod("a", corev1.PodFailed, -1, t0.Add(-3*time.Second)), pod("b", corev1.PodRunning, -1, zero)},
			active: 1, failed: 1, requeue: 7 * time.Second, conds: map[batchv1.JobConditionType]string{}},
		{name: "after the backoff the pod is replaced", job: newJob(started),
			pods:   []*corev1.Pod{pod("a", corev1.PodFailed, -1, t0.Add(-11*time.Second)), pod("b", corev1.PodRunning, -1, zero)},
			create: []int{-1}, active: 1, failed: 1, conds: map[batchv1.JobConditionType]string{}},
		{name: "second failure doubles the backoff", job: newJob(started),
			pods:   []*corev1.Pod{pod("a", corev1.PodFailed, -1, t0.Add(-15*time.Second)), pod("b", corev1.PodFailed, -1, t0.Add(-11*time.Second))},
			failed: 2, requeue: 9 * time.Second, conds: map[batchv1.JobConditionType]string{}},
		{name: "backoff limit exceeded", job: newJob(started, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr[int32](1) }),
			pods:   []*corev1.Pod{pod("a", corev1.PodFailed, -1, t0), pod("b", corev1.PodFailed, -1, t0)},
			failed: 2,
			conds:  map[batchv1.JobConditionType]string{batchv1.JobFailureTarget: "True/BackoffLimitExceeded", batchv1.JobFailed: "True/BackoffLimitExceeded"}},
		{name: "backoff limit exceeded with a pod running: interim condition only", job: newJob(started, func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr[int32](0) }),
			pods:   []*corev1.Pod{pod("a", corev1.PodFailed, -1, t0), pod("b", corev1.PodRunning, -1, zero)},
			failed: 2, deletes: 1, // the running pod deleted on failure counts as failed, as upstream
			conds: map[batchv1.JobConditionType]string{batchv1.JobFailureTarget: "True/BackoffLimitExceeded"}},
		{name: "counts never go down", job: newJob(started, func(j *batchv1.Job) { j.Status.Succeeded = 2; j.Status.Failed = 1 }),
			pods:   []*corev1.Pod{pod("c", corev1.PodRunning, -1, zero)},
			active: 1, succeeded: 2, failed: 1, conds: map[batchv1.JobConditionType]string{}},
		{name: "active deadline exceeded", job: newJob(started, func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr[int64](30) }),
			pods:    []*corev1.Pod{pod("a", corev1.PodRunning, -1, zero)},
			deletes: 1, failed: 1,
			conds: map[batchv1.JobConditionType]string{batchv1.JobFailureTarget: "True/DeadlineExceeded"}},
		{name: "active deadline ahead: requeue then", job: newJob(started, func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr[int64](90) }),
			pods:   []*corev1.Pod{pod("a", corev1.PodRunning, -1, zero), pod("b", corev1.PodRunning, -1, zero)},
			active: 2, requeue: 30 * time.Second, conds: map[batchv1.JobConditionType]string{}},
		{name: "suspend deletes active pods", job: newJob(started, func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }),
			pods:    []*corev1.Pod{pod("a", corev1.PodRunning, -1, zero)},
			deletes: 1, conds: map[batchv1.JobConditionType]string{batchv1.JobSuspended: "True/JobSuspended"}},
		{name: "suspend: pods failed on deletion are not failures", job: newJob(started, func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }),
			pods: []*corev1.Pod{func() *corev1.Pod {
				p := pod("a", corev1.PodFailed, -1, t0)
				p.DeletionTimestamp = &metav1.Time{Time: t0}
				p.Finalizers = nil // released before the suspension deleted it
				return p
			}()},
			conds: map[batchv1.JobConditionType]string{batchv1.JobSuspended: "True/JobSuspended"}},
		{name: "resume restarts the clock", job: newJob(started, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobSuspended, Status: corev1.ConditionTrue, Reason: ReasonSuspended}}
		}), create: []int{-1, -1}, startTimeIs: t0, conds: map[batchv1.JobConditionType]string{batchv1.JobSuspended: "False/JobResumed"}},
		{name: "indexed: lowest free indexes", job: newJob(started, indexed),
			pods:   []*corev1.Pod{pod("a", corev1.PodSucceeded, 0, t0), pod("b", corev1.PodRunning, 2, zero)},
			create: []int{1}, active: 1, succeeded: 1, completed: "0", conds: map[batchv1.JobConditionType]string{}},
		{name: "indexed: duplicate index deleted", job: newJob(started, indexed),
			pods:   []*corev1.Pod{pod("a", corev1.PodRunning, 1, zero), pod("b", corev1.PodRunning, 1, zero)},
			create: []int{0}, active: 1, deletes: 1, conds: map[batchv1.JobConditionType]string{}},
		{name: "indexed: all indexes done", job: newJob(started, indexed),
			pods: []*corev1.Pod{pod("a", corev1.PodSucceeded, 0, t0), pod("b", corev1.PodSucceeded, 1, t0), pod("c", corev1.PodSucceeded, 2, t0),
				pod("d", corev1.PodSucceeded, 2, t0)},
			succeeded: 3, completed: "0-2", completion: true, // d's index was done: not counted
			conds: map[batchv1.JobConditionType]string{batchv1.JobSuccessCriteriaMet: "True/CompletionsReached", batchv1.JobComplete: "True/CompletionsReached"}},
		{name: "work queue: done once one succeeded and none runs", job: newJob(started, func(j *batchv1.Job) { j.Spec.Completions = nil }),
			pods:      []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0)},
			succeeded: 1, completion: true,
			conds: map[batchv1.JobConditionType]string{batchv1.JobSuccessCriteriaMet: "True/CompletionsReached", batchv1.JobComplete: "True/CompletionsReached"}},
		{name: "work queue: no new pods once one succeeded", job: newJob(started, func(j *batchv1.Job) { j.Spec.Completions = nil }),
			pods:   []*corev1.Pod{pod("a", corev1.PodSucceeded, -1, t0), pod("b", corev1.PodRunning, -1, zero)},
			active: 1, succeeded: 1, conds: map[batchv1.JobConditionType]string{}},
		{name: "finished job deletes leftovers, keeps status", job: newJob(started, func(j *batchv1.Job) {
			j.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: ReasonDeadlineExceeded}}
		}), pods: []*corev1.Pod{pod("a", corev1.PodRunning, -1, zero)}, deletes: 1,
			conds: map[batchv1.JobConditionType]string{batchv1.JobFailed: "True/DeadlineExceeded"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := settle(tt.job, tt.pods, t0, bo)
			if len(d.Create) != len(tt.create) {
				t.Errorf("create %v, want %v", d.Create, tt.create)
			} else {
				for i := range d.Create {
					if d.Create[i] != tt.create[i] {
						t.Errorf("create %v, want %v", d.Create, tt.create)
					}
				}
			}
			if len(d.Delete) != tt.deletes {
				t.Errorf("delete %d pods, want %d", len(d.Delete), tt.deletes)
			}
			st := d.Status
			if st.Active != tt.active || st.Succeeded != tt.succeeded || st.Failed != tt.failed {
				t.Errorf("active/succeeded/failed %d/%d/%d, want %d/%d/%d", st.Active, st.Succeeded, st.Failed, tt.active, tt.succeeded, tt.failed)
			}
			if st.CompletedIndexes != tt.completed {
				t.Errorf("completedIndexes %q, want %q", st.CompletedIndexes, tt.completed)
			}
			got := condTypes(st)
			if len(got) != len(tt.conds) {
				t.Errorf("conditions %v, want %v", got, tt.conds)
			}
			for k, v := range tt.conds {
				if got[k] != v {
					t.Errorf("conditions %v, want %v", got, tt.conds)
				}
			}
			if d.RequeueAfter != tt.requeue {
				t.Errorf("requeue after %v, want %v", d.RequeueAfter, tt.requeue)
			}
			if (st.CompletionTime != nil) != tt.completion {
				t.Errorf("completionTime %v, want set=%v", st.CompletionTime, tt.completion)
			}
			if !tt.startTimeIs.IsZero() && (st.StartTime == nil || !st.StartTime.Time.Equal(tt.startTimeIs)) {
				t.Errorf("startTime %v, want %v", st.StartTime, tt.startTimeIs)
			}
		})
	}
}

// settle runs Reconcile as the controller would until no finalizer is
// left to remove: its status written, the finalizers it names removed.
// The last decision is the Job's steady state.
func settle(job *batchv1.Job, pods []*corev1.Pod, now time.Time, bo Backoff) Decision {
	job = job.DeepCopy()
	pods = slices.Clone(pods)
	for range 4 {
		d := Reconcile(job, pods, now, bo)
		if len(d.RemoveFinalizers) == 0 {
			return d
		}
		job.Status = d.Status
		for i, p := range pods {
			if slices.Contains(d.RemoveFinalizers, p) {
				cp := p.DeepCopy()
				cp.Finalizers = nil
				pods[i] = cp
			}
		}
	}
	return Reconcile(job, pods, now, bo)
}

func TestBackoffDelay(t *testing.T) {
	bo := Backoff{Base: 10 * time.Second, Max: 6 * time.Minute}
	for n, want := range map[int]time.Duration{0: 0, 1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 6: 320 * time.Second, 7: 6 * time.Minute, 50: 6 * time.Minute} {
		if got := bo.delay(n); got != want {
			t.Errorf("delay(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestIndexesRoundTrip(t *testing.T) {
	for in, want := range map[string]string{"": "", "0": "0", "0,1,2": "0-2", "1,3-5,7": "1,3-5,7", "5-3": "", "0-1,9": "0-1"} {
		if got := formatIndexes(parseIndexes(in, 8)); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
}

func TestNewPodIndexed(t *testing.T) {
	j := newJob(indexed)
	j.Spec.Template.Spec.Containers = []corev1.Container{{Name: "app"}}
	p := NewPod(j, 2)
	if p.GenerateName != "j-2-" || p.Spec.Hostname != "j-2" || p.Annotations[batchv1.JobCompletionIndexAnnotation] != "2" ||
		p.Labels[batchv1.JobCompletionIndexAnnotation] != "2" || PodIndex(p) != 2 {
		t.Fatalf("pod %+v", p.ObjectMeta)
	}
	if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != j.UID || ref.Kind != "Job" || !*ref.BlockOwnerDeletion {
		t.Fatalf("controller ref %+v", ref)
	}
	if e := p.Spec.Containers[0].Env; len(e) != 1 || e[0].Name != "JOB_COMPLETION_INDEX" || e[0].ValueFrom.FieldRef == nil {
		t.Fatalf("env %+v", e)
	}
	if j.Spec.Template.Spec.Containers[0].Env != nil {
		t.Fatal("template modified")
	}
	if p := NewPod(j, -1); p.GenerateName != "j-" || PodIndex(p) != -1 {
		t.Fatalf("non-indexed pod %+v", p.ObjectMeta)
	}
}
