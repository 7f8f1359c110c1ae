package batch

import (
	"context"
	"maps"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// The unprefixed labels the job controller has always set; Kubernetes
// still sets and selects them next to the batch.kubernetes.io ones.
const (
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// maxParallelismForIndexedJob bounds completions and parallelism of an
// Indexed Job, whose indexes the controller tracks one by one.
const maxParallelismForIndexedJob = 100000

type jobStrategy struct{ registry.BaseStrategy }

func (jobStrategy) New() runtime.Object     { return &batchv1.Job{} }
func (jobStrategy) NewList() runtime.Object { return &batchv1.JobList{} }

// Default applies batch/v1's Job defaults. A Job with neither completions
// nor parallelism runs one pod to completion.
func (jobStrategy) Default(obj runtime.Object) {
	job := obj.(*batchv1.Job)
	spec := &job.Spec
	if spec.Completions == nil && spec.Parallelism == nil {
		spec.Completions = ptr[int32](1)
	}
	if spec.Parallelism == nil {
		spec.Parallelism = ptr[int32](1)
	}
	if spec.BackoffLimit == nil {
		if spec.BackoffLimitPerIndex != nil {
			spec.BackoffLimit = ptr[int32](1<<31 - 1)
		} else {
			spec.BackoffLimit = ptr[int32](6)
		}
	}
	defaultJobLabels(job)
	if spec.CompletionMode == nil {
		spec.CompletionMode = ptr(batchv1.NonIndexedCompletion)
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr(false)
	}
	if pfp := spec.PodFailurePolicy; pfp != nil {
		for _, rule := range pfp.Rules {
			for i := range rule.OnPodConditions {
				if rule.OnPodConditions[i].Status == "" {
					rule.OnPodConditions[i].Status = corev1.ConditionTrue
				}
			}
		}
	}
	if spec.PodReplacementPolicy == nil {
		if spec.PodFailurePolicy != nil {
			spec.PodReplacementPolicy = ptr(batchv1.Failed)
		} else {
			spec.PodReplacementPolicy = ptr(batchv1.TerminatingOrFailed)
		}
	}
	podspec.DefaultTemplate(&spec.Template)
}

// defaultJobLabels gives a Job without labels its pod template's.
func defaultJobLabels(job *batchv1.Job) {
	if job.Spec.Template.Labels != nil && len(job.Labels) == 0 {
		job.Labels = maps.Clone(job.Spec.Template.Labels)
	}
}

// PrepareForCreate generates the selector (the store has set the uid by
// now) and, as upstream's defaulting on read does, gives a Job without
// labels the generated ones.
func (jobStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	job := obj.(*batchv1.Job)
	job.Status = batchv1.JobStatus{}
	job.Generation = 1
	if !manualSelector(&job.Spec) {
		generateSelector(job)
	}
	defaultJobLabels(job)
}

func manualSelector(spec *batchv1.JobSpec) bool {
	return spec.ManualSelector != nil && *spec.ManualSelector
}

// generateSelector selects the job's pods by its uid and labels its pod
// template to match; labels the client set are kept, and validation
// rejects them if they conflict.
func generateSelector(job *batchv1.Job) {
	tl := job.Spec.Template.Labels
	if tl == nil {
		tl = map[string]string{}
		job.Spec.Template.Labels = tl
	}
	for _, l := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, ok := tl[l]; !ok {
			tl[l] = job.Name
		}
	}
	for _, l := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, ok := tl[l]; !ok {
			tl[l] = string(job.UID)
		}
	}
	if job.Spec.Selector == nil {
		job.Spec.Selector = &metav1.LabelSelector{}
	}
	if job.Spec.Selector.MatchLabels == nil {
		job.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		job.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] = string(job.UID)
	}
}

func (jobStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	job, o := obj.(*batchv1.Job), old.(*batchv1.Job)
	if isStatus(sub) {
		job.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(job, o)
		return
	}
	job.Status = o.Status
	bumpGeneration(job, o, !apiequality.Semantic.DeepEqual(job.Spec, o.Spec))
}

func (jobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	job := obj.(*batchv1.Job)
	errs := validateJobSpecWithSelector(&job.Spec, field.NewPath("spec"))
	if !manualSelector(&job.Spec) {
		errs = append(errs, validateGeneratedSelector(job)...)
	}
	return errs
}

