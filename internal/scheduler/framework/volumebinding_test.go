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
