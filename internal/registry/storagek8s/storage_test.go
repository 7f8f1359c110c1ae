package storagek8s_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry"
	. "skiff.dev/skiff/internal/registry/registrytest"
	"skiff.dev/skiff/internal/registry/storagek8s"
)

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

func resource(t *testing.T, kind string) *registry.Resource {
	return Resource(t, storagek8s.Resources(), kind)
}

func TestResources(t *testing.T) {
	tests := []struct {
		kind, resource, short string
		subresources          []string
		obj, list             any
	}{
		{"StorageClass", "storageclasses", "sc", nil, &storagev1.StorageClass{}, &storagev1.StorageClassList{}},
		{"CSIDriver", "csidrivers", "", nil, &storagev1.CSIDriver{}, &storagev1.CSIDriverList{}},
		{"VolumeAttachment", "volumeattachments", "", []string{"status"}, &storagev1.VolumeAttachment{}, &storagev1.VolumeAttachmentList{}},
	}
	if n := len(storagek8s.Resources()); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
	for _, tt := range tests {
		r := resource(t, tt.kind)
		if r.GVR != storagev1.SchemeGroupVersion.WithResource(tt.resource) || r.ListKind != tt.kind+"List" || r.Namespaced ||
			strings.Join(r.ShortNames, ",") != tt.short || fmt.Sprint(r.Subresources) != fmt.Sprint(tt.subresources) {
			t.Errorf("%s: resource = %+v", tt.kind, r)
		}
		if fmt.Sprintf("%T %T", r.Strategy.New(), r.Strategy.NewList()) != fmt.Sprintf("%T %T", tt.obj, tt.list) {
			t.Errorf("%s: New, NewList = %T, %T", tt.kind, r.Strategy.New(), r.Strategy.NewList())
		}
	}
}

// ---- StorageClass ----

func TestStorageClassDefault(t *testing.T) {
	s := resource(t, "StorageClass").Strategy
	sc := &storagev1.StorageClass{Provisioner: "ebs.csi.aws.com"}
	s.Default(sc)
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimDelete || *sc.VolumeBindingMode != storagev1.VolumeBindingImmediate {
		t.Errorf("defaults: reclaimPolicy %v, volumeBindingMode %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
	sc = &storagev1.StorageClass{ReclaimPolicy: ptr(corev1.PersistentVolumeReclaimRetain), VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer)}
	s.Default(sc)
	if *sc.ReclaimPolicy != corev1.PersistentVolumeReclaimRetain || *sc.VolumeBindingMode != storagev1.VolumeBindingWaitForFirstConsumer {
		t.Errorf("explicit values overwritten: %v, %v", *sc.ReclaimPolicy, *sc.VolumeBindingMode)
	}
}

func storageClass() *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:        metav1.ObjectMeta{Name: "fast"},
		Provisioner:       "ebs.csi.aws.com",
		Parameters:        map[string]string{"type": "gp3"},
		ReclaimPolicy:     ptr(corev1.PersistentVolumeReclaimDelete),
		VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer),
		AllowedTopologies: []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
			{Key: "topology.kubernetes.io/zone", Values: []string{"us-east-1a", "us-east-1b"}}}}},
	}
}

