// Package storagek8s holds the strategies of storage.k8s.io/v1:
// StorageClass, CSIDriver and VolumeAttachment. (It is not
// internal/storage, where skiff keeps its objects.)
package storagek8s

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

func gvr(resource string) schema.GroupVersionResource {
	return storagev1.SchemeGroupVersion.WithResource(resource)
}

// Resources are the storage.k8s.io/v1 resources of this package.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("storageclasses"), Kind: "StorageClass", ListKind: "StorageClassList", SingularName: "storageclass", ShortNames: []string{"sc"},
			Strategy: storageClassStrategy{}},
		{GVR: gvr("csidrivers"), Kind: "CSIDriver", ListKind: "CSIDriverList", SingularName: "csidriver",
			Strategy: csiDriverStrategy{}},
		{GVR: gvr("volumeattachments"), Kind: "VolumeAttachment", ListKind: "VolumeAttachmentList", SingularName: "volumeattachment",
			Subresources: []string{"status"}, Strategy: volumeAttachmentStrategy{}},
	}
}

// ---- StorageClass ----

const (
	maxParameters     = 512
	maxParametersSize = 256 * (1 << 10)
)

var (
	supportedReclaimPolicies = []string{string(corev1.PersistentVolumeReclaimDelete), string(corev1.PersistentVolumeReclaimRetain)}
	supportedBindingModes    = []string{string(storagev1.VolumeBindingImmediate), string(storagev1.VolumeBindingWaitForFirstConsumer)}
)

type storageClassStrategy struct{ registry.BaseStrategy }

func (storageClassStrategy) New() runtime.Object     { return &storagev1.StorageClass{} }
func (storageClassStrategy) NewList() runtime.Object { return &storagev1.StorageClassList{} }

// Default: volumes are deleted with their claims and bound at once unless
// the class says otherwise.
func (storageClassStrategy) Default(obj runtime.Object) {
	sc := obj.(*storagev1.StorageClass)
	if sc.ReclaimPolicy == nil {
		p := corev1.PersistentVolumeReclaimDelete
		sc.ReclaimPolicy = &p
	}
	if sc.VolumeBindingMode == nil {
		m := storagev1.VolumeBindingImmediate
		sc.VolumeBindingMode = &m
	}
}

func (storageClassStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateStorageClass(obj.(*storagev1.StorageClass))
}

// ValidateUpdate: what a class provisions is fixed once volumes may have
// been made from it.
func (storageClassStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	sc, o := obj.(*storagev1.StorageClass), old.(*storagev1.StorageClass)
	errs := validateStorageClass(sc)
	if !apiequality.Semantic.DeepEqual(sc.Parameters, o.Parameters) {
		errs = append(errs, field.Forbidden(field.NewPath("parameters"), "updates to parameters are forbidden."))
	}
	if sc.Provisioner != o.Provisioner {
		errs = append(errs, field.Forbidden(field.NewPath("provisioner"), "updates to provisioner are forbidden."))
	}
	if !apiequality.Semantic.DeepEqual(sc.ReclaimPolicy, o.ReclaimPolicy) {
		errs = append(errs, field.Forbidden(field.NewPath("reclaimPolicy"), "updates to reclaimPolicy are forbidden."))
	}
	return append(errs, apivalidation.ValidateImmutableField(sc.VolumeBindingMode, o.VolumeBindingMode, field.NewPath("volumeBindingMode"))...)
}

