package core_test

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func newPV() *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: "pv-nfs-1"},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:               rl("storage", "10Gi"),
			AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany},
			PersistentVolumeSource: corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Server: "nfs.example.com", Path: "/exports/a"}},
			StorageClassName:       "nfs",
		},
	}
}

func TestPersistentVolumeDefault(t *testing.T) {
	s := clusterStrategy(t, "persistentvolumes")
	pv := newPV()
	s.Default(pv)
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain {
		t.Errorf("reclaim policy = %q, want Retain", pv.Spec.PersistentVolumeReclaimPolicy)
	}
	if m := pv.Spec.VolumeMode; m == nil || *m != corev1.PersistentVolumeFilesystem {
		t.Errorf("volumeMode = %v, want Filesystem", m)
	}
	pv = newPV()
	block := corev1.PersistentVolumeBlock
	pv.Spec.VolumeMode = &block
	pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	s.Default(pv)
	if *pv.Spec.VolumeMode != block || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Errorf("set values overwritten: %+v", pv.Spec)
	}

	pv = newPV()
	pv.Spec.NFS = nil
	pv.Spec.HostPath = &corev1.HostPathVolumeSource{Path: "/data"}
	s.Default(pv)
	if h := pv.Spec.HostPath; h.Type == nil || *h.Type != corev1.HostPathUnset {
		t.Errorf("hostPath type = %v, want \"\"", h.Type)
	}
	pv.Spec.HostPath = nil
	pv.Spec.ISCSI = &corev1.ISCSIPersistentVolumeSource{TargetPortal: "10.0.0.1:3260", IQN: "iqn.2001-04.com.example:storage"}
	s.Default(pv)
	if pv.Spec.ISCSI.ISCSIInterface != "default" {
		t.Errorf("iscsiInterface = %q, want default", pv.Spec.ISCSI.ISCSIInterface)
	}
	pv.Spec.ISCSI = nil
	pv.Spec.RBD = &corev1.RBDPersistentVolumeSource{CephMonitors: []string{"10.0.0.2:6789"}, RBDImage: "img"}
	s.Default(pv)
	if r := pv.Spec.RBD; r.RBDPool != "rbd" || r.RadosUser != "admin" || r.Keyring != "/etc/ceph/keyring" {
		t.Errorf("rbd = %+v", r)
	}
	pv.Spec.RBD = nil
	pv.Spec.AzureDisk = &corev1.AzureDiskVolumeSource{DiskName: "d", DataDiskURI: "https://x/d.vhd"}
	s.Default(pv)
	if a := pv.Spec.AzureDisk; *a.CachingMode != corev1.AzureDataDiskCachingReadWrite || *a.Kind != corev1.AzureSharedBlobDisk || *a.FSType != "ext4" || *a.ReadOnly {
		t.Errorf("azureDisk = %+v", a)
	}
	pv.Spec.AzureDisk = nil
	pv.Spec.ScaleIO = &corev1.ScaleIOPersistentVolumeSource{Gateway: "g", System: "s"}
	s.Default(pv)
	if x := pv.Spec.ScaleIO; x.StorageMode != "ThinProvisioned" || x.FSType != "xfs" {
		t.Errorf("scaleIO = %+v", x)
	}
}