func TestStorageClassValidate(t *testing.T) {
	s := resource(t, "StorageClass").Strategy
	expr := "allowedTopologies[0].matchLabelExpressions[0]"
	tests := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   []FieldErr
	}{
		{name: "valid", mutate: func(*storagev1.StorageClass) {}},
		{name: "in-tree provisioner", mutate: func(sc *storagev1.StorageClass) { sc.Provisioner = "kubernetes.io/no-provisioner" }},
		{name: "no provisioner", mutate: func(sc *storagev1.StorageClass) { sc.Provisioner = "" }, want: []FieldErr{Required("provisioner")}},
		{name: "bad provisioner", mutate: func(sc *storagev1.StorageClass) { sc.Provisioner = "a/b/c" }, want: []FieldErr{Invalid("provisioner")}},
		{name: "empty parameter key", mutate: func(sc *storagev1.StorageClass) { sc.Parameters[""] = "x" }, want: []FieldErr{Invalid("parameters")}},
		{name: "parameters too large", mutate: func(sc *storagev1.StorageClass) { sc.Parameters["big"] = strings.Repeat("x", 256*1024) },
			want: []FieldErr{TooLong("parameters")}},
		{name: "recycle", mutate: func(sc *storagev1.StorageClass) { sc.ReclaimPolicy = ptr(corev1.PersistentVolumeReclaimRecycle) },
			want: []FieldErr{NotSupported("reclaimPolicy")}},
		{name: "no binding mode", mutate: func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = nil }, want: []FieldErr{Required("volumeBindingMode")}},
		{name: "bad binding mode", mutate: func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = ptr(storagev1.VolumeBindingMode("Lazy")) },
			want: []FieldErr{NotSupported("volumeBindingMode")}},
		{name: "topology without values", mutate: func(sc *storagev1.StorageClass) { sc.AllowedTopologies[0].MatchLabelExpressions[0].Values = nil },
			want: []FieldErr{Required(expr + ".values")}},
		{name: "topology bad key and value", mutate: func(sc *storagev1.StorageClass) {
			sc.AllowedTopologies[0].MatchLabelExpressions[0] = corev1.TopologySelectorLabelRequirement{Key: "-zone", Values: []string{"a b", "a b"}}
		}, want: []FieldErr{Invalid(expr + ".key"), Invalid(expr + ".values[0]"), Invalid(expr + ".values[1]"), Duplicate(expr + ".values[1]")}},
		{name: "topology duplicate key", mutate: func(sc *storagev1.StorageClass) {
			e := &sc.AllowedTopologies[0].MatchLabelExpressions
			*e = append(*e, (*e)[0])
		}, want: []FieldErr{Duplicate("allowedTopologies[0].matchLabelExpressions[1].key")}},
		{name: "topology duplicate term", mutate: func(sc *storagev1.StorageClass) {
			sc.AllowedTopologies = append(sc.AllowedTopologies, sc.AllowedTopologies[0])
		}, want: []FieldErr{Duplicate("allowedTopologies[1].matchLabelExpressions")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := storageClass()
			tt.mutate(sc)
			CheckErrors(t, s.Validate(ctx, sc), tt.want...)
		})
	}
}

func TestStorageClassUpdate(t *testing.T) {
	s := resource(t, "StorageClass").Strategy
	tests := []struct {
		name   string
		mutate func(*storagev1.StorageClass)
		want   []FieldErr
	}{
		{name: "labels and expansion", mutate: func(sc *storagev1.StorageClass) {
			sc.Labels = map[string]string{"a": "b"}
			sc.AllowVolumeExpansion = ptr(true)
		}},
		{name: "provisioner", mutate: func(sc *storagev1.StorageClass) { sc.Provisioner = "pd.csi.storage.gke.io" }, want: []FieldErr{Forbidden("provisioner")}},
		{name: "parameters", mutate: func(sc *storagev1.StorageClass) { sc.Parameters["type"] = "io2" }, want: []FieldErr{Forbidden("parameters")}},
		{name: "reclaim policy", mutate: func(sc *storagev1.StorageClass) { sc.ReclaimPolicy = ptr(corev1.PersistentVolumeReclaimRetain) },
			want: []FieldErr{Forbidden("reclaimPolicy")}},
		{name: "binding mode", mutate: func(sc *storagev1.StorageClass) { sc.VolumeBindingMode = ptr(storagev1.VolumeBindingImmediate) },
			want: []FieldErr{Invalid("volumeBindingMode")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := storageClass()
			tt.mutate(sc)
			CheckErrors(t, s.ValidateUpdate(ctx, sc, storageClass()), tt.want...)
		})
	}
}

// ---- CSIDriver ----

func TestCSIDriverDefault(t *testing.T) {
	s := resource(t, "CSIDriver").Strategy
	d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"}, Spec: storagev1.CSIDriverSpec{PodInfoOnMount: ptr(true)}}
	s.Default(d)
	want := storagev1.CSIDriverSpec{
		AttachRequired: ptr(true), PodInfoOnMount: ptr(true), StorageCapacity: ptr(false), RequiresRepublish: ptr(false), SELinuxMount: ptr(false),
		FSGroupPolicy:        ptr(storagev1.ReadWriteOnceWithFSTypeFSGroupPolicy),
		VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{storagev1.VolumeLifecyclePersistent},
	}
	if !apiequality.Semantic.DeepEqual(d.Spec, want) {
		t.Errorf("spec = %+v", d.Spec)
	}
	CheckErrors(t, s.Validate(ctx, d))
}