func validateStorageClass(sc *storagev1.StorageClass) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("provisioner")
	if sc.Provisioner == "" {
		errs = append(errs, field.Required(p, ""))
	} else {
		for _, msg := range validation.IsQualifiedName(strings.ToLower(sc.Provisioner)) {
			errs = append(errs, field.Invalid(p, sc.Provisioner, msg))
		}
	}
	errs = append(errs, validateParameters(sc.Parameters, field.NewPath("parameters"))...)
	if sc.ReclaimPolicy != nil && *sc.ReclaimPolicy != "" &&
		*sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete && *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		errs = append(errs, field.NotSupported(field.NewPath("reclaimPolicy"), *sc.ReclaimPolicy, supportedReclaimPolicies))
	}
	bp := field.NewPath("volumeBindingMode")
	switch {
	case sc.VolumeBindingMode == nil:
		errs = append(errs, field.Required(bp, ""))
	case *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate && *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer:
		errs = append(errs, field.NotSupported(bp, *sc.VolumeBindingMode, supportedBindingModes))
	}
	return append(errs, validateAllowedTopologies(sc.AllowedTopologies, field.NewPath("allowedTopologies"))...)
}

func validateParameters(params map[string]string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(params) > maxParameters {
		return append(errs, field.TooLong(p, "", maxParameters))
	}
	size := 0
	for k, v := range params {
		if k == "" {
			errs = append(errs, field.Invalid(p, k, "field can not be empty."))
		}
		size += len(k) + len(v)
	}
	if size > maxParametersSize {
		errs = append(errs, field.TooLong(p, "", maxParametersSize))
	}
	return errs
}

// validateAllowedTopologies: each term's expressions name a label key once,
// with at least one valid, distinct value; no two terms are the same.
func validateAllowedTopologies(terms []corev1.TopologySelectorTerm, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	var seen []map[string]sets.Set[string]
	for i, term := range terms {
		tp := p.Index(i).Child("matchLabelExpressions")
		exprs := map[string]sets.Set[string]{}
		for j, req := range term.MatchLabelExpressions {
			rp := tp.Index(j)
			errs = append(errs, metav1validation.ValidateLabelName(req.Key, rp.Child("key"))...)
			if len(req.Values) == 0 {
				errs = append(errs, field.Required(rp.Child("values"), ""))
			}
			values := sets.New[string]()
			for k, v := range req.Values {
				for _, msg := range validation.IsValidLabelValue(v) {
					errs = append(errs, field.Invalid(rp.Child("values").Index(k), v, msg))
				}
				if values.Has(v) {
					errs = append(errs, field.Duplicate(rp.Child("values").Index(k), v))
				}
				values.Insert(v)
			}
			if _, dup := exprs[req.Key]; dup {
				errs = append(errs, field.Duplicate(rp.Child("key"), req.Key))
			}
			exprs[req.Key] = values
		}
		for _, s := range seen {
			if apiequality.Semantic.DeepEqual(s, exprs) {
				errs = append(errs, field.Duplicate(tp, ""))
			}
		}
		seen = append(seen, exprs)
	}
	return errs
}

// ---- CSIDriver ----

const (
	maxCSIDriverNameLen            = 63
	minTokenExpirationSeconds      = 10 * 60
	maxTokenExpirationSeconds      = 1 << 32
	minAllocatableUpdatePeriodSecs = 10
)

var (
	supportedFSGroupPolicies = []string{string(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy), string(storagev1.FileFSGroupPolicy), string(storagev1.NoneFSGroupPolicy)}
	supportedLifecycleModes  = []string{string(storagev1.VolumeLifecyclePersistent), string(storagev1.VolumeLifecycleEphemeral)}
)

type csiDriverStrategy struct{ registry.BaseStrategy }

func (csiDriverStrategy) New() runtime.Object     { return &storagev1.CSIDriver{} }
func (csiDriverStrategy) NewList() runtime.Object { return &storagev1.CSIDriverList{} }

// ValidateName: a CSI driver's name is a DNS subdomain of at most 63
// characters, the limit of the CSI spec.
func (csiDriverStrategy) ValidateName(name string, prefix bool) []string {
	if len(name) > maxCSIDriverNameLen {
		return []string{validation.MaxLenError(maxCSIDriverNameLen)}
	}
	return apivalidation.NameIsDNSSubdomain(name, prefix)
}

func validateCSIDriverName(name string) []string {
	if len(name) > maxCSIDriverNameLen {
		return []string{validation.MaxLenError(maxCSIDriverNameLen)}
	}
	return validation.IsDNS1123Subdomain(strings.ToLower(name))
}