func TestPersistentVolumeValidate(t *testing.T) {
	local := func(pv *corev1.PersistentVolume) {
		pv.Spec.NFS = nil
		pv.Spec.Local = &corev1.LocalVolumeSource{Path: "/mnt/disks/ssd1"}
		pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{"worker-1"}}},
		}}}}
	}
	src := func(s corev1.PersistentVolumeSource) func(*corev1.PersistentVolume) {
		return func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeSource = s }
	}
	tests := []struct {
		name   string
		modify func(*corev1.PersistentVolume)
		want   []fieldErr
	}{
		{"valid nfs", func(*corev1.PersistentVolume) {}, nil},
		{"valid local", local, nil},
		{"valid csi", src(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}}), nil},
		{"pre-bound", func(pv *corev1.PersistentVolume) {
			pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "db", Name: "data-pg-0"}
		}, nil},
		{"volumeAttributesClassName", src(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}}), nil},
		{"volumeAttributesClassName needs csi", func(pv *corev1.PersistentVolume) { pv.Spec.VolumeAttributesClassName = ptr("gold") },
			[]fieldErr{required("spec.csi")}},
		{"volumeAttributesClassName empty", func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS = nil
			pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}
			pv.Spec.VolumeAttributesClassName = ptr("")
		}, []fieldErr{required("spec.volumeAttributesClassName")}},
		{"volumeAttributesClassName invalid", func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS = nil
			pv.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}
			pv.Spec.VolumeAttributesClassName = ptr("Gold!")
		}, []fieldErr{invalid("spec.volumeAttributesClassName")}},
		{"no source", src(corev1.PersistentVolumeSource{}), []fieldErr{required("spec")}},
		{"two sources", func(pv *corev1.PersistentVolume) { pv.Spec.HostPath = &corev1.HostPathVolumeSource{Path: "/data"} },
			[]fieldErr{forbidden("spec.nfs")}},
		{"capacity required", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = nil }, []fieldErr{required("spec.capacity")}},
		{"capacity only storage", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = rl("storage", "1Gi", "cpu", "1") },
			[]fieldErr{notSupported("spec.capacity")}},
		{"capacity negative", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = rl("storage", "-1Gi") },
			[]fieldErr{invalid("spec.capacity[storage]")}},
		{"capacity zero", func(pv *corev1.PersistentVolume) { pv.Spec.Capacity = rl("storage", "0") },
			[]fieldErr{invalid("spec.capacity[storage]")}},
		{"accessModes required", func(pv *corev1.PersistentVolume) { pv.Spec.AccessModes = nil }, []fieldErr{required("spec.accessModes")}},
		{"accessModes enum", func(pv *corev1.PersistentVolume) {
			pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{"ReadWriteSome"}
		},
			[]fieldErr{notSupported("spec.accessModes")}},
		{"ReadWriteOncePod alone", func(pv *corev1.PersistentVolume) {
			pv.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod, corev1.ReadWriteOnce}
		}, []fieldErr{forbidden("spec.accessModes")}},
		{"reclaim policy", func(pv *corev1.PersistentVolume) { pv.Spec.PersistentVolumeReclaimPolicy = "Keep" },
			[]fieldErr{notSupported("spec.persistentVolumeReclaimPolicy")}},
		{"recycle hostPath /", func(pv *corev1.PersistentVolume) {
			pv.Spec.NFS = nil
			pv.Spec.HostPath = &corev1.HostPathVolumeSource{Path: "/"}
			pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRecycle
		}, []fieldErr{forbidden("spec.persistentVolumeReclaimPolicy")}},
		{"volumeMode", func(pv *corev1.PersistentVolume) { pv.Spec.VolumeMode = ptr(corev1.PersistentVolumeMode("Raw")) },
			[]fieldErr{notSupported("spec.volumeMode")}},
		{"storageClassName", func(pv *corev1.PersistentVolume) { pv.Spec.StorageClassName = "Fast_SSD" }, []fieldErr{invalid("spec.storageClassName")}},
		{"local needs node affinity", func(pv *corev1.PersistentVolume) {
			local(pv)
			pv.Spec.NodeAffinity = nil
		}, []fieldErr{required("spec.nodeAffinity")}},
		{"node affinity required", func(pv *corev1.PersistentVolume) { pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{} },
			[]fieldErr{required("spec.nodeAffinity.required")}},
		{"node affinity terms", func(pv *corev1.PersistentVolume) {
			pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{}}
		}, []fieldErr{required("spec.nodeAffinity.required.nodeSelectorTerms")}},
		{"node affinity expression", func(pv *corev1.PersistentVolume) {
			local(pv)
			r := &pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0]
			r.Operator = corev1.NodeSelectorOpExists
		}, []fieldErr{forbidden("spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values")}},
		{"node affinity field", func(pv *corev1.PersistentVolume) {
			local(pv)
			pv.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchFields = []corev1.NodeSelectorRequirement{{Key: "spec.nodeName", Operator: corev1.NodeSelectorOpIn, Values: []string{"a"}}}
		}, []fieldErr{notSupported("spec.nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].key")}},
		{"nfs fields", src(corev1.PersistentVolumeSource{NFS: &corev1.NFSVolumeSource{Path: "exports"}}),
			[]fieldErr{required("spec.nfs.server"), invalid("spec.nfs.path")}},
		{"hostPath", src(corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/a/../b", Type: ptr(corev1.HostPathType("Dir"))}}),
			[]fieldErr{invalid("spec.hostPath.path"), notSupported("spec.hostPath.type")}},
		{"local path", func(pv *corev1.PersistentVolume) {
			local(pv)
			pv.Spec.Local.Path = ""
		}, []fieldErr{required("spec.local.path")}},
		{"csi fields", src(corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "bad driver"}}),
			[]fieldErr{invalid("spec.csi.driver"), required("spec.csi.volumeHandle")}},
		{"iscsi fields", src(corev1.PersistentVolumeSource{ISCSI: &corev1.ISCSIPersistentVolumeSource{Lun: 300}}),
			[]fieldErr{required("spec.iscsi.targetPortal"), required("spec.iscsi.iqn"), invalid("spec.iscsi.lun")}},
		{"fc fields", src(corev1.PersistentVolumeSource{FC: &corev1.FCVolumeSource{TargetWWNs: []string{"500a0982991b8dc5"}}}),
			[]fieldErr{required("spec.fc.lun")}},
		{"rbd fields", src(corev1.PersistentVolumeSource{RBD: &corev1.RBDPersistentVolumeSource{}}),
			[]fieldErr{required("spec.rbd.monitors"), required("spec.rbd.image")}},
	}
	s := clusterStrategy(t, "persistentvolumes")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pv := newPV()
			tt.modify(pv)
			s.Default(pv)
			checkErrs(t, s.Validate(bg, pv), tt.want...)
		})
	}
}

