package e2e

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/etcdtest"
)

// TestEtcdTwoServersShareData: two `skiff server --store etcd` processes on
// one etcd, each with its own data directory and credentials, serve the same
// objects, and a write through one appears in a watch through the other.
func TestEtcdTwoServersShareData(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.StartCluster(t, 1)
	a := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-e2e")
	b := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-e2e")

	uidA := a.MustKubectl("get", "namespace", "default", "-o", "jsonpath={.metadata.uid}")
	uidB := b.MustKubectl("get", "namespace", "default", "-o", "jsonpath={.metadata.uid}")
	if uidA == "" || uidA != uidB {
		t.Errorf("namespace default has uid %q through A and %q through B, want one object", uidA, uidB)
	}

	expectEvents := func(from, to *Skiff, name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		cms := from.ClientSet().CoreV1().ConfigMaps("default")
		l, err := cms.List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion, FieldSelector: "metadata.name=" + name})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		next := func(want watch.EventType, k string) *corev1.ConfigMap {
			t.Helper()
			for {
				select {
				case ev, ok := <-w.ResultChan():
					if !ok {
						t.Fatalf("watch closed while waiting for %s %s", want, name)
					}
					if ev.Type == watch.Bookmark {
						continue
					}
					cm, _ := ev.Object.(*corev1.ConfigMap)
					if ev.Type != want || cm == nil || cm.Name != name || (k != "" && cm.Data["k"] != k) {
						t.Fatalf("watch event %s %#v, want %s %s k=%s", ev.Type, ev.Object, want, name, k)
					}
					return cm
				case <-ctx.Done():
					t.Fatalf("no %s %s through the other server within %v", want, name, waitTimeout)
				}
			}
		}

		to.MustKubectl("create", "configmap", name, "--from-literal=k=1")
		uid := to.MustKubectl("get", "configmap", name, "-o", "jsonpath={.metadata.uid}")
		if cm := next(watch.Added, "1"); string(cm.UID) != uid {
			t.Errorf("ADDED %s has uid %s, the writing server returned %s", name, cm.UID, uid)
		}
		to.MustKubectl("patch", "configmap", name, "--type=merge", "-p", `{"data":{"k":"2"}}`)
		next(watch.Modified, "2")
		if got := from.MustKubectl("get", "configmap", name, "-o", "jsonpath={.data.k}"); got != "2" {
			t.Errorf("GET %s through the watching server: data.k = %q, want 2", name, got)
		}
		to.MustKubectl("delete", "configmap", name)
		next(watch.Deleted, "")
	}
	expectEvents(a, b, "b-wrote")
	expectEvents(b, a, "a-wrote")
}

// compactEtcd compacts the etcd cluster at its current revision.
func compactEtcd(t *testing.T, endpoints []string) {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := c.Get(ctx, "compact-probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compact(ctx, resp.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("compacting etcd at %d: %v", resp.Header.Revision, err)
	}
}

// TestWatchExpiredResourceVersion: once history is compacted, a watch or an
// exact list from an old resourceVersion is 410 Expired. Compaction is forced
// on etcd (the embedded store keeps 20,000 revisions, too many to write in a
// test); the server is restarted after compacting so no cache of its own can
// still hold the old history either.
func TestWatchExpiredResourceVersion(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.StartCluster(t, 1)
	s := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-e2e")
	ops := cmOps{t, s.ClientSet(), "default"}
	ops.create("old", "0")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cms := s.ClientSet().CoreV1().ConfigMaps("default")
	old, err := cms.Get(ctx, "old", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1", "2", "3", "4", "5"} {
		ops.update("old", v)
	}
	compactEtcd(t, cluster.Endpoints())
	s.Restart()
	cms = s.ClientSet().CoreV1().ConfigMaps("default")

	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: old.ResourceVersion})
	switch {
	case err != nil:
		if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
			t.Errorf("watch from compacted resourceVersion %s: %v, want 410 Expired", old.ResourceVersion, err)
		}
	default:
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Errorf("watch from compacted resourceVersion %s closed without an ERROR event", old.ResourceVersion)
				break
			}
			st, _ := ev.Object.(*metav1.Status)
			if ev.Type != watch.Error || st == nil || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
				t.Errorf("watch from compacted resourceVersion %s: first event %s %#v, want ERROR with Status 410 Expired", old.ResourceVersion, ev.Type, ev.Object)
			}
		case <-ctx.Done():
			t.Errorf("watch from compacted resourceVersion %s: no event within %v, want ERROR 410 Expired", old.ResourceVersion, waitTimeout)
		}
		w.Stop()
	}

	_, err = cms.List(ctx, metav1.ListOptions{ResourceVersion: old.ResourceVersion, ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Errorf("exact list at compacted resourceVersion %s: %v, want 410 Expired", old.ResourceVersion, err)
	}

	// A watch from the current resourceVersion still works.
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err = cms.Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ops.cs = s.ClientSet()
	ops.update("old", "6")
	select {
	case ev := <-w.ResultChan():
		if cm, _ := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Modified || cm == nil || cm.Data["k"] != "6" {
			t.Errorf("watch from the current resourceVersion: %s %#v, want MODIFIED k=6", ev.Type, ev.Object)
		}
	case <-ctx.Done():
		t.Error("no event on a watch from the current resourceVersion")
	}
}

// TestInformerRelistAfterExpired: an informer whose resourceVersion was
// compacted away while its server was down gets 410, relists, and converges
// on the current state; handlers hear of every object that changed.
func TestInformerRelistAfterExpired(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.StartCluster(t, 1)
	a := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-e2e")
	b := startSkiffEtcd(t, cluster.Endpoints(), "/skiff-e2e")

	log := &eventLog{prefix: "rl-"}
	inf := startInformer(t, a.ClientSet(), "default", log.handler())
	opsA := cmOps{t, a.ClientSet(), "default"}
	want := []string{opsA.create("rl-1", "1"), opsA.create("rl-2", "1"), opsA.create("rl-3", "1")}
	log.waitFor(t, want)

	a.Stop()
	opsB := cmOps{t, b.ClientSet(), "default"}
	missed := []string{opsB.update("rl-1", "2"), opsB.delete("rl-2"), opsB.create("rl-4", "1")}
	compactEtcd(t, cluster.Endpoints())
	a.Start()

	eventually(t, "informer converged after relist", func() (bool, string) {
		var got []string
		for _, o := range inf.GetStore().List() {
			cm := o.(*corev1.ConfigMap)
			if strings.HasPrefix(cm.Name, "rl-") {
				got = append(got, cm.Name+" k="+cm.Data["k"])
			}
		}
		slices.Sort(got)
		want := []string{"rl-1 k=2", "rl-3 k=1", "rl-4 k=1"}
		return slices.Equal(got, want), strings.Join(got, ", ")
	})
	got, _, _ := log.snapshot()
	after := slices.Clone(got[len(want):])
	slices.Sort(after)
	wantAfter := []string{"ADD rl-4 k=1", "DELETE rl-2", "UPDATE rl-1 k=2"}
	if !slices.Equal(after, wantAfter) {
		t.Errorf("handlers after the relist saw %q, want %q (changes made while the informer's server was down: %q)", after, wantAfter, missed)
	}
}