func TestCSIDriverValidate(t *testing.T) {
	s := resource(t, "CSIDriver").Strategy
	tests := []struct {
		name   string
		mutate func(*storagev1.CSIDriverSpec)
		want   []FieldErr
	}{
		{name: "defaults", mutate: func(*storagev1.CSIDriverSpec) {}},
		{name: "ephemeral", mutate: func(s *storagev1.CSIDriverSpec) {
			s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Persistent", "Ephemeral"}
		}},
		{name: "bad mode", mutate: func(s *storagev1.CSIDriverSpec) {
			s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Persistent", "Temp"}
		},
			want: []FieldErr{NotSupported("spec.volumeLifecycleModes[1]")}},
		{name: "bad fsGroupPolicy", mutate: func(s *storagev1.CSIDriverSpec) { s.FSGroupPolicy = ptr(storagev1.FSGroupPolicy("Always")) },
			want: []FieldErr{NotSupported("spec.fsGroupPolicy")}},
		{name: "token requests", mutate: func(s *storagev1.CSIDriverSpec) {
			s.TokenRequests = []storagev1.TokenRequest{{Audience: "vault"}, {Audience: "vault", ExpirationSeconds: ptr[int64](60)}, {Audience: "", ExpirationSeconds: ptr[int64](1 << 33)}}
		}, want: []FieldErr{Duplicate("spec.tokenRequests[1].audience"), Invalid("spec.tokenRequests[1].expirationSeconds"), Invalid("spec.tokenRequests[2].expirationSeconds")}},
		{name: "allocatable period", mutate: func(s *storagev1.CSIDriverSpec) { s.NodeAllocatableUpdatePeriodSeconds = ptr[int64](5) },
			want: []FieldErr{Invalid("spec.nodeAllocatableUpdatePeriodSeconds")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"}}
			s.Default(d)
			tt.mutate(&d.Spec)
			CheckErrors(t, s.Validate(ctx, d), tt.want...)
		})
	}
	// Without defaults, the booleans are required.
	CheckErrors(t, s.Validate(ctx, &storagev1.CSIDriver{Spec: storagev1.CSIDriverSpec{VolumeLifecycleModes: []storagev1.VolumeLifecycleMode{"Persistent"}}}),
		Required("spec.attachRequired"), Required("spec.podInfoOnMount"), Required("spec.storageCapacity"), Required("spec.requiresRepublish"),
		Required("spec.fsGroupPolicy"))
}

func TestCSIDriverUpdate(t *testing.T) {
	s := resource(t, "CSIDriver").Strategy
	old := &storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: "ebs.csi.aws.com"}}
	s.Default(old)
	tests := []struct {
		name   string
		mutate func(*storagev1.CSIDriverSpec)
		want   []FieldErr
	}{
		{name: "mutable fields", mutate: func(s *storagev1.CSIDriverSpec) {
			s.PodInfoOnMount, s.StorageCapacity, s.FSGroupPolicy = ptr(true), ptr(true), ptr(storagev1.FileFSGroupPolicy)
		}},
		{name: "attachRequired", mutate: func(s *storagev1.CSIDriverSpec) { s.AttachRequired = ptr(false) }, want: []FieldErr{Invalid("spec.attachRequired")}},
		{name: "lifecycle modes", mutate: func(s *storagev1.CSIDriverSpec) {
			s.VolumeLifecycleModes = []storagev1.VolumeLifecycleMode{"Ephemeral"}
		}, want: []FieldErr{Invalid("spec.volumeLifecycleModes")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := old.DeepCopy()
			tt.mutate(&d.Spec)
			CheckErrors(t, s.ValidateUpdate(ctx, d, old), tt.want...)
		})
	}
}

func TestCSIDriverValidateName(t *testing.T) {
	s := resource(t, "CSIDriver").Strategy
	for name, ok := range map[string]bool{
		"ebs.csi.aws.com":        true,
		"Driver":                 false,
		strings.Repeat("a", 63):  true,
		strings.Repeat("a", 64):  false,
		"csi_driver.example.com": false,
	} {
		if errs := s.ValidateName(name, false); (len(errs) == 0) != ok {
			t.Errorf("ValidateName(%q) = %q, want ok=%v", name, errs, ok)
		}
	}
}

// ---- VolumeAttachment ----

