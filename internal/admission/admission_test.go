package admission

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// fakeReader is an in-memory Reader: objects by resource, listed in the
// order they were added.
type fakeReader struct {
	mu   sync.Mutex
	objs map[schema.GroupVersionResource][]runtime.Object
	// onGet, when set, runs before every Get (outside mu).
	onGet func(gvr schema.GroupVersionResource, ns, name string)
	gets  int
}

var _ Reader = (*fakeReader)(nil)

var (
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	nodesGVR       = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
)

func newReader(objs ...runtime.Object) *fakeReader {
	r := &fakeReader{objs: map[schema.GroupVersionResource][]runtime.Object{}}
	for _, o := range objs {
		r.add(o)
	}
	return r
}

func gvrOf(obj runtime.Object) schema.GroupVersionResource {
	switch obj.(type) {
	case *corev1.ServiceAccount:
		return serviceAccountsGVR
	case *corev1.Pod:
		return podsGVR
	case *corev1.Service:
		return servicesGVR
	case *corev1.PersistentVolumeClaim:
		return pvcsGVR
	case *corev1.ConfigMap:
		return configMapsGVR
	case *corev1.LimitRange:
		return limitRangesGVR
	case *corev1.ResourceQuota:
		return quotasGVR
	case *corev1.Node:
		return nodesGVR
	case *appsv1.Deployment:
		return deploymentsGVR
	case *schedulingv1.PriorityClass:
		return priorityClassesGVR
	case *storagev1.StorageClass:
		return storageClassesGVR
	case *networkingv1.IngressClass:
		return ingressClassesGVR
	case *nodev1.RuntimeClass:
		return runtimeClassesGVR
	}
	panic(fmt.Sprintf("fakeReader: no resource for %T", obj))
}

func (r *fakeReader) add(obj runtime.Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gvr := gvrOf(obj)
	r.objs[gvr] = append(r.objs[gvr], obj)
}

func (r *fakeReader) Get(_ context.Context, gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	r.mu.Lock()
	r.gets++
	hook := r.onGet
	r.mu.Unlock()
	if hook != nil {
		hook(gvr, ns, name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.objs[gvr] {
		m := mustAccessor(o)
		if m.GetNamespace() == ns && m.GetName() == name {
			return o, nil
		}
	}
	return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
}

func (r *fakeReader) List(_ context.Context, gvr schema.GroupVersionResource, ns string) ([]runtime.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.Object
	for _, o := range r.objs[gvr] {
		if ns == "" || mustAccessor(o).GetNamespace() == ns {
			out = append(out, o)
		}
	}
	return out, nil
}

func (r *fakeReader) Served(gr schema.GroupResource) (schema.GroupVersionResource, bool) {
	for _, gvr := range []schema.GroupVersionResource{
		serviceAccountsGVR, podsGVR, servicesGVR, pvcsGVR, configMapsGVR, limitRangesGVR, quotasGVR,
		nodesGVR, deploymentsGVR, priorityClassesGVR, storageClassesGVR, ingressClassesGVR, runtimeClassesGVR,
	} {
		if gvr.GroupResource() == gr {
			return gvr, true
		}
	}
	return schema.GroupVersionResource{}, false
}

func mustAccessor(o runtime.Object) metav1.Object {
	m, err := meta.Accessor(o)
	if err != nil {
		panic(err)
	}
	return m
}

// --- builders ---

const testNS = "team"

// rl parses "name=quantity" pairs into a ResourceList.
func rl(pairs ...string) corev1.ResourceList {
	l := corev1.ResourceList{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			panic("rl: " + p)
		}
		l[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return l
}

func newPod(name string, mods ...func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNS, UID: types.UID("uid-" + name)},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
	}
	for _, m := range mods {
		m(p)
	}
	return p
}

// withResources sets the requests and limits of the pod's container i.
func withResources(i int, requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers[i].Resources = corev1.ResourceRequirements{Requests: requests, Limits: limits}
	}
}

func withContainer(name string, requests, limits corev1.ResourceList) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
			Name: name, Image: "busybox", Resources: corev1.ResourceRequirements{Requests: requests, Limits: limits},
		})
	}
}

func withInit(name string) func(*corev1.Pod) {
	return func(p *corev1.Pod) {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: name, Image: "busybox"})
	}
}

func inNamespace(ns string) func(*corev1.Pod) {
	return func(p *corev1.Pod) { p.Namespace = ns }
}

func create(gr schema.GroupResource, obj runtime.Object) *Attributes {
	return &Attributes{Operation: Create, Resource: gr, Namespace: mustAccessor(obj).GetNamespace(), Object: obj}
}

