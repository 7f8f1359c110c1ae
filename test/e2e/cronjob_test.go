package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// cronFireTimeout bounds the wait for a "* * * * *" CronJob's first run:
// it fires at the next minute boundary after its creation, then its Job
// runs for about a second.
const cronFireTimeout = 75 * time.Second

// waitLong is eventually with its own deadline, for what the clock
// decides (a cron schedule), not the server's speed.
func waitLong(t *testing.T, what string, timeout time.Duration, cond func() (bool, string)) {
	t.Helper()
	var msg string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		var ok bool
		ok, msg = cond()
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not true within %v: %s", what, timeout, msg)
	}
}

func TestCronJob(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
spec:
  schedule: "* * * * *"
  timeZone: Europe/Paris
  successfulJobsHistoryLimit: 1
  jobTemplate:
    metadata:
      labels: {app: tick}
    spec:
      template:
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 0
          containers:
          - name: app
            image: registry.example/batch:1
`)
	var cj batchv1.CronJob
	getJSON(t, s, &cj, "cronjob", "tick")

	// kubectl makes a Job from the template at once.
	s.MustKubectl("create", "job", "now", "--from=cronjob/tick")
	s.MustKubectl("wait", "--for=condition=complete", "job/now", "--timeout=20s")

	// The schedule's own Job, at the next minute.
	var fired batchv1.Job
	waitLong(t, "cronjob tick runs a job and sees it complete", cronFireTimeout, func() (bool, string) {
		var l batchv1.JobList
		getJSON(t, s, &l, "jobs", "-l", "app=tick")
		for _, j := range l.Items {
			if j.Name != "now" && jobCondition(&j, batchv1.JobComplete) != nil {
				fired = j
			}
		}
		cj = batchv1.CronJob{} // fields left out of the JSON must not keep old values
		getJSON(t, s, &cj, "cronjob", "tick")
		return fired.Name != "" && cj.Status.LastSuccessfulTime != nil && len(cj.Status.Active) == 0,
			fmt.Sprintf("jobs %d, status %+v", len(l.Items), cj.Status)
	})
	if ref := metav1.GetControllerOf(&fired); ref == nil || ref.Kind != "CronJob" || ref.UID != cj.UID {
		t.Errorf("job %s controller %+v", fired.Name, fired.OwnerReferences)
	}
	ts := fired.Annotations[batchv1.CronJobScheduledTimestampAnnotation]
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil || !strings.HasSuffix(ts, "+01:00") && !strings.HasSuffix(ts, "+02:00") {
		t.Fatalf("job %s scheduled-timestamp %q (want RFC 3339 in Europe/Paris): %v", fired.Name, ts, err)
	}
	if want := "tick-" + strconv.FormatInt(at.Unix()/60, 10); fired.Name != want || at.Second() != 0 {
		t.Errorf("job %s for %s, want %s", fired.Name, ts, want)
	}
	if cj.Status.LastScheduleTime == nil || !cj.Status.LastScheduleTime.Time.Equal(at) {
		t.Errorf("lastScheduleTime %v, want %v", cj.Status.LastScheduleTime, at)
	}
	if p := jobPods(t, s, fired.Name); len(p) != 1 {
		t.Errorf("job %s has %d pods", fired.Name, len(p))
	}
	eventually(t, "cronjob tick's events", func() (bool, string) {
		out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=tick", "-o", "custom-columns=R:.reason,S:.source.component", "--no-headers")
		return strings.Contains(out, "SuccessfulCreate") && strings.Contains(out, "SawCompletedJob") && strings.Contains(out, "cronjob-controller"), out
	})
}
