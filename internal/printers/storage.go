package printers

import (
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
