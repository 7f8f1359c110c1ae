package core_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newPVC() *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: "data-pg-0", Namespace: "db"},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: rl("storage", "10Gi")},
			StorageClassName: ptr("standard"),
		},
	}
}

func TestPersistentVolumeClaimDefaultAndCreate(t *testing.T) {
	s := clusterStrategy(t, "persistentvolumeclaims")
	pvc := newPVC()
	pvc.Status.Phase = corev1.ClaimBound
	s.Default(pvc)
	s.PrepareForCreate(bg, pvc)
	if m := pvc.Spec.VolumeMode; m == nil || *m != corev1.PersistentVolumeFilesystem {
		t.Errorf("volumeMode = %v, want Filesystem", m)
	}
	if !apiequality.Semantic.DeepEqual(pvc.Status, corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}) {
		t.Errorf("status = %+v, want Pending", pvc.Status)
	}

	// dataSource and dataSourceRef are filled in from each other.
	pvc = newPVC()
	pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: ptr("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "snap"}
	s.PrepareForCreate(bg, pvc)
	if r := pvc.Spec.DataSourceRef; r == nil || *r.APIGroup != "snapshot.storage.k8s.io" || r.Kind != "VolumeSnapshot" || r.Name != "snap" || r.Namespace != nil {
		t.Errorf("dataSourceRef = %+v", r)
	}
	pvc = newPVC()
	pvc.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "src"}
	s.PrepareForCreate(bg, pvc)
	if d := pvc.Spec.DataSource; d == nil || d.Kind != "PersistentVolumeClaim" || d.Name != "src" {
		t.Errorf("dataSource = %+v", d)
	}
	pvc = newPVC()
	pvc.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "src", Namespace: ptr("other")}
	s.PrepareForCreate(bg, pvc)
	if pvc.Spec.DataSource != nil {
		t.Errorf("cross-namespace dataSourceRef copied to dataSource")
	}
}

func TestPersistentVolumeClaimValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*corev1.PersistentVolumeClaim)
		want   []fieldErr
	}{
		{"valid", func(*corev1.PersistentVolumeClaim) {}, nil},
		{"selector and block", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "ssd"}}
			pvc.Spec.VolumeMode = ptr(corev1.PersistentVolumeBlock)
		}, nil},
		{"accessModes required", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.AccessModes = nil }, []fieldErr{required("spec.accessModes")}},
		{"accessModes enum", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"RWO"}
		},
			[]fieldErr{notSupported("spec.accessModes")}},
		{"storage request required", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.Resources.Requests = rl("cpu", "1") },
			[]fieldErr{required("spec.resources[storage]")}},
		{"storage request positive", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.Resources.Requests = rl("storage", "0") },
			[]fieldErr{invalid("spec.resources[storage]")}},
		{"selector", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}}
		}, []fieldErr{invalid("spec.selector.matchExpressions[0].operator")}},
		{"storageClassName", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = ptr("Fast SSD") },
			[]fieldErr{invalid("spec.storageClassName")}},
		{"empty storageClassName disables dynamic provisioning", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = ptr("") }, nil},
		{"volumeMode", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeMode = ptr(corev1.PersistentVolumeMode("Raw")) },
			[]fieldErr{notSupported("spec.volumeMode")}},
		{"volumeAttributesClassName empty", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeAttributesClassName = ptr("") }, nil},
		{"volumeAttributesClassName", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeAttributesClassName = ptr("Gold!") },
			[]fieldErr{invalid("spec.volumeAttributesClassName")}},
		{"dataSource snapshot", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{APIGroup: ptr("snapshot.storage.k8s.io"), Kind: "VolumeSnapshot", Name: "snap"}
		}, nil},
		{"dataSource fields", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{} },
			[]fieldErr{required("spec.dataSource.name"), required("spec.dataSource.kind"), invalid("spec.dataSource")}},
		{"dataSource core kind", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "Secret", Name: "s"}
		}, []fieldErr{invalid("spec.dataSource")}},
		{"dataSourceRef group and namespace", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.DataSourceRef = &corev1.TypedObjectReference{APIGroup: ptr("Bad_Group"), Kind: "Populator", Name: "p", Namespace: ptr("a.b")}
		}, []fieldErr{invalid("spec.dataSourceRef.apiGroup"), invalid("spec.dataSourceRef.namespace")}},
		{"dataSource must match dataSourceRef", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "a"}
			pvc.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "b"}
		}, []fieldErr{invalid("spec")}},
		{"dataSource with cross-namespace dataSourceRef", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.DataSource = &corev1.TypedLocalObjectReference{Kind: "PersistentVolumeClaim", Name: "a"}
			pvc.Spec.DataSourceRef = &corev1.TypedObjectReference{Kind: "PersistentVolumeClaim", Name: "a", Namespace: ptr("other")}
		}, []fieldErr{invalid("spec")}},
		{"status capacity", func(pvc *corev1.PersistentVolumeClaim) { pvc.Status.Capacity = rl("storage", "-1") },
			[]fieldErr{invalid("status.capacity[storage]")}},
	}
	s := clusterStrategy(t, "persistentvolumeclaims")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pvc := newPVC()
			tt.modify(pvc)
			s.Default(pvc)
			checkErrs(t, s.Validate(bg, pvc), tt.want...)
		})
	}
}