func (csiDriverStrategy) Default(obj runtime.Object) {
	spec := &obj.(*storagev1.CSIDriver).Spec
	boolDefault := func(b **bool, v bool) {
		if *b == nil {
			*b = &v
		}
	}
	boolDefault(&spec.AttachRequired, true)
	boolDefault(&spec.PodInfoOnMount, false)
	boolDefault(&spec.StorageCapacity, false)
	boolDefault(&spec.RequiresRepublish, false)
	boolDefault(&spec.SELinuxMount, false)
	if spec.FSGroupPolicy == nil {
		p := storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy
		spec.FSGroupPolicy = &p
	}
	if len(spec.VolumeLifecycleModes) == 0 {
		spec.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent}
	}
}

func (csiDriverStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateCSIDriverSpec(&obj.(*storagev1.CSIDriver).Spec)
}

func (csiDriverStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	d, o := obj.(*storagev1.CSIDriver), old.(*storagev1.CSIDriver)
	errs := validateCSIDriverSpec(&d.Spec)
	p := field.NewPath("spec")
	errs = append(errs, apivalidation.ValidateImmutableField(d.Spec.AttachRequired, o.Spec.AttachRequired, p.Child("attachRequired"))...)
	return append(errs, apivalidation.ValidateImmutableField(d.Spec.VolumeLifecycleModes, o.Spec.VolumeLifecycleModes, p.Child("volumeLifecycleModes"))...)
}

func validateCSIDriverSpec(spec *storagev1.CSIDriverSpec) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	for name, v := range map[string]*bool{
		"attachRequired": spec.AttachRequired, "podInfoOnMount": spec.PodInfoOnMount,
		"storageCapacity": spec.StorageCapacity, "requiresRepublish": spec.RequiresRepublish,
	} {
		if v == nil {
			errs = append(errs, field.Required(p.Child(name), ""))
		}
	}
	switch fp := p.Child("fsGroupPolicy"); {
	case spec.FSGroupPolicy == nil:
		errs = append(errs, field.Required(fp, ""))
	case *spec.FSGroupPolicy != storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy && *spec.FSGroupPolicy != storagev1.FileFSGroupPolicy &&
		*spec.FSGroupPolicy != storagev1.NoneFSGroupPolicy:
		errs = append(errs, field.NotSupported(fp, *spec.FSGroupPolicy, supportedFSGroupPolicies))
	}
	for i, m := range spec.VolumeLifecycleModes {
		if m != storagev1.VolumeLifecyclePersistent && m != storagev1.VolumeLifecycleEphemeral {
			errs = append(errs, field.NotSupported(p.Child("volumeLifecycleModes").Index(i), m, supportedLifecycleModes))
		}
	}
	audiences := sets.New[string]()
	for i, tr := range spec.TokenRequests {
		tp := p.Child("tokenRequests").Index(i)
		if audiences.Has(tr.Audience) {
			errs = append(errs, field.Duplicate(tp.Child("audience"), tr.Audience))
		}
		audiences.Insert(tr.Audience)
		if s := tr.ExpirationSeconds; s != nil {
			if *s < minTokenExpirationSeconds {
				errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *s, "may not specify a duration less than 10 minutes"))
			} else if *s > maxTokenExpirationSeconds {
				errs = append(errs, field.Invalid(tp.Child("expirationSeconds"), *s, "may not specify a duration larger than 2^32 seconds"))
			}
		}
	}
	if s := spec.NodeAllocatableUpdatePeriodSeconds; s != nil && *s < minAllocatableUpdatePeriodSecs {
		errs = append(errs, field.Invalid(p.Child("nodeAllocatableUpdatePeriodSeconds"), *s,
			fmt.Sprintf("must be greater than or equal to %d seconds", minAllocatableUpdatePeriodSecs)))
	}
	return errs
}

// ---- VolumeAttachment ----

