package apiserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/controlplane"
	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/storage/embedded"
)

// allResources is a server with every resource the control plane serves
// and their OpenAPI schemas published, as `skiff up` runs, by kind.
func allResources(t testing.TB) (*apiserver.Server, map[schema.GroupVersionKind]*registry.Store) {
	t.Helper()
	st, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := apiserver.New(st, apiserver.VersionInfo{GitVersion: "v1.37.2+skiff"})
	stores := make(map[schema.GroupVersionKind]*registry.Store)
	for _, r := range controlplane.Resources() {
		rs, err := s.Register(r)
		if err != nil {
			t.Fatal(err)
		}
		stores[r.GVK()] = rs
	}
	if err := s.PublishOpenAPI(); err != nil {
		t.Fatal(err)
	}
	return s, stores
}

// compareCreateTracking tracks the create of obj by manager both ways, on
// copies, and fails t unless the two objects encode to the same bytes once
// their managed-fields times are made equal. It reports whether the fast
// path took the create.
func compareCreateTracking(t *testing.T, s *apiserver.Server, res *registry.Resource, subresource string, obj runtime.Object, manager string) bool {
	t.Helper()
	fast, generic := obj.DeepCopyObject(), obj.DeepCopyObject()
	before := time.Now().Add(-time.Second)
	took, err := s.TrackCreate(res, subresource, fast, manager, true)
	if err != nil {
		t.Fatal(err)
	}
	if !took {
		// The mutator then runs the chain: the result is the chain's.
		unchanged := obj.DeepCopyObject()
		unchanged.GetObjectKind().SetGroupVersionKind(res.GVK())
		if !equalJSON(t, fast, unchanged) {
			t.Errorf("the fast path declined but changed the object")
		}
		if _, err := s.TrackCreate(res, subresource, fast, manager, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.TrackCreate(res, subresource, generic, manager, false); err != nil {
		t.Fatal(err)
	}
	fixed := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	for _, o := range []runtime.Object{fast, generic} {
		m, _ := meta.Accessor(o)
		entries := m.GetManagedFields()
		for i := range entries {
			if entries[i].Time == nil {
				continue // a client's entry, kept
			}
			if entries[i].Time.Before(&metav1.Time{Time: before}) || entries[i].Time.Location() != time.UTC {
				t.Errorf("managed fields time %v: want now, in UTC", entries[i].Time)
			}
			entries[i].Time = &fixed
		}
	}
	if !equalJSON(t, fast, generic) {
		f, _ := json.Marshal(fast)
		g, _ := json.Marshal(generic)
		t.Errorf("manager %q: fast path (took %v)\n%s\ngeneric chain\n%s", manager, took, f, g)
	}
	return took
}

func equalJSON(t *testing.T, a, b runtime.Object) bool {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(ja, jb)
}

// createThrough runs the store's create of obj in dry-run mode, calling
// check on the object where the create path tracks managed fields: decoded,
// with the server's metadata set and defaulted.
func createThrough(t *testing.T, rs *registry.Store, obj runtime.Object, check func(obj runtime.Object)) {
	t.Helper()
	m, err := meta.Accessor(obj)
	if err != nil {
		t.Fatal(err)
	}
	ns := m.GetNamespace()
	if rs.Resource.Namespaced && ns == "" {
		ns = "default"
	}
	called := false
	opts := registry.WriteOptions{DryRun: true, Mutate: func(_ context.Context, obj, old runtime.Object) error {
		if old != nil {
			t.Errorf("create mutates with an old object")
		}
		called = true
		check(obj)
		return nil
	}}
	if _, err := rs.Create(context.Background(), ns, obj, opts); err != nil {
		t.Logf("dry-run create: %v", err)
	}
	if !called {
		t.Errorf("the create did not track managed fields")
	}
}

// TestCreateTrackingManifests: for every realistic manifest, the fast path
// of create tracking takes the create and stores what the chain would.
func TestCreateTrackingManifests(t *testing.T) {
	s, stores := allResources(t)
	files, err := filepath.Glob("../../test/e2e/testdata/manifests/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("manifests: %v %v", files, err)
	}
	kinds := map[string]bool{}
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, gvk, err := apiserver.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				t.Fatalf("%s #%d: %v", file, i, err)
			}
			rs, ok := stores[*gvk]
			if !ok {
				t.Fatalf("%s #%d: %v is not served", file, i, gvk)
			}
			n++
			kinds[gvk.Kind] = true
			t.Run(fmt.Sprintf("%s#%d", filepath.Base(file), i), func(t *testing.T) {
				createThrough(t, rs, obj, func(obj runtime.Object) {
					for _, manager := range []string{"kubectl-create", "", "kube-controller-manager"} {
						if !compareCreateTracking(t, s, rs.Resource, "", obj, manager) {
							t.Errorf("manager %q: the fast path declined a valid manifest", manager)
						}
					}
					// Subresource writers are named in their entry.
					if !compareCreateTracking(t, s, rs.Resource, "status", obj, "kubelet") {
						t.Errorf("status: the fast path declined a valid manifest")
					}
				})
			})
		}
	}
	t.Logf("%d objects of %d kinds", n, len(kinds))
}

