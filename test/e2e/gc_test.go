package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// The garbage collector and PodGC, driven as users drive them: kubectl
// delete with each --cascade, ownerReferences written by hand (as
// operators write them), a custom resource as owner, a pod bound to a node
// that never existed.

// gcApply runs `kubectl apply -f -` with manifest on stdin.
func gcApply(t *testing.T, s *Skiff, manifest string) {
	t.Helper()
	if stdout, stderr, err := s.kubectl(kubectlRun{stdin: manifest}, "apply", "-f", "-"); err != nil {
		t.Fatalf("kubectl apply: %v\nstdout:\n%s\nstderr:\n%s\nmanifest:\n%s", err, stdout, stderr, manifest)
	}
}

// uidOf reads an object's UID with kubectl.
func uidOf(t *testing.T, s *Skiff, args ...string) string {
	t.Helper()
	return strings.TrimSpace(s.MustKubectl(append([]string{"get"}, append(args, "-o", "jsonpath={.metadata.uid}")...)...))
}

// ownedConfigMap is a ConfigMap manifest with one owner reference.
func ownedConfigMap(ns, name, ownerAPIVersion, ownerKind, ownerName, ownerUID string, block bool) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: %s
  ownerReferences:
  - apiVersion: %s
    kind: %s
    name: %s
    uid: %s
    blockOwnerDeletion: %t
data:
  k: v
`, name, ns, ownerAPIVersion, ownerKind, ownerName, ownerUID, block)
}

// gone waits until the ConfigMap is deleted.
func configMapGone(t *testing.T, cs *kubernetes.Clientset, ns, name string) {
	t.Helper()
	eventually(t, "configmap "+ns+"/"+name+" deleted", func() (bool, string) {
		cm, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return false, fmt.Sprintf("still there: ownerReferences %v, deletionTimestamp %v", cm.OwnerReferences, cm.DeletionTimestamp)
	})
}

func getConfigMap(t *testing.T, cs *kubernetes.Clientset, ns, name string) *corev1.ConfigMap {
	t.Helper()
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap %s/%s: %v", ns, name, err)
	}
	return cm
}

// Background (kubectl's default): dependents whose owners are all gone
// are deleted, a dependent with a surviving owner only loses the dangling
// reference, and a reference whose UID names no existing object dangles
// from the start.
func TestGCBackground(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	s.MustKubectl("create", "configmap", "owner")
	s.MustKubectl("create", "configmap", "keeper")
	owner, keeper := uidOf(t, s, "configmap", "owner"), uidOf(t, s, "configmap", "keeper")
	gcApply(t, s, ownedConfigMap("default", "dep", "v1", "ConfigMap", "owner", owner, false))
	gcApply(t, s, ownedConfigMap("default", "grandchild", "v1", "ConfigMap", "dep", uidOf(t, s, "configmap", "dep"), false))
	gcApply(t, s, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: shared
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: %s}
  - {apiVersion: v1, kind: ConfigMap, name: keeper, uid: %s}
`, owner, keeper))
	// Named like an existing object, but with another UID: dangling.
	gcApply(t, s, ownedConfigMap("default", "dangling", "v1", "ConfigMap", "keeper", "00000000-0000-0000-0000-000000000000", false))
	configMapGone(t, cs, "default", "dangling")
	// With live owners nothing else goes.
	for _, n := range []string{"dep", "grandchild", "shared"} {
		getConfigMap(t, cs, "default", n)
	}

	s.MustKubectl("delete", "configmap", "owner")
	configMapGone(t, cs, "default", "dep")
	configMapGone(t, cs, "default", "grandchild")
	eventually(t, "shared keeps only its live owner", func() (bool, string) {
		cm := getConfigMap(t, cs, "default", "shared")
		return len(cm.OwnerReferences) == 1 && string(cm.OwnerReferences[0].UID) == keeper, fmt.Sprintf("ownerReferences %v", cm.OwnerReferences)
	})
	getConfigMap(t, cs, "default", "keeper")
}

