package statefulset

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"

	"skiff.dev/skiff/internal/controller/history"
)

func TestPlanRevisions(t *testing.T) {
	withImage := func(img string) *appsv1.StatefulSet {
		s := mkSet(1)
		s.Spec.Template.Spec.Containers[0].Image = img
		return s
	}
	revOf := func(img string, n int64) *appsv1.ControllerRevision {
		r, err := NewRevision(withImage(img), n, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	v1, v2 := revOf("img:1", 1), revOf("img:2", 2)
	for _, tc := range []struct {
		name         string
		image        string
		revisions    []*appsv1.ControllerRevision
		current      string
		wantUpdate   string
		wantCreate   bool
		wantRenumber int64
		wantCurrent  string
	}{
		{name: "no history: create the first", image: "img:1", wantUpdate: v1.Name, wantCreate: true},
		{name: "unchanged template reuses the latest", image: "img:2", revisions: []*appsv1.ControllerRevision{v1, v2}, current: v1.Name,
			wantUpdate: v2.Name, wantCurrent: v1.Name},
		{name: "a rollback renumbers the older revision", image: "img:1", revisions: []*appsv1.ControllerRevision{v1, v2}, current: v2.Name,
			wantUpdate: v1.Name, wantRenumber: 3, wantCurrent: v2.Name},
		{name: "a new template makes a new revision", image: "img:3", revisions: []*appsv1.ControllerRevision{v1, v2}, current: v2.Name,
			wantUpdate: revOf("img:3", 3).Name, wantCreate: true, wantCurrent: v2.Name},
		{name: "an unknown current revision is none", image: "img:2", revisions: []*appsv1.ControllerRevision{v1, v2}, current: "web-gone",
			wantUpdate: v2.Name},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := withImage(tc.image)
			set.Status.CurrentRevision = tc.current
			history.Sort(tc.revisions)
			p, err := PlanRevisions(set, tc.revisions)
			if err != nil {
				t.Fatal(err)
			}
			cur := ""
			if p.Current != nil {
				cur = p.Current.Name
			}
			if p.Update.Name != tc.wantUpdate || p.Create != tc.wantCreate || p.Renumber != tc.wantRenumber || cur != tc.wantCurrent {
				t.Errorf("got update %s create %v renumber %d current %q; want %s %v %d %q",
					p.Update.Name, p.Create, p.Renumber, cur, tc.wantUpdate, tc.wantCreate, tc.wantRenumber, tc.wantCurrent)
			}
			if p.Create && (p.Update.Revision != history.Next(tc.revisions) || metaController(p.Update) != "set-uid") {
				t.Errorf("new revision %d owned by %s", p.Update.Revision, metaController(p.Update))
			}
		})
	}
}

func metaController(r *appsv1.ControllerRevision) string {
	for _, o := range r.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			return string(o.UID)
		}
	}
	return ""
}

func TestTemplateOf(t *testing.T) {
	set := mkSet(1)
	r, err := NewRevision(set, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := TemplateOf(r)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.Spec.Containers[0].Image != "img:2" || tmpl.Labels["app"] != "web" {
		t.Errorf("template %+v", tmpl)
	}
	if _, err := TemplateOf(&appsv1.ControllerRevision{}); err == nil {
		t.Error("a revision without data decoded")
	}
}