// TestCreateTrackingGenerated: ConfigMaps, Secrets and Pods of random
// shapes, with unusual managers and managed fields the client sent.
func TestCreateTrackingGenerated(t *testing.T) {
	s, stores := allResources(t)
	g := &gen{rand.New(rand.NewPCG(1, 2))}
	managers := []string{"kubectl", "", "unknown", "<b>&amp;</b>", "ünïcödé\u2028", "with \"quotes\""}
	edges := []runtime.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "name-only"}}, // no entry at all
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "empty", Labels: map[string]string{}}, Data: map[string]string{}, BinaryData: map[string][]byte{}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "type-only"}, Type: corev1.SecretTypeOpaque},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "no-containers"}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "empty-containers"}, Spec: corev1.PodSpec{Containers: []corev1.Container{}}},
	}
	for i := 0; i < 300+len(edges); i++ {
		var obj runtime.Object
		if i < len(edges) {
			obj = edges[i]
		} else {
			obj = g.object(i)
		}
		gvk := corev1.SchemeGroupVersion.WithKind(strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1."))
		rs := stores[gvk]
		manager := managers[g.Uint32()%uint32(len(managers))]
		wantFast := true
		m, _ := meta.Accessor(obj)
		switch g.IntN(10) {
		case 0: // an invalid name: the chain's JSON would replace the byte
			manager = "bad\xff"
			wantFast = false
		case 1: // a client's managed fields, which the chain keeps
			m.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: "other", Operation: metav1.ManagedFieldsOperationApply, APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{}}}`)}}})
			wantFast = false
		case 2: // an empty list resets them
			m.SetManagedFields([]metav1.ManagedFieldsEntry{})
		}
		t.Run(fmt.Sprintf("%d-%s", i, gvk.Kind), func(t *testing.T) {
			createThrough(t, rs, obj, func(obj runtime.Object) {
				if took := compareCreateTracking(t, s, rs.Resource, "", obj, manager); took != wantFast {
					t.Errorf("fast path took the create: %v, want %v", took, wantFast)
				}
			})
		})
	}
}

// TestCreateTrackingSchemaRejects: a value the schema rejects is left to
// the chain, which logs it and stores the object without managed fields.
func TestCreateTrackingSchemaRejects(t *testing.T) {
	s, stores := allResources(t)
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	s.SchemaWithInteger(gvk, "io.k8s.api.core.v1.ConfigMap", "data")
	rs := stores[gvk]
	for _, tc := range []struct {
		data     map[string]string
		rejected bool
	}{
		{data: map[string]string{"k": "v"}, rejected: true},
		{data: nil, rejected: false},
	} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Labels: map[string]string{"a": "b"}}, Data: tc.data}
		createThrough(t, rs, cm, func(obj runtime.Object) {
			if took := compareCreateTracking(t, s, rs.Resource, "", obj, "kubectl"); took == tc.rejected {
				t.Errorf("data %v: the fast path took the create: %v", tc.data, took)
			}
			generic := obj.DeepCopyObject()
			if _, err := s.TrackCreate(rs.Resource, "", generic, "kubectl", false); err != nil {
				t.Fatal(err)
			}
			if m, _ := meta.Accessor(generic); (m.GetManagedFields() == nil) != tc.rejected {
				t.Errorf("data %v: the chain's managed fields: %v", tc.data, m.GetManagedFields())
			}
		})
	}
}

// TestCreateTrackingConcurrent: creates share each kind's empty typed
// object; run with -race.
func TestCreateTrackingConcurrent(t *testing.T) {
	s, stores := allResources(t)
	rs := stores[corev1.SchemeGroupVersion.WithKind("Pod")]
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		g := &gen{rand.New(rand.NewPCG(uint64(w), 7))}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				pod := g.pod(i)
				rs.Resource.Strategy.Default(pod)
				if took, err := s.TrackCreate(rs.Resource, "", pod, "kubectl", true); err != nil || !took {
					t.Errorf("fast path: %v %v", took, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// gen makes objects of random shapes.
type gen struct{ *rand.Rand }

func (g *gen) object(i int) runtime.Object {
	switch i % 3 {
	case 0:
		return g.configMap(i)
	case 1:
		return g.secret(i)
	}
	return g.pod(i)
}

func (g *gen) word() string {
	words := []string{"a", "app", "app.kubernetes.io/name", "x_y", "k-8", "dots.in.key", "UPPER", "ü", "with space", "0", ""}
	return words[g.IntN(len(words))]
}

func (g *gen) strings(n int) map[string]string {
	if g.IntN(4) == 0 {
		return nil
	}
	m := map[string]string{}
	for j := g.IntN(n + 1); j > 0; j-- {
		m[g.word()+fmt.Sprint(g.IntN(3))] = strings.Repeat(g.word(), g.IntN(4))
	}
	return m
}

func (g *gen) meta(i int) metav1.ObjectMeta {
	m := metav1.ObjectMeta{Name: fmt.Sprintf("o%d", i), Labels: g.strings(4), Annotations: g.strings(3)}
	if g.IntN(3) == 0 {
		m.Name, m.GenerateName = "", "gen-"
	}
	if g.IntN(3) == 0 {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[corev1.LastAppliedConfigAnnotation] = fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"o%d"}}`, i)
	}
	if g.IntN(4) == 0 {
		m.Finalizers = []string{"example.com/f", g.word()}
	}
	if g.IntN(4) == 0 {
		m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: types.UID(fmt.Sprint("uid-", g.IntN(2)))}}
	}
	if g.IntN(5) == 0 {
		m.Namespace = "default"
	}
	return m
}