// Foreground: the owner stays, with deletionTimestamp and the
// foregroundDeletion finalizer, until its blockOwnerDeletion dependents
// are gone; a non-blocking dependent does not hold it.
func TestGCForeground(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	s.MustKubectl("create", "configmap", "owner")
	owner := uidOf(t, s, "configmap", "owner")
	// The blocking dependent has a finalizer of its own, so it stays
	// terminating until the test releases it.
	gcApply(t, s, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: blocker
  finalizers: [example.com/hold]
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: %s, blockOwnerDeletion: true}
`, owner))
	gcApply(t, s, ownedConfigMap("default", "loose", "v1", "ConfigMap", "owner", owner, false))

	s.MustKubectl("delete", "configmap", "owner", "--cascade=foreground", "--wait=false")
	eventually(t, "the blocking dependent is being deleted", func() (bool, string) {
		cm := getConfigMap(t, cs, "default", "blocker")
		return cm.DeletionTimestamp != nil, "no deletionTimestamp"
	})
	configMapGone(t, cs, "default", "loose")
	o := getConfigMap(t, cs, "default", "owner")
	if o.DeletionTimestamp == nil || !slices.Contains(o.Finalizers, metav1.FinalizerDeleteDependents) {
		t.Fatalf("owner while a blocking dependent remains: deletionTimestamp %v, finalizers %v", o.DeletionTimestamp, o.Finalizers)
	}

	// Release the dependent; then the owner goes too.
	if _, err := cs.CoreV1().ConfigMaps("default").Patch(ctx, "blocker", types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	configMapGone(t, cs, "default", "blocker")
	configMapGone(t, cs, "default", "owner")

	// A cycle of blocking references: each waits for the other until the
	// collector unblocks the dependent's reference, as upstream does.
	s.MustKubectl("create", "configmap", "ping")
	ping := uidOf(t, s, "configmap", "ping")
	gcApply(t, s, ownedConfigMap("default", "pong", "v1", "ConfigMap", "ping", ping, true))
	pong := uidOf(t, s, "configmap", "pong")
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"pong","uid":%q,"blockOwnerDeletion":true}]}}`, pong)
	if _, err := cs.CoreV1().ConfigMaps("default").Patch(ctx, "ping", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	s.MustKubectl("delete", "configmap", "ping", "--cascade=foreground", "--wait=false")
	configMapGone(t, cs, "default", "pong")
	configMapGone(t, cs, "default", "ping")
}

