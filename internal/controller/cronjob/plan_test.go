package cronjob

import (
	"slices"
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ptr[T any](v T) *T { return &v }

type cjOpt func(*batchv1.CronJob)

// newCronJob runs every 5 minutes and was created at t0.
func newCronJob(opts ...cjOpt) *batchv1.CronJob {
	cj := &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "cj", Namespace: "ns", UID: "uid-cj", CreationTimestamp: metav1.NewTime(t0)},
		Spec: batchv1.CronJobSpec{
			Schedule: "*/5 * * * *", ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: ptr(false),
			SuccessfulJobsHistoryLimit: ptr[int32](3), FailedJobsHistoryLimit: ptr[int32](1),
			JobTemplate: batchv1.JobTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}, Annotations: map[string]string{"a": "b"}}},
		},
	}
	for _, o := range opts {
		o(cj)
	}
	return cj
}

func lastScheduled(t time.Time) cjOpt {
	return func(cj *batchv1.CronJob) { cj.Status.LastScheduleTime = &metav1.Time{Time: t} }
}

func active(jobs ...*batchv1.Job) cjOpt {
	return func(cj *batchv1.CronJob) {
		for _, j := range jobs {
			cj.Status.Active = append(cj.Status.Active, JobRef(j))
		}
	}
}

// job is a Job of cj scheduled at t; done is "", Complete or Failed.
func job(t time.Time, done batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "cj-" + itoa(t.Unix()/60), Namespace: "ns", UID: types.UID("uid-" + itoa(t.Unix()))},
		Status: batchv1.JobStatus{StartTime: &metav1.Time{Time: t}}}
	if done != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: done, Status: corev1.ConditionTrue}}
		if done == batchv1.JobComplete {
			j.Status.CompletionTime = &metav1.Time{Time: t.Add(time.Minute)}
		}
	}
	return j
}

func itoa(i int64) string { return strconv.FormatInt(i, 10) }

func reasons(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Reason)
	}
	return out
}

func names(js []*batchv1.Job) []string {
	var out []string
	for _, j := range js {
		out = append(out, j.Name)
	}
	return out
}

