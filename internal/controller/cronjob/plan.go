package cronjob

import (
	"fmt"
	"slices"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nextScheduleDelta is added to a requeue for the next schedule time, so
// the look happens just after the time and not a moment before it, as
// upstream.
const nextScheduleDelta = 100 * time.Millisecond

// Event is an Event to record on the CronJob.
type Event struct{ Type, Reason, Message string }

// Decision is what Plan wants done.
type Decision struct {
	// Create is the Job to create, or nil. Once created, a reference to
	// it belongs in Status.Active.
	Create *batchv1.Job
	// Delete are Jobs to delete in the background: the active ones a
	// Replace policy replaces (before Create), then finished ones beyond
	// the history limits.
	Delete []*batchv1.Job
	// Status is the CronJob's new status.
	Status batchv1.CronJobStatus
	// Events are recorded on the CronJob.
	Events []Event
	// RequeueAfter, when > 0, is when to look again: just after the next
	// schedule time.
	RequeueAfter time.Duration
}

// JobName is the name of the Job made for the schedule time t: the
// time in Unix minutes makes it unique per time and deterministic, so a
// time is not run twice.
func JobName(cj *batchv1.CronJob, t time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, t.Unix()/60)
}

// NewJob is the Job cj runs for the schedule time t, in loc.
func NewJob(cj *batchv1.CronJob, t time.Time, loc *time.Location) *batchv1.Job {
	tmpl := cj.Spec.JobTemplate.DeepCopy()
	ann := make(map[string]string, len(tmpl.Annotations)+1)
	for k, v := range tmpl.Annotations {
		ann[k] = v
	}
	ann[batchv1.CronJobScheduledTimestampAnnotation] = t.In(loc).Format(time.RFC3339)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: JobName(cj, t), Namespace: cj.Namespace, Labels: tmpl.Labels, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, batchv1.SchemeGroupVersion.WithKind("CronJob"))},
		},
		Spec: tmpl.Spec,
	}
}

// JobRef is how a CronJob's status.active names a Job.
func JobRef(j *batchv1.Job) corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: batchv1.SchemeGroupVersion.String(),
		Namespace: j.Namespace, Name: j.Name, UID: j.UID, ResourceVersion: j.ResourceVersion}
}