// Orphan: kubectl delete --cascade=orphan deletes the owner and leaves its
// dependents, without the reference to it.
func TestGCOrphan(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	s.MustKubectl("create", "configmap", "owner")
	s.MustKubectl("create", "configmap", "other")
	owner, other := uidOf(t, s, "configmap", "owner"), uidOf(t, s, "configmap", "other")
	gcApply(t, s, ownedConfigMap("default", "dep1", "v1", "ConfigMap", "owner", owner, true))
	gcApply(t, s, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: dep2
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: %s}
  - {apiVersion: v1, kind: ConfigMap, name: other, uid: %s}
`, owner, other))

	// kubectl waits for the owner to be gone, which takes the GC's work.
	s.MustKubectl("delete", "configmap", "owner", "--cascade=orphan")
	configMapGone(t, cs, "default", "owner")
	if refs := getConfigMap(t, cs, "default", "dep1").OwnerReferences; len(refs) != 0 {
		t.Errorf("dep1 still has ownerReferences %v", refs)
	}
	if refs := getConfigMap(t, cs, "default", "dep2").OwnerReferences; len(refs) != 1 || string(refs[0].UID) != other {
		t.Errorf("dep2 ownerReferences = %v, want only other's", refs)
	}
}

// A custom resource owns built-in objects; the collector watches the CRD's
// resource once it is served, and collects the dependents when the
// custom resource goes. Also the cross-namespace rules, with a
// cluster-scoped custom kind as dependent.
func TestGCCustomResource(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	gcApply(t, s, `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: sprockets.gc.example.com
spec:
  group: gc.example.com
  scope: Namespaced
  names: {plural: sprockets, singular: sprocket, kind: Sprocket}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: racks.gc.example.com
spec:
  group: gc.example.com
  scope: Cluster
  names: {plural: racks, singular: rack, kind: Rack}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
`)
	waitEstablished(t, s, "sprockets.gc.example.com", "racks.gc.example.com")
	gcApply(t, s, `apiVersion: gc.example.com/v1
kind: Sprocket
metadata: {name: s1, namespace: default}
`)
	sprocket := uidOf(t, s, "sprocket", "s1")
	gcApply(t, s, ownedConfigMap("default", "sprocket-config", "gc.example.com/v1", "Sprocket", "s1", sprocket, true))
	// A custom resource owned by a custom resource.
	gcApply(t, s, fmt.Sprintf(`apiVersion: gc.example.com/v1
kind: Sprocket
metadata:
  name: s2
  namespace: default
  ownerReferences:
  - {apiVersion: gc.example.com/v1, kind: Sprocket, name: s1, uid: %s}
`, sprocket))

	// A cluster-scoped object may not have a namespaced owner: such a
	// reference cannot be resolved, so the rack is never collected.
	s.MustKubectl("create", "configmap", "cm-owner")
	cmOwner := uidOf(t, s, "configmap", "cm-owner")
	gcApply(t, s, fmt.Sprintf(`apiVersion: gc.example.com/v1
kind: Rack
metadata:
  name: r1
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: cm-owner, uid: %s}
`, cmOwner))
	// A namespaced owner is looked up in the dependent's namespace: from
	// another namespace the reference dangles and the dependent goes.
	s.MustKubectl("create", "namespace", "elsewhere")
	gcApply(t, s, ownedConfigMap("elsewhere", "cross", "v1", "ConfigMap", "cm-owner", cmOwner, false))
	configMapGone(t, cs, "elsewhere", "cross")

	s.MustKubectl("delete", "sprocket", "s1")
	configMapGone(t, cs, "default", "sprocket-config")
	eventually(t, "sprocket s2 deleted", func() (bool, string) {
		out, _, err := s.Kubectl("get", "sprocket", "s2", "--ignore-not-found", "-o", "name")
		return err == nil && strings.TrimSpace(out) == "", out
	})

	s.MustKubectl("delete", "configmap", "cm-owner")
	eventually(t, "OwnerRefInvalidNamespace events for the rack and the cross-namespace configmap", func() (bool, string) {
		evs, err := cs.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		var seen []string
		for _, e := range evs.Items {
			if e.Reason == "OwnerRefInvalidNamespace" && e.Type == corev1.EventTypeWarning {
				seen = append(seen, e.InvolvedObject.Kind+"/"+e.InvolvedObject.Name)
			}
		}
		return slices.Contains(seen, "Rack/r1") && slices.Contains(seen, "ConfigMap/cross"), fmt.Sprintf("events for %v", seen)
	})
	// The rack survives its owner's deletion: its reference is invalid.
	// The configmap's deletion was collected by the same workers, after.
	if out := s.MustKubectl("get", "rack", "r1", "-o", "name"); strings.TrimSpace(out) != "rack.gc.example.com/r1" {
		t.Fatalf("rack r1: %q", out)
	}

	// Deleting the CRD deletes its custom resources, and so their
	// dependents; the collector stops watching the resource.
	gcApply(t, s, `apiVersion: gc.example.com/v1
