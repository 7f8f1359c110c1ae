package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The Job controller on `skiff up`'s simulated node, whose pods with
// restartPolicy Never succeed after about a second unless the
// skiff.dev/simulate-exit-code annotation makes them fail.
func jobManifest(name, spec, podAnnotations string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
%s
  template:
    metadata:
      annotations: {%s}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: registry.example/batch:1
`, name, spec, podAnnotations)
}

func jobPods(t *testing.T, s *Skiff, job string) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	getJSON(t, s, &l, "pods", "-l", "batch.kubernetes.io/job-name="+job)
	return l.Items
}

func jobCondition(j *batchv1.Job, ct batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == ct {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func TestJob(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	// All three run at once: the failing one's 10 s backoff dominates.
	applyStdin(t, s, jobManifest("work", "  completions: 3\n  parallelism: 2", ""))
	applyStdin(t, s, jobManifest("crash", "  backoffLimit: 1", `skiff.dev/simulate-exit-code: "1", skiff.dev/simulate-duration: "0s"`))
	applyStdin(t, s, jobManifest("idx", "  completions: 3\n  parallelism: 3\n  completionMode: Indexed", ""))
	applyStdin(t, s, jobManifest("deadline", "  activeDeadlineSeconds: 2", `skiff.dev/simulate-duration: "60s"`))
	applyStdin(t, s, jobManifest("pause", "  completions: 4\n  parallelism: 2", `skiff.dev/simulate-duration: "60s"`))

	// Suspending deletes the active pods without counting them failed;
	// resuming starts new ones.
	getPause := func() batchv1.Job {
		var j batchv1.Job
		getJSON(t, s, &j, "job", "pause")
		return j
	}
	eventually(t, "job pause has 2 active pods", func() (bool, string) {
		j := getPause()
		return j.Status.Active == 2 && len(jobPods(t, s, "pause")) == 2, fmt.Sprintf("%+v", j.Status)
	})
	s.MustKubectl("patch", "job", "pause", "--type=merge", "-p", `{"spec":{"suspend":true}}`)
	eventually(t, "job pause suspended with no pods", func() (bool, string) {
		j := getPause()
		c := jobCondition(&j, batchv1.JobSuspended)
		return c != nil && c.Status == corev1.ConditionTrue && c.Reason == "JobSuspended" && j.Status.Active == 0 &&
			len(jobPods(t, s, "pause")) == 0, fmt.Sprintf("%+v", j.Status)
	})
	if j := getPause(); j.Status.Failed != 0 {
		t.Errorf("suspended job's deleted pods counted failed: %+v", j.Status)
	}
	s.MustKubectl("patch", "job", "pause", "--type=merge", "-p", `{"spec":{"suspend":false}}`)
	eventually(t, "job pause resumed with 2 active pods", func() (bool, string) {
		j := getPause()
		c := jobCondition(&j, batchv1.JobSuspended)
		return c != nil && c.Status == corev1.ConditionFalse && c.Reason == "JobResumed" && j.Status.Active == 2, fmt.Sprintf("%+v", j.Status)
	})

	s.MustKubectl("wait", "--for=condition=complete", "job/work", "--timeout=30s")
	var work batchv1.Job
	getJSON(t, s, &work, "job", "work")
	if st := work.Status; st.Succeeded != 3 || st.Active != 0 || st.Failed != 0 || st.StartTime == nil || st.CompletionTime == nil ||
		jobCondition(&work, batchv1.JobSuccessCriteriaMet) == nil {
		t.Errorf("job work status %+v", st)
	}
	pods := jobPods(t, s, "work")
	if len(pods) != 3 {
		t.Errorf("job work has %d pods, want 3", len(pods))
	}
	for _, p := range pods {
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.Kind != "Job" || ref.UID != work.UID || p.Status.Phase != corev1.PodSucceeded {
			t.Errorf("pod %s: owner %+v phase %s", p.Name, p.OwnerReferences, p.Status.Phase)
		}
	}

	s.MustKubectl("wait", "--for=condition=complete", "job/idx", "--timeout=30s")
	var idx batchv1.Job
	getJSON(t, s, &idx, "job", "idx")
	if idx.Status.CompletedIndexes != "0-2" || idx.Status.Succeeded != 3 {
		t.Errorf("job idx status %+v", idx.Status)
	}
	var got []string
	for _, p := range jobPods(t, s, "idx") {
		i := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		if p.Labels[batchv1.JobCompletionIndexAnnotation] != i || p.Spec.Hostname != "idx-"+i {
			t.Errorf("pod %s: index annotation %q label %q hostname %q", p.Name, i, p.Labels[batchv1.JobCompletionIndexAnnotation], p.Spec.Hostname)
		}
		got = append(got, i)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Errorf("idx pods' indexes %v, want 0 1 2", got)
	}

	s.MustKubectl("wait", "--for=condition=failed", "job/deadline", "--timeout=20s")
	var dl batchv1.Job
	getJSON(t, s, &dl, "job", "deadline")
	if f := jobCondition(&dl, batchv1.JobFailed); f == nil || f.Reason != "DeadlineExceeded" || dl.Status.Active != 0 {
		t.Errorf("job deadline status %+v", dl.Status)
	}
	eventually(t, "job deadline's pod deleted", func() (bool, string) {
		n := len(jobPods(t, s, "deadline"))
		return n == 0, fmt.Sprintf("%d pods", n)
	})

	// Two failures (one retry after the 10 s backoff) exceed backoffLimit 1.
	s.MustKubectl("wait", "--for=condition=failed", "job/crash", "--timeout=35s")
	var crash batchv1.Job
	getJSON(t, s, &crash, "job", "crash")
	f := jobCondition(&crash, batchv1.JobFailed)
	if f == nil || f.Reason != "BackoffLimitExceeded" || f.Message != "Job has reached the specified backoff limit" ||
		crash.Status.Failed != 2 || crash.Status.Active != 0 || crash.Status.CompletionTime != nil ||
		jobCondition(&crash, batchv1.JobFailureTarget) == nil {
		t.Errorf("job crash status %+v", crash.Status)
	}
	if n := len(jobPods(t, s, "crash")); n != 2 {
		t.Errorf("job crash has %d pods, want 2", n)
	}
	eventually(t, "job crash's events", func() (bool, string) {
		out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=crash", "-o", "custom-columns=R:.reason,S:.source.component", "--no-headers")
		return strings.Contains(out, "SuccessfulCreate") && strings.Contains(out, "BackoffLimitExceeded") && strings.Contains(out, "job-controller"), out
	})
}

// A podFailurePolicy fails the Job on the exit code it names, without
// retries; a Job with ttlSecondsAfterFinished 0 is deleted, pods and all,
// once it completes; finished pods keep no job-tracking finalizer.
func TestJobPodFailurePolicyAndTTL(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, jobManifest("exit42", `  backoffLimit: 6
  podFailurePolicy:
    rules:
    - action: Ignore
      onPodConditions: [{type: DisruptionTarget}]
    - action: FailJob
      onExitCodes: {operator: In, values: [42]}`, `skiff.dev/simulate-exit-code: "42", skiff.dev/simulate-duration: "0s"`))
	applyStdin(t, s, jobManifest("ephemeral", "  ttlSecondsAfterFinished: 0\n  completions: 2\n  parallelism: 2", `skiff.dev/simulate-duration: "0s"`))

	s.MustKubectl("wait", "--for=condition=failed", "job/exit42", "--timeout=20s")
	var j batchv1.Job
	getJSON(t, s, &j, "job", "exit42")
	f := jobCondition(&j, batchv1.JobFailed)
	if f == nil || f.Reason != "PodFailurePolicy" || !strings.HasPrefix(f.Message, "Container app for pod default/exit42-") ||
		!strings.HasSuffix(f.Message, "failed with exit code 42 matching FailJob rule at index 1") {
		t.Errorf("job exit42 Failed condition %+v", f)
	}
	if j.Status.Failed != 1 || j.Status.Active != 0 || (j.Status.UncountedTerminatedPods != nil &&
		len(j.Status.UncountedTerminatedPods.Failed)+len(j.Status.UncountedTerminatedPods.Succeeded) > 0) {
		t.Errorf("job exit42 status %+v", j.Status)
	}
	eventually(t, "job exit42's one pod is released", func() (bool, string) {
		pods := jobPods(t, s, "exit42")
		return len(pods) == 1 && !slices.Contains(pods[0].Finalizers, batchv1.JobTrackingFinalizer), fmt.Sprintf("%d pods: %+v", len(pods), pods)
	})

	// The TTL controller deletes the Job in the background; the garbage
	// collector then deletes its pods, which the Job controller released.
	eventually(t, "job ephemeral deleted after it completed", func() (bool, string) {
		_, stderr, err := s.Kubectl("get", "job", "ephemeral")
		return err != nil && strings.Contains(stderr, "NotFound"), stderr
	})
	eventually(t, "job ephemeral's pods deleted", func() (bool, string) {
		n := len(jobPods(t, s, "ephemeral"))
		return n == 0, fmt.Sprintf("%d pods", n)
	})
	out := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=ephemeral", "-o", "custom-columns=R:.reason", "--no-headers")
	if !strings.Contains(out, "Completed") {
		t.Errorf("job ephemeral was deleted without completing; its events: %s", out)
	}
}
