package batch_test

import (
	"context"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/batch"
	"skiff.dev/skiff/internal/registry/registrytest"
)

type fe = registrytest.FieldErr

var (
	ctx       = context.Background()
	checkErrs = registrytest.CheckErrors
	required  = registrytest.Required
	invalid   = registrytest.Invalid
	notSupp   = registrytest.NotSupported
	duplicate = registrytest.Duplicate
)

func ptr[T any](v T) *T { return &v }

func resource(t *testing.T, kind string) *registry.Resource {
	return registrytest.Resource(t, batch.Resources(), kind)
}

func TestResources(t *testing.T) {
	if n := len(batch.Resources()); n != 2 {
		t.Fatalf("%d resources, want 2", n)
	}
	job, cj := resource(t, "Job"), resource(t, "CronJob")
	if job.GVR != batchv1.SchemeGroupVersion.WithResource("jobs") || job.ListKind != "JobList" || !job.Namespaced || !job.HasSubresource("status") {
		t.Errorf("jobs: %+v", job)
	}
	if cj.GVR != batchv1.SchemeGroupVersion.WithResource("cronjobs") || cj.ListKind != "CronJobList" || !cj.Namespaced ||
		!cj.HasSubresource("status") || len(cj.ShortNames) != 1 || cj.ShortNames[0] != "cj" {
		t.Errorf("cronjobs: %+v", cj)
	}
	if _, ok := job.Strategy.New().(*batchv1.Job); !ok {
		t.Errorf("Job New() = %T", job.Strategy.New())
	}
	if _, ok := job.Strategy.NewList().(*batchv1.JobList); !ok {
		t.Errorf("Job NewList() = %T", job.Strategy.NewList())
	}
	if _, ok := cj.Strategy.New().(*batchv1.CronJob); !ok {
		t.Errorf("CronJob New() = %T", cj.Strategy.New())
	}
	if _, ok := cj.Strategy.NewList().(*batchv1.CronJobList); !ok {
		t.Errorf("CronJob NewList() = %T", cj.Strategy.NewList())
	}
}

const uid = types.UID("0b7c2f4e-1111-2222-3333-444455556666")

func podTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "pi", Image: "perl:5.34"}},
	}}
}

func newJob() *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "pi", Namespace: "default", UID: uid},
		Spec:       batchv1.JobSpec{Template: podTemplate()},
	}
}

// created runs the store's create steps: Default, PrepareForCreate.
func created[T runtime.Object](s registry.Strategy, obj T) T {
	s.Default(obj)
	s.PrepareForCreate(ctx, obj)
	return obj
}