const (
	maxAttachmentMetadataSize = 256 * (1 << 10)
	maxVolumeErrorMessageLen  = 1024
)

type volumeAttachmentStrategy struct{ registry.BaseStrategy }

func (volumeAttachmentStrategy) New() runtime.Object     { return &storagev1.VolumeAttachment{} }
func (volumeAttachmentStrategy) NewList() runtime.Object { return &storagev1.VolumeAttachmentList{} }

func (volumeAttachmentStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	obj.(*storagev1.VolumeAttachment).Status = storagev1.VolumeAttachmentStatus{}
}

func (volumeAttachmentStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	va, o := obj.(*storagev1.VolumeAttachment), old.(*storagev1.VolumeAttachment)
	if sub == "status" {
		va.Spec = o.Spec
		return
	}
	va.Status = o.Status
}

func (volumeAttachmentStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateVolumeAttachment(obj.(*storagev1.VolumeAttachment))
}

// ValidateUpdate: what is attached where never changes; the attacher
// reports progress in status.
func (volumeAttachmentStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	va, o := obj.(*storagev1.VolumeAttachment), old.(*storagev1.VolumeAttachment)
	errs := validateVolumeAttachment(va)
	if !apiequality.Semantic.DeepEqual(va.Spec, o.Spec) {
		errs = append(errs, field.Invalid(field.NewPath("spec"), va.Spec, "field is immutable"))
	}
	return errs
}

func validateVolumeAttachment(va *storagev1.VolumeAttachment) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("spec")
	if va.Spec.Attacher == "" {
		errs = append(errs, field.Required(p.Child("attacher"), ""))
	} else {
		for _, msg := range validateCSIDriverName(va.Spec.Attacher) {
			errs = append(errs, field.Invalid(p.Child("attacher"), va.Spec.Attacher, msg))
		}
	}
	sp := p.Child("source")
	src := va.Spec.Source
	switch {
	case src.PersistentVolumeName == nil && src.InlineVolumeSpec == nil:
		errs = append(errs, field.Required(sp, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.PersistentVolumeName != nil && src.InlineVolumeSpec != nil:
		errs = append(errs, field.Forbidden(sp, "must specify exactly one of inlineVolumeSpec and persistentVolumeName"))
	case src.PersistentVolumeName != nil:
		if *src.PersistentVolumeName == "" {
			errs = append(errs, field.Required(sp.Child("persistentVolumeName"), ""))
			break
		}
		for _, msg := range apivalidation.NameIsDNSSubdomain(*src.PersistentVolumeName, false) {
			errs = append(errs, field.Invalid(sp.Child("persistentVolumeName"), *src.PersistentVolumeName, msg))
		}
	case src.InlineVolumeSpec.CSI == nil:
		// Inline specs come from CSI migration and always name a CSI volume.
		errs = append(errs, field.Required(sp.Child("inlineVolumeSpec", "csi"), ""))
	}
	if va.Spec.NodeName == "" {
		errs = append(errs, field.Required(p.Child("nodeName"), ""))
	} else {
		for _, msg := range apivalidation.NameIsDNSSubdomain(va.Spec.NodeName, false) {
			errs = append(errs, field.Invalid(p.Child("nodeName"), va.Spec.NodeName, msg))
		}
	}
	st := field.NewPath("status")
	size := 0
	for k, v := range va.Status.AttachmentMetadata {
		size += len(k) + len(v)
	}
	if size > maxAttachmentMetadataSize {
		errs = append(errs, field.TooLong(st.Child("attachmentMetadata"), "", maxAttachmentMetadataSize))
	}
	for name, e := range map[string]*storagev1.VolumeError{"attachError": va.Status.AttachError, "detachError": va.Status.DetachError} {
		if e != nil && len(e.Message) > maxVolumeErrorMessageLen {
			errs = append(errs, field.TooLong(st.Child(name, "message"), "", maxVolumeErrorMessageLen))
		}
	}
	return errs
}
