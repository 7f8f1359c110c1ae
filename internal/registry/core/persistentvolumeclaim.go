package core

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// persistentVolumeClaimStrategy gives claims their semantics. A claim
// starts Pending and its status is written through /status. Its spec is
// fixed at creation, as quota and limit ranges were checked against it,
// except: spec.volumeName may be set once (binding), a bound claim's
// storage request may change (expansion, or a retry down to no less than
// the capacity reached), and volumeAttributesClassName may change.
type persistentVolumeClaimStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = persistentVolumeClaimStrategy{}

func (persistentVolumeClaimStrategy) New() runtime.Object { return &corev1.PersistentVolumeClaim{} }
func (persistentVolumeClaimStrategy) NewList() runtime.Object {
	return &corev1.PersistentVolumeClaimList{}
}

func (persistentVolumeClaimStrategy) Default(obj runtime.Object) {
	spec := &obj.(*corev1.PersistentVolumeClaim).Spec
	if spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		spec.VolumeMode = &m
	}
}

// PrepareForCreate starts the claim Pending and fills in whichever of
// dataSource and dataSourceRef the client left out, so that old and new
// clients read the same source.
func (persistentVolumeClaimStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}
	spec := &pvc.Spec
	switch {
	case spec.DataSource != nil && spec.DataSourceRef == nil:
		spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: spec.DataSource.APIGroup, Kind: spec.DataSource.Kind, Name: spec.DataSource.Name}
	case spec.DataSourceRef != nil && spec.DataSource == nil && (spec.DataSourceRef.Namespace == nil || *spec.DataSourceRef.Namespace == ""):
		spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: spec.DataSourceRef.APIGroup, Kind: spec.DataSourceRef.Kind, Name: spec.DataSourceRef.Name}
	}
}

func (persistentVolumeClaimStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	if sub == "status" {
		pvc.Spec = o.Spec
		return
	}
	pvc.Status = o.Status
}

func (persistentVolumeClaimStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	pvc := obj.(*corev1.PersistentVolumeClaim)
	errs := validateClaimSpec(&pvc.Spec, field.NewPath("spec"))
	return append(errs, validateClaimStatus(&pvc.Status, field.NewPath("status"))...)
}

