package replicaset

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"skiff.dev/skiff/internal/controller"
)

// The controller's pass against informers that are filled by hand and
// never run, so the test decides what the informers have seen; the pod
// requests it makes are recorded, not sent.

type recordedPods struct {
	mu       sync.Mutex
	created  []*corev1.Pod
	deleted  []string
	patched  []string
	n        int
	failFrom int // creations from this one (1-based) fail; 0 never
}

func (r *recordedPods) create(_ context.Context, p *corev1.Pod) (*corev1.Pod, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.failFrom > 0 && r.n >= r.failFrom {
		return nil, fmt.Errorf("pods %q is forbidden: exceeded quota", "x")
	}
	p = p.DeepCopy()
	p.Name = fmt.Sprintf("%s%d", p.GenerateName, r.n)
	p.UID = types.UID(p.Name)
	r.created = append(r.created, p)
	return p, nil
}

func (r *recordedPods) delete(_ context.Context, ns, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deleted = append(r.deleted, ns+"/"+name)
	return nil
}

func (r *recordedPods) patch(_ context.Context, ns, name string, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.patched = append(r.patched, ns+"/"+name)
	return nil
}

// memSource is a ReplicaSet source whose status writes land in its own
// informer's store at once.
type memSource struct{ inf cache.SharedIndexInformer }

func (m memSource) gvk() schema.GroupVersionKind                { return ReplicaSetKind }
func (m memSource) informer() cache.SharedIndexInformer         { return m.inf }
func (m memSource) object(rs *appsv1.ReplicaSet) runtime.Object { return rs }
func (m memSource) toRS(obj any) *appsv1.ReplicaSet             { return replicaSets{}.toRS(obj) }
func (m memSource) peek(obj any) *appsv1.ReplicaSet             { return replicaSets{}.peek(obj) }
func (m memSource) get(_ context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	obj, _, err := m.inf.GetIndexer().GetByKey(ns + "/" + name)
	if err != nil {
		return nil, err
	}
	return obj.(*appsv1.ReplicaSet).DeepCopy(), nil
}
func (m memSource) updateStatus(_ context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return rs, m.inf.GetIndexer().Update(rs.DeepCopy())
}

func testController(t *testing.T) (*Controller, *recordedPods, *clocktesting.FakeClock) {
	t.Helper()
	never := &cache.ListWatch{}
	pods := &recordedPods{}
	clk := clocktesting.NewFakeClock(now)
	c := &Controller{
		name: "test", src: memSource{inf: newIndexedInformer(never, &appsv1.ReplicaSet{})}, podCtl: pods,
		pods: newIndexedInformer(never, &corev1.Pod{}), queue: controller.NewQueue("test"), exp: NewExpectations(),
		clock: clk, burst: BurstReplicas, trackTerm: true, recorder: &record.FakeRecorder{},
	}
	t.Cleanup(c.queue.ShutDown)
	return c, pods, clk
}

func (c *Controller) putRS(t *testing.T, r *appsv1.ReplicaSet) {
	t.Helper()
	if err := c.src.informer().GetIndexer().Update(r); err != nil {
		t.Fatal(err)
	}
}

// seePods lets the pod informer see pods, with the handler calls a real
// informer would make.
func (c *Controller) seePods(t *testing.T, pods ...*corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		if err := c.pods.GetIndexer().Add(p); err != nil {
			t.Fatal(err)
		}
		c.addPod(p)
	}
}

func (c *Controller) mustSync(t *testing.T) {
	t.Helper()
	if err := c.sync(context.Background(), "ns/web"); err != nil {
		t.Fatal(err)
	}
}

