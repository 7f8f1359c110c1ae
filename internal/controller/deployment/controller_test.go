package deployment

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/controller"
	"skiff.dev/skiff/internal/controller/replicaset"
	"skiff.dev/skiff/internal/informers"
)

// Passes of the controller against informers filled by hand and never
// run; its writes land in those informers' stores at once, and settle
// plays the ReplicaSet controller and the node (every desired pod
// exists and is available).

type memAPI struct {
	clock *clocktesting.FakeClock
	ds    cache.Indexer
	rss   cache.Indexer
	n     int
}

func (m *memAPI) getDeployment(_ context.Context, ns, name string) (*appsv1.Deployment, error) {
	obj, ok, _ := m.ds.GetByKey(ns + "/" + name)
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, name)
	}
	return obj.(*appsv1.Deployment).DeepCopy(), nil
}

func (m *memAPI) updateStatus(_ context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	cur, _ := m.getDeployment(context.Background(), d.Namespace, d.Name)
	cur.Status = *d.Status.DeepCopy()
	cur.Annotations = d.Annotations // as upstream's status strategy keeps them
	return cur.DeepCopy(), m.ds.Update(cur)
}

func (m *memAPI) createRS(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	if _, ok, _ := m.rss.GetByKey(rs.Namespace + "/" + rs.Name); ok {
		return nil, apierrors.NewAlreadyExists(schema.GroupResource{Group: "apps", Resource: "replicasets"}, rs.Name)
	}
	rs = rs.DeepCopy()
	m.n++
	rs.UID = types.UID(rs.Name)
	rs.Generation = 1
	rs.CreationTimestamp = metav1.NewTime(m.clock.Now().Add(time.Duration(m.n) * time.Second))
	return rs.DeepCopy(), m.rss.Add(rs)
}

func (m *memAPI) updateRS(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	obj, ok, _ := m.rss.GetByKey(rs.Namespace + "/" + rs.Name)
	if !ok {
		return nil, apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "replicasets"}, rs.Name)
	}
	rs = rs.DeepCopy()
	if old := obj.(*appsv1.ReplicaSet); !apiequality.Semantic.DeepEqual(old.Spec, rs.Spec) {
		rs.Generation = old.Generation + 1
	}
	return rs.DeepCopy(), m.rss.Update(rs)
}

func (m *memAPI) patchRS(context.Context, string, string, []byte) (*appsv1.ReplicaSet, error) {
	return nil, fmt.Errorf("unexpected patch")
}

func (m *memAPI) deleteRS(_ context.Context, ns, name string) error {
	obj, ok, _ := m.rss.GetByKey(ns + "/" + name)
	if !ok {
		return nil
	}
	return m.rss.Delete(obj)
}

func testController(t *testing.T, d *appsv1.Deployment) (*Controller, *memAPI, *record.FakeRecorder) {
	t.Helper()
	inf := func(o any) cache.SharedIndexInformer {
		return cache.NewSharedIndexInformer(&cache.ListWatch{}, o.(runtime.Object), 0, cache.Indexers{
			cache.NamespaceIndex: cache.MetaNamespaceIndexFunc, informers.ControllerUIDIndex: informers.ControllerUIDIndexFunc})
	}
	clk := clocktesting.NewFakeClock(now)
	c := &Controller{
		queue: controller.NewQueue("test"), clock: clk,
		deployments: inf(&appsv1.Deployment{}), replicaSets: inf(&appsv1.ReplicaSet{}), pods: inf(&corev1.Pod{}),
	}
	rec := record.NewFakeRecorder(1000)
	c.recorder = rec
	m := &memAPI{clock: clk, ds: c.deployments.GetIndexer(), rss: c.replicaSets.GetIndexer()}
	c.api = m
	t.Cleanup(c.queue.ShutDown)
	if err := m.ds.Add(d); err != nil {
		t.Fatal(err)
	}
	return c, m, rec
}

func (c *Controller) pass(t *testing.T) {
	t.Helper()
	if err := c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
}

func (m *memAPI) list() []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, o := range m.rss.List() {
		out = append(out, o.(*appsv1.ReplicaSet))
	}
	return out
}

// settle: every ReplicaSet has its desired pods, all available.
func (m *memAPI) settle(t *testing.T) {
	t.Helper()
	for _, rs := range m.list() {
		rs = rs.DeepCopy()
		n := rsReplicas(rs)
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, FullyLabeledReplicas: n, ReadyReplicas: n, AvailableReplicas: n, ObservedGeneration: rs.Generation}
		if err := m.rss.Update(rs); err != nil {
			t.Fatal(err)
		}
	}
}

func (m *memAPI) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := m.getDeployment(context.Background(), "ns", "web")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (m *memAPI) setImage(t *testing.T, image string) {
	t.Helper()
	d := m.deployment(t)
	d.Spec.Template.Spec.Containers[0].Image = image
	d.Generation++
	if err := m.ds.Update(d); err != nil {
		t.Fatal(err)
	}
}