func (g *gen) configMap(i int) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{ObjectMeta: g.meta(i), Data: g.strings(5)}
	if g.IntN(3) == 0 {
		cm.BinaryData = map[string][]byte{"bin": bytes.Repeat([]byte{0, 0xff}, g.IntN(4))}
	}
	if g.IntN(4) == 0 {
		b := g.IntN(2) == 0
		cm.Immutable = &b
	}
	return cm
}

func (g *gen) secret(i int) *corev1.Secret {
	s := &corev1.Secret{ObjectMeta: g.meta(i), StringData: g.strings(2)}
	if g.IntN(2) == 0 {
		s.Data = map[string][]byte{"tls.crt": []byte("c"), "tls.key": nil}
		s.Type = corev1.SecretTypeTLS
	}
	return s
}

func (g *gen) pod(i int) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: g.meta(i)}
	containers := func(n int) []corev1.Container {
		var cs []corev1.Container
		for j := 0; j < n; j++ {
			c := corev1.Container{Name: fmt.Sprint("c", g.IntN(3)), Image: "nginx", Args: []string{g.word()}}
			for k := g.IntN(3); k > 0; k-- {
				c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprint("E", g.IntN(2)), Value: g.word()})
			}
			for k := g.IntN(3); k > 0; k-- {
				c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: int32(80 + g.IntN(2)), Protocol: []corev1.Protocol{"", "TCP", "UDP"}[g.IntN(3)]})
			}
			if g.IntN(2) == 0 {
				c.Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
			}
			if g.IntN(3) == 0 {
				c.VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/v"}}
			}
			cs = append(cs, c)
		}
		return cs
	}
	p.Spec.Containers = containers(g.IntN(4))
	p.Spec.InitContainers = containers(g.IntN(2))
	if g.IntN(3) == 0 {
		p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	}
	p.Spec.NodeSelector = g.strings(2)
	if g.IntN(3) == 0 {
		p.Spec.Tolerations = []corev1.Toleration{{Key: g.word(), Operator: corev1.TolerationOpExists}}
	}
	if g.IntN(4) == 0 {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{}
	}
	if g.IntN(4) == 0 {
		p.Status.Phase = corev1.PodRunning
	}
	return p
}

