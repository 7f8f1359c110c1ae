package localpath

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/controller/volume/binder"
)

func claim(mutate ...func(*corev1.PersistentVolumeClaim)) *corev1.PersistentVolumeClaim {
	class := ClassName
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", UID: "1234", ResourceVersion: "7",
			Annotations: map[string]string{binder.AnnStorageProvisioner: Provisioner, binder.AnnSelectedNode: "n1"}},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &class,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("2Gi")}},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func TestWants(t *testing.T) {
	other := DefaultClass()
	other.Provisioner = "example.com/other"
	tests := []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		class *storagev1.StorageClass
		want  bool
	}{
		{"handed over", claim(), DefaultClass(), true},
		{"beta annotation", claim(func(c *corev1.PersistentVolumeClaim) {
			c.Annotations = map[string]string{binder.AnnBetaStorageProvisioner: Provisioner}
		}), DefaultClass(), true},
		{"not handed over yet", claim(func(c *corev1.PersistentVolumeClaim) { c.Annotations = nil }), DefaultClass(), false},
		{"another provisioner's class", claim(), other, false},
		{"class missing", claim(), nil, false},
		{"already bound", claim(func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeName = "v" }), DefaultClass(), false},
		{"being deleted", claim(func(c *corev1.PersistentVolumeClaim) { c.DeletionTimestamp = &metav1.Time{} }), DefaultClass(), false},
	}
	for _, tt := range tests {
		if got := Wants(tt.claim, tt.class); got != tt.want {
			t.Errorf("%s: Wants = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewVolume(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelHostname: "host-1"}}}
	pv, err := NewVolume(claim(), DefaultClass(), node)
	if err != nil {
		t.Fatal(err)
	}
	if pv.Name != "pvc-1234" || pv.Annotations[binder.AnnDynamicallyProvisioned] != Provisioner {
		t.Errorf("identity = %s %v", pv.Name, pv.Annotations)
	}
	if q := pv.Spec.Capacity[corev1.ResourceStorage]; q.String() != "2Gi" {
		t.Errorf("capacity = %s", q.String())
	}
	if r := pv.Spec.ClaimRef; r == nil || r.Name != "data" || r.Namespace != "ns" || r.UID != "1234" {
		t.Errorf("claimRef = %+v", r)
	}
	if pv.Spec.StorageClassName != ClassName || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("class %q policy %q", pv.Spec.StorageClassName, pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if hp := pv.Spec.HostPath; hp == nil || hp.Path != "/var/lib/skiff/storage/pvc-1234_ns_data" || *hp.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("hostPath = %+v", hp)
	}
	req := pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
	if req.Key != corev1.LabelHostname || req.Operator != corev1.NodeSelectorOpIn || len(req.Values) != 1 || req.Values[0] != "host-1" {
		t.Errorf("node affinity = %+v", req)
	}
	// The binder takes it for the claim it was made for.
	pv.Status.Phase = corev1.VolumeAvailable
	if got := binder.FindBestMatch(claim(), []*corev1.PersistentVolume{pv}, true, node); got != pv {
		t.Error("the binder does not match the provisioned volume to its claim")
	}

	retain := corev1.PersistentVolumeReclaimRetain
	custom := DefaultClass()
	custom.ReclaimPolicy = &retain
	custom.Parameters = map[string]string{NodePathParameter: "/data"}
	pv, err = NewVolume(claim(), custom, node)
	if err != nil || pv.Spec.PersistentVolumeReclaimPolicy != retain || !strings.HasPrefix(pv.Spec.HostPath.Path, "/data/") {
		t.Errorf("custom class: %v %v", pv.Spec, err)
	}

	block := corev1.PersistentVolumeBlock
	for name, c := range map[string]*corev1.PersistentVolumeClaim{
		"block": claim(func(c *corev1.PersistentVolumeClaim) { c.Spec.VolumeMode = &block }),
		"rwx": claim(func(c *corev1.PersistentVolumeClaim) {
			c.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
		}),
	} {
		if _, err := NewVolume(c, DefaultClass(), node); err == nil {
			t.Errorf("%s: NewVolume succeeded", name)
		}
	}
	if _, err := NewVolume(claim(), DefaultClass(), nil); err != ErrNoNode {
		t.Errorf("no node: err = %v", err)
	}
}

func TestShouldDelete(t *testing.T) {
	mk := func(mutate func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
		v := &corev1.PersistentVolume{
			ObjectMeta: metav1.ObjectMeta{Name: "pvc-1", Annotations: map[string]string{binder.AnnDynamicallyProvisioned: Provisioner}},
			Spec:       corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimDelete},
			Status:     corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased},
		}
		if mutate != nil {
			mutate(v)
		}
		return v
	}
	tests := []struct {
		name string
		v    *corev1.PersistentVolume
		want bool
	}{
		{"released", mk(nil), true},
		{"bound", mk(func(v *corev1.PersistentVolume) { v.Status.Phase = corev1.VolumeBound }), false},
		{"retain", mk(func(v *corev1.PersistentVolume) {
			v.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
		}), false},
		{"someone else's", mk(func(v *corev1.PersistentVolume) { v.Annotations = nil }), false},
		{"already deleting", mk(func(v *corev1.PersistentVolume) { v.DeletionTimestamp = &metav1.Time{} }), false},
	}
	for _, tt := range tests {
		if got := ShouldDelete(tt.v); got != tt.want {
			t.Errorf("%s: ShouldDelete = %v, want %v", tt.name, got, tt.want)
		}
	}
}