func TestJobDefaults(t *testing.T) {
	s := resource(t, "Job").Strategy
	job := created(s, newJob())
	generated := map[string]string{
		"controller-uid": string(uid), "batch.kubernetes.io/controller-uid": string(uid),
		"job-name": "pi", "batch.kubernetes.io/job-name": "pi",
	}
	want := batchv1.JobSpec{
		Completions: ptr[int32](1), Parallelism: ptr[int32](1), BackoffLimit: ptr[int32](6),
		CompletionMode: ptr(batchv1.NonIndexedCompletion), Suspend: ptr(false),
		PodReplacementPolicy: ptr(batchv1.TerminatingOrFailed),
		Selector:             &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": string(uid)}},
	}
	got := job.Spec
	got.Template = corev1.PodTemplateSpec{}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", got, want)
	}
	if !apiequality.Semantic.DeepEqual(job.Spec.Template.Labels, generated) || !apiequality.Semantic.DeepEqual(job.Labels, generated) {
		t.Errorf("template labels %v, job labels %v, want %v", job.Spec.Template.Labels, job.Labels, generated)
	}
	if job.Generation != 1 || job.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("generation %d, template %+v", job.Generation, job.Spec.Template.Spec)
	}
	checkErrs(t, s.Validate(ctx, job))

	tests := []struct {
		name   string
		mutate func(*batchv1.Job)
		check  func(*batchv1.Job) bool
	}{
		{"parallelism only leaves completions unset", func(j *batchv1.Job) { j.Spec.Parallelism = ptr[int32](3) },
			func(j *batchv1.Job) bool { return j.Spec.Completions == nil && *j.Spec.Parallelism == 3 }},
		{"completions only", func(j *batchv1.Job) { j.Spec.Completions = ptr[int32](5) },
			func(j *batchv1.Job) bool { return *j.Spec.Completions == 5 && *j.Spec.Parallelism == 1 }},
		{"backoffLimitPerIndex sets max backoffLimit", func(j *batchv1.Job) {
			j.Spec.BackoffLimitPerIndex = ptr[int32](1)
			j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
		}, func(j *batchv1.Job) bool { return *j.Spec.BackoffLimit == 1<<31-1 }},
		{"podFailurePolicy sets Failed replacement and True status", func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionIgnore, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}}}}}
		}, func(j *batchv1.Job) bool {
			return *j.Spec.PodReplacementPolicy == batchv1.Failed && j.Spec.PodFailurePolicy.Rules[0].OnPodConditions[0].Status == corev1.ConditionTrue
		}},
		{"own labels kept", func(j *batchv1.Job) { j.Labels = map[string]string{"team": "a"} },
			func(j *batchv1.Job) bool { return len(j.Labels) == 1 && j.Labels["team"] == "a" }},
		{"manual selector generates nothing", func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
			j.Spec.Template.Labels = map[string]string{"app": "pi"}
		}, func(j *batchv1.Job) bool {
			return len(j.Spec.Template.Labels) == 1 && len(j.Spec.Selector.MatchLabels) == 1 && j.Labels["app"] == "pi"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob()
			tt.mutate(j)
			j = created(s, j)
			if !tt.check(j) {
				t.Errorf("defaulted: %+v %+v", j.ObjectMeta, j.Spec)
			}
			checkErrs(t, s.Validate(ctx, j))
		})
	}
}

