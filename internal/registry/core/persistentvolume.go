package core

import (
	"context"
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/podspec"
)

// persistentVolumeStrategy gives PersistentVolumes their semantics. A
// volume starts Pending; its phase is written through /status, which
// stamps lastPhaseTransitionTime. The volume source and mode are fixed at
// creation; node affinity may be set once.
type persistentVolumeStrategy struct {
	registry.BaseStrategy
	clock clock.PassiveClock
}

var _ registry.Strategy = persistentVolumeStrategy{}

func (persistentVolumeStrategy) New() runtime.Object     { return &corev1.PersistentVolume{} }
func (persistentVolumeStrategy) NewList() runtime.Object { return &corev1.PersistentVolumeList{} }

func (persistentVolumeStrategy) Default(obj runtime.Object) {
	spec := &obj.(*corev1.PersistentVolume).Spec
	if spec.PersistentVolumeReclaimPolicy == "" {
		spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	}
	if spec.VolumeMode == nil {
		m := corev1.PersistentVolumeFilesystem
		spec.VolumeMode = &m
	}
	defaultPersistentVolumeSource(&spec.PersistentVolumeSource)
}

// defaultPersistentVolumeSource applies upstream's defaults of the
// sources that have them.
func defaultPersistentVolumeSource(src *corev1.PersistentVolumeSource) {
	set := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	if h := src.HostPath; h != nil && h.Type == nil {
		t := corev1.HostPathUnset
		h.Type = &t
	}
	if i := src.ISCSI; i != nil {
		set(&i.ISCSIInterface, "default")
	}
	if r := src.RBD; r != nil {
		set(&r.RBDPool, "rbd")
		set(&r.RadosUser, "admin")
		set(&r.Keyring, "/etc/ceph/keyring")
	}
	if a := src.AzureDisk; a != nil {
		if a.CachingMode == nil {
			m := corev1.AzureDataDiskCachingReadWrite
			a.CachingMode = &m
		}
		if a.Kind == nil {
			k := corev1.AzureSharedBlobDisk
			a.Kind = &k
		}
		if a.FSType == nil {
			f := "ext4"
			a.FSType = &f
		}
		if a.ReadOnly == nil {
			f := false
			a.ReadOnly = &f
		}
	}
	if s := src.ScaleIO; s != nil {
		set(&s.StorageMode, "ThinProvisioned")
		set(&s.FSType, "xfs")
	}
}

func (s persistentVolumeStrategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	pv := obj.(*corev1.PersistentVolume)
	now := metav1.NewTime(s.clock.Now())
	pv.Status = corev1.PersistentVolumeStatus{Phase: corev1.VolumePending, LastPhaseTransitionTime: &now}
}

func (s persistentVolumeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	if sub != "status" {
		pv.Status = o.Status
		return
	}
	pv.Spec = o.Spec
	// A writer that changes the phase without stamping the time gets now.
	if pv.Status.Phase != o.Status.Phase && (pv.Status.LastPhaseTransitionTime == nil ||
		pv.Status.LastPhaseTransitionTime.Equal(o.Status.LastPhaseTransitionTime)) {
		now := metav1.NewTime(s.clock.Now())
		pv.Status.LastPhaseTransitionTime = &now
	}
}

func (persistentVolumeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validatePersistentVolumeSpec(&obj.(*corev1.PersistentVolume).Spec, field.NewPath("spec"))
}

func (persistentVolumeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	pv, o := obj.(*corev1.PersistentVolume), old.(*corev1.PersistentVolume)
	sp := field.NewPath("spec")
	errs := validatePersistentVolumeSpec(&pv.Spec, sp)
	src := pv.Spec.PersistentVolumeSource
	// A CSI volume may gain the secret for controller expansion later.
	if o.Spec.CSI != nil && o.Spec.CSI.ControllerExpandSecretRef == nil && src.CSI != nil {
		src.CSI = src.CSI.DeepCopy()
		src.CSI.ControllerExpandSecretRef = nil
	}
	if !apiequality.Semantic.DeepEqual(src, o.Spec.PersistentVolumeSource) {
		errs = append(errs, field.Forbidden(sp.Child("persistentvolumesource"), "spec.persistentvolumesource is immutable after creation"))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pv.Spec.VolumeMode, o.Spec.VolumeMode, sp.Child("volumeMode"))...)
	if o.Spec.NodeAffinity != nil && !apiequality.Semantic.DeepEqual(pv.Spec.NodeAffinity, o.Spec.NodeAffinity) {
		errs = append(errs, field.Invalid(sp.Child("nodeAffinity"), "", apivalidation.FieldImmutableErrorMsg))
	}
	if o.Spec.VolumeAttributesClassName != nil && pv.Spec.VolumeAttributesClassName == nil {
		errs = append(errs, field.Forbidden(sp.Child("volumeAttributesClassName"), "update from non-nil value to nil is forbidden"))
	}
	return errs
}

