package printers

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations that mark the default StorageClass.
const (
	isDefaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaIsDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
)

var storageClassPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Provisioner", typeString, storagev1.StorageClass{}.SwaggerDoc()["provisioner"]),
		column("ReclaimPolicy", typeString, storagev1.StorageClass{}.SwaggerDoc()["reclaimPolicy"]),
		column("VolumeBindingMode", typeString, storagev1.StorageClass{}.SwaggerDoc()["volumeBindingMode"]),
		column("AllowVolumeExpansion", typeString, storagev1.StorageClass{}.SwaggerDoc()["allowVolumeExpansion"]),
		ageColumn(),
	},
	func(sc *storagev1.StorageClass, now time.Time) []any {
		name := sc.Name
		if sc.Annotations[isDefaultStorageClassAnnotation] == "true" || sc.Annotations[betaIsDefaultStorageClassAnnotation] == "true" {
			name += " (default)"
		}
		reclaim := string(corev1.PersistentVolumeReclaimDelete)
		if sc.ReclaimPolicy != nil {
			reclaim = string(*sc.ReclaimPolicy)
		}
		binding := string(storagev1.VolumeBindingImmediate)
		if sc.VolumeBindingMode != nil {
			binding = string(*sc.VolumeBindingMode)
		}
		expand := sc.AllowVolumeExpansion != nil && *sc.AllowVolumeExpansion
		return []any{name, sc.Provisioner, reclaim, binding, expand, Age(sc.CreationTimestamp, now)}
	})

// Cells show the API defaults (attachRequired true, the others false)
// where a field is unset.
var csiDriverPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("AttachRequired", typeBoolean, storagev1.CSIDriverSpec{}.SwaggerDoc()["attachRequired"]),
		column("PodInfoOnMount", typeBoolean, storagev1.CSIDriverSpec{}.SwaggerDoc()["podInfoOnMount"]),
		column("StorageCapacity", typeBoolean, storagev1.CSIDriverSpec{}.SwaggerDoc()["storageCapacity"]),
		column("TokenRequests", typeString, storagev1.CSIDriverSpec{}.SwaggerDoc()["tokenRequests"]),
		column("RequiresRepublish", typeBoolean, storagev1.CSIDriverSpec{}.SwaggerDoc()["requiresRepublish"]),
		column("Modes", typeString, storagev1.CSIDriverSpec{}.SwaggerDoc()["volumeLifecycleModes"]),
		ageColumn(),
	},
	func(d *storagev1.CSIDriver, now time.Time) []any {
		flag := func(p *bool, def bool) bool {
			if p == nil {
				return def
			}
			return *p
		}
		tokens := "<unset>"
		if d.Spec.TokenRequests != nil {
			audiences := make([]string, 0, len(d.Spec.TokenRequests))
			for _, t := range d.Spec.TokenRequests {
				audiences = append(audiences, t.Audience)
			}
			tokens = strings.Join(audiences, ",")
		}
		modes := make([]string, 0, len(d.Spec.VolumeLifecycleModes))
		for _, m := range d.Spec.VolumeLifecycleModes {
			modes = append(modes, string(m))
		}
		modesCell := strings.Join(modes, ",")
		if modesCell == "" {
			modesCell = "<none>"
		}
		return []any{
			d.Name, flag(d.Spec.AttachRequired, true), flag(d.Spec.PodInfoOnMount, false), flag(d.Spec.StorageCapacity, false),
			tokens, flag(d.Spec.RequiresRepublish, false), modesCell, Age(d.CreationTimestamp, now),
		}
	})

// Upstream gives the Attacher column the "name" format too; here only NAME
// has it, so clients that look for the name column find one.
var volumeAttachmentPrinter = newTyped(
	[]metav1.TableColumnDefinition{
		nameColumn(),
		column("Attacher", typeString, storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["attacher"]),
		column("PV", typeString, storagev1.VolumeAttachmentSource{}.SwaggerDoc()["persistentVolumeName"]),
		column("Node", typeString, storagev1.VolumeAttachmentSpec{}.SwaggerDoc()["nodeName"]),
		column("Attached", typeBoolean, storagev1.VolumeAttachmentStatus{}.SwaggerDoc()["attached"]),
		ageColumn(),
	},
	func(va *storagev1.VolumeAttachment, now time.Time) []any {
		pv := ""
		if n := va.Spec.Source.PersistentVolumeName; n != nil {
			pv = *n
		}
		return []any{va.Name, va.Spec.Attacher, pv, va.Spec.NodeName, va.Status.Attached, Age(va.CreationTimestamp, now)}
	})