func update(gr schema.GroupResource, obj, old runtime.Object) *Attributes {
	return &Attributes{Operation: Update, Resource: gr, Namespace: mustAccessor(obj).GetNamespace(), Object: obj, OldObject: old}
}

// wantForbidden checks that err is a Forbidden API error with exactly
// message msg; msg "" expects no error.
func wantForbidden(t *testing.T, err error, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want Forbidden %q", msg)
	}
	if !apierrors.IsForbidden(err) {
		t.Fatalf("error %v is not Forbidden (%s)", err, apierrors.ReasonForError(err))
	}
	if err.Error() != msg {
		t.Fatalf("error message\n got: %s\nwant: %s", err.Error(), msg)
	}
}

func ptrTo[T any](v T) *T { return &v }

// --- the chain ---

type recorder struct {
	name string
	log  *[]string
	err  error
}

func (r recorder) Admit(_ context.Context, _ *Attributes) error {
	*r.log = append(*r.log, "admit "+r.name)
	return r.err
}

type validateOnly struct {
	name string
	log  *[]string
}

func (v validateOnly) Validate(_ context.Context, _ *Attributes) error {
	*v.log = append(*v.log, "validate "+v.name)
	return nil
}

type both struct{ recorder }

func (b both) Validate(_ context.Context, _ *Attributes) error {
	*b.log = append(*b.log, "validate "+b.name)
	return b.err
}

func TestChainOrderAndStop(t *testing.T) {
	var log []string
	stop := fmt.Errorf("stop")
	c := Chain{recorder{"a", &log, nil}, validateOnly{"b", &log}, both{recorder{"c", &log, nil}}, recorder{"d", &log, stop}, recorder{"e", &log, nil}}
	a := create(podsResource, newPod("web"))
	if err := c.Admit(context.Background(), a); err != stop {
		t.Fatalf("Admit = %v, want the fourth plugin's error", err)
	}
	if err := c.Validate(context.Background(), a); err != nil {
		t.Fatalf("Validate = %v", err)
	}
	want := "admit a,admit c,admit d,validate b,validate c"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("calls = %s, want %s", got, want)
	}
}

func TestDefaultChainOrder(t *testing.T) {
	var names []string
	for _, p := range Default(newReader()) {
		names = append(names, fmt.Sprintf("%T", p))
	}
	want := "admission.LimitRanger,admission.ServiceAccount,admission.TaintNodesByCondition,admission.Priority," +
		"admission.DefaultTolerationSeconds,admission.DefaultStorageClass,admission.StorageObjectInUseProtection," +
		"admission.RuntimeClass,admission.DefaultIngressClass,admission.ResourceQuota"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("Default chain = %s\nwant %s", got, want)
	}
}

func TestForbiddenNamesObject(t *testing.T) {
	p := newPod("")
	p.GenerateName = "web-"
	err := create(podsResource, p).Forbiddenf("because %d", 1)
	wantForbidden(t, err, `pods "web-" is forbidden: because 1`)
	err = create(pcsResource, &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "x"}}).Forbiddenf("no")
	wantForbidden(t, err, `priorityclasses.scheduling.k8s.io "x" is forbidden: no`)
}

// A full pod create through the default chain in a namespace with an
// account, a LimitRange and a quota: every plugin's change shows.
func TestDefaultChainPodCreate(t *testing.T) {
	r := newReader(
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: testNS}},
		&corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "lr", Namespace: testNS}, Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type: corev1.LimitTypeContainer, Default: rl("cpu=500m"), DefaultRequest: rl("cpu=100m"),
		}}}},
		&corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "q", Namespace: testNS}, Spec: corev1.ResourceQuotaSpec{Hard: rl("requests.cpu=1")}},
	)
	c := Default(r)
	p := newPod("web")
	a := create(podsResource, p)
	ctx := context.Background()
	if err := c.Admit(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(ctx, a); err != nil {
		t.Fatal(err)
	}
	if p.Spec.ServiceAccountName != "default" || len(p.Spec.Volumes) != 1 || len(p.Spec.Tolerations) != 2 ||
		p.Spec.Priority == nil || *p.Spec.Priority != 0 || p.Annotations[LimitRangerAnnotation] == "" {
		t.Errorf("pod after the default chain: %+v", p)
	}
	// The LimitRange's default request is what the quota then requires
	// and counts: a second pod of 1 cpu would exceed it.
	r.add(p)
	p2 := newPod("web2", withResources(0, rl("cpu=1"), rl("cpu=1")))
	a2 := create(podsResource, p2)
	if err := c.Admit(ctx, a2); err != nil {
		t.Fatal(err)
	}
	wantForbidden(t, c.Validate(ctx, a2), `pods "web2" is forbidden: exceeded quota: q, requested: requests.cpu=1, used: requests.cpu=100m, limited: requests.cpu=1`)
}
