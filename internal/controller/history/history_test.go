package history

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes/fake"
)

var stsKind = appsv1.SchemeGroupVersion.WithKind("StatefulSet")

func parent() *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "uid-web"}}
}

func rev(name string, n int64, data string, created time.Time) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", CreationTimestamp: metav1.NewTime(created)},
		Data:       runtime.RawExtension{Raw: []byte(data)},
		Revision:   n,
	}
}

func names(rs []*appsv1.ControllerRevision) string {
	var s []string
	for _, r := range rs {
		s = append(s, r.Name)
	}
	return strings.Join(s, ",")
}

func TestTemplatePatch(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
	b, err := TemplatePatch(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `{"spec":{"template":{"$patch":"replace","metadata":`) {
		t.Errorf("patch %s: want spec.template replaced, keys sorted", s)
	}
	var back struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Spec.Template.Spec.Containers[0].Image != "nginx" || back.Spec.Template.Labels["app"] != "web" {
		t.Errorf("patch does not carry the template: %s", s)
	}
	again, _ := TemplatePatch(tmpl)
	if string(again) != s {
		t.Errorf("patch not deterministic")
	}
}

func TestHash(t *testing.T) {
	fnvOf := func(s string) string {
		h := fnv.New32()
		h.Write([]byte(s))
		return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
	}
	one, two := int32(1), int32(2)
	for _, tc := range []struct {
		name  string
		data  string
		count *int32
		want  string
	}{
		{"no count hashes the data alone", "abc", nil, fnvOf("abc")},
		{"a count is appended in decimal", "abc", &one, fnvOf("abc1")},
		{"another count, another hash", "abc", &two, fnvOf("abc2")},
		{"empty data", "", nil, fnvOf("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Hash([]byte(tc.data), tc.count); got != tc.want {
				t.Errorf("Hash = %q, want %q", got, tc.want)
			}
		})
	}
	if Hash([]byte("abc"), nil) == Hash([]byte("abc"), &one) {
		t.Error("collision count does not change the hash")
	}
}

func TestName(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct{ parent, want string }{
		{"web", "web-h"},
		{long, strings.Repeat("a", 223) + "-h"},
	} {
		if got := Name(tc.parent, "h"); got != tc.want {
			t.Errorf("Name(%d bytes) = %d bytes, want %d", len(tc.parent), len(got), len(tc.want))
		}
	}
}

func TestNew(t *testing.T) {
	count := int32(3)
	r := New(parent(), stsKind, map[string]string{"app": "web"}, []byte("d"), 7, &count)
	hash := Hash([]byte("d"), &count)
	if r.Name != "web-"+hash || r.Namespace != "ns" || r.Revision != 7 || r.Labels["app"] != "web" || r.Labels[HashLabel] != hash {
		t.Errorf("New = %+v", r.ObjectMeta)
	}
	ref := metav1.GetControllerOf(r)
	if ref == nil || ref.UID != "uid-web" || ref.Kind != "StatefulSet" || ref.APIVersion != "apps/v1" || !*ref.BlockOwnerDeletion {
		t.Errorf("controller ref = %+v", ref)
	}
}