func TestPlan(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	running5 := job(at(5), "")
	tests := []struct {
		name     string
		cj       *batchv1.CronJob
		jobs     []*batchv1.Job
		now      time.Time
		create   time.Time // scheduled time of the Job to create, zero for none
		deletes  []string
		active   int
		events   []string
		requeue  time.Duration
		lastSucc *time.Time
	}{
		{name: "nothing due: requeue just after the next time", cj: newCronJob(), now: at(2),
			requeue: 3*time.Minute + nextScheduleDelta},
		{name: "due: create", cj: newCronJob(), now: at(5).Add(time.Second),
			create: at(5), requeue: 5*time.Minute - time.Second + nextScheduleDelta},
		{name: "already run for that time", cj: newCronJob(lastScheduled(at(5)), active(running5)), jobs: []*batchv1.Job{running5},
			now: at(6), active: 1, requeue: 4*time.Minute + nextScheduleDelta},
		{name: "allow: runs alongside", cj: newCronJob(lastScheduled(at(5)), active(running5)), jobs: []*batchv1.Job{running5},
			now: at(10), create: at(10), active: 1, requeue: 5*time.Minute + nextScheduleDelta},
		{name: "forbid: waits while one is active", cj: newCronJob(lastScheduled(at(5)), active(running5), func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
		}), jobs: []*batchv1.Job{running5}, now: at(10), active: 1, events: []string{"JobAlreadyActive"}, requeue: 5*time.Minute + nextScheduleDelta},
		{name: "forbid: the owed time starts once the active one is done", cj: newCronJob(lastScheduled(at(5)), active(running5), func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
		}), jobs: []*batchv1.Job{job(at(5), batchv1.JobComplete)}, now: at(12), create: at(10), events: []string{"SawCompletedJob"},
			requeue: 3*time.Minute + nextScheduleDelta, lastSucc: ptr(at(6))},
		{name: "replace: the active one is deleted first", cj: newCronJob(lastScheduled(at(5)), active(running5), func(cj *batchv1.CronJob) {
			cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent
		}), jobs: []*batchv1.Job{running5}, now: at(10), create: at(10), deletes: []string{running5.Name}, requeue: 5*time.Minute + nextScheduleDelta},
		{name: "suspended: nothing starts", cj: newCronJob(func(cj *batchv1.CronJob) { cj.Spec.Suspend = ptr(true) }), now: at(5)},
		{name: "starting deadline passed: missed", cj: newCronJob(lastScheduled(at(5)), func(cj *batchv1.CronJob) {
			cj.Spec.StartingDeadlineSeconds = ptr[int64](60)
		}), now: at(12), requeue: 3*time.Minute + nextScheduleDelta},
		{name: "within the starting deadline: late start", cj: newCronJob(lastScheduled(at(5)), func(cj *batchv1.CronJob) {
			cj.Spec.StartingDeadlineSeconds = ptr[int64](180)
		}), now: at(12), create: at(10), requeue: 3*time.Minute + nextScheduleDelta},
		{name: "too many missed: warn and run the latest", cj: newCronJob(), now: at(5 * 200).Add(time.Second),
			create: at(5 * 200), events: []string{"TooManyMissedTimes"}, requeue: 5*time.Minute - time.Second + nextScheduleDelta},
		{name: "unknown time zone", cj: newCronJob(func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr("Mars/Olympus") }), now: at(5),
			events: []string{"UnknownTimeZone"}},
		{name: "TZ in the schedule is warned about and honoured", cj: newCronJob(func(cj *batchv1.CronJob) { cj.Spec.Schedule = "CRON_TZ=UTC */5 * * * *" }),
			now: at(5), create: at(5), events: []string{"UnsupportedSchedule"}, requeue: 5*time.Minute + nextScheduleDelta},
		{name: "unparseable schedule", cj: newCronJob(func(cj *batchv1.CronJob) { cj.Spec.Schedule = "every day" }), now: at(5),
			events: []string{"UnparseableSchedule"}},
		{name: "an active job went missing", cj: newCronJob(lastScheduled(at(5)), active(running5)), now: at(6),
			events: []string{"MissingJob"}, requeue: 4*time.Minute + nextScheduleDelta},
		{name: "a job it did not create is reported", cj: newCronJob(lastScheduled(at(5))), jobs: []*batchv1.Job{running5}, now: at(6),
			events: []string{"UnexpectedJob"}, requeue: 4*time.Minute + nextScheduleDelta},
		{name: "history limits delete the oldest finished", cj: newCronJob(lastScheduled(at(25)), func(cj *batchv1.CronJob) {
			cj.Spec.SuccessfulJobsHistoryLimit = ptr[int32](1)
		}), jobs: []*batchv1.Job{job(at(15), batchv1.JobComplete), job(at(5), batchv1.JobComplete), job(at(25), batchv1.JobComplete),
			job(at(10), batchv1.JobFailed), job(at(20), batchv1.JobFailed)},
			now: at(26), deletes: []string{job(at(5), "").Name, job(at(15), "").Name, job(at(10), "").Name},
			requeue: 4*time.Minute + nextScheduleDelta, lastSucc: ptr(at(26))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Plan(tt.cj, tt.jobs, tt.now)
			switch {
			case tt.create.IsZero() && d.Create != nil:
				t.Errorf("created %s, want none", d.Create.Name)
			case !tt.create.IsZero() && d.Create == nil:
				t.Errorf("created nothing, want the job for %v", tt.create)
			case d.Create != nil:
				if d.Create.Name != JobName(tt.cj, tt.create) || d.Status.LastScheduleTime == nil || !d.Status.LastScheduleTime.Time.Equal(tt.create) {
					t.Errorf("created %s lastScheduleTime %v, want %s at %v", d.Create.Name, d.Status.LastScheduleTime, JobName(tt.cj, tt.create), tt.create)
				}
			}
			if got := names(d.Delete); !slices.Equal(got, tt.deletes) {
				t.Errorf("deletes %v, want %v", got, tt.deletes)
			}
			if len(d.Status.Active) != tt.active {
				t.Errorf("active %v, want %d", d.Status.Active, tt.active)
			}
			if got := reasons(d.Events); !slices.Equal(got, tt.events) {
				t.Errorf("events %v, want %v", got, tt.events)
			}
			if d.RequeueAfter != tt.requeue {
				t.Errorf("requeue after %v, want %v", d.RequeueAfter, tt.requeue)
			}
			if tt.lastSucc != nil && (d.Status.LastSuccessfulTime == nil || !d.Status.LastSuccessfulTime.Time.Equal(*tt.lastSucc)) {
				t.Errorf("lastSuccessfulTime %v, want %v", d.Status.LastSuccessfulTime, *tt.lastSucc)
			}
		})
	}
}

func TestNewJob(t *testing.T) {
	cj := newCronJob(func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr("Europe/Paris") })
	loc, _ := time.LoadLocation("Europe/Paris")
	sched := time.Date(2026, 3, 10, 12, 5, 0, 0, time.UTC)
	j := NewJob(cj, sched, loc)
	if j.Name != "cj-29552405" {
		t.Errorf("name %q, want cj-<unix minutes> cj-29552405", j.Name)
	}
	if got := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; got != "2026-03-10T13:05:00+01:00" {
		t.Errorf("scheduled timestamp %q", got)
	}
	if j.Annotations["a"] != "b" || j.Labels["app"] != "x" {
		t.Errorf("template metadata not copied: %v %v", j.Labels, j.Annotations)
	}
	if _, ok := cj.Spec.JobTemplate.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok {
		t.Error("the template's annotations were written")
	}
	if ref := metav1.GetControllerOf(j); ref == nil || ref.UID != cj.UID || ref.Kind != "CronJob" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("controller reference %+v", j.OwnerReferences)
	}
}