func TestSyncWaitsForItsCreations(t *testing.T) {
	c, pods, clk := testController(t)
	c.putRS(t, rs(5, 0))
	c.mustSync(t)
	if len(pods.created) != 5 {
		t.Fatalf("created %d, want 5", len(pods.created))
	}
	for _, p := range pods.created {
		if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != "rs-uid" || p.GenerateName != "web-" {
			t.Fatalf("pod %+v", p.ObjectMeta)
		}
	}
	// The informer has seen none of them: another pass creates nothing.
	c.mustSync(t)
	if len(pods.created) != 5 {
		t.Fatalf("a pass before the informer caught up created %d more", len(pods.created)-5)
	}
	// It has seen three: still nothing.
	c.seePods(t, pods.created[:3]...)
	c.mustSync(t)
	if len(pods.created) != 5 {
		t.Fatalf("created %d more with two creations unobserved", len(pods.created)-5)
	}
	// All five: in line, and the status counts them.
	c.seePods(t, pods.created[3:]...)
	c.mustSync(t)
	got, _ := c.src.get(context.Background(), "ns", "web")
	if len(pods.created) != 5 || got.Status.Replicas != 5 || got.Status.ObservedGeneration != 2 {
		t.Fatalf("created %d, status %+v", len(pods.created), got.Status)
	}

	// Scaled to 2: three deletions, then none until they are observed.
	r := got.DeepCopy()
	r.Spec.Replicas = ptr(int32(2))
	c.putRS(t, r)
	c.mustSync(t)
	c.mustSync(t)
	if len(pods.deleted) != 3 {
		t.Fatalf("deleted %d, want 3 (and no more before observing them)", len(pods.deleted))
	}
	// Lost watch events: after ExpectationsTimeout the controller acts
	// on what it sees (the three still there) and deletes again.
	clk.Step(ExpectationsTimeout + time.Second)
	c.mustSync(t)
	if len(pods.deleted) != 6 {
		t.Fatalf("deleted %d after the expectations expired, want 6", len(pods.deleted))
	}
}

func TestSyncSlowStartStopsAtFailure(t *testing.T) {
	c, pods, _ := testController(t)
	pods.failFrom = 4 // the third batch (1+2+4) fails
	c.putRS(t, rs(100, 0))
	if err := c.sync(context.Background(), "ns/web"); err == nil {
		t.Fatal("a failed creation must fail the pass")
	}
	if pods.n != 7 || len(pods.created) != 3 {
		t.Fatalf("%d attempts, %d created; want 7 and 3", pods.n, len(pods.created))
	}
	got, _ := c.src.get(context.Background(), "ns", "web")
	if f := rsCondition(got.Status, appsv1.ReplicaSetReplicaFailure); f == nil || f.Reason != ReasonFailedCreate {
		t.Fatalf("conditions %+v", got.Status.Conditions)
	}
	// The failed and skipped creations are not waited for: once the three
	// are seen, the next pass tries again.
	c.seePods(t, pods.created...)
	pods.failFrom = 0
	c.mustSync(t)
	if len(pods.created) != 100 {
		t.Fatalf("created %d, want 100", len(pods.created))
	}
	got, _ = c.src.get(context.Background(), "ns", "web")
	if f := rsCondition(got.Status, appsv1.ReplicaSetReplicaFailure); f != nil {
		t.Fatalf("the failure condition outlived a good pass: %+v", f)
	}
}

func TestSyncAdoptsAndReleases(t *testing.T) {
	c, pods, _ := testController(t)
	c.putRS(t, rs(2, 0))
	orphan := pod("orphan")
	mine := pod("mine", ownedBy("rs-uid"))
	stray := pod("stray", ownedBy("rs-uid"), func(p *corev1.Pod) { p.Labels = map[string]string{"app": "other"} })
	theirs := pod("theirs", ownedBy("other-uid"))
	c.seePods(t, orphan, mine, stray, theirs)
	c.mustSync(t)
	if fmt.Sprint(pods.patched) != "[ns/orphan ns/stray]" && fmt.Sprint(pods.patched) != "[ns/stray ns/orphan]" {
		t.Fatalf("patched %v, want the orphan adopted and the stray released", pods.patched)
	}
	if len(pods.created) != 0 || len(pods.deleted) != 0 {
		t.Fatalf("created %d deleted %d: the adopted orphan makes two", len(pods.created), len(pods.deleted))
	}
}