func TestPersistentVolumeClaimValidateUpdate(t *testing.T) {
	bound := func(pvc *corev1.PersistentVolumeClaim) {
		pvc.Spec.VolumeName = "pv-1"
		pvc.Status = corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, Capacity: rl("storage", "10Gi")}
	}
	tests := []struct {
		name     string
		old, new func(*corev1.PersistentVolumeClaim)
		want     []fieldErr
	}{
		{"unchanged", func(*corev1.PersistentVolumeClaim) {}, func(*corev1.PersistentVolumeClaim) {}, nil},
		{"bind", func(*corev1.PersistentVolumeClaim) {}, func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeName = "pv-1" }, nil},
		{"rebind", bound, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.VolumeName = "pv-2"
		}, []fieldErr{forbidden("spec")}},
		{"expand bound", bound, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.Resources.Requests = rl("storage", "20Gi")
		}, nil},
		{"expand unbound", func(*corev1.PersistentVolumeClaim) {}, func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.Resources.Requests = rl("storage", "20Gi")
		}, []fieldErr{forbidden("spec")}},
		{"shrink below capacity", bound, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.Resources.Requests = rl("storage", "5Gi")
		}, []fieldErr{forbidden("spec.resources.requests.storage")}},
		{"retry a failed expansion with less", func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.Resources.Requests = rl("storage", "100Gi")
		}, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.Resources.Requests = rl("storage", "20Gi")
		}, nil},
		{"change access modes", bound, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}, []fieldErr{forbidden("spec")}},
		{"change storage class", func(*corev1.PersistentVolumeClaim) {}, func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = ptr("fast") },
			[]fieldErr{forbidden("spec")}},
		{"set storage class from nil", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = nil },
			func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = ptr("fast") }, nil},
		{"set storage class other than the beta annotation", func(pvc *corev1.PersistentVolumeClaim) {
			pvc.Spec.StorageClassName = nil
			pvc.Annotations = map[string]string{corev1.BetaStorageClassAnnotation: "slow"}
		}, func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.StorageClassName = ptr("fast") }, []fieldErr{forbidden("spec")}},
		{"set volumeAttributesClassName", bound, func(pvc *corev1.PersistentVolumeClaim) {
			bound(pvc)
			pvc.Spec.VolumeAttributesClassName = ptr("gold")
		}, nil},
		{"unset volumeAttributesClassName", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeAttributesClassName = ptr("gold") },
			func(*corev1.PersistentVolumeClaim) {}, []fieldErr{forbidden("spec.volumeAttributesClassName")}},
		{"empty volumeAttributesClassName", func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeAttributesClassName = ptr("gold") },
			func(pvc *corev1.PersistentVolumeClaim) { pvc.Spec.VolumeAttributesClassName = ptr("") }, []fieldErr{forbidden("spec.volumeAttributesClassName")}},
	}
	s := clusterStrategy(t, "persistentvolumeclaims")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, pvc := newPVC(), newPVC()
			tt.old(old)
			tt.new(pvc)
			s.Default(old)
			s.Default(pvc)
			checkErrs(t, s.ValidateUpdate(bg, pvc, old), tt.want...)
		})
	}
}

func TestPersistentVolumeClaimPrepareForUpdate(t *testing.T) {
	s := clusterStrategy(t, "persistentvolumeclaims")
	old := newPVC()
	pvc := newPVC()
	pvc.Spec.VolumeName = "pv-1"
	pvc.Status.Phase = corev1.ClaimBound
	s.PrepareForUpdate(bg, pvc, old, "")
	if pvc.Spec.VolumeName != "pv-1" || pvc.Status.Phase != "" {
		t.Errorf("main update: %+v", pvc)
	}
	pvc = newPVC()
	pvc.Spec.VolumeName = "pv-1"
	pvc.Status.Phase = corev1.ClaimBound
	s.PrepareForUpdate(bg, pvc, old, "status")
	if pvc.Spec.VolumeName != "" || pvc.Status.Phase != corev1.ClaimBound {
		t.Errorf("status update: %+v", pvc)
	}
}
