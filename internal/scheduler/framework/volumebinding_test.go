package framework_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/scheduler/framework"
)

func TestDelayedClaims(t *testing.T) {
	wait, immediate := storagev1.VolumeBindingWaitForFirstConsumer, storagev1.VolumeBindingImmediate
	vols := volumes{
		pvcs: map[string]*corev1.PersistentVolumeClaim{
			"default/wffc":      claim("wffc", "", "local"),
			"default/bound":     claim("bound", "pv-1", "local"),
			"default/immediate": claim("immediate", "", "fast"),
			"default/noclass":   claim("noclass", "", ""),
			"default/web-cache": claim("web-cache", "", "local"),
		},
		classes: map[string]*storagev1.StorageClass{
			"local": {ObjectMeta: metav1.ObjectMeta{Name: "local"}, VolumeBindingMode: &wait},
			"fast":  {ObjectMeta: metav1.ObjectMeta{Name: "fast"}, VolumeBindingMode: &immediate},
		},
	}
	p := pod("web", usesClaims("wffc", "bound", "immediate", "noclass", "missing"), func(p *corev1.Pod) {
		p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "cache", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}})
	})
	var got []string
	for _, c := range framework.DelayedClaims(p, vols) {
		got = append(got, c.Name)
	}
	if len(got) != 2 || got[0] != "wffc" || got[1] != "web-cache" {
		t.Errorf("DelayedClaims = %v, want [wffc web-cache]", got)
	}
	if c := framework.DelayedClaims(pod("plain"), vols); c != nil {
		t.Errorf("DelayedClaims of a pod without claims = %v", c)
	}
}

func TestClaimBound(t *testing.T) {
	n1 := node("n1")
	done := func(name, volume string) *corev1.PersistentVolumeClaim {
		c := claim(name, volume, "local")
		c.Annotations = map[string]string{framework.AnnBindCompleted: "yes", framework.AnnSelectedNode: "n1"}
		return c
	}
	selected := claim("selected", "", "local")
	selected.Annotations = map[string]string{framework.AnnSelectedNode: "n1"}
	deleting := done("deleting", "pv-here")
	deleting.DeletionTimestamp = &metav1.Time{}
	vols := volumes{
		pvcs: map[string]*corev1.PersistentVolumeClaim{
			"default/selected":  selected,
			"default/half":      claim("half", "pv-here", "local"), // volumeName set, not completed
			"default/here":      done("here", "pv-here"),
			"default/elsewhere": done("elsewhere", "pv-there"),
			"default/lagging":   done("lagging", "pv-unseen"),
			"default/deleting":  deleting,
		},
		pvs: map[string]*corev1.PersistentVolume{
			"pv-here":  pv("pv-here", pvNodeAffinity(corev1.LabelHostname, "n1")),
			"pv-there": pv("pv-there", pvNodeAffinity(corev1.LabelHostname, "n2")),
		},
	}
	tests := []struct {
		claim   string
		bound   bool
		wantErr bool
	}{
		{"selected", false, false},
		{"half", false, false},
		{"here", true, false},
		{"elsewhere", false, true},
		{"lagging", false, false},
		{"deleting", false, true},
		{"missing", false, true},
	}
	for _, tt := range tests {
		bound, err := framework.ClaimBound(vols, "default", tt.claim, n1)
		if bound != tt.bound || (err != nil) != tt.wantErr {
			t.Errorf("ClaimBound(%s) = %v, %v; want %v, error %v", tt.claim, bound, err, tt.bound, tt.wantErr)
		}
	}
}

// listedVolumes also lists its volumes, as the scheduler's lister does.
type listedVolumes struct{ volumes }

func (v listedVolumes) PersistentVolumes() []*corev1.PersistentVolume {
	var out []*corev1.PersistentVolume
	for _, pv := range v.pvs {
		out = append(out, pv)
	}
	return out
}

func TestVolumeBindingDelayedClaims(t *testing.T) {
	wait := storagev1.VolumeBindingWaitForFirstConsumer
	available := func(class string, mutate ...func(*corev1.PersistentVolume)) func(*corev1.PersistentVolume) {
		return func(v *corev1.PersistentVolume) {
			v.Spec.StorageClassName = class
			v.Status.Phase = corev1.VolumeAvailable
			for _, m := range mutate {
				m(v)
			}
		}
	}
	vols := volumes{
		pvcs: map[string]*corev1.PersistentVolumeClaim{
			"default/static":   claim("static", "", "local-storage"),
			"default/orphaned": claim("orphaned", "", "nowhere-static"),
			"default/zonal":    claim("zonal", "", "zonal"),
			"default/anywhere": claim("anywhere", "", "local-path"),
		},
		pvs: map[string]*corev1.PersistentVolume{
			"pv-a": pv("pv-a", pvNodeAffinity(corev1.LabelHostname, "a"), available("local-storage")),
			"pv-b-taken": pv("pv-b-taken", pvNodeAffinity(corev1.LabelHostname, "b"), available("nowhere-static", func(v *corev1.PersistentVolume) {
				v.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "default", Name: "someone-else"}
			})),
		},
		classes: map[string]*storagev1.StorageClass{
			"local-storage":  {ObjectMeta: metav1.ObjectMeta{Name: "local-storage"}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: &wait},
			"nowhere-static": {ObjectMeta: metav1.ObjectMeta{Name: "nowhere-static"}, Provisioner: "kubernetes.io/no-provisioner", VolumeBindingMode: &wait},
			"zonal": {ObjectMeta: metav1.ObjectMeta{Name: "zonal"}, Provisioner: "example.com/zonal", VolumeBindingMode: &wait,
				AllowedTopologies: []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
					{Key: corev1.LabelTopologyZone, Values: []string{"z2", "z9"}}}}}},
			"local-path": {ObjectMeta: metav1.ObjectMeta{Name: "local-path"}, Provisioner: "rancher.io/local-path", VolumeBindingMode: &wait},
		},
	}
	nodes := []*corev1.Node{node("a", zone("z1")), node("b", zone("z2")), node("c")}
	conflict := framework.ReasonBindConflict
	tests := []struct {
		name   string
		lister framework.VolumeLister
		pod    *corev1.Pod
		want   verdicts
	}{
		{"static volume on one node", listedVolumes{vols}, pod("p", usesClaims("static")), verdicts{"a": "", "b": conflict, "c": conflict}},
		{"static volume claimed by another", listedVolumes{vols}, pod("p", usesClaims("orphaned")), verdicts{"a": conflict, "b": conflict, "c": conflict}},
		{"no volume list: no static volume anywhere", vols, pod("p", usesClaims("static")), verdicts{"a": conflict, "b": conflict, "c": conflict}},
		{"allowed topologies", listedVolumes{vols}, pod("p", usesClaims("zonal")), verdicts{"a": conflict, "b": "", "c": conflict}},
		{"provisioned anywhere", listedVolumes{vols}, pod("p", usesClaims("anywhere")), verdicts{"a": "", "b": "", "c": ""}},
		{"both claims", listedVolumes{vols}, pod("p", usesClaims("static", "zonal")), verdicts{"a": conflict, "b": conflict, "c": conflict}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap := framework.NewSnapshot(snapshot(nodes).NodeInfos(), tt.lister)
			checkVerdicts(t, framework.FilterAll(newFramework(), tt.pod, snap), tt.want)
		})
	}
}
