package admission

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stypes "k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newPVC(name string, class *string, storage string) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: k8stypes.UID("uid-pvc-" + name)},
		Spec: corev1.PersistentVolumeClaimSpec{
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			StorageClassName: class,
		},
	}
	if storage != "" {
		pvc.Spec.Resources.Requests = rl("storage=" + storage)
	}
	return pvc
}

func TestStorageObjectInUseProtection(t *testing.T) {
	pv := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv1"}}
	pvc := newPVC("data", nil, "1Gi")
	pvcHas := newPVC("data2", nil, "1Gi")
	pvcHas.Finalizers = []string{"kubernetes.io/pvc-protection"}
	pvcUpd := newPVC("data3", nil, "1Gi")
	for _, c := range []struct {
		name string
		a    *Attributes
		obj  *metav1.ObjectMeta
		want []string
	}{
		{"pvc", create(pvcsResource, pvc), &pvc.ObjectMeta, []string{"kubernetes.io/pvc-protection"}},
		{"pv", create(pvsResource, pv), &pv.ObjectMeta, []string{"kubernetes.io/pv-protection"}},
		{"not twice", create(pvcsResource, pvcHas), &pvcHas.ObjectMeta, []string{"kubernetes.io/pvc-protection"}},
		{"update untouched", update(pvcsResource, pvcUpd, pvcUpd.DeepCopy()), &pvcUpd.ObjectMeta, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := (StorageObjectInUseProtection{}).Admit(context.Background(), c.a); err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(c.obj.Finalizers, c.want) {
				t.Errorf("finalizers = %v, want %v", c.obj.Finalizers, c.want)
			}
		})
	}
}

func storageClass(name string, created time.Time, annotations map[string]string) *storagev1.StorageClass {
	return &storagev1.StorageClass{
		ObjectMeta:  metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created), Annotations: annotations},
		Provisioner: "example.com/csi",
	}
}

func TestDefaultStorageClass(t *testing.T) {
	isDefault := map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
	betaDefault := map[string]string{"storageclass.beta.kubernetes.io/is-default-class": "true"}
	notDefault := map[string]string{"storageclass.kubernetes.io/is-default-class": "false"}
	tests := []struct {
		name    string
		classes []runtime.Object
		pvc     *corev1.PersistentVolumeClaim
		want    *string
	}{{
		name:    "nil class gets the default",
		classes: []runtime.Object{storageClass("slow", t0, nil), storageClass("std", t0, isDefault)},
		pvc:     newPVC("data", nil, "1Gi"),
		want:    ptrTo("std"),
	}, {
		name:    `"" means no class`,
		classes: []runtime.Object{storageClass("std", t0, isDefault)},
		pvc:     newPVC("data", ptrTo(""), "1Gi"),
		want:    ptrTo(""),
	}, {
		name:    "a named class is kept",
		classes: []runtime.Object{storageClass("std", t0, isDefault)},
		pvc:     newPVC("data", ptrTo("fast"), "1Gi"),
		want:    ptrTo("fast"),
	}, {
		name:    "the beta annotation marks a default too",
		classes: []runtime.Object{storageClass("beta", t0, betaDefault)},
		pvc:     newPVC("data", nil, "1Gi"),
		want:    ptrTo("beta"),
	}, {
		name:    `"false" is no default`,
		classes: []runtime.Object{storageClass("std", t0, notDefault)},
		pvc:     newPVC("data", nil, "1Gi"),
		want:    nil,
	}, {
		name: "no default: left unset",
		pvc:  newPVC("data", nil, "1Gi"),
		want: nil,
	}, {
		name: "the newest default wins",
		classes: []runtime.Object{
			storageClass("old", t0, isDefault),
			storageClass("new", t0.Add(time.Hour), betaDefault),
			storageClass("mid", t0.Add(time.Minute), isDefault),
		},
		pvc:  newPVC("data", nil, "1Gi"),
		want: ptrTo("new"),
	}, {
		name:    "created together: the first by name",
		classes: []runtime.Object{storageClass("zeta", t0, isDefault), storageClass("alpha", t0, isDefault)},
		pvc:     newPVC("data", nil, "1Gi"),
		want:    ptrTo("alpha"),
	}, {
		// The claim names a class in the deprecated annotation: upstream's
		// PersistentVolumeClaimHasClass counts that as a class.
		name:    "the beta storage-class annotation on the claim is a class",
		classes: []runtime.Object{storageClass("std", t0, isDefault)},
		pvc: func() *corev1.PersistentVolumeClaim {
			pvc := newPVC("data", nil, "1Gi")
			pvc.Annotations = map[string]string{"volume.beta.kubernetes.io/storage-class": "legacy"}
			return pvc
		}(),
		want: nil,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (DefaultStorageClass{newReader(tt.classes...)}).Admit(context.Background(), create(pvcsResource, tt.pvc))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.pvc.Spec.StorageClassName; deref(got) != deref(tt.want) {
				t.Errorf("storageClassName = %v, want %v", deref(got), deref(tt.want))
			}
		})
	}
}

