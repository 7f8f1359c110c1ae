package volume

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReleaseClaim(t *testing.T) {
	deleting := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data",
		DeletionTimestamp: &metav1.Time{}, Finalizers: []string{"other", pvcProtectionFinalizer}}}
	pod := func(ns, node string, phase corev1.PodPhase, claim string) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "p"},
			Spec: corev1.PodSpec{NodeName: node, Volumes: []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}}},
			Status: corev1.PodStatus{Phase: phase},
		}
	}
	ephemeral := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"},
		Spec: corev1.PodSpec{NodeName: "n1", Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
			Ephemeral: &corev1.EphemeralVolumeSource{}}}}},
	}
	tests := []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		pods  []*corev1.Pod
		want  bool
	}{
		{"unused", deleting, nil, true},
		{"not being deleted", &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", Finalizers: []string{pvcProtectionFinalizer}}}, nil, false},
		{"no finalizer", &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "data", DeletionTimestamp: &metav1.Time{}}}, nil, false},
		{"running pod uses it", deleting, []*corev1.Pod{pod("ns", "n1", corev1.PodRunning, "data")}, false},
		{"ephemeral volume of a pod", &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-data",
			DeletionTimestamp: &metav1.Time{}, Finalizers: []string{pvcProtectionFinalizer}}}, []*corev1.Pod{ephemeral}, false},
		{"unscheduled pod", deleting, []*corev1.Pod{pod("ns", "", corev1.PodPending, "data")}, true},
		{"finished pod", deleting, []*corev1.Pod{pod("ns", "n1", corev1.PodSucceeded, "data")}, true},
		{"other claim", deleting, []*corev1.Pod{pod("ns", "n1", corev1.PodRunning, "logs")}, true},
		{"other namespace", deleting, []*corev1.Pod{pod("other", "n1", corev1.PodRunning, "data")}, true},
	}
	for _, tt := range tests {
		if got := releaseClaim(tt.claim, tt.pods); got != tt.want {
			t.Errorf("%s: releaseClaim = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := withoutFinalizer(&deleting.ObjectMeta, pvcProtectionFinalizer); !slices.Equal(got, []string{"other"}) || len(deleting.Finalizers) != 2 {
		t.Errorf("withoutFinalizer = %v (argument now %v)", got, deleting.Finalizers)
	}
}

func TestReleaseVolume(t *testing.T) {
	mk := func(deleting bool, phase corev1.PersistentVolumePhase) *corev1.PersistentVolume {
		v := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "v", Finalizers: []string{pvProtectionFinalizer}}, Status: corev1.PersistentVolumeStatus{Phase: phase}}
		if deleting {
			v.DeletionTimestamp = &metav1.Time{}
		}
		return v
	}
	tests := []struct {
		name string
		v    *corev1.PersistentVolume
		want bool
	}{
		{"bound", mk(true, corev1.VolumeBound), false},
		{"released", mk(true, corev1.VolumeReleased), true},
		{"available", mk(true, corev1.VolumeAvailable), true},
		{"not being deleted", mk(false, corev1.VolumeReleased), false},
	}
	for _, tt := range tests {
		if got := releaseVolume(tt.v); got != tt.want {
			t.Errorf("%s: releaseVolume = %v, want %v", tt.name, got, tt.want)
		}
	}
}