func TestJobValidate(t *testing.T) {
	s := resource(t, "Job").Strategy
	indexed := func(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion) }
	exitCodes := func(op batchv1.PodFailurePolicyOnExitCodesOperator, v ...int32) func(*batchv1.Job) {
		return func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: op, Values: v}}}}
			j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
		}
	}
	tests := []struct {
		name   string
		before func(*batchv1.Job) // before create, e.g. labels that conflict with generation
		mutate func(*batchv1.Job)
		want   []fe
	}{
		{name: "valid"},
		{name: "restartPolicy Always", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways },
			want: []fe{required("spec.template.spec.restartPolicy")}},
		{name: "restartPolicy unset defaults to Always", before: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			want: []fe{required("spec.template.spec.restartPolicy")}},
		{name: "OnFailure", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }},
		{name: "negative counts", mutate: func(j *batchv1.Job) {
			j.Spec.Parallelism, j.Spec.Completions, j.Spec.BackoffLimit = ptr[int32](-1), ptr[int32](-1), ptr[int32](-1)
			j.Spec.ActiveDeadlineSeconds, j.Spec.TTLSecondsAfterFinished = ptr[int64](-1), ptr[int32](-1)
		}, want: []fe{invalid("spec.parallelism"), invalid("spec.completions"), invalid("spec.backoffLimit"),
			invalid("spec.activeDeadlineSeconds"), invalid("spec.ttlSecondsAfterFinished")}},
		{name: "unknown completionMode", mutate: func(j *batchv1.Job) { j.Spec.CompletionMode = ptr(batchv1.CompletionMode("Sorted")) },
			want: []fe{notSupp("spec.completionMode")}},
		{name: "indexed", mutate: indexed},
		{name: "indexed without completions", mutate: func(j *batchv1.Job) { indexed(j); j.Spec.Completions = nil },
			want: []fe{required("spec.completions")}},
		{name: "indexed too wide", mutate: func(j *batchv1.Job) {
			indexed(j)
			j.Spec.Completions, j.Spec.Parallelism = ptr[int32](100001), ptr[int32](100001)
		}, want: []fe{invalid("spec.completions"), invalid("spec.parallelism")}},
		{name: "backoffLimitPerIndex needs indexed", mutate: func(j *batchv1.Job) { j.Spec.BackoffLimitPerIndex = ptr[int32](1) },
			want: []fe{invalid("spec.backoffLimitPerIndex")}},
		{name: "maxFailedIndexes needs backoffLimitPerIndex", mutate: func(j *batchv1.Job) { indexed(j); j.Spec.MaxFailedIndexes = ptr[int32](2) },
			want: []fe{required("spec.backoffLimitPerIndex"), invalid("spec.maxFailedIndexes")}},
		{name: "successPolicy needs indexed", mutate: func(j *batchv1.Job) { j.Spec.SuccessPolicy = &batchv1.SuccessPolicy{} },
			want: []fe{invalid("spec.successPolicy")}},
		{name: "bad podReplacementPolicy", mutate: func(j *batchv1.Job) { j.Spec.PodReplacementPolicy = ptr(batchv1.PodReplacementPolicy("Never")) },
			want: []fe{notSupp("spec.podReplacementPolicy")}},
		{name: "podFailurePolicy valid", mutate: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1, 42)},
		{name: "podFailurePolicy needs Failed replacement", mutate: func(j *batchv1.Job) {
			exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)(j)
			j.Spec.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
		}, want: []fe{notSupp("spec.podReplacementPolicy")}},
		{name: "podFailurePolicy needs Never", mutate: func(j *batchv1.Job) {
			exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 1)(j)
			j.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
		}, want: []fe{invalid("spec.template.spec.restartPolicy")}},
		{name: "exit code 0 with In, unordered, duplicate", mutate: exitCodes(batchv1.PodFailurePolicyOnExitCodesOpIn, 0, 5, 3, 3),
			want: []fe{invalid("spec.podFailurePolicy.rules[0].onExitCodes.values[0]"),
				invalid("spec.podFailurePolicy.rules[0].onExitCodes.values[2]"),
				duplicate("spec.podFailurePolicy.rules[0].onExitCodes.values[3]")}},
		{name: "bad operator, no values", mutate: exitCodes("Is"),
			want: []fe{notSupp("spec.podFailurePolicy.rules[0].onExitCodes.operator"), required("spec.podFailurePolicy.rules[0].onExitCodes.values")}},
		{name: "rule without a pattern, bad action", mutate: func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{Action: "Retry"}}}
			j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
		}, want: []fe{notSupp("spec.podFailurePolicy.rules[0].action"), invalid("spec.podFailurePolicy.rules[0]")}},
		{name: "FailIndex needs backoffLimitPerIndex", mutate: func(j *batchv1.Job) {
			exitCodes(batchv1.PodFailurePolicyOnExitCodesOpNotIn, 0)(j)
			j.Spec.PodFailurePolicy.Rules[0].Action = batchv1.PodFailurePolicyActionFailIndex
		}, want: []fe{invalid("spec.podFailurePolicy.rules[0].action")}},
		{name: "bad pod condition", mutate: func(j *batchv1.Job) {
			j.Spec.PodFailurePolicy = &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
				Action: batchv1.PodFailurePolicyActionCount, OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: "bad type!", Status: "Maybe"}}}}}
			j.Spec.PodReplacementPolicy = ptr(batchv1.Failed)
		}, want: []fe{notSupp("spec.podFailurePolicy.rules[0].onPodConditions[0].status"),
			invalid("spec.podFailurePolicy.rules[0].onPodConditions[0].type")}},
		{name: "no containers", mutate: func(j *batchv1.Job) { j.Spec.Template.Spec.Containers = nil },
			want: []fe{required("spec.template.spec.containers")}},
		{name: "conflicting label", before: func(j *batchv1.Job) {
			j.Spec.Template.Labels = map[string]string{"batch.kubernetes.io/controller-uid": "other"}
		}, want: []fe{invalid("spec.template.metadata.labels[batch.kubernetes.io/controller-uid]"), invalid("spec.template.metadata.labels")}},
		{name: "selector not generated", before: func(j *batchv1.Job) {
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "other"}}
		}, want: []fe{invalid("spec.selector"), invalid("spec.template.metadata.labels")}},
		{name: "manual selector must match", before: func(j *batchv1.Job) {
			j.Spec.ManualSelector = ptr(true)
			j.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
		}, want: []fe{invalid("spec.template.metadata.labels")}},
		{name: "manual without selector", before: func(j *batchv1.Job) { j.Spec.ManualSelector = ptr(true) },
			want: []fe{required("spec.selector"), invalid("spec.template.metadata.labels")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob()
			if tt.before != nil {
				tt.before(j)
			}
			j = created(s, j)
			if tt.mutate != nil {
				tt.mutate(j)
			}
			checkErrs(t, s.Validate(ctx, j), tt.want...)
		})
	}
}