func TestDefaultStorageClassOnlyOnCreate(t *testing.T) {
	r := newReader(storageClass("std", t0, map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}))
	pvc := newPVC("data", nil, "1Gi")
	if err := (DefaultStorageClass{r}).Admit(context.Background(), update(pvcsResource, pvc, pvc.DeepCopy())); err != nil {
		t.Fatal(err)
	}
	if pvc.Spec.StorageClassName != nil {
		t.Errorf("an update got class %q", *pvc.Spec.StorageClassName)
	}
}

func ingressClass(name string, created time.Time, isDefault bool) *networkingv1.IngressClass {
	ic := &networkingv1.IngressClass{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(created)},
		Spec:       networkingv1.IngressClassSpec{Controller: "example.com/ingress"},
	}
	if isDefault {
		ic.Annotations = map[string]string{"ingressclass.kubernetes.io/is-default-class": "true"}
	}
	return ic
}

func TestDefaultIngressClass(t *testing.T) {
	newIngress := func(class *string, annotations map[string]string) *networkingv1.Ingress {
		return &networkingv1.Ingress{
			ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: testNS, Annotations: annotations},
			Spec:       networkingv1.IngressSpec{IngressClassName: class},
		}
	}
	tests := []struct {
		name    string
		classes []runtime.Object
		ing     *networkingv1.Ingress
		want    *string
	}{
		{"default set", []runtime.Object{ingressClass("a", t0, false), ingressClass("nginx", t0, true)}, newIngress(nil, nil), ptrTo("nginx")},
		{"no default", []runtime.Object{ingressClass("a", t0, false)}, newIngress(nil, nil), nil},
		{"own class kept", []runtime.Object{ingressClass("nginx", t0, true)}, newIngress(ptrTo("traefik"), nil), ptrTo("traefik")},
		{"legacy annotation: untouched", []runtime.Object{ingressClass("nginx", t0, true)},
			newIngress(nil, map[string]string{"kubernetes.io/ingress.class": "traefik"}), nil},
		{"the newest default wins", []runtime.Object{ingressClass("old", t0, true), ingressClass("new", t0.Add(time.Second), true)},
			newIngress(nil, nil), ptrTo("new")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := (DefaultIngressClass{newReader(tt.classes...)}).Admit(context.Background(), create(ingressesResource, tt.ing)); err != nil {
				t.Fatal(err)
			}
			if got := tt.ing.Spec.IngressClassName; deref(got) != deref(tt.want) {
				t.Errorf("ingressClassName = %v, want %v", deref(got), deref(tt.want))
			}
		})
	}
}