func TestRollingUpdatePasses(t *testing.T) {
	c, m, rec := testController(t, deploy(10, "3", "2"))
	for i := 0; i < 5; i++ {
		c.pass(t)
		m.settle(t)
	}
	d := m.deployment(t)
	if !DeploymentComplete(d, &d.Status) || len(m.list()) != 1 {
		t.Fatalf("first rollout: status %+v, %d ReplicaSets", d.Status, len(m.list()))
	}
	first := m.list()[0].Name
	m.setImage(t, "nginx:2")
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatalf("not complete after 20 passes: %+v", m.deployment(t).Status)
		}
		c.pass(t)
		// What the ReplicaSet controller is about to do: scaled-down
		// ReplicaSets lose pods now, scaled-up ones gain them later.
		var desired, available int32
		for _, rs := range m.list() {
			desired += rsReplicas(rs)
			available += min(rsReplicas(rs), rs.Status.AvailableReplicas)
		}
		if desired > 13 || available < 8 {
			t.Fatalf("pass %d: %d desired (max 13), %d available (min 8)", i, desired, available)
		}
		m.settle(t)
		if d := m.deployment(t); DeploymentComplete(d, &d.Status) && len(activeRSs(m.list())) == 1 {
			break
		}
	}
	for _, rs := range m.list() {
		switch {
		case rs.Name == first && rsReplicas(rs) != 0:
			t.Errorf("old ReplicaSet at %d", rsReplicas(rs))
		case rs.Name != first && (rsReplicas(rs) != 10 || rs.Annotations[RevisionAnnotation] != "2"):
			t.Errorf("new ReplicaSet %s at %d, annotations %v", rs.Name, rsReplicas(rs), rs.Annotations)
		}
	}
	d = m.deployment(t)
	if d.Annotations[RevisionAnnotation] != "2" {
		t.Errorf("deployment revision %q", d.Annotations[RevisionAnnotation])
	}
	if c := GetCondition(d.Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonNewRSAvailable {
		t.Errorf("progressing %+v", c)
	}
	close(rec.Events)
	var events []string
	for e := range rec.Events {
		events = append(events, e)
	}
	if !strings.Contains(strings.Join(events, "\n"), "Normal ScalingReplicaSet Scaled down replica set "+first+" from 10 to 8") {
		t.Errorf("events:\n%s", strings.Join(events, "\n"))
	}
}

func TestRecreateWaitsForOldPods(t *testing.T) {
	d := deploy(3, "", "")
	c, m, _ := testController(t, d)
	c.pass(t)
	m.settle(t)
	old := m.list()[0]
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", OwnerReferences: []metav1.OwnerReference{
		replicaset.NewControllerRef(old, replicaset.ReplicaSetKind)}}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if err := c.pods.GetIndexer().Add(pod); err != nil {
		t.Fatal(err)
	}
	m.setImage(t, "nginx:2")
	c.pass(t)
	if rss := m.list(); len(rss) != 1 || rsReplicas(rss[0]) != 0 {
		t.Fatalf("first pass must only scale the old ReplicaSet down: %d ReplicaSets, old at %d", len(rss), rsReplicas(rss[0]))
	}
	m.settle(t) // the old ReplicaSet reports no replicas, but its pod still runs
	c.pass(t)
	if n := len(m.list()); n != 1 {
		t.Fatalf("a new ReplicaSet while an old pod runs: %d", n)
	}
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodSucceeded // finished pods do not count
	if err := c.pods.GetIndexer().Update(pod); err != nil {
		t.Fatal(err)
	}
	c.pass(t)
	var newRS *appsv1.ReplicaSet
	for _, rs := range m.list() {
		if rs.Name != old.Name {
			newRS = rs
		}
	}
	if newRS == nil || rsReplicas(newRS) != 3 {
		t.Fatalf("new ReplicaSet %+v", newRS)
	}
}

func TestPausedDeploymentOnlyScales(t *testing.T) {
	c, m, _ := testController(t, deploy(4, "1", "1"))
	c.pass(t)
	m.settle(t)
	d := m.deployment(t)
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	d.Spec.Replicas = i32(6)
	d.Generation++
	if err := m.ds.Update(d); err != nil {
		t.Fatal(err)
	}
	c.pass(t)
	rss := m.list()
	if len(rss) != 1 || rsReplicas(rss[0]) != 6 {
		t.Fatalf("paused: %d ReplicaSets, size %d; want the old one scaled to 6", len(rss), rsReplicas(rss[0]))
	}
	if c := GetCondition(m.deployment(t).Status, appsv1.DeploymentProgressing); c == nil || c.Reason != ReasonPaused {
		t.Errorf("progressing %+v", c)
	}
}