func attachment() *storagev1.VolumeAttachment {
	return &storagev1.VolumeAttachment{
		ObjectMeta: metav1.ObjectMeta{Name: "csi-0123456789abcdef"},
		Spec: storagev1.VolumeAttachmentSpec{
			Attacher: "ebs.csi.aws.com",
			Source:   storagev1.VolumeAttachmentSource{PersistentVolumeName: ptr("pvc-1234")},
			NodeName: "node-1",
		},
	}
}

func TestVolumeAttachmentValidate(t *testing.T) {
	s := resource(t, "VolumeAttachment").Strategy
	tests := []struct {
		name   string
		mutate func(*storagev1.VolumeAttachment)
		want   []FieldErr
	}{
		{name: "valid", mutate: func(*storagev1.VolumeAttachment) {}},
		{name: "inline csi", mutate: func(va *storagev1.VolumeAttachment) {
			va.Spec.Source = storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{
				PersistentVolumeSource: corev1.PersistentVolumeSource{CSI: &corev1.CSIPersistentVolumeSource{Driver: "ebs.csi.aws.com", VolumeHandle: "vol-1"}}}}
		}},
		{name: "inline not csi", mutate: func(va *storagev1.VolumeAttachment) {
			va.Spec.Source = storagev1.VolumeAttachmentSource{InlineVolumeSpec: &corev1.PersistentVolumeSpec{}}
		}, want: []FieldErr{Required("spec.source.inlineVolumeSpec.csi")}},
		{name: "no attacher", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Attacher = "" }, want: []FieldErr{Required("spec.attacher")}},
		{name: "bad attacher", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Attacher = "csi_driver" }, want: []FieldErr{Invalid("spec.attacher")}},
		{name: "no source", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Source = storagev1.VolumeAttachmentSource{} },
			want: []FieldErr{Required("spec.source")}},
		{name: "both sources", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Source.InlineVolumeSpec = &corev1.PersistentVolumeSpec{} },
			want: []FieldErr{Forbidden("spec.source")}},
		{name: "empty pv name", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Source.PersistentVolumeName = ptr("") },
			want: []FieldErr{Required("spec.source.persistentVolumeName")}},
		{name: "bad pv name", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.Source.PersistentVolumeName = ptr("PV_1") },
			want: []FieldErr{Invalid("spec.source.persistentVolumeName")}},
		{name: "no node", mutate: func(va *storagev1.VolumeAttachment) { va.Spec.NodeName = "" }, want: []FieldErr{Required("spec.nodeName")}},
		{name: "status errors too long", mutate: func(va *storagev1.VolumeAttachment) {
			va.Status.AttachError = &storagev1.VolumeError{Message: strings.Repeat("x", 1025)}
			va.Status.DetachError = &storagev1.VolumeError{Message: "short"}
			va.Status.AttachmentMetadata = map[string]string{"devicePath": strings.Repeat("x", 256*1024)}
		}, want: []FieldErr{TooLong("status.attachError.message"), TooLong("status.attachmentMetadata")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			va := attachment()
			tt.mutate(va)
			CheckErrors(t, s.Validate(ctx, va), tt.want...)
		})
	}
}

func TestVolumeAttachmentUpdate(t *testing.T) {
	s := resource(t, "VolumeAttachment").Strategy
	old := attachment()
	va := attachment()
	va.Spec.NodeName = "node-2"
	CheckErrors(t, s.ValidateUpdate(ctx, va, old), Invalid("spec"))
	va = attachment()
	va.Status.Attached = true
	CheckErrors(t, s.ValidateUpdate(ctx, va, old))
}

func TestVolumeAttachmentPrepare(t *testing.T) {
	s := resource(t, "VolumeAttachment").Strategy
	va := attachment()
	va.Status.Attached = true
	s.PrepareForCreate(ctx, va)
	if va.Status.Attached || va.Generation != 0 {
		t.Errorf("PrepareForCreate: %+v", va)
	}
	old := attachment()
	old.Status.Attached = true
	// The main resource cannot change status ...
	va = attachment()
	s.PrepareForUpdate(ctx, va, old, "")
	if !va.Status.Attached {
		t.Errorf("main update changed status")
	}
	// ... and the status subresource cannot change spec.
	va = attachment()
	va.Spec.NodeName = "node-2"
	s.PrepareForUpdate(ctx, va, old, "status")
	if va.Spec.NodeName != "node-1" || va.Status.Attached {
		t.Errorf("status update: %+v", va)
	}
}