func TestRuntimeClass(t *testing.T) {
	gvisor := &nodev1.RuntimeClass{
		ObjectMeta: metav1.ObjectMeta{Name: "gvisor"},
		Handler:    "runsc",
		Overhead:   &nodev1.Overhead{PodFixed: rl("cpu=250m", "memory=120Mi")},
		Scheduling: &nodev1.Scheduling{
			NodeSelector: map[string]string{"sandbox": "gvisor"},
			Tolerations:  []corev1.Toleration{{Key: "sandbox", Operator: "Equal", Value: "gvisor", Effect: "NoSchedule"}},
		},
	}
	plain := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: "runc"}, Handler: "runc"}
	withClass := func(name string, mods ...func(*corev1.Pod)) *corev1.Pod {
		return newPod("web", append([]func(*corev1.Pod){func(p *corev1.Pod) { p.Spec.RuntimeClassName = &name }}, mods...)...)
	}
	tests := []struct {
		name    string
		pod     *corev1.Pod
		wantErr string
		check   func(t *testing.T, p *corev1.Pod)
	}{{
		name: "overhead, node selector and tolerations from the class",
		pod: withClass("gvisor", func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"zone": "a"}
			p.Spec.Tolerations = []corev1.Toleration{{Key: "other", Operator: "Exists"}}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if !equality.Semantic.DeepEqual(p.Spec.Overhead, rl("cpu=250m", "memory=120Mi")) {
				t.Errorf("overhead = %v", p.Spec.Overhead)
			}
			if want := map[string]string{"zone": "a", "sandbox": "gvisor"}; !equality.Semantic.DeepEqual(p.Spec.NodeSelector, want) {
				t.Errorf("nodeSelector = %v, want %v", p.Spec.NodeSelector, want)
			}
			want := []corev1.Toleration{{Key: "other", Operator: "Exists"}, {Key: "sandbox", Operator: "Equal", Value: "gvisor", Effect: "NoSchedule"}}
			if !equality.Semantic.DeepEqual(p.Spec.Tolerations, want) {
				t.Errorf("tolerations = %+v, want %+v", p.Spec.Tolerations, want)
			}
		},
	}, {
		name: "the class's own toleration and selector are not repeated",
		pod: withClass("gvisor", func(p *corev1.Pod) {
			p.Spec.NodeSelector = map[string]string{"sandbox": "gvisor"}
			p.Spec.Tolerations = []corev1.Toleration{{Key: "sandbox", Operator: "Equal", Value: "gvisor", Effect: "NoSchedule"}}
		}),
		check: func(t *testing.T, p *corev1.Pod) {
			if len(p.Spec.Tolerations) != 1 || len(p.Spec.NodeSelector) != 1 {
				t.Errorf("tolerations %+v nodeSelector %v", p.Spec.Tolerations, p.Spec.NodeSelector)
			}
		},
	}, {
		name: "the same overhead in the pod is accepted",
		pod:  withClass("gvisor", func(p *corev1.Pod) { p.Spec.Overhead = rl("memory=120Mi", "cpu=0.25") }),
		check: func(t *testing.T, p *corev1.Pod) {
			if !equality.Semantic.DeepEqual(p.Spec.Overhead, rl("cpu=250m", "memory=120Mi")) {
				t.Errorf("overhead = %v", p.Spec.Overhead)
			}
		},
	}, {
		name:    "another overhead in the pod is refused",
		pod:     withClass("gvisor", func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu=1") }),
		wantErr: `pods "web" is forbidden: pod rejected: Pod's Overhead doesn't match RuntimeClass's defined Overhead`,
	}, {
		name:    "a conflicting node selector is refused",
		pod:     withClass("gvisor", func(p *corev1.Pod) { p.Spec.NodeSelector = map[string]string{"sandbox": "kata"} }),
		wantErr: `pods "web" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[sandbox] = gvisor; pod.spec.nodeSelector[sandbox] = kata`,
	}, {
		name:    "an unknown class is refused",
		pod:     withClass("kata"),
		wantErr: `pods "web" is forbidden: pod rejected: RuntimeClass "kata" not found`,
	}, {
		name: "a class without overhead or scheduling changes nothing",
		pod:  withClass("runc"),
		check: func(t *testing.T, p *corev1.Pod) {
			if p.Spec.Overhead != nil || p.Spec.NodeSelector != nil || p.Spec.Tolerations != nil {
				t.Errorf("pod changed: %+v", p.Spec)
			}
		},
	}, {
		name: "no class: nothing looked up",
		pod:  newPod("web"),
		check: func(t *testing.T, p *corev1.Pod) {
			if p.Spec.Overhead != nil {
				t.Errorf("overhead = %v", p.Spec.Overhead)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := (RuntimeClass{newReader(gvisor, plain)}).Admit(context.Background(), create(podsResource, tt.pod))
			wantForbidden(t, err, tt.wantErr)
			if tt.check != nil {
				tt.check(t, tt.pod)
			}
		})
	}
	// Overhead is the runtime's to declare: a pod may not bring its own.
	for _, tt := range []struct {
		name    string
		pod     *corev1.Pod
		wantErr string
	}{
		{"overhead without a class", newPod("web", func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu=1") }),
			`pods "web" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead`},
		{"overhead with a class that has none", withClass("runc", func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu=1") }),
			`pods "web" is forbidden: pod rejected: Pod Overhead set without corresponding RuntimeClass defined Overhead`},
		{"the class's overhead", withClass("gvisor", func(p *corev1.Pod) { p.Spec.Overhead = rl("cpu=250m", "memory=120Mi") }), ""},
		{"no overhead", newPod("web"), ""},
	} {
		t.Run("validate "+tt.name, func(t *testing.T) {
			err := (RuntimeClass{newReader(gvisor, plain)}).Validate(context.Background(), create(podsResource, tt.pod))
			wantForbidden(t, err, tt.wantErr)
		})
	}
	// The pod's overhead is a copy: changing it leaves the class alone.
	p := withClass("gvisor")
	if err := (RuntimeClass{newReader(gvisor)}).Admit(context.Background(), create(podsResource, p)); err != nil {
		t.Fatal(err)
	}
	p.Spec.Overhead[corev1.ResourceCPU] = *ptrTo(rl("cpu=9")["cpu"])
	if q := gvisor.Overhead.PodFixed[corev1.ResourceCPU]; q.String() != "250m" {
		t.Errorf("the RuntimeClass's overhead changed with the pod's: %s", q.String())
	}
}