func TestSortAndNext(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name     string
		in       []*appsv1.ControllerRevision
		wantSort string
		wantNext int64
	}{
		{"empty", nil, "", 1},
		{"by revision", []*appsv1.ControllerRevision{rev("c", 3, "", t0), rev("a", 1, "", t0), rev("b", 2, "", t0)}, "a,b,c", 4},
		{"ties by creation time", []*appsv1.ControllerRevision{rev("x", 2, "", t0.Add(time.Second)), rev("y", 2, "", t0)}, "y,x", 3},
		{"then by name", []*appsv1.ControllerRevision{rev("n2", 5, "", t0), rev("n1", 5, "", t0)}, "n1,n2", 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Next(tc.in); got != tc.wantNext {
				t.Errorf("Next = %d, want %d", got, tc.wantNext)
			}
			Sort(tc.in)
			if got := names(tc.in); got != tc.wantSort {
				t.Errorf("Sort = %s, want %s", got, tc.wantSort)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	t0 := time.Unix(0, 0)
	a, b, c := rev("a", 1, "x", t0), rev("b", 2, "x", t0), rev("c", 3, "y", t0)
	for _, tc := range []struct {
		name string
		l, r *appsv1.ControllerRevision
		want bool
	}{
		{"same data", a, b, true},
		{"other data", a, c, false},
		{"nil and nil", nil, nil, true},
		{"nil and one", a, nil, false},
	} {
		if got := Equal(tc.l, tc.r); got != tc.want {
			t.Errorf("%s: Equal = %v", tc.name, got)
		}
	}
	if got := names(FindEqual([]*appsv1.ControllerRevision{a, b, c}, rev("n", 0, "x", t0))); got != "a,b" {
		t.Errorf("FindEqual = %s", got)
	}
}

func TestClaim(t *testing.T) {
	t0 := time.Unix(0, 0)
	p := parent()
	sel := labels.SelectorFromSet(labels.Set{"app": "web"})
	mk := func(name string, lbl string, owner types.UID) *appsv1.ControllerRevision {
		r := rev(name, 1, "", t0)
		r.Labels = map[string]string{"app": lbl}
		if owner != "" {
			r.OwnerReferences = []metav1.OwnerReference{{UID: owner, Name: "o", Kind: "StatefulSet", Controller: new(bool)}}
			*r.OwnerReferences[0].Controller = true
		}
		return r
	}
	deleting := mk("orphan-deleting", "web", "")
	deleting.DeletionTimestamp = &metav1.Time{Time: t0}
	all := []*appsv1.ControllerRevision{
		mk("mine", "web", "uid-web"),
		mk("mine-unmatched", "db", "uid-web"),
		mk("orphan", "web", ""),
		mk("orphan-unmatched", "db", ""),
		mk("theirs", "web", "uid-other"),
		deleting,
	}
	owned, adopt, release := Claim(all, p, sel)
	if names(owned) != "mine" || names(adopt) != "orphan" || names(release) != "mine-unmatched" {
		t.Errorf("Claim = owned %s, adopt %s, release %s", names(owned), names(adopt), names(release))
	}
	p.DeletionTimestamp = &metav1.Time{Time: t0}
	if _, adopt, _ := Claim(all, p, sel); len(adopt) != 0 {
		t.Errorf("an owner being deleted adopts %s", names(adopt))
	}
}

func TestTruncate(t *testing.T) {
	t0 := time.Unix(0, 0)
	var revs []*appsv1.ControllerRevision
	for i, n := range []string{"r1", "r2", "r3", "r4", "r5"} {
		revs = append(revs, rev(n, int64(i+1), "", t0))
	}
	for _, tc := range []struct {
		name  string
		live  []string
		limit int
		want  string
	}{
		{"under the limit", []string{"r5"}, 10, ""},
		{"oldest go first", []string{"r5"}, 2, "r1,r2"},
		{"live ones are kept and not counted", []string{"r1", "r5"}, 1, "r2,r3"},
		{"limit zero keeps only live", []string{"r3", "r4"}, 0, "r1,r2,r5"},
		{"negative is zero", nil, -1, "r1,r2,r3,r4,r5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := map[string]bool{}
			for _, n := range tc.live {
				live[n] = true
			}
			if got := names(Truncate(revs, live, tc.limit)); got != tc.want {
				t.Errorf("Truncate = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	ctx := context.Background()
	p := parent()
	data := []byte(`{"spec":{"template":{"$patch":"replace"}}}`)
	for _, tc := range []struct {
		name      string
		existing  func() []runtime.Object
		wantCount int32
		wantNew   bool
	}{
		{"free name", func() []runtime.Object { return nil }, 0, true},
		{"same data already there is returned", func() []runtime.Object {
			return []runtime.Object{New(p, stsKind, nil, data, 1, new(int32))}
		}, 0, false},
		{"other data under the name bumps the count", func() []runtime.Object {
			squatter := New(p, stsKind, nil, data, 1, new(int32))
			squatter.Data.Raw = []byte(`{"other":true}`)
			return []runtime.Object{squatter}
		}, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewSimpleClientset(tc.existing()...)
			c := cs.AppsV1().ControllerRevisions("ns")
			count := int32(0)
			r, err := Create(ctx, c, New(p, stsKind, map[string]string{"app": "web"}, data, 2, &count), &count)
			if err != nil {
				t.Fatal(err)
			}
			if count != tc.wantCount {
				t.Errorf("collisionCount = %d, want %d", count, tc.wantCount)
			}
			if want := Name("web", Hash(data, &count)); r.Name != want {
				t.Errorf("name %s, want %s", r.Name, want)
			}
			if tc.wantNew != (r.Revision == 2) {
				t.Errorf("revision %d: created anew = %v, want %v", r.Revision, r.Revision == 2, tc.wantNew)
			}
			if string(r.Data.Raw) != string(data) {
				t.Errorf("data %s", r.Data.Raw)
			}
		})
	}
}

func TestSetRevisionAndDelete(t *testing.T) {
	ctx := context.Background()
	r := New(parent(), stsKind, nil, []byte("d"), 1, new(int32))
	r.UID = "uid-r"
	cs := fake.NewSimpleClientset(r)
	c := cs.AppsV1().ControllerRevisions("ns")
	got, err := SetRevision(ctx, c, r, 5)
	if err != nil || got.Revision != 5 {
		t.Fatalf("SetRevision = %v, %v", got, err)
	}
	if stored, _ := c.Get(ctx, r.Name, metav1.GetOptions{}); stored.Revision != 5 {
		t.Errorf("stored revision %d", stored.Revision)
	}
	if err := Delete(ctx, c, r); err != nil {
		t.Fatal(err)
	}
	if err := Delete(ctx, c, r); err != nil {
		t.Errorf("deleting a gone revision: %v", err)
	}
}