var (
	pvAccessModes   = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod}
	pvVolumeModes   = []corev1.PersistentVolumeMode{corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem}
	reclaimPolicies = []corev1.PersistentVolumeReclaimPolicy{corev1.PersistentVolumeReclaimRetain, corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle}
)

func validatePersistentVolumeSpec(spec *corev1.PersistentVolumeSpec, p *field.Path) field.ErrorList {
	errs := validateAccessModes(spec.AccessModes, p.Child("accessModes"))
	cp := p.Child("capacity")
	switch _, ok := spec.Capacity[corev1.ResourceStorage]; {
	case len(spec.Capacity) == 0:
		errs = append(errs, field.Required(cp, ""))
	case !ok || len(spec.Capacity) > 1:
		errs = append(errs, field.NotSupported(cp, spec.Capacity, []corev1.ResourceName{corev1.ResourceStorage}))
	}
	for _, name := range sortedResourceNames(spec.Capacity) {
		if q := spec.Capacity[name]; q.Sign() <= 0 {
			errs = append(errs, field.Invalid(cp.Key(string(name)), q.String(), "must be greater than zero"))
		}
	}
	if spec.StorageClassName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(spec.StorageClassName) {
			errs = append(errs, field.Invalid(p.Child("storageClassName"), spec.StorageClassName, msg))
		}
	}
	switch spec.PersistentVolumeReclaimPolicy {
	case corev1.PersistentVolumeReclaimRetain, corev1.PersistentVolumeReclaimDelete, corev1.PersistentVolumeReclaimRecycle:
	default:
		errs = append(errs, field.NotSupported(p.Child("persistentVolumeReclaimPolicy"), spec.PersistentVolumeReclaimPolicy, reclaimPolicies))
	}
	if spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle && spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" {
		errs = append(errs, field.Forbidden(p.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	if m := spec.VolumeMode; m != nil && *m != corev1.PersistentVolumeBlock && *m != corev1.PersistentVolumeFilesystem {
		errs = append(errs, field.NotSupported(p.Child("volumeMode"), *m, pvVolumeModes))
	}
	if spec.NodeAffinity != nil {
		errs = append(errs, validateVolumeNodeAffinity(spec.NodeAffinity, p.Child("nodeAffinity"))...)
	} else if spec.Local != nil {
		errs = append(errs, field.Required(p.Child("nodeAffinity"), "Local volume requires node affinity"))
	}
	// spec.claimRef (pre-binding) is not checked, as upstream: the binder
	// only matches it against claims.
	switch c := spec.VolumeAttributesClassName; {
	case c == nil:
	case *c == "":
		errs = append(errs, field.Required(p.Child("volumeAttributesClassName"), "an empty string is disallowed"))
	default:
		for _, msg := range validation.IsDNS1123Subdomain(*c) {
			errs = append(errs, field.Invalid(p.Child("volumeAttributesClassName"), *c, msg))
		}
	}
	if spec.VolumeAttributesClassName != nil && spec.CSI == nil {
		errs = append(errs, field.Required(p.Child("csi"), "has to be specified when using volumeAttributesClassName"))
	}
	errs = append(errs, validatePersistentVolumeSource(&spec.PersistentVolumeSource, p)...)
	return errs
}

// validateAccessModes: at least one, each known, and ReadWriteOncePod
// alone.
func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path) field.ErrorList {
	if len(modes) == 0 {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	rwop := false
	for _, m := range modes {
		switch m {
		case corev1.ReadWriteOncePod:
			rwop = true
		case corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany:
		default:
			errs = append(errs, field.NotSupported(p, m, pvAccessModes))
		}
	}
	if rwop && len(modes) > 1 {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validateVolumeNodeAffinity(na *corev1.VolumeNodeAffinity, p *field.Path) field.ErrorList {
	rp := p.Child("required")
	if na.Required == nil {
		return field.ErrorList{field.Required(rp, "must specify required node constraints")}
	}
	tp := rp.Child("nodeSelectorTerms")
	if len(na.Required.NodeSelectorTerms) == 0 {
		return field.ErrorList{field.Required(tp, "must have at least one node selector term")}
	}
	var errs field.ErrorList
	for i := range na.Required.NodeSelectorTerms {
		errs = append(errs, podspec.ValidateNodeSelectorTerm(&na.Required.NodeSelectorTerms[i], tp.Index(i))...)
	}
	return errs
}

// persistentVolumeSources returns the JSON names of the sources set.
// PersistentVolumeSource is a union of pointers, so reflection counts
// them all, including sources added to k8s.io/api later, as podspec does
// for pod volumes.
func persistentVolumeSources(src *corev1.PersistentVolumeSource) []string {
	v := reflect.ValueOf(src).Elem()
	var set []string
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			set = append(set, strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0])
		}
	}
	return set
}

