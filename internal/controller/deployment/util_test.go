package deployment

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/rand"
)

func TestComputeHash(t *testing.T) {
	d := deploy(1, "", "")
	h := ComputeHash(&d.Spec.Template, nil)
	if h != ComputeHash(&d.Spec.Template, nil) {
		t.Fatal("the hash is not stable")
	}
	if strings.Trim(h, "bcdfghjklmnpqrstvwxz2456789") != "" || len(h) == 0 || len(h) > 10 {
		t.Errorf("hash %q is not a SafeEncodeString of a uint32", h)
	}
	zero := int32(0)
	if ComputeHash(&d.Spec.Template, &zero) == h {
		t.Error("a collision count must change the hash")
	}
	other := d.Spec.Template.DeepCopy()
	other.Spec.Containers[0].Image = "nginx:2"
	if ComputeHash(other, nil) == h {
		t.Error("a different template must hash differently")
	}
	_ = rand.SafeEncodeString // the alphabet above is its alphanums
}

func TestNewReplicaSet(t *testing.T) {
	d := deploy(4, "25%", "25%")
	d.Annotations = map[string]string{"team": "a", "kubectl.kubernetes.io/last-applied-configuration": "{}", RevisionAnnotation: "7"}
	old := rs("old", 4, 4, time.Hour, 4, 5)
	r := NewReplicaSet(d, []*appsv1.ReplicaSet{old}, 2)
	hash := ComputeHash(&d.Spec.Template, nil)
	if r.Name != "web-"+hash || r.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash ||
		r.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || r.Spec.Template.Labels["app"] != "web" {
		t.Errorf("name/labels/selector: %s %v %v", r.Name, r.Labels, r.Spec.Selector)
	}
	if d.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != "" || d.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != "" {
		t.Error("the Deployment's template or selector was modified")
	}
	ref := r.OwnerReferences[0]
	if ref.Kind != "Deployment" || ref.UID != "d-uid" || !*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("owner %+v", ref)
	}
	// 4 + surge 1 = 5 allowed, the old holds 4: the new starts at 1.
	if *r.Spec.Replicas != 1 {
		t.Errorf("replicas %d, want 1", *r.Spec.Replicas)
	}
	want := map[string]string{"team": "a", RevisionAnnotation: "2", DesiredReplicasAnnotation: "4", MaxReplicasAnnotation: "5"}
	for k, v := range want {
		if r.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, r.Annotations[k], v)
		}
	}
	if len(r.Annotations) != len(want) {
		t.Errorf("annotations %v", r.Annotations)
	}
}

func TestRollbackRevisionHistory(t *testing.T) {
	d := deploy(1, "", "")
	r := rs("r", 0, 0, time.Hour, -1, -1)
	r.Annotations[RevisionAnnotation] = "1"
	if !setNewReplicaSetAnnotations(d, r, 3, true) {
		t.Fatal("a new revision is a change")
	}
	if r.Annotations[RevisionAnnotation] != "3" || r.Annotations[RevisionHistoryAnnotation] != "1" {
		t.Errorf("annotations %v", r.Annotations)
	}
	setNewReplicaSetAnnotations(d, r, 5, true)
	if r.Annotations[RevisionHistoryAnnotation] != "1,3" {
		t.Errorf("history %q", r.Annotations[RevisionHistoryAnnotation])
	}
	if setNewReplicaSetAnnotations(d, r, 4, true) {
		t.Error("a lower revision changes nothing")
	}
}

func TestFindNewReplicaSet(t *testing.T) {
	d := deploy(1, "", "")
	a, b, c := rs("a", 0, 0, 3*time.Hour, -1, -1), rs("b", 0, 0, 2*time.Hour, -1, -1), rs("c", 0, 0, time.Hour, -1, -1)
	a.Spec.Template = *d.Spec.Template.DeepCopy()
	a.Spec.Template.Spec.Containers[0].Image = "old"
	b.Spec.Template = *d.Spec.Template.DeepCopy()
	b.Spec.Template.Labels[appsv1.DefaultDeploymentUniqueLabelKey] = "xyz" // ignored
	c.Spec.Template = *d.Spec.Template.DeepCopy()
	rss := []*appsv1.ReplicaSet{c, a, b}
	if got := FindNewReplicaSet(d, rss); got != b {
		t.Errorf("new %v, want the oldest matching, b", got.Name)
	}
	if got := FindOldReplicaSets(d, rss); len(got) != 2 {
		t.Errorf("old %d, want 2", len(got))
	}
}
