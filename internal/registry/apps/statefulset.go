package apps

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

type statefulSetStrategy struct{ registry.BaseStrategy }

func (statefulSetStrategy) New() runtime.Object     { return &appsv1.StatefulSet{} }
func (statefulSetStrategy) NewList() runtime.Object { return &appsv1.StatefulSetList{} }

// ValidateName: a StatefulSet's name is a DNS label, since its pods'
// hostnames are the name plus an ordinal.
func (statefulSetStrategy) ValidateName(name string, prefix bool) []string {
	return apivalidation.NameIsDNSLabel(name, prefix)
}

// Default applies apps/v1's StatefulSet defaults. A rolling update gets a
// partition of 0 only when the strategy type itself was defaulted or the
// client gave a rollingUpdate, as upstream.
func (statefulSetStrategy) Default(obj runtime.Object) {
	ss := obj.(*appsv1.StatefulSet)
	spec := &ss.Spec
	if spec.PodManagementPolicy == "" {
		spec.PodManagementPolicy = appsv1.OrderedReadyPodManagement
	}
	if spec.UpdateStrategy.Type == "" {
		spec.UpdateStrategy.Type = appsv1.RollingUpdateStatefulSetStrategyType
		if spec.UpdateStrategy.RollingUpdate == nil {
			spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{}
		}
	}
	if ru := spec.UpdateStrategy.RollingUpdate; spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType && ru != nil && ru.Partition == nil {
		ru.Partition = int32Ptr(0)
	}
	if spec.PersistentVolumeClaimRetentionPolicy == nil {
		spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenDeleted == "" {
		p.WhenDeleted = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if p := spec.PersistentVolumeClaimRetentionPolicy; p.WhenScaled == "" {
		p.WhenScaled = appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	}
	if spec.Replicas == nil {
		spec.Replicas = int32Ptr(1)
	}
	if spec.RevisionHistoryLimit == nil {
		spec.RevisionHistoryLimit = int32Ptr(10)
	}
	podspec.DefaultTemplate(&spec.Template)
	// Claim templates are defaulted as claims are.
	for i := range spec.VolumeClaimTemplates {
		c := &spec.VolumeClaimTemplates[i]
		if c.Spec.VolumeMode == nil {
			mode := corev1.PersistentVolumeFilesystem
			c.Spec.VolumeMode = &mode
		}
		if c.Status.Phase == "" {
			c.Status.Phase = corev1.ClaimPending
		}
	}
}

func (statefulSetStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	ss := obj.(*appsv1.StatefulSet)
	ss.Status = appsv1.StatefulSetStatus{}
	ss.Generation = 1
}

func (statefulSetStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	ss, o := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
	if isStatus(sub) {
		ss.Spec = o.Spec
		metav1.ResetObjectMetaForStatus(ss, o)
		return
	}
	ss.Status = o.Status
	bumpGeneration(ss, o, specChanged(ss.Spec, o.Spec))
}

func (statefulSetStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateStatefulSetSpec(&obj.(*appsv1.StatefulSet).Spec, field.NewPath("spec"))
}

// ValidateUpdate: only replicas, ordinals, template, updateStrategy,
// persistentVolumeClaimRetentionPolicy and minReadySeconds may change.
func (statefulSetStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	ss, o := obj.(*appsv1.StatefulSet), old.(*appsv1.StatefulSet)
	errs := validateStatefulSetSpec(&ss.Spec, field.NewPath("spec"))
	rest := ss.Spec.DeepCopy()
	rest.Replicas = o.Spec.Replicas
	rest.Ordinals = o.Spec.Ordinals
	rest.Template = o.Spec.Template
	rest.UpdateStrategy = o.Spec.UpdateStrategy
	rest.PersistentVolumeClaimRetentionPolicy = o.Spec.PersistentVolumeClaimRetentionPolicy
	rest.MinReadySeconds = o.Spec.MinReadySeconds
	if !apiequality.Semantic.DeepEqual(*rest, o.Spec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"))
	}
	return append(errs, validateStatefulSetStatus(&ss.Status, &o.Status, field.NewPath("status"))...)
}

func validateStatefulSetSpec(spec *appsv1.StatefulSetSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch spec.PodManagementPolicy {
	case "":
		errs = append(errs, field.Required(path.Child("podManagementPolicy"), ""))
	case appsv1.OrderedReadyPodManagement, appsv1.ParallelPodManagement:
	default:
		errs = append(errs, field.Invalid(path.Child("podManagementPolicy"), spec.PodManagementPolicy, "must be 'OrderedReady' or 'Parallel'"))
	}
	errs = append(errs, validateStatefulSetUpdateStrategy(&spec.UpdateStrategy, path.Child("updateStrategy"))...)
	if p := spec.PersistentVolumeClaimRetentionPolicy; p != nil {
		pp := path.Child("persistentVolumeClaimRetentionPolicy")
		errs = append(errs, validateRetentionPolicyType(p.WhenDeleted, pp.Child("whenDeleted"))...)
		errs = append(errs, validateRetentionPolicyType(p.WhenScaled, pp.Child("whenScaled"))...)
	}
	if spec.Replicas != nil {
		errs = append(errs, nonNegative(int64(*spec.Replicas), path.Child("replicas"))...)
	}
	errs = append(errs, nonNegative(int64(spec.MinReadySeconds), path.Child("minReadySeconds"))...)
	if spec.Ordinals != nil {
		errs = append(errs, nonNegative(int64(spec.Ordinals.Start), path.Child("ordinals", "start"))...)
	}
	errs = append(errs, validateSelector(spec.Selector, "statefulset", path.Child("selector"))...)
	errs = append(errs, validateTemplateMatches(spec.Selector, &spec.Template, path.Child("selector"), path.Child("template"))...)
	return append(errs, validateWorkloadTemplate(withClaimVolumes(&spec.Template, spec.VolumeClaimTemplates), "StatefulSet", path.Child("template"))...)
}

func validateStatefulSetUpdateStrategy(s *appsv1.StatefulSetUpdateStrategy, path *field.Path) field.ErrorList {
	switch s.Type {
	case "":
		return field.ErrorList{field.Required(path, "")}
	case appsv1.OnDeleteStatefulSetStrategyType:
		if s.RollingUpdate != nil {
			return field.ErrorList{field.Invalid(path.Child("rollingUpdate"), s.RollingUpdate, "only allowed for updateStrategy 'RollingUpdate'")}
		}
	case appsv1.RollingUpdateStatefulSetStrategyType:
		ru := s.RollingUpdate
		if ru == nil {
			return nil
		}
		p := path.Child("rollingUpdate")
		var errs field.ErrorList
		if ru.Partition != nil {
			errs = append(errs, nonNegative(int64(*ru.Partition), p.Child("partition"))...)
		}
		if ru.MaxUnavailable != nil {
			mp := p.Child("maxUnavailable")
			errs = append(errs, validateIntOrPercent(*ru.MaxUnavailable, mp)...)
			if intOrPercentValue(ru.MaxUnavailable) == 0 {
				errs = append(errs, field.Invalid(mp, *ru.MaxUnavailable, "cannot be 0"))
			}
			errs = append(errs, notMoreThan100Percent(ru.MaxUnavailable, mp)...)
		}
		return errs
	default:
		return field.ErrorList{field.Invalid(path, s, "must be 'RollingUpdate' or 'OnDelete'")}
	}
	return nil
}

func validateRetentionPolicyType(t appsv1.PersistentVolumeClaimRetentionPolicyType, path *field.Path) field.ErrorList {
	switch t {
	case appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType:
		return nil
	}
	return field.ErrorList{field.NotSupported(path, t, []appsv1.PersistentVolumeClaimRetentionPolicyType{
		appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType})}
}

func validateStatefulSetStatus(s, old *appsv1.StatefulSetStatus, path *field.Path) field.ErrorList {
	errs := validateReplicaCounts(path, s.Replicas,
		replicaCount{"readyReplicas", s.ReadyReplicas},
		replicaCount{"currentReplicas", s.CurrentReplicas},
		replicaCount{"updatedReplicas", s.UpdatedReplicas},
		replicaCount{"availableReplicas", s.AvailableReplicas})
	errs = append(errs, nonNegative(s.ObservedGeneration, path.Child("observedGeneration"))...)
	errs = append(errs, validateAvailableNotAboveReady(s.AvailableReplicas, s.ReadyReplicas, path)...)
	return append(errs, validateCollisionCount(s.CollisionCount, old.CollisionCount, path.Child("collisionCount"))...)
}

// withClaimVolumes is the template as its pods will be: each volume claim
// template becomes a volume of the same name, so mounts of a claim are
// checked as mounts of an existing volume.
func withClaimVolumes(tmpl *corev1.PodTemplateSpec, claims []corev1.PersistentVolumeClaim) *corev1.PodTemplateSpec {
	if len(claims) == 0 {
		return tmpl
	}
	out := tmpl.DeepCopy()
	have := map[string]bool{}
	for _, v := range out.Spec.Volumes {
		have[v.Name] = true
	}
	for _, c := range claims {
		if !have[c.Name] {
			out.Spec.Volumes = append(out.Spec.Volumes, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: c.Name},
			}})
		}
	}
	return out
}
