package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

// volumes is a VolumeLister over maps.
type volumes struct {
	pvcs    map[string]*corev1.PersistentVolumeClaim
	pvs     map[string]*corev1.PersistentVolume
	classes map[string]*storagev1.StorageClass
}

func (v volumes) PersistentVolumeClaim(ns, name string) *corev1.PersistentVolumeClaim {
	return v.pvcs[ns+"/"+name]
}
func (v volumes) PersistentVolume(name string) *corev1.PersistentVolume { return v.pvs[name] }
func (v volumes) StorageClass(name string) *storagev1.StorageClass      { return v.classes[name] }

func claim(name, volume, class string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec:       corev1.PersistentVolumeClaimSpec{VolumeName: volume, AccessModes: modes},
	}
	if class != "" {
		c.Spec.StorageClassName = &class
	}
	return c
}

func pv(name string, mutate ...func(*corev1.PersistentVolume)) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	for _, m := range mutate {
		m(v)
	}
	return v
}

func pvNodeAffinity(key string, values ...string) func(*corev1.PersistentVolume) {
	return func(v *corev1.PersistentVolume) {
		v.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: corev1.NodeSelectorOpIn, Values: values}},
		}}}}
	}
}

func usesClaims(names ...string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		for _, n := range names {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: n,
				VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: n}}})
		}
	}
}

func TestVolumeFilters(t *testing.T) {
	wffc, immediate := storagev1.VolumeBindingWaitForFirstConsumer, storagev1.VolumeBindingImmediate
	lister := volumes{
		pvcs: map[string]*corev1.PersistentVolumeClaim{
			"default/bound-z1":  claim("bound-z1", "pv-z1", ""),
			"default/zoned":     claim("zoned", "pv-zoned", ""),
			"default/dangling":  claim("dangling", "pv-missing", ""),
			"default/late":      claim("late", "", "wffc"),
			"default/immediate": claim("immediate", "", "fast"),
			"default/nameless":  claim("nameless", "", "nowhere"),
			"default/exclusive": claim("exclusive", "pv-free", "", corev1.ReadWriteOncePod),
			"default/terminating": func() *corev1.PersistentVolumeClaim {
				c := claim("terminating", "pv-free", "")
				c.DeletionTimestamp = &metav1.Time{}
				return c
			}(),
		},
		pvs: map[string]*corev1.PersistentVolume{
			"pv-z1": pv("pv-z1", pvNodeAffinity(corev1.LabelTopologyZone, "z1")),
			"pv-zoned": pv("pv-zoned", func(v *corev1.PersistentVolume) {
				v.Labels[corev1.LabelFailureDomainBetaZone] = "z2__z3"
			}),
			"pv-free": pv("pv-free"),
		},
		classes: map[string]*storagev1.StorageClass{
			"wffc": {ObjectMeta: metav1.ObjectMeta{Name: "wffc"}, VolumeBindingMode: &wffc},
			"fast": {ObjectMeta: metav1.ObjectMeta{Name: "fast"}, VolumeBindingMode: &immediate},
		},
	}
	nodes := []*corev1.Node{node("a", zone("z1")), node("b", zone("z2")), node("c")}
	gce := func(name string, readOnly bool) func(*corev1.Pod) {
		return func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "disk", VolumeSource: corev1.VolumeSource{
				GCEPersistentDisk: &corev1.GCEPersistentDiskVolumeSource{PDName: name, ReadOnly: readOnly}}})
		}
	}
	tests := []struct {
		name     string
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     verdicts // key "": the PreFilter rejected the pod
	}{
		{"no volumes", nil, pod("p"), verdicts{"a": "", "b": "", "c": ""}},
		{"missing claim", nil, pod("p", usesClaims("nope")), verdicts{"": `persistentvolumeclaim "nope" not found`}},
		{"terminating claim", nil, pod("p", usesClaims("terminating")), verdicts{"": `persistentvolumeclaim "terminating" is being deleted`}},
		{"ephemeral volume's claim not created yet", nil, pod("p", func(p *corev1.Pod) {
			p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "scratch",
				VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
		}), verdicts{"": `waiting for ephemeral volume controller to create the persistentvolumeclaim "p-scratch"`}},
		{"unbound immediate claim", nil, pod("p", usesClaims("immediate")), verdicts{"": framework.ReasonUnboundImmediatePVCs}},
		{"unknown storage class", nil, pod("p", usesClaims("nameless")), verdicts{"": `storageclass.storage.k8s.io "nowhere" not found`}},
		{"unbound WaitForFirstConsumer claim fits anywhere", nil, pod("p", usesClaims("late")), verdicts{"a": "", "b": "", "c": ""}},
		{"bound PV's node affinity", nil, pod("p", usesClaims("bound-z1")),
			verdicts{"a": "", "b": framework.ReasonVolumeNodeConflict, "c": framework.ReasonVolumeNodeConflict}},
		{"claim bound to a missing PV", nil, pod("p", usesClaims("dangling")),
			verdicts{"a": framework.ReasonVolumePVNotExist, "b": framework.ReasonVolumePVNotExist, "c": framework.ReasonVolumePVNotExist}},
		{"PV zone labels; unlabelled nodes fit", nil, pod("p", usesClaims("zoned")),
			verdicts{"a": framework.ReasonVolumeZoneConflict, "b": "", "c": ""}},
		{"ReadWriteOncePod claim in use", []*corev1.Pod{pod("owner", on("a"), usesClaims("exclusive"))}, pod("p", usesClaims("exclusive")),
			verdicts{"a": framework.ReasonReadWriteOncePod, "b": framework.ReasonReadWriteOncePod, "c": framework.ReasonReadWriteOncePod}},
		{"ReadWriteOncePod claim free", nil, pod("p", usesClaims("exclusive")), verdicts{"a": "", "b": "", "c": ""}},
		{"same GCE disk", []*corev1.Pod{pod("owner", on("a"), gce("d1", false))}, pod("p", gce("d1", false)),
			verdicts{"a": framework.ReasonDiskConflict, "b": "", "c": ""}},
		{"same GCE disk read-only on both", []*corev1.Pod{pod("owner", on("a"), gce("d1", true))}, pod("p", gce("d1", true)),
			verdicts{"a": "", "b": "", "c": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshot(nodes, tt.existing...)
			snap := framework.NewSnapshot(s.NodeInfos(), lister)
			checkVerdicts(t, framework.FilterAll(newFramework(), tt.pod, snap), tt.want)
		})
	}
}

func TestVolumesWithoutLister(t *testing.T) {
	got := framework.FilterAll(newFramework(), pod("p", usesClaims("data")), snapshot([]*corev1.Node{node("a")}))
	checkVerdicts(t, got, verdicts{"": `persistentvolumeclaim "data" not found`})
}