// TestFieldManagerConvertsInPlace: updates and applies through the field
// manager that skips Scheme's deep copies give what apimachinery's default
// gives, and leave the live object as it was.
func TestFieldManagerConvertsInPlace(t *testing.T) {
	s, stores := allResources(t)
	g := &gen{rand.New(rand.NewPCG(3, 4))}
	var objs []runtime.Object
	files, _ := filepath.Glob("../../test/e2e/testdata/manifests/valid/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range bytes.Split(data, []byte("\n---")) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			obj, _, err := apiserver.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			objs = append(objs, obj)
		}
	}
	for i := 0; i < 60; i++ {
		objs = append(objs, g.object(i))
	}
	fixTimes := func(o runtime.Object) runtime.Object {
		if m, err := meta.Accessor(o); err == nil {
			fixed := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			entries := m.GetManagedFields()
			for i := range entries {
				entries[i].Time = &fixed
			}
		}
		return o
	}
	for i, obj := range objs {
		applied, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		gvk, err := apiutil(obj)
		if err != nil {
			t.Fatal(err)
		}
		rs := stores[gvk]
		t.Run(fmt.Sprintf("%d-%s", i, gvk.Kind), func(t *testing.T) {
			createThrough(t, rs, obj, func(created runtime.Object) {
				created = created.DeepCopyObject()
				if took, err := s.TrackCreate(rs.Resource, "", created, "creator", true); err != nil || !took {
					t.Fatalf("create: %v %v", took, err)
				}
				updated := created.DeepCopyObject()
				m, _ := meta.Accessor(updated)
				m.SetLabels(map[string]string{"skiff.dev/updated": "yes"})
				m.SetManagedFields(nil)
				before, _ := json.Marshal(created)
				var results [2][]byte
				for j, copying := range []bool{false, true} {
					fm, err := s.FieldManagerFor(rs.Resource, "", copying)
					if err != nil {
						t.Fatal(err)
					}
					out := fm.UpdateNoErrors(created, updated.DeepCopyObject(), "updater")
					u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(applied)}
					u.SetGroupVersionKind(gvk)
					u.SetLabels(map[string]string{"skiff.dev/applied": "yes"})
					unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
					aout, aerr := fm.Apply(fixTimes(out.DeepCopyObject()), u, "applier", true)
					ju, _ := json.Marshal(fixTimes(out))
					ja, _ := json.Marshal(aout)
					if aout != nil {
						ja, _ = json.Marshal(fixTimes(aout))
					}
					results[j] = []byte(fmt.Sprintf("%s\n%s\n%s", ju, ja, errorLines(aerr)))
					if after, _ := json.Marshal(created); !bytes.Equal(before, after) {
						t.Errorf("copying %v: the live object changed", copying)
					}
				}
				if !bytes.Equal(results[0], results[1]) {
					t.Errorf("in place:\n%s\ncopying:\n%s", results[0], results[1])
				}
			})
		})
	}
}

func apiutil(obj runtime.Object) (schema.GroupVersionKind, error) {
	kinds, _, err := apiserver.Scheme.ObjectKinds(obj)
	if err != nil {
		return schema.GroupVersionKind{}, err
	}
	return kinds[0], nil
}

// errorLines is err's message with its lines sorted: SMD lists the errors
// of a value in no fixed order.
func errorLines(err error) string {
	if err == nil {
		return "<nil>"
	}
	lines := strings.Split(err.Error(), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