func (s persistentVolumeClaimStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	pvc, o := obj.(*corev1.PersistentVolumeClaim), old.(*corev1.PersistentVolumeClaim)
	errs := s.Validate(ctx, obj)
	sp := field.NewPath("spec")

	// Overlay what may change on a copy of the old spec; anything else
	// that differs is forbidden.
	munged := o.Spec.DeepCopy()
	if munged.VolumeName == "" {
		munged.VolumeName = pvc.Spec.VolumeName
	}
	munged.VolumeAttributesClassName = pvc.Spec.VolumeAttributesClassName
	// A claim created before defaulting of storage classes may be given
	// one, the one its beta annotation named if it has that.
	if ann, ok := o.Annotations[corev1.BetaStorageClassAnnotation]; o.Spec.StorageClassName == nil && pvc.Spec.StorageClassName != nil &&
		(!ok || ann == *pvc.Spec.StorageClassName) {
		munged.StorageClassName = pvc.Spec.StorageClassName
	}
	newSpec := pvc.Spec.DeepCopy()
	if pvc.Status.Phase == corev1.ClaimBound && newSpec.Resources.Requests != nil {
		if q, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
			newSpec.Resources.Requests[corev1.ResourceStorage] = q
		} else {
			delete(newSpec.Resources.Requests, corev1.ResourceStorage)
		}
	}
	if !apiequality.Semantic.DeepEqual(newSpec, munged) {
		errs = append(errs, field.Forbidden(sp, "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"))
	}

	// Shrinking is allowed only to recover from a failed expansion, to a
	// size still above what the volume reached.
	newSize, oldSize := pvc.Spec.Resources.Requests[corev1.ResourceStorage], o.Spec.Resources.Requests[corev1.ResourceStorage]
	if newSize.Cmp(oldSize) < 0 {
		if capacity := o.Status.Capacity[corev1.ResourceStorage]; newSize.Cmp(capacity) <= 0 {
			errs = append(errs, field.Forbidden(sp.Child("resources", "requests", "storage"), "field can not be less than status.capacity"))
		}
	}
	if o.Spec.VolumeAttributesClassName != nil {
		switch c := pvc.Spec.VolumeAttributesClassName; {
		case c == nil:
			errs = append(errs, field.Forbidden(sp.Child("volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
		case *c == "":
			errs = append(errs, field.Forbidden(sp.Child("volumeAttributesClassName"), "update from non-nil value to an empty string is forbidden"))
		}
	}
	return errs
}

func validateClaimSpec(spec *corev1.PersistentVolumeClaimSpec, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	ap := p.Child("accessModes")
	if len(spec.AccessModes) == 0 {
		errs = append(errs, field.Required(ap, "at least 1 access mode is required"))
	} else {
		errs = append(errs, validateAccessModes(spec.AccessModes, ap)...)
	}
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	// Upstream reports a missing storage request at spec.resources[storage].
	rp := p.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp, ""))
	} else if q.Sign() <= 0 {
		errs = append(errs, field.Invalid(rp, q.String(), "must be greater than zero"))
	}
	if c := spec.StorageClassName; c != nil && *c != "" {
		for _, msg := range validation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(p.Child("storageClassName"), *c, msg))
		}
	}
	if m := spec.VolumeMode; m != nil && *m != corev1.PersistentVolumeBlock && *m != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, pvVolumeModes))
	}
	// An empty class name asks for no class, like an empty storage class.
	if c := spec.VolumeAttributesClassName; c != nil && *c != "" {
		for _, msg := range validation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(p.Child("volumeAttributesClassName"), *c, msg))
		}
	}
	if ds := spec.DataSource; ds != nil {
		errs = append(errs, validateDataSource(ds.APIGroup, ds.Kind, ds.Name, p.Child("dataSource"))...)
	}
	if ref := spec.DataSourceRef; ref != nil {
		rp := p.Child("dataSourceRef")
		errs = append(errs, validateDataSource(ref.APIGroup, ref.Kind, ref.Name, rp)...)
		if ns := ref.Namespace; ns != nil && *ns != "" {
			for _, msg := range validation.IsDNS1123Label(*ns) {
				errs = append(errs, field.Invalid(rp.Child("namespace"), *ns, msg))
			}
		}
	}
	// A source in another namespace exists only as dataSourceRef; a
	// local one is the same in both fields.
	switch ds, ref := spec.DataSource, spec.DataSourceRef; {
	case ref != nil && ref.Namespace != nil && *ref.Namespace != "":
		if ds != nil {
			errs = append(errs, field.Invalid(p, p.Child("dataSource").String(), "may not be specified when dataSourceRef.namespace is specified"))
		}
	case ds != nil && ref != nil:
		if !apiequality.Semantic.DeepEqual(ds.APIGroup, ref.APIGroup) || ds.Kind != ref.Kind || ds.Name != ref.Name {
			errs = append(errs, field.Invalid(p, p.Child("dataSource").String(), "must match dataSourceRef"))
		}
	}
	return errs
}

// validateDataSource: a source names its kind and object; in the core
// group only another claim can be one.
func validateDataSource(group *string, kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	if kind == "" {
		errs = append(errs, field.Required(p.Child("kind"), ""))
	}
	if group == nil || *group == "" {
		if kind != "PersistentVolumeClaim" {
			errs = append(errs, field.Invalid(p, kind, "must be 'PersistentVolumeClaim' when referencing the default apiGroup"))
		}
	} else {
		for _, msg := range validation.IsDNS1123Subdomain(*group) {
			errs = append(errs, field.Invalid(p.Child("apiGroup"), *group, msg))
		}
	}
	return errs
}

func validateClaimStatus(st *corev1.PersistentVolumeClaimStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, l := range []struct {
		list  corev1.ResourceList
		child string
	}{{st.Capacity, "capacity"}, {st.AllocatedResources, "allocatedResources"}} {
		for _, name := range sortedResourceNames(l.list) {
			errs = append(errs, validateResourceQuantity(name, l.list[name], p.Child(l.child).Key(string(name)))...)
		}
	}
	return errs
}
