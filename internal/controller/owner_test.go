package controller

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCheckOwner(t *testing.T) {
	cached := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "u1"}}
	now := metav1.Now()
	for _, tc := range []struct {
		name  string
		fresh *appsv1.StatefulSet
		err   error
		want  string // "" for nil
	}{
		{"same and alive", &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{UID: "u1"}}, nil, ""},
		{"replaced", &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{UID: "u2"}}, nil, "original StatefulSet ns/web is gone: got uid u2, wanted u1"},
		{"being deleted", &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{UID: "u1", DeletionTimestamp: &now}}, nil, "StatefulSet ns/web has just been deleted"},
		{"read failed", nil, errors.New("boom"), "boom"},
	} {
		err := CheckOwner("StatefulSet", cached, tc.fresh, tc.err)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
