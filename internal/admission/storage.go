package admission

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// PVCProtectionFinalizer keeps a claim while a pod uses it.
	PVCProtectionFinalizer = "kubernetes.io/pvc-protection"
	// PVProtectionFinalizer keeps a volume while a claim is bound to it.
	PVProtectionFinalizer = "kubernetes.io/pv-protection"

	defaultStorageClassAnnotation     = "storageclass.kubernetes.io/is-default-class"
	betaDefaultStorageClassAnnotation = "storageclass.beta.kubernetes.io/is-default-class"
	betaStorageClassAnnotation        = "volume.beta.kubernetes.io/storage-class"
	defaultIngressClassAnnotation     = "ingressclass.kubernetes.io/is-default-class"
	ingressClassAnnotation            = "kubernetes.io/ingress.class"
)

// StorageObjectInUseProtection gives every new claim and volume the
// finalizer that keeps it while it is in use.
type StorageObjectInUseProtection struct{}

func (StorageObjectInUseProtection) Admit(_ context.Context, a *Attributes) error {
	if a.Operation != Create || a.Subresource != "" {
		return nil
	}
	var m *metav1.ObjectMeta
	var finalizer string
	switch a.Resource {
	case pvcsResource:
		m, finalizer = &a.Object.(*corev1.PersistentVolumeClaim).ObjectMeta, PVCProtectionFinalizer
	case pvsResource:
		m, finalizer = &a.Object.(*corev1.PersistentVolume).ObjectMeta, PVProtectionFinalizer
	default:
		return nil
	}
	if !slices.Contains(m.Finalizers, finalizer) {
		m.Finalizers = append(m.Finalizers, finalizer)
	}
	return nil
}

// DefaultStorageClass gives a new claim that names no class (a nil
// storageClassName; "" means "no class") the default StorageClass.
type DefaultStorageClass struct{ Reader Reader }

func (p DefaultStorageClass) Admit(ctx context.Context, a *Attributes) error {
	if !a.Is(pvcsResource) || a.Operation != Create {
		return nil
	}
	pvc := a.Object.(*corev1.PersistentVolumeClaim)
	if pvc.Spec.StorageClassName != nil {
		return nil
	}
	// A class named in the deprecated annotation is a class too.
	if _, ok := pvc.Annotations[betaStorageClassAnnotation]; ok {
		return nil
	}
	objs, err := p.Reader.List(ctx, storageClassesGVR, "")
	if err != nil {
		return fmt.Errorf("listing StorageClasses: %w", err)
	}
	var def *storagev1.StorageClass
	for _, o := range objs {
		sc := o.(*storagev1.StorageClass)
		if sc.Annotations[defaultStorageClassAnnotation] == "true" || sc.Annotations[betaDefaultStorageClassAnnotation] == "true" {
			if def == nil || newer(&sc.ObjectMeta, &def.ObjectMeta) {
				def = sc
			}
		}
	}
	if def != nil {
		name := def.Name
		pvc.Spec.StorageClassName = &name
	}
	return nil
}

// DefaultIngressClass gives a new Ingress that names no class (neither
// spec.ingressClassName nor the legacy annotation) the default
// IngressClass.
type DefaultIngressClass struct{ Reader Reader }

func (p DefaultIngressClass) Admit(ctx context.Context, a *Attributes) error {
	if !a.Is(ingressesResource) || a.Operation != Create {
		return nil
	}
	ing := a.Object.(*networkingv1.Ingress)
	if ing.Spec.IngressClassName != nil {
		return nil
	}
	if _, ok := ing.Annotations[ingressClassAnnotation]; ok {
		return nil
	}
	objs, err := p.Reader.List(ctx, ingressClassesGVR, "")
	if err != nil {
		return fmt.Errorf("listing IngressClasses: %w", err)
	}
	var def *networkingv1.IngressClass
	for _, o := range objs {
		ic := o.(*networkingv1.IngressClass)
		if ic.Annotations[defaultIngressClassAnnotation] == "true" && (def == nil || newer(&ic.ObjectMeta, &def.ObjectMeta)) {
			def = ic
		}
	}
	if def != nil {
		name := def.Name
		ing.Spec.IngressClassName = &name
	}
	return nil
}

// newer: of several defaults, upstream picks the most recently created
// (by name when created in the same second).
func newer(a, b *metav1.ObjectMeta) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return b.CreationTimestamp.Before(&a.CreationTimestamp)
	}
	return a.Name < b.Name
}