// finished is the Job's final condition type, or "".
func finished(j *batchv1.Job) batchv1.JobConditionType {
	for _, c := range j.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// Plan decides, for a CronJob and the Jobs it controls at now, what to
// do. jobs must hold every Job the CronJob's status lists as active that
// still exists: a listed Job missing from it is taken as gone.
func Plan(cj *batchv1.CronJob, jobs []*batchv1.Job, now time.Time) Decision {
	d := Decision{Status: *cj.Status.DeepCopy()}
	st := &d.Status
	event := func(typ, reason, format string, args ...any) {
		d.Events = append(d.Events, Event{typ, reason, fmt.Sprintf(format, args...)})
	}
	isActive := func(uid string) bool {
		return slices.ContainsFunc(st.Active, func(r corev1.ObjectReference) bool { return string(r.UID) == uid })
	}
	dropActive := func(uid string) {
		st.Active = slices.DeleteFunc(st.Active, func(r corev1.ObjectReference) bool { return string(r.UID) == uid })
	}

	seen := map[string]bool{}
	for _, j := range jobs {
		seen[string(j.UID)] = true
		done := finished(j)
		switch {
		case done == "" && !isActive(string(j.UID)):
			// Created by someone else (kubectl create job --from), or our
			// status write was lost: upstream reports it and leaves it be.
			event(corev1.EventTypeWarning, "UnexpectedJob", "Saw a job that the controller did not create or forgot: %s", j.Name)
		case done != "" && isActive(string(j.UID)):
			dropActive(string(j.UID))
			event(corev1.EventTypeNormal, "SawCompletedJob", "Saw completed job: %s, condition: %v", j.Name, done)
		}
		if done == batchv1.JobComplete && j.Status.CompletionTime != nil &&
			(st.LastSuccessfulTime == nil || j.Status.CompletionTime.After(st.LastSuccessfulTime.Time)) {
			t := *j.Status.CompletionTime
			st.LastSuccessfulTime = &t
		}
	}
	for _, r := range slices.Clone(st.Active) {
		if !seen[string(r.UID)] {
			dropActive(string(r.UID))
			event(corev1.EventTypeNormal, "MissingJob", "Active job went missing: %v", r.Name)
		}
	}
	if cj.DeletionTimestamp != nil {
		return d
	}
	d.Delete = historyOverLimit(cj, jobs)
	for _, j := range d.Delete {
		dropActive(string(j.UID))
	}

	loc, err := location(&cj.Spec)
	if err != nil {
		event(corev1.EventTypeWarning, "UnknownTimeZone", "invalid timeZone: %q: %s", *cj.Spec.TimeZone, err)
		return d
	}
	if cj.Spec.Suspend != nil && *cj.Spec.Suspend {
		return d
	}
	if strings.Contains(cj.Spec.Schedule, "TZ") {
		event(corev1.EventTypeWarning, "UnsupportedSchedule", "CRON_TZ or TZ used in schedule %q is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details", cj.Spec.Schedule)
	}
	sched, err := ParseSchedule(&cj.Spec)
	if err != nil {
		event(corev1.EventTypeWarning, "UnparseableSchedule", "unparseable schedule: %q : %s", cj.Spec.Schedule, err)
		return d
	}

	from := cj.CreationTimestamp.Time
	if st.LastScheduleTime != nil {
		from = st.LastScheduleTime.Time
	}
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil {
		// Nothing older than the deadline is started.
		if dl := now.Add(-time.Duration(*sds) * time.Second); dl.After(from) {
			from = dl
		}
	}
	due := DueAt(sched, from, now)
	if due.Next.IsZero() && due.Last.IsZero() {
		event(corev1.EventTypeWarning, "InvalidSchedule", "invalid schedule: %s : %s", cj.Spec.Schedule, "no time matches it")
		return d
	}
	if !due.Next.IsZero() {
		d.RequeueAfter = due.Next.Sub(now) + nextScheduleDelta
	}
	if due.Last.IsZero() {
		return d
	}
	if due.TooMany() {
		event(corev1.EventTypeWarning, "TooManyMissedTimes", "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	t := due.Last
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && t.Add(time.Duration(*sds)*time.Second).Before(now) {
		event(corev1.EventTypeWarning, "MissSchedule", "Missed scheduled time to start a job: %s", t.UTC().Format(time.RFC1123Z))
		return d
	}
	name := JobName(cj, t)
	if slices.ContainsFunc(st.Active, func(r corev1.ObjectReference) bool { return r.Name == name }) ||
		(st.LastScheduleTime != nil && st.LastScheduleTime.Equal(&metav1.Time{Time: t})) {
		return d // this time is already run
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(st.Active) > 0 {
			// The time stays owed: it starts when the active Job is done,
			// if still within startingDeadlineSeconds.
			event(corev1.EventTypeNormal, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid")
			return d
		}
	case batchv1.ReplaceConcurrent:
		byUID := map[string]*batchv1.Job{}
		for _, j := range jobs {
			byUID[string(j.UID)] = j
		}
		for _, r := range st.Active {
			if j := byUID[string(r.UID)]; j != nil {
				d.Delete = append(d.Delete, j)
			}
		}
		st.Active = nil
	}
	d.Create = NewJob(cj, t, loc)
	mt := metav1.NewTime(t)
	st.LastScheduleTime = &mt
	return d
}

// historyOverLimit are the finished Jobs beyond the CronJob's history
// limits, oldest (by start time) first, as upstream; Jobs already being
// deleted are neither counted nor deleted again.
func historyOverLimit(cj *batchv1.CronJob, jobs []*batchv1.Job) []*batchv1.Job {
	var ok, failed []*batchv1.Job
	for _, j := range jobs {
		if j.DeletionTimestamp != nil {
			continue
		}
		switch finished(j) {
		case batchv1.JobComplete:
			ok = append(ok, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	var out []*batchv1.Job
	for _, g := range []struct {
		jobs  []*batchv1.Job
		limit *int32
	}{{ok, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		if g.limit == nil || len(g.jobs) <= int(*g.limit) {
			continue
		}
		slices.SortFunc(g.jobs, byStartTime)
		out = append(out, g.jobs[:len(g.jobs)-int(*g.limit)]...)
	}
	return out
}

// byStartTime orders Jobs by start time, those not started last, then by
// name.
func byStartTime(a, b *batchv1.Job) int {
	switch {
	case a.Status.StartTime == nil && b.Status.StartTime == nil:
	case a.Status.StartTime == nil:
		return 1
	case b.Status.StartTime == nil:
		return -1
	case !a.Status.StartTime.Equal(b.Status.StartTime):
		return a.Status.StartTime.Compare(b.Status.StartTime.Time)
	}
	return strings.Compare(a.Name, b.Name)
}
