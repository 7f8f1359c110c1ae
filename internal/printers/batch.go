package printers

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

var jobPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Status", typeString, "Status of the job."),
		column("Completions", typeString, batchv1.JobStatus{}.SwaggerDoc()["succeeded"]),
		column("Duration", typeString, "Time required to complete the job."),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}),
	func(job *batchv1.Job, now time.Time) []any {
		names, images := containerCells(job.Spec.Template.Spec.Containers)
		return []any{
			job.Name, jobStatus(job), jobCompletions(job), jobDuration(job, now), Age(job.CreationTimestamp, now),
			names, images, metav1.FormatLabelSelector(job.Spec.Selector),
		}
	})

// jobCompletions is "succeeded/completions", or for a job without a
// completion count "succeeded/1", with " of <parallelism>" when parallel.
func jobCompletions(job *batchv1.Job) string {
	if job.Spec.Completions != nil {
		return fmt.Sprintf("%d/%d", job.Status.Succeeded, *job.Spec.Completions)
	}
	if p := job.Spec.Parallelism; p != nil && *p > 1 {
		return fmt.Sprintf("%d/1 of %d", job.Status.Succeeded, *p)
	}
	return fmt.Sprintf("%d/1", job.Status.Succeeded)
}

// jobDuration is empty before the job starts, then the time it ran so far or
// until it completed.
func jobDuration(job *batchv1.Job, now time.Time) string {
	switch {
	case job.Status.StartTime == nil:
		return ""
	case job.Status.CompletionTime == nil:
		return duration.HumanDuration(now.Sub(job.Status.StartTime.Time))
	default:
		return duration.HumanDuration(job.Status.CompletionTime.Sub(job.Status.StartTime.Time))
	}
}

func jobStatus(job *batchv1.Job) string {
	switch {
	case jobCondition(job, batchv1.JobComplete):
		return "Complete"
	case jobCondition(job, batchv1.JobFailed):
		return "Failed"
	case job.DeletionTimestamp != nil:
		return "Terminating"
	case jobCondition(job, batchv1.JobSuspended):
		return "Suspended"
	case jobCondition(job, batchv1.JobFailureTarget):
		return "FailureTarget"
	}
	return "Running"
}

// jobCondition reports whether the job's first condition of type t is true.
func jobCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

var cronJobPrinter = newTyped(
	cols([]metav1.TableColumnDefinition{
		nameColumn(),
		column("Schedule", typeString, docCronJobSchedule),
		column("Timezone", typeString, docCronJobTimeZone),
		column("Suspend", typeBoolean, docCronJobSuspend),
		column("Active", typeInteger, docCronJobActive),
		column("Last Schedule", typeString, docCronJobLastScheduleTime),
		ageColumn(),
	}, containersColumns(), []metav1.TableColumnDefinition{
		wide("Selector", typeString, batchv1.JobSpec{}.SwaggerDoc()["selector"]),
	}),
	func(cj *batchv1.CronJob, now time.Time) []any {
		last := "<none>"
		if cj.Status.LastScheduleTime != nil {
			last = Age(*cj.Status.LastScheduleTime, now)
		}
		tz := "<none>"
		if cj.Spec.TimeZone != nil {
			tz = *cj.Spec.TimeZone
		}
		tmpl := cj.Spec.JobTemplate.Spec
		names, images := containerCells(tmpl.Template.Spec.Containers)
		return []any{
			cj.Name, cj.Spec.Schedule, tz, boolPtr(cj.Spec.Suspend), int64(len(cj.Status.Active)), last,
			Age(cj.CreationTimestamp, now), names, images, metav1.FormatLabelSelector(tmpl.Selector),
		}
	})
