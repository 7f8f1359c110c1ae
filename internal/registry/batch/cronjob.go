package batch

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	// Time zones are checked against an embedded database, so validation
	// does not depend on the host's zoneinfo.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// maxCronJobNameLength leaves room in a 63-character label value for the
// 11-character suffix the controller appends to name its Jobs.
const maxCronJobNameLength = 52

type cronJobStrategy struct{ registry.BaseStrategy }

func (cronJobStrategy) New() runtime.Object     { return &batchv1.CronJob{} }
func (cronJobStrategy) NewList() runtime.Object { return &batchv1.CronJobList{} }

func (cronJobStrategy) ValidateName(name string, prefix bool) []string {
	msgs := apivalidation.NameIsDNSSubdomain(name, prefix)
	if !prefix && len(name) > maxCronJobNameLength {
		msgs = append(msgs, fmt.Sprintf("must be no more than %d characters", maxCronJobNameLength))
	}
	return msgs
}

// Default applies batch/v1's CronJob defaults. The job template's own
// Job defaults are applied when the controller creates each Job; only its
// pod template is defaulted here, as upstream.
func (cronJobStrategy) Default(obj runtime.Object) {
	cj := obj.(*batchv1.CronJob)
	spec := &cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr[int32](3)
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr[int32](1)
	}
	podspec.DefaultTemplate(&spec.JobTemplate.Spec.Template)
}

func (cronJobStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	cj := obj.(*batchv1.CronJob)
	cj.Status = batchv1.CronJobStatus{}
	cj.Generation = 1
}

func (cronJobStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	cj, o := obj.(*batchv1.CronJob), old.(*batchv1.CronJob)
	if isStatus(sub) {
		cj.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(cj, o)
		return
	}
	cj.Status = o.Status
	bumpGeneration(cj, o, !apiequality.Semantic.DeepEqual(cj.Spec, o.Spec))
}

func (cronJobStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateCronJobSpec(&obj.(*batchv1.CronJob).Spec, nil, field.NewPath("spec"))
}

func (cronJobStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	return validateCronJobSpec(&obj.(*batchv1.CronJob).Spec, &old.(*batchv1.CronJob).Spec, field.NewPath("spec"))
}

// validateCronJobSpec checks a CronJob's spec; old is nil on create. A
// schedule with TZ= or CRON_TZ= is kept valid only if it already had one:
// new CronJobs say their time zone in spec.timeZone.
func validateCronJobSpec(spec, old *batchv1.CronJobSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	sp := path.Child("schedule")
	if spec.Schedule == "" {
		errs = append(errs, field.Required(sp, ""))
	} else {
		if _, err := cron.ParseStandard(spec.Schedule); err != nil {
			errs = append(errs, field.Invalid(sp, spec.Schedule, err.Error()))
		}
		allowTZ := old != nil && strings.Contains(old.Schedule, "TZ")
		switch hasTZ := strings.Contains(spec.Schedule, "TZ"); {
		case hasTZ && allowTZ && spec.TimeZone != nil:
			errs = append(errs, field.Invalid(sp, spec.Schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"))
		case hasTZ && !allowTZ:
			errs = append(errs, field.Invalid(sp, spec.Schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
		}
	}
	errs = append(errs, validateTimeZone(spec.TimeZone, path.Child("timeZone"))...)
	switch spec.ConcurrencyPolicy {
	case batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent:
	case "":
		errs = append(errs, field.Required(path.Child("concurrencyPolicy"), ""))
	default:
		errs = append(errs, field.NotSupported(path.Child("concurrencyPolicy"), spec.ConcurrencyPolicy,
			[]batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}))
	}
	for name, v := range map[string]*int64{"startingDeadlineSeconds": spec.StartingDeadlineSeconds} {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(*v, path.Child(name))...)
		}
	}
	for name, v := range map[string]*int32{"successfulJobsHistoryLimit": spec.SuccessfulJobsHistoryLimit,
		"failedJobsHistoryLimit": spec.FailedJobsHistoryLimit} {
		if v != nil {
			errs = append(errs, apivalidation.ValidateNonnegativeField(int64(*v), path.Child(name))...)
		}
	}
	return append(errs, validateJobTemplate(&spec.JobTemplate, path.Child("jobTemplate"))...)
}

// validateJobTemplate: each Job made from the template gets its own
// generated selector, so the template may not carry one.
func validateJobTemplate(t *batchv1.JobTemplateSpec, path *field.Path) field.ErrorList {
	sp := path.Child("spec")
	errs := validateJobSpec(&t.Spec, sp)
	if t.Spec.Selector != nil {
		errs = append(errs, field.Invalid(sp.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if manualSelector(&t.Spec) {
		errs = append(errs, field.NotSupported(sp.Child("manualSelector"), *t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return errs
}

// timeZonePart is one element of an IANA time zone name, e.g. "New_York".
var timeZonePart = regexp.MustCompile(`^[A-Za-z\.\-_0-9+]{1,14}$`)

// validateTimeZone accepts nil or a named IANA zone the server knows;
// "Local" would make a schedule depend on the server's own zone.
func validateTimeZone(tz *string, path *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(path, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !timeZonePart.MatchString(part) {
			return field.ErrorList{field.Invalid(path, *tz, "unknown time zone "+*tz)}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(path, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(path, *tz, err.Error())}
	}
	return nil
}