kind: Sprocket
metadata: {name: s3, namespace: default}
`)
	gcApply(t, s, ownedConfigMap("default", "s3-config", "gc.example.com/v1", "Sprocket", "s3", uidOf(t, s, "sprocket", "s3"), false))
	s.MustKubectl("delete", "crd", "sprockets.gc.example.com")
	configMapGone(t, cs, "default", "s3-config")
	eventually(t, "the collector stops watching sprockets", func() (bool, string) {
		for _, line := range strings.Split(s.output.String(), "\n") {
			if strings.Contains(line, "garbagecollector: stopped watching") && strings.Contains(line, "Resource=sprockets") {
				return true, ""
			}
		}
		return false, "no \"stopped watching\" log line for sprockets"
	})
}

// PodGC: a pod bound to a node that does not exist is marked Failed with
// the DisruptionTarget condition and force-deleted once the node's 40 s
// quarantine ends.
func TestPodGCOrphanedPod(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "stray", Namespace: "default"},
		Spec: corev1.PodSpec{
			NodeName:   "no-such-node",
			Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}},
		},
	}
	created, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// A retrying watch: one closed under load resumes where it stopped,
	// so no transition between Failed and Deleted is missed.
	w, err := watchtools.NewRetryWatcherWithContext(ctx, created.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = "metadata.name=stray"
			return cs.CoreV1().Pods("default").Watch(ctx, opts)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	start := time.Now()
	var failed *corev1.Pod
	deadline := time.After(75 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatalf("stray pod not collected after %v (last seen Failed: %v)", time.Since(start), failed != nil)
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("watch closed")
			}
			p, _ := ev.Object.(*corev1.Pod)
			t.Logf("%v: %s (phase %v)", time.Since(start).Round(time.Millisecond), ev.Type, podPhase(p))
			switch ev.Type {
			case watch.Error:
				t.Fatalf("watch error: %v", apierrors.FromObject(ev.Object))
			case watch.Modified:
				if p.Status.Phase == corev1.PodFailed {
					failed = p
				}
			case watch.Deleted:
				if time.Since(start) < 35*time.Second {
					t.Errorf("collected after %v, before the 40 s quarantine", time.Since(start))
				}
				if failed == nil {
					t.Fatalf("deleted after %v without being marked Failed first", time.Since(start))
				}
				i := slices.IndexFunc(failed.Status.Conditions, func(c corev1.PodCondition) bool { return c.Type == corev1.DisruptionTarget })
				if i < 0 || failed.Status.Conditions[i].Reason != "DeletionByPodGC" {
					t.Errorf("conditions when marked Failed: %+v", failed.Status.Conditions)
				}
				// Force-deleted: gone from the API at once.
				err := wait.PollUntilContextTimeout(ctx, pollInterval, waitTimeout, true, func(ctx context.Context) (bool, error) {
					_, err := cs.CoreV1().Pods("default").Get(ctx, "stray", metav1.GetOptions{})
					return apierrors.IsNotFound(err), nil
				})
				if err != nil {
					t.Fatalf("pod still readable after its delete event: %v", err)
				}
				return
			}
		}
	}
}

// kubectl delete of a Deployment with each --cascade: its ReplicaSet and
// their pods (owned through blockOwnerDeletion controller references)
// follow in background, go before the Deployment in foreground, and stay,
// released, on orphan.
func TestGCDeploymentCascade(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	// owned lists what is left of a Deployment: its ReplicaSets and pods.
	owned := func(app string) (rs, pods int, rsRefs []metav1.OwnerReference) {
		sel := metav1.ListOptions{LabelSelector: "app=" + app}
		rsl, err := cs.AppsV1().ReplicaSets("default").List(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := cs.CoreV1().Pods("default").List(ctx, sel)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rsl.Items {
			rsRefs = append(rsRefs, r.OwnerReferences...)
		}
		return len(rsl.Items), len(pl.Items), rsRefs
	}
	create := func(app string) {
		s.MustKubectl("create", "deployment", app, "--image=registry.k8s.io/pause:3.10", "--replicas=2")
		eventually(t, app+"'s ReplicaSet and pods exist", func() (bool, string) {
			rs, pods, _ := owned(app)
			return rs == 1 && pods == 2, fmt.Sprintf("%d ReplicaSets, %d pods", rs, pods)
		})
	}

	create("bg")
	s.MustKubectl("delete", "deployment", "bg")
	eventually(t, "background: bg's ReplicaSet and pods collected", func() (bool, string) {
		rs, pods, _ := owned("bg")
		return rs == 0 && pods == 0, fmt.Sprintf("%d ReplicaSets, %d pods", rs, pods)
	})

	create("fg")
	// kubectl returns once the Deployment is gone, which foreground
	// deletion allows only after everything it blocks on.
	s.MustKubectl("delete", "deployment", "fg", "--cascade=foreground")
	if rs, pods, _ := owned("fg"); rs != 0 || pods != 0 {
		t.Errorf("foreground: the Deployment went before its dependents: %d ReplicaSets, %d pods left", rs, pods)
	}

	create("or")
	s.MustKubectl("delete", "deployment", "or", "--cascade=orphan")
	rs, pods, refs := owned("or")
	if rs != 1 || pods != 2 || len(refs) != 0 {
		t.Errorf("orphan: %d ReplicaSets (ownerReferences %v), %d pods; want 1 released ReplicaSet and its 2 pods", rs, refs, pods)
	}
}

func podPhase(p *corev1.Pod) corev1.PodPhase {
	if p == nil {
		return ""
	}
	return p.Status.Phase
}