func TestJobUpdate(t *testing.T) {
	s := resource(t, "Job").Strategy
	old := created(s, newJob())
	suspended := created(s, func() *batchv1.Job { j := newJob(); j.Spec.Suspend = ptr(true); return j }())
	started := suspended.DeepCopy()
	started.Status.StartTime = &metav1.Time{}
	indexed := created(s, func() *batchv1.Job {
		j := newJob()
		j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
		j.Spec.Completions, j.Spec.Parallelism = ptr[int32](3), ptr[int32](3)
		return j
	}())
	tests := []struct {
		name   string
		old    *batchv1.Job
		mutate func(*batchv1.Job)
		want   []fe
	}{
		{"parallelism", old, func(j *batchv1.Job) { j.Spec.Parallelism = ptr[int32](4) }, nil},
		{"suspend", old, func(j *batchv1.Job) { j.Spec.Suspend = ptr(true) }, nil},
		{"completions", old, func(j *batchv1.Job) { j.Spec.Completions = ptr[int32](4) }, []fe{invalid("spec.completions")}},
		{"indexed completions with parallelism", indexed, func(j *batchv1.Job) {
			j.Spec.Completions, j.Spec.Parallelism = ptr[int32](5), ptr[int32](5)
		}, nil},
		{"indexed completions alone", indexed, func(j *batchv1.Job) { j.Spec.Completions = ptr[int32](5) }, []fe{invalid("spec.completions")}},
		{"completionMode", old, func(j *batchv1.Job) {
			j.Spec.CompletionMode = ptr(batchv1.IndexedCompletion)
		}, []fe{invalid("spec.completionMode")}},
		{"selector", old, func(j *batchv1.Job) { j.Spec.Selector.MatchLabels["x"] = "y" },
			[]fe{invalid("spec.selector"), invalid("spec.template.metadata.labels")}},
		{"image", old, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.36" }, []fe{invalid("spec.template")}},
		{"nodeSelector while running", old, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
			[]fe{invalid("spec.template")}},
		{"nodeSelector while suspended", suspended, func(j *batchv1.Job) {
			j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"}
			j.Spec.Template.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
			j.Spec.Template.Annotations = map[string]string{"a": "b"}
		}, nil},
		{"image while suspended", suspended, func(j *batchv1.Job) { j.Spec.Template.Spec.Containers[0].Image = "perl:5.36" },
			[]fe{invalid("spec.template")}},
		{"nodeSelector once started", started, func(j *batchv1.Job) { j.Spec.Template.Spec.NodeSelector = map[string]string{"zone": "a"} },
			[]fe{invalid("spec.template")}},
		{"negative status", old, func(j *batchv1.Job) { j.Status.Failed = -1; j.Status.Ready = ptr[int32](-1) },
			[]fe{invalid("status.failed"), invalid("status.ready")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.old.DeepCopy()
			tt.mutate(j)
			checkErrs(t, s.ValidateUpdate(ctx, j, tt.old), tt.want...)
		})
	}

	o := old.DeepCopy()
	o.Status.Active = 1
	j := o.DeepCopy()
	j.Status = batchv1.JobStatus{}
	j.Spec.Parallelism = ptr[int32](2)
	s.PrepareForUpdate(ctx, j, o, "")
	if j.Generation != 2 || j.Status.Active != 1 {
		t.Errorf("main write: generation %d, status %+v", j.Generation, j.Status)
	}
	j = o.DeepCopy()
	j.Labels = map[string]string{"new": "x"}
	s.PrepareForUpdate(ctx, j, o, "")
	if j.Generation != 1 {
		t.Errorf("label write bumped generation to %d", j.Generation)
	}
	j = o.DeepCopy()
	j.Spec.Parallelism = ptr[int32](9)
	j.Labels = map[string]string{"new": "x"}
	j.Status.Succeeded = 1
	s.PrepareForUpdate(ctx, j, o, "status")
	if *j.Spec.Parallelism != 1 || j.Labels["new"] != "" || j.Status.Succeeded != 1 || j.Generation != 1 {
		t.Errorf("status write: %+v", j)
	}
	if f := s.SelectableFields(j); f["status.successful"] != "1" {
		t.Errorf("SelectableFields = %v", f)
	}
}

func newCronJob() *batchv1.CronJob {
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: "nightly", Namespace: "default"},
		Spec: batchv1.CronJobSpec{
			Schedule:    "0 3 * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate()}},
		},
	}
}