var hostPathTypes = []corev1.HostPathType{corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev}

// validatePersistentVolumeSource requires exactly one source and checks
// the required fields of the sources in use today; the deprecated
// in-tree cloud sources are only counted.
func validatePersistentVolumeSource(src *corev1.PersistentVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch set := persistentVolumeSources(src); {
	case len(set) == 0:
		return field.ErrorList{field.Required(p, "must specify a volume type")}
	case len(set) > 1:
		for _, s := range set[1:] {
			errs = append(errs, field.Forbidden(p.Child(s), "may not specify more than 1 volume type"))
		}
		return errs
	}
	required := func(v string, fp *field.Path) {
		if v == "" {
			errs = append(errs, field.Required(fp, ""))
		}
	}
	switch {
	case src.HostPath != nil:
		hp := p.Child("hostPath")
		required(src.HostPath.Path, hp.Child("path"))
		errs = append(errs, validateNoBacksteps(src.HostPath.Path, hp.Child("path"))...)
		if t := src.HostPath.Type; t != nil && !slices.Contains(hostPathTypes, *t) {
			errs = append(errs, field.NotSupported(hp.Child("type"), *t, hostPathTypes))
		}
	case src.Local != nil:
		lp := p.Child("local", "path")
		required(src.Local.Path, lp)
		errs = append(errs, validateNoBacksteps(src.Local.Path, lp)...)
	case src.NFS != nil:
		np := p.Child("nfs")
		required(src.NFS.Server, np.Child("server"))
		required(src.NFS.Path, np.Child("path"))
		if src.NFS.Path != "" && !path.IsAbs(src.NFS.Path) {
			errs = append(errs, field.Invalid(np.Child("path"), src.NFS.Path, "must be an absolute path"))
		}
	case src.CSI != nil:
		cp := p.Child("csi")
		required(src.CSI.Driver, cp.Child("driver"))
		if d := src.CSI.Driver; d != "" {
			for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(d)) {
				errs = append(errs, field.Invalid(cp.Child("driver"), d, msg))
			}
		}
		required(src.CSI.VolumeHandle, cp.Child("volumeHandle"))
	case src.ISCSI != nil:
		ip := p.Child("iscsi")
		required(src.ISCSI.TargetPortal, ip.Child("targetPortal"))
		required(src.ISCSI.IQN, ip.Child("iqn"))
		if src.ISCSI.Lun < 0 || src.ISCSI.Lun > 255 {
			errs = append(errs, field.Invalid(ip.Child("lun"), src.ISCSI.Lun, validation.InclusiveRangeError(0, 255)))
		}
	case src.FC != nil:
		fp := p.Child("fc")
		switch {
		case len(src.FC.TargetWWNs) == 0 && len(src.FC.WWIDs) == 0:
			errs = append(errs, field.Required(fp.Child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"))
		case len(src.FC.TargetWWNs) > 0 && len(src.FC.WWIDs) > 0:
			errs = append(errs, field.Invalid(fp.Child("targetWWNs"), src.FC.TargetWWNs, "targetWWNs and wwids can not be specified simultaneously"))
		case len(src.FC.TargetWWNs) > 0 && src.FC.Lun == nil:
			errs = append(errs, field.Required(fp.Child("lun"), "lun is required if targetWWNs is specified"))
		}
	case src.RBD != nil:
		rp := p.Child("rbd")
		if len(src.RBD.CephMonitors) == 0 {
			errs = append(errs, field.Required(rp.Child("monitors"), ""))
		}
		required(src.RBD.RBDImage, rp.Child("image"))
	case src.CephFS != nil:
		if len(src.CephFS.Monitors) == 0 {
			errs = append(errs, field.Required(p.Child("cephfs", "monitors"), ""))
		}
	case src.Glusterfs != nil:
		gp := p.Child("glusterfs")
		required(src.Glusterfs.EndpointsName, gp.Child("endpoints"))
		required(src.Glusterfs.Path, gp.Child("path"))
	case src.AzureFile != nil:
		ap := p.Child("azureFile")
		required(src.AzureFile.SecretName, ap.Child("secretName"))
		required(src.AzureFile.ShareName, ap.Child("shareName"))
	case src.AzureDisk != nil:
		ap := p.Child("azureDisk")
		required(src.AzureDisk.DiskName, ap.Child("diskName"))
		required(src.AzureDisk.DataDiskURI, ap.Child("diskURI"))
	case src.FlexVolume != nil:
		required(src.FlexVolume.Driver, p.Child("flexVolume", "driver"))
	}
	return errs
}

// validateNoBacksteps: a host path may not climb with "..".
func validateNoBacksteps(s string, p *field.Path) field.ErrorList {
	for _, elem := range strings.Split(s, "/") {
		if elem == ".." {
			return field.ErrorList{field.Invalid(p, s, "must not contain '..'")}
		}
	}
	return nil
}