// ValidateUpdate: a Job's selector, completion mode and failure policies
// never change; completions only for an Indexed Job, together with
// parallelism; the pod template only while the Job is suspended and has
// never started, and then only its scheduling directives and metadata.
func (jobStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	job, o := obj.(*batchv1.Job), old.(*batchv1.Job)
	p := field.NewPath("spec")
	spec, os := &job.Spec, &o.Spec
	errs := validateJobSpecWithSelector(spec, p)
	immutable := func(n, o any, name string) {
		errs = append(errs, apivalidation.ValidateImmutableField(n, o, p.Child(name))...)
	}
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if !indexed {
		immutable(spec.Completions, os.Completions, "completions")
	} else if !apiequality.Semantic.DeepEqual(spec.Completions, os.Completions) &&
		(spec.Completions == nil || spec.Parallelism == nil || *spec.Completions != *spec.Parallelism) {
		errs = append(errs, field.Invalid(p.Child("completions"), spec.Completions, "can only be modified in tandem with spec.parallelism"))
	}
	immutable(spec.Selector, os.Selector, "selector")
	immutable(spec.CompletionMode, os.CompletionMode, "completionMode")
	immutable(spec.PodFailurePolicy, os.PodFailurePolicy, "podFailurePolicy")
	immutable(spec.BackoffLimitPerIndex, os.BackoffLimitPerIndex, "backoffLimitPerIndex")
	immutable(spec.ManagedBy, os.ManagedBy, "managedBy")
	immutable(spec.SuccessPolicy, os.SuccessPolicy, "successPolicy")

	oldTemplate := os.Template.DeepCopy()
	if suspended := os.Suspend != nil && *os.Suspend; suspended && o.Status.StartTime == nil {
		nt := &spec.Template
		oldTemplate.Labels, oldTemplate.Annotations = nt.Labels, nt.Annotations
		oldTemplate.Spec.NodeSelector = nt.Spec.NodeSelector
		oldTemplate.Spec.Affinity = nt.Spec.Affinity
		oldTemplate.Spec.Tolerations = nt.Spec.Tolerations
		oldTemplate.Spec.SchedulingGates = nt.Spec.SchedulingGates
	}
	immutable(spec.Template, *oldTemplate, "template")
	return append(errs, validateJobStatus(&job.Status, field.NewPath("status"))...)
}

// SelectableFields: Jobs can be selected by their count of succeeded pods.
func (jobStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"status.successful": strconv.Itoa(int(obj.(*batchv1.Job).Status.Succeeded))}
}

// validateJobSpecWithSelector adds to validateJobSpec what a Job has and a
// CronJob's template leaves to generation: a selector matching the pods.
func validateJobSpecWithSelector(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	errs := validateJobSpec(spec, path)
	if spec.Selector == nil {
		errs = append(errs, field.Required(path.Child("selector"), ""))
	} else {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, path.Child("selector"))...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	return errs
}

// validateGeneratedSelector checks that the generated labels and selector
// survived the client's own: the pods must carry the job's uid and name.
func validateGeneratedSelector(job *batchv1.Job) field.ErrorList {
	var errs field.ErrorList
	if job.UID == "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "uid"), ""))
	}
	lp := field.NewPath("spec", "template", "metadata", "labels")
	for label, want := range map[string]string{
		legacyControllerUIDLabel: string(job.UID), batchv1.ControllerUidLabel: string(job.UID),
		legacyJobNameLabel: job.Name, batchv1.JobNameLabel: job.Name,
	} {
		got, ok := job.Spec.Template.Labels[label]
		switch {
		case !ok:
			errs = append(errs, field.Required(lp.Key(label), "must be '"+want+"'"))
		case got != want:
			errs = append(errs, field.Invalid(lp.Key(label), got, "must be '"+want+"'"))
		}
	}
	if job.Spec.Selector == nil {
		return errs
	}
	sel, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err == nil && !sel.Matches(labels.Set{batchv1.ControllerUidLabel: string(job.UID)}) {
		errs = append(errs, field.Invalid(field.NewPath("spec", "selector"), job.Spec.Selector, "`selector` not auto-generated"))
	}
	return errs
}