func TestPersistentVolumeValidateUpdate(t *testing.T) {
	s := clusterStrategy(t, "persistentvolumes")
	old := newPV()
	s.Default(old)

	pv := old.DeepCopy()
	pv.Spec.Capacity = rl("storage", "20Gi")
	pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimDelete
	pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "db", Name: "data"}
	pv.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zone", Operator: corev1.NodeSelectorOpExists}}}}}}
	checkErrs(t, s.ValidateUpdate(bg, pv, old))

	changed := pv.DeepCopy()
	changed.Spec.NFS.Path = "/exports/b"
	changed.Spec.VolumeMode = ptr(corev1.PersistentVolumeBlock)
	changed.Spec.NodeAffinity.Required.NodeSelectorTerms[0].MatchExpressions[0].Key = "rack"
	checkErrs(t, s.ValidateUpdate(bg, changed, pv),
		forbidden("spec.persistentvolumesource"), invalid("spec.volumeMode"), invalid("spec.nodeAffinity"))

	// A CSI volume may gain its expansion secret, once; its class may
	// change but not be removed.
	csi := newPV()
	csi.Spec.NFS = nil
	csi.Spec.CSI = &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}
	csi.Spec.VolumeAttributesClassName = ptr("silver")
	s.Default(csi)
	upd := csi.DeepCopy()
	upd.Spec.CSI.ControllerExpandSecretRef = &corev1.SecretReference{Namespace: "kube-system", Name: "expand"}
	upd.Spec.VolumeAttributesClassName = ptr("gold")
	checkErrs(t, s.ValidateUpdate(bg, upd, csi))
	again := upd.DeepCopy()
	again.Spec.CSI.ControllerExpandSecretRef.Name = "other"
	checkErrs(t, s.ValidateUpdate(bg, again, upd), forbidden("spec.persistentvolumesource"))
	unset := upd.DeepCopy()
	unset.Spec.VolumeAttributesClassName = nil
	checkErrs(t, s.ValidateUpdate(bg, unset, upd), forbidden("spec.volumeAttributesClassName"))
}

func TestPersistentVolumeStatus(t *testing.T) {
	s := clusterStrategy(t, "persistentvolumes")
	pv := newPV()
	pv.Status.Phase = corev1.VolumeBound
	before := time.Now().Add(-time.Second)
	s.PrepareForCreate(bg, pv)
	if pv.Status.Phase != corev1.VolumePending || pv.Status.LastPhaseTransitionTime == nil || pv.Status.LastPhaseTransitionTime.Time.Before(before) {
		t.Fatalf("status after create = %+v", pv.Status)
	}
	old := pv.DeepCopy()
	old.Status.LastPhaseTransitionTime = &metav1.Time{Time: before.Add(-time.Hour)}

	// The main resource keeps status; /status keeps spec and stamps the
	// transition time of a new phase.
	upd := old.DeepCopy()
	upd.Status.Phase = corev1.VolumeAvailable
	upd.Spec.StorageClassName = "other"
	s.PrepareForUpdate(bg, upd, old, "")
	if upd.Status.Phase != corev1.VolumePending || upd.Spec.StorageClassName != "other" {
		t.Errorf("main update: phase %q class %q", upd.Status.Phase, upd.Spec.StorageClassName)
	}
	upd = old.DeepCopy()
	upd.Status.Phase = corev1.VolumeAvailable
	upd.Spec.StorageClassName = "other"
	s.PrepareForUpdate(bg, upd, old, "status")
	if upd.Status.Phase != corev1.VolumeAvailable || upd.Spec.StorageClassName != "nfs" || !upd.Status.LastPhaseTransitionTime.After(before) {
		t.Errorf("status update: %+v %q", upd.Status, upd.Spec.StorageClassName)
	}
	// A writer's own timestamp stays.
	upd = old.DeepCopy()
	upd.Status.Phase = corev1.VolumeReleased
	mine := metav1.NewTime(before.Add(-time.Minute).Truncate(time.Second))
	upd.Status.LastPhaseTransitionTime = &mine
	s.PrepareForUpdate(bg, upd, old, "status")
	if !upd.Status.LastPhaseTransitionTime.Equal(&mine) {
		t.Errorf("transition time = %v, want %v", upd.Status.LastPhaseTransitionTime, mine)
	}
}