func TestCronJobDefaults(t *testing.T) {
	s := resource(t, "CronJob").Strategy
	cj := created(s, newCronJob())
	want := batchv1.CronJobSpec{
		Schedule: "0 3 * * *", ConcurrencyPolicy: batchv1.AllowConcurrent, Suspend: ptr(false),
		SuccessfulJobsHistoryLimit: ptr[int32](3), FailedJobsHistoryLimit: ptr[int32](1),
	}
	got := cj.Spec
	got.JobTemplate = batchv1.JobTemplateSpec{}
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("defaulted spec:\n got  %+v\n want %+v", got, want)
	}
	// The job template's pod template is defaulted, its Job fields are not.
	jt := cj.Spec.JobTemplate.Spec
	if jt.Template.Spec.SchedulerName != corev1.DefaultSchedulerName || jt.BackoffLimit != nil || jt.Completions != nil || jt.Selector != nil {
		t.Errorf("job template: %+v", jt)
	}
	if cj.Generation != 1 {
		t.Errorf("generation = %d", cj.Generation)
	}
	checkErrs(t, s.Validate(ctx, cj))
}

func TestCronJobValidate(t *testing.T) {
	s := resource(t, "CronJob").Strategy
	tests := []struct {
		name   string
		mutate func(*batchv1.CronJob)
		want   []fe
	}{
		{"valid", func(*batchv1.CronJob) {}, nil},
		{"descriptor", func(c *batchv1.CronJob) { c.Spec.Schedule = "@hourly" }, nil},
		{"every", func(c *batchv1.CronJob) { c.Spec.Schedule = "@every 1h30m" }, nil},
		{"no schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "" }, []fe{required("spec.schedule")}},
		{"bad schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "0 3 * *" }, []fe{invalid("spec.schedule")}},
		{"out of range", func(c *batchv1.CronJob) { c.Spec.Schedule = "61 * * * *" }, []fe{invalid("spec.schedule")}},
		{"TZ in schedule", func(c *batchv1.CronJob) { c.Spec.Schedule = "CRON_TZ=UTC 0 3 * * *" }, []fe{invalid("spec.schedule")}},
		{"timeZone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr("Europe/Berlin") }, nil},
		{"empty timeZone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr("") }, []fe{invalid("spec.timeZone")}},
		{"unknown timeZone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr("Mars/Olympus") }, []fe{invalid("spec.timeZone")}},
		{"Local timeZone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr("Local") }, []fe{invalid("spec.timeZone")}},
		{"path timeZone", func(c *batchv1.CronJob) { c.Spec.TimeZone = ptr("../etc/passwd") }, []fe{invalid("spec.timeZone")}},
		{"bad concurrencyPolicy", func(c *batchv1.CronJob) { c.Spec.ConcurrencyPolicy = "Queue" }, []fe{notSupp("spec.concurrencyPolicy")}},
		{"negative limits", func(c *batchv1.CronJob) {
			c.Spec.StartingDeadlineSeconds = ptr[int64](-1)
			c.Spec.SuccessfulJobsHistoryLimit, c.Spec.FailedJobsHistoryLimit = ptr[int32](-1), ptr[int32](-1)
		}, []fe{invalid("spec.startingDeadlineSeconds"), invalid("spec.successfulJobsHistoryLimit"), invalid("spec.failedJobsHistoryLimit")}},
		{"template restartPolicy", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyAlways
		},
			[]fe{required("spec.jobTemplate.spec.template.spec.restartPolicy")}},
		{"template backoffLimit", func(c *batchv1.CronJob) { c.Spec.JobTemplate.Spec.BackoffLimit = ptr[int32](-1) },
			[]fe{invalid("spec.jobTemplate.spec.backoffLimit")}},
		{"template selector", func(c *batchv1.CronJob) {
			c.Spec.JobTemplate.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}}
			c.Spec.JobTemplate.Spec.ManualSelector = ptr(true)
		}, []fe{invalid("spec.jobTemplate.spec.selector"), notSupp("spec.jobTemplate.spec.manualSelector")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := created(s, newCronJob())
			tt.mutate(c)
			checkErrs(t, s.Validate(ctx, c), tt.want...)
		})
	}

	for _, tt := range []struct {
		name string
		ok   bool
	}{{"nightly", true}, {strings.Repeat("a", 52), true}, {strings.Repeat("a", 53), false}, {"Nightly", false}} {
		if errs := s.ValidateName(tt.name, false); (len(errs) == 0) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, errs, tt.ok)
		}
	}
}

func TestCronJobUpdate(t *testing.T) {
	s := resource(t, "CronJob").Strategy
	old := created(s, newCronJob())
	legacy := old.DeepCopy()
	legacy.Spec.Schedule = "TZ=UTC 0 3 * * *"

	c := old.DeepCopy()
	c.Spec.Schedule = "*/5 * * * *"
	c.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image = "perl:5.36"
	s.PrepareForUpdate(ctx, c, old, "")
	if c.Generation != 2 {
		t.Errorf("generation = %d, want 2", c.Generation)
	}
	checkErrs(t, s.ValidateUpdate(ctx, c, old))

	// A schedule that already had TZ may keep it, but not with timeZone.
	c = legacy.DeepCopy()
	c.Spec.Schedule = "TZ=UTC 0 4 * * *"
	checkErrs(t, s.ValidateUpdate(ctx, c, legacy))
	c.Spec.TimeZone = ptr("UTC")
	checkErrs(t, s.ValidateUpdate(ctx, c, legacy), invalid("spec.schedule"))
	c = old.DeepCopy()
	c.Spec.Schedule = "TZ=UTC 0 4 * * *"
	checkErrs(t, s.ValidateUpdate(ctx, c, old), invalid("spec.schedule"))

	c = old.DeepCopy()
	c.Spec.Suspend = ptr(true)
	c.Status.LastScheduleTime = &metav1.Time{}
	s.PrepareForUpdate(ctx, c, old, "status")
	if *c.Spec.Suspend || c.Status.LastScheduleTime == nil || c.Generation != 1 {
		t.Errorf("status write: %+v", c)
	}
	c = old.DeepCopy()
	c.Status.LastScheduleTime = &metav1.Time{}
	s.PrepareForUpdate(ctx, c, old, "")
	if c.Status.LastScheduleTime != nil {
		t.Errorf("main write changed status: %+v", c.Status)
	}
}