// validateJobSpec checks what a Job and a CronJob's job template share.
func validateJobSpec(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	nonNegative := func(v *int32, name string) {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*v), path.Child(name))...)
		}
	}
	nonNegative(spec.Parallelism, "parallelism")
	nonNegative(spec.Completions, "completions")
	nonNegative(spec.BackoffLimit, "backoffLimit")
	nonNegative(spec.TTLSecondsAfterFinished, "ttlSecondsAfterFinished")
	nonNegative(spec.BackoffLimitPerIndex, "backoffLimitPerIndex")
	nonNegative(spec.MaxFailedIndexes, "maxFailedIndexes")
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, apivalidation.ValidateNonnegativeField(*spec.ActiveDeadlineSeconds, path.Child("activeDeadlineSeconds"))...)
	}

	indexed := false
	if m := spec.CompletionMode; m != nil {
		switch *m {
		case batchv1.IndexedCompletion:
			indexed = true
		case batchv1.NonIndexedCompletion:
		default:
			errs = append(errs, field.NotSupported(path.Child("completionMode"), *m,
				[]batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
		}
	}
	if indexed {
		if spec.Completions == nil {
			errs = append(errs, field.Required(path.Child("completions"), "when completion mode is Indexed"))
		} else if *spec.Completions > maxParallelismForIndexedJob {
			errs = append(errs, field.Invalid(path.Child("completions"), *spec.Completions, "must be less than or equal to 100000 when completion mode is Indexed"))
		}
		if spec.Parallelism != nil && *spec.Parallelism > maxParallelismForIndexedJob {
			errs = append(errs, field.Invalid(path.Child("parallelism"), *spec.Parallelism, "must be less than or equal to 100000 when completion mode is Indexed"))
		}
	}
	if spec.BackoffLimitPerIndex != nil && !indexed {
		errs = append(errs, field.Invalid(path.Child("backoffLimitPerIndex"), *spec.BackoffLimitPerIndex, "requires indexed completion mode"))
	}
	if m := spec.MaxFailedIndexes; m != nil {
		if spec.BackoffLimitPerIndex == nil {
			errs = append(errs, field.Required(path.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
		}
		if spec.Completions != nil && *m > *spec.Completions {
			errs = append(errs, field.Invalid(path.Child("maxFailedIndexes"), *m, "must be less than or equal to completions"))
		}
	}
	if spec.SuccessPolicy != nil && !indexed {
		errs = append(errs, field.Invalid(path.Child("successPolicy"), spec.SuccessPolicy, "requires indexed completion mode"))
	}
	if p := spec.PodReplacementPolicy; p != nil {
		switch {
		case spec.PodFailurePolicy != nil && *p != batchv1.Failed:
			errs = append(errs, field.NotSupported(path.Child("podReplacementPolicy"), *p, []batchv1.PodReplacementPolicy{batchv1.Failed}))
		case *p != batchv1.Failed && *p != batchv1.TerminatingOrFailed:
			errs = append(errs, field.NotSupported(path.Child("podReplacementPolicy"), *p,
				[]batchv1.PodReplacementPolicy{batchv1.TerminatingOrFailed, batchv1.Failed}))
		}
	}
	if spec.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(spec, path.Child("podFailurePolicy"))...)
	}

	tp := path.Child("template")
	errs = append(errs, podspec.ValidateTemplate(&spec.Template, tp)...)
	switch rp := spec.Template.Spec.RestartPolicy; {
	case rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever:
		// Upstream words it as a Required value, naming the valid ones.
		errs = append(errs, field.Required(tp.Child("spec", "restartPolicy"), `valid values: "OnFailure", "Never"`))
	case spec.PodFailurePolicy != nil && rp != corev1.RestartPolicyNever:
		errs = append(errs, field.Invalid(tp.Child("spec", "restartPolicy"), rp, `only "Never" is supported when podFailurePolicy is specified`))
	}
	return errs
}

func validatePodFailurePolicy(spec *batchv1.JobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	actions := []batchv1.PodFailurePolicyAction{batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionFailIndex,
		batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount}
	for i, rule := range spec.PodFailurePolicy.Rules {
		rp := path.Child("rules").Index(i)
		switch rule.Action {
		case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
		case batchv1.PodFailurePolicyActionFailIndex:
			if spec.BackoffLimitPerIndex == nil {
				errs = append(errs, field.Invalid(rp.Child("action"), rule.Action, "requires the backoffLimitPerIndex to be set"))
			}
		default:
			errs = append(errs, field.NotSupported(rp.Child("action"), rule.Action, actions))
		}
		if (rule.OnExitCodes == nil) == (len(rule.OnPodConditions) == 0) {
			errs = append(errs, field.Invalid(rp, rule, "specifying one of OnExitCodes and OnPodConditions is required"))
		}
		if r := rule.OnExitCodes; r != nil {
			ep := rp.Child("onExitCodes")
			switch r.Operator {
			case batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn:
			default:
				errs = append(errs, field.NotSupported(ep.Child("operator"), r.Operator, []batchv1.PodFailurePolicyOnExitCodesOperator{
					batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn}))
			}
			if len(r.Values) == 0 {
				errs = append(errs, field.Required(ep.Child("values"), "at least one value is required"))
			}
			seen := sets.New[int32]()
			for j, v := range r.Values {
				vp := ep.Child("values").Index(j)
				if r.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
					errs = append(errs, field.Invalid(vp, v, "must not be 0 for the In operator"))
				}
				if seen.Has(v) {
					errs = append(errs, field.Duplicate(vp, v))
				} else if j > 0 && v < r.Values[j-1] {
					errs = append(errs, field.Invalid(vp, v, "must be ordered"))
				}
				seen.Insert(v)
			}
		}
		for j, c := range rule.OnPodConditions {
			cp := rp.Child("onPodConditions").Index(j)
			switch c.Status {
			case corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown:
			default:
				errs = append(errs, field.NotSupported(cp.Child("status"), c.Status,
					[]corev1.ConditionStatus{corev1.ConditionTrue, corev1.ConditionFalse, corev1.ConditionUnknown}))
			}
			for _, msg := range validation.IsQualifiedName(string(c.Type)) {
				errs = append(errs, field.Invalid(cp.Child("type"), c.Type, msg))
			}
		}
	}
	return errs
}

func validateJobStatus(s *batchv1.JobStatus, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for name, v := range map[string]*int32{"active": &s.Active, "succeeded": &s.Succeeded, "failed": &s.Failed,
		"ready": s.Ready, "terminating": s.Terminating} {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*v), path.Child(name))...)
		}
	}
	return errs
}
