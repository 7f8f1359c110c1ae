package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// The workload controllers (ReplicaSet, ReplicationController,
// Deployment) on `skiff up`'s simulated node, driven with kubectl.
//
// Pods carry no tolerations: the node lifecycle controller lifts the
// not-ready taint a new node gets once its agent reports it Ready.
const workloadPodSpec = `    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: %s
`

func deploymentManifest(name string, replicas int, strategy, image string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %s
spec:
  replicas: %d
  strategy:
%s
  selector:
    matchLabels: {app: %s}
  template:
    metadata:
      labels: {app: %s}
`, name, replicas, strategy, name, name) + fmt.Sprintf(workloadPodSpec, image)
}

const rollingOneOne = `    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}`

func getJSON(t *testing.T, s *Skiff, into any, args ...string) {
	t.Helper()
	if err := json.Unmarshal([]byte(s.MustKubectl(append([]string{"get", "-o", "json"}, args...)...)), into); err != nil {
		t.Fatal(err)
	}
}

func replicaSetsOf(t *testing.T, s *Skiff, app string) map[string]appsv1.ReplicaSet {
	t.Helper()
	var l appsv1.ReplicaSetList
	getJSON(t, s, &l, "rs", "-l", "app="+app)
	out := map[string]appsv1.ReplicaSet{}
	for _, rs := range l.Items {
		out[rs.Name] = rs
	}
	return out
}

// activePods are the pods with label app=app not being deleted.
func activePods(t *testing.T, s *Skiff, app string) []corev1.Pod {
	t.Helper()
	var l corev1.PodList
	getJSON(t, s, &l, "pods", "-l", "app="+app)
	var out []corev1.Pod
	for _, p := range l.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			out = append(out, p)
		}
	}
	return out
}

func readyCount(pods []corev1.Pod) int {
	n := 0
	for i := range pods {
		if podReady(&pods[i]) {
			n++
		}
	}
	return n
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// rsWatch follows a Deployment's ReplicaSets and keeps the extremes a
// rolling update must respect.
//
// Availability is counted from the pods themselves (Ready and not being
// deleted), not from the ReplicaSets' status: each ReplicaSet's status is
// written on its own, so their sum can dip for a moment after the old one
// shrank and before the new one's status counts the pod that allowed it.
type rsWatch struct {
	mu           sync.Mutex
	spec, avail  map[string]int32
	ready        map[string]bool // pod name -> counts as available
	minAvailable int32           // fewest available pods seen
	maxSpec      int32           // highest sum of desired replicas seen
	both         bool            // two ReplicaSets had pods at once
	events       int
	stop         func()
}

func watchReplicaSets(t *testing.T, s *Skiff, app string) *rsWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts := metav1.ListOptions{LabelSelector: "app=" + app}
	w, err := s.ClientSet().AppsV1().ReplicaSets("default").Watch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := s.ClientSet().CoreV1().Pods("default").List(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.ResourceVersion = pods.ResourceVersion
	pw, err := s.ClientSet().CoreV1().Pods("default").Watch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	rw := &rsWatch{spec: map[string]int32{}, avail: map[string]int32{}, ready: map[string]bool{}, minAvailable: 1 << 30}
	available := func() int32 {
		var n int32
		for _, r := range rw.ready {
			if r {
				n++
			}
		}
		return n
	}
	podSeen := func(p *corev1.Pod, deleted bool) {
		rw.ready[p.Name] = !deleted && p.DeletionTimestamp == nil && podReady(p)
	}
	for i := range pods.Items {
		podSeen(&pods.Items[i], false)
	}
	rw.minAvailable = available()
	var wg sync.WaitGroup
	rw.stop = func() { cancel(); w.Stop(); pw.Stop(); wg.Wait() }
	t.Cleanup(rw.stop)
	wg.Go(func() {
		for ev := range pw.ResultChan() {
			if p, ok := ev.Object.(*corev1.Pod); ok {
				rw.mu.Lock()
				podSeen(p, ev.Type == watch.Deleted)
				rw.minAvailable = min(rw.minAvailable, available())
				rw.mu.Unlock()
			}
		}
	})
	wg.Go(func() {
		for ev := range w.ResultChan() {
			rs, ok := ev.Object.(*appsv1.ReplicaSet)
			if !ok {
				continue
			}
			rw.mu.Lock()
			if ev.Type == watch.Deleted {
				delete(rw.spec, rs.Name)
				delete(rw.avail, rs.Name)
			} else {
				rw.spec[rs.Name], rw.avail[rs.Name] = *rs.Spec.Replicas, rs.Status.AvailableReplicas
			}
			var spec int32
			withPods := 0
			for n := range rw.spec {
				spec += rw.spec[n]
				if rw.spec[n] > 0 || rw.avail[n] > 0 {
					withPods++
				}
			}
			rw.maxSpec = max(rw.maxSpec, spec)
			rw.both = rw.both || withPods > 1
			rw.events++
			rw.mu.Unlock()
		}
	})
	return rw
}

func (rw *rsWatch) result() (minAvailable, maxSpec int32, both bool, events int) {
	rw.stop()
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.minAvailable, rw.maxSpec, rw.both, rw.events
}

// TestDeploymentRollingUpdate: apply, rollout status, scale, a rolling
// update that keeps replicas-maxUnavailable available and stays within
// replicas+maxSurge, rollout undo, and a deleted pod replaced.
func TestDeploymentRollingUpdate(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, deploymentManifest("web", 3, rollingOneOne, "registry.example/web:1"))
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=20s")

	rss := replicaSetsOf(t, s, "web")
	if len(rss) != 1 {
		t.Fatalf("ReplicaSets %v, want one", rss)
	}
	var first appsv1.ReplicaSet
	for _, rs := range rss {
		first = rs
	}
	hash := first.Labels[appsv1.DefaultDeploymentUniqueLabelKey]
	if hash == "" || first.Name != "web-"+hash || first.Spec.Selector.MatchLabels[appsv1.DefaultDeploymentUniqueLabelKey] != hash {
		t.Errorf("ReplicaSet %s labels %v selector %v: want web-<pod-template-hash>", first.Name, first.Labels, first.Spec.Selector)
	}
	if ref := metav1.GetControllerOf(&first); ref == nil || ref.Kind != "Deployment" || ref.Name != "web" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Errorf("ReplicaSet owner %+v", first.OwnerReferences)
	}
	if a := first.Annotations; a["deployment.kubernetes.io/revision"] != "1" || a["deployment.kubernetes.io/desired-replicas"] != "3" || a["deployment.kubernetes.io/max-replicas"] != "4" {
		t.Errorf("ReplicaSet annotations %v", a)
	}
	for _, p := range activePods(t, s, "web") {
		if p.Labels[appsv1.DefaultDeploymentUniqueLabelKey] != hash || !strings.HasPrefix(p.Name, first.Name+"-") {
			t.Errorf("pod %s labels %v", p.Name, p.Labels)
		}
	}
	var d appsv1.Deployment
	getJSON(t, s, &d, "deployment", "web")
	if c := conditionOf(d, appsv1.DeploymentProgressing); c == nil || c.Reason != "NewReplicaSetAvailable" {
		t.Errorf("Progressing %+v", c)
	}
	if c := conditionOf(d, appsv1.DeploymentAvailable); c == nil || c.Status != corev1.ConditionTrue || c.Reason != "MinimumReplicasAvailable" {
		t.Errorf("Available %+v", c)
	}

	s.MustKubectl("scale", "deployment/web", "--replicas=5")
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=20s")
	if n := readyCount(activePods(t, s, "web")); n != 5 {
		t.Fatalf("%d ready pods after scaling to 5", n)
	}

	// A rolling update to a new image: 5 replicas, maxUnavailable 1,
	// maxSurge 1.
	rw := watchReplicaSets(t, s, "web")
	s.MustKubectl("set", "image", "deployment/web", "app=registry.example/web:2")
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=20s")
	minAvail, maxSpec, _, events := rw.result()
	// The surge is used (6 desired at the start) and never exceeded; no
	// more than one replica is ever unavailable.
	if minAvail < 4 || maxSpec != 6 {
		t.Errorf("during the update the ReplicaSets had as few as %d available (want >= 4) and at most %d desired (want 6), over %d events", minAvail, maxSpec, events)
	}
	t.Logf("rolling update: %d ReplicaSet events, at least %d available, at most %d desired", events, minAvail, maxSpec)
	rss = replicaSetsOf(t, s, "web")
	if len(rss) != 2 {
		t.Fatalf("ReplicaSets %d, want the old and the new", len(rss))
	}
	for name, rs := range rss {
		switch {
		case name == first.Name && (*rs.Spec.Replicas != 0 || rs.Status.Replicas != 0):
			t.Errorf("old ReplicaSet still has %d/%d", *rs.Spec.Replicas, rs.Status.Replicas)
		case name != first.Name && (rs.Status.AvailableReplicas != 5 || rs.Annotations["deployment.kubernetes.io/revision"] != "2"):
			t.Errorf("new ReplicaSet %s available %d revision %q", name, rs.Status.AvailableReplicas, rs.Annotations["deployment.kubernetes.io/revision"])
		}
	}

	// Undo: the first template again, in its ReplicaSet, as revision 3.
	s.MustKubectl("rollout", "undo", "deployment/web")
	s.MustKubectl("rollout", "status", "deployment/web", "--timeout=20s")
	if img := s.MustKubectl("get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); img != "registry.example/web:1" {
		t.Errorf("image after undo %q", img)
	}
	rss = replicaSetsOf(t, s, "web")
	back := rss[first.Name]
	if *back.Spec.Replicas != 5 || back.Annotations["deployment.kubernetes.io/revision"] != "3" || back.Annotations["deployment.kubernetes.io/revision-history"] != "1" {
		t.Errorf("the first ReplicaSet after undo: replicas %d annotations %v", *back.Spec.Replicas, back.Annotations)
	}
	if hist := s.MustKubectl("rollout", "history", "deployment/web"); !strings.Contains(hist, "\n2 ") || !strings.Contains(hist, "\n3 ") {
		t.Errorf("rollout history:\n%s", hist)
	}

	// A deleted pod is replaced.
	victim := activePods(t, s, "web")[0].Name
	s.MustKubectl("delete", "pod", victim, "--wait=false")
	eventually(t, "the deleted pod replaced", func() (bool, string) {
		pods := activePods(t, s, "web")
		for _, p := range pods {
			if p.Name == victim {
				return false, victim + " still active"
			}
		}
		return len(pods) == 5 && readyCount(pods) == 5, fmt.Sprintf("%d active, %d ready", len(pods), readyCount(pods))
	})
}

func conditionOf(d appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// TestDeploymentRecreatePauseAndDeadline: Recreate never runs old and new
// pods together; a paused Deployment does not roll out until resumed; a
// rollout that cannot progress reports ProgressDeadlineExceeded and
// rollout status fails.
func TestDeploymentRecreatePauseAndDeadline(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, deploymentManifest("rec", 2, "    type: Recreate", "registry.example/rec:1"))
	s.MustKubectl("rollout", "status", "deployment/rec", "--timeout=20s")
	rw := watchReplicaSets(t, s, "rec")
	s.MustKubectl("set", "image", "deployment/rec", "app=registry.example/rec:2")
	s.MustKubectl("rollout", "status", "deployment/rec", "--timeout=20s")
	if _, _, both, events := rw.result(); both {
		t.Errorf("Recreate had two ReplicaSets with pods at once (%d events)", events)
	}

	// Paused: a template change makes no new ReplicaSet until resumed.
	s.MustKubectl("rollout", "pause", "deployment/rec")
	s.MustKubectl("set", "image", "deployment/rec", "app=registry.example/rec:3")
	eventually(t, "the paused Deployment observed", func() (bool, string) {
		var d appsv1.Deployment
		getJSON(t, s, &d, "deployment", "rec")
		c := conditionOf(d, appsv1.DeploymentProgressing)
		return d.Status.ObservedGeneration == d.Generation && c != nil && c.Reason == "DeploymentPaused", fmt.Sprintf("%+v", d.Status)
	})
	if n := len(replicaSetsOf(t, s, "rec")); n != 2 {
		t.Errorf("%d ReplicaSets while paused, want 2", n)
	}
	s.MustKubectl("rollout", "resume", "deployment/rec")
	s.MustKubectl("rollout", "status", "deployment/rec", "--timeout=20s")
	if n := len(replicaSetsOf(t, s, "rec")); n != 3 {
		t.Errorf("%d ReplicaSets after resuming, want 3", n)
	}

	// A template whose pods cannot be scheduled, with a 1 s deadline.
	s.MustKubectl("patch", "deployment/rec", "--type=merge", "-p",
		`{"spec":{"progressDeadlineSeconds":1,"template":{"spec":{"nodeSelector":{"no-such-node":"x"}}}}}`)
	_, stderr, err := s.Kubectl("rollout", "status", "deployment/rec", "--timeout=20s")
	if err == nil || !strings.Contains(stderr, "exceeded its progress deadline") {
		t.Errorf("rollout status of a stuck rollout: err %v, stderr %q", err, stderr)
	}
	var d appsv1.Deployment
	getJSON(t, s, &d, "deployment", "rec")
	if c := conditionOf(d, appsv1.DeploymentProgressing); c == nil || c.Status != corev1.ConditionFalse || c.Reason != "ProgressDeadlineExceeded" {
		t.Errorf("Progressing %+v", c)
	}
}

// TestReplicaSetAdoptsReleasesReplaces: a ReplicaSet adopts a matching
// orphan instead of creating a pod for it, releases a pod whose labels
// stop matching and replaces it, and replaces a deleted pod.
func TestReplicaSetAdoptsReleasesReplaces(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, `apiVersion: v1
kind: Pod
metadata:
  name: orphan
  labels: {app: adopt}
`+strings.ReplaceAll(fmt.Sprintf(workloadPodSpec, "registry.example/a:1"), "\n    ", "\n")[4:])
	applyStdin(t, s, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: adopter
spec:
  replicas: 2
  selector:
    matchLabels: {app: adopt}
  template:
    metadata:
      labels: {app: adopt}
`+fmt.Sprintf(workloadPodSpec, "registry.example/a:1"))
	var rs appsv1.ReplicaSet
	eventually(t, "the orphan adopted and one pod created", func() (bool, string) {
		getJSON(t, s, &rs, "rs", "adopter")
		pods := activePods(t, s, "adopt")
		var orphan corev1.Pod
		getJSON(t, s, &orphan, "pod", "orphan")
		ref := metav1.GetControllerOf(&orphan)
		adopted := ref != nil && ref.Kind == "ReplicaSet" && ref.Name == "adopter" && ref.UID == rs.UID &&
			ref.BlockOwnerDeletion != nil && *ref.BlockOwnerDeletion && ref.APIVersion == "apps/v1"
		return adopted && len(pods) == 2 && rs.Status.ReadyReplicas == 2 && rs.Status.ObservedGeneration == rs.Generation,
			fmt.Sprintf("orphan refs %+v, %d pods, status %+v", orphan.OwnerReferences, len(pods), rs.Status)
	})
	if rs.Status.FullyLabeledReplicas != 2 || rs.Status.AvailableReplicas != 2 {
		t.Errorf("status %+v", rs.Status)
	}

	// Relabelled: released, and replaced.
	s.MustKubectl("label", "pod", "orphan", "app=gone", "--overwrite")
	eventually(t, "the relabelled pod released and replaced", func() (bool, string) {
		var orphan corev1.Pod
		getJSON(t, s, &orphan, "pod", "orphan")
		pods := activePods(t, s, "adopt")
		return len(orphan.OwnerReferences) == 0 && len(pods) == 2 && readyCount(pods) == 2,
			fmt.Sprintf("orphan refs %+v, %d pods", orphan.OwnerReferences, len(pods))
	})

	// Deleted: replaced.
	victim := activePods(t, s, "adopt")[0].Name
	s.MustKubectl("delete", "pod", victim, "--wait=false")
	eventually(t, "the deleted pod replaced", func() (bool, string) {
		pods := activePods(t, s, "adopt")
		for _, p := range pods {
			if p.Name == victim {
				return false, victim + " still active"
			}
		}
		return len(pods) == 2 && readyCount(pods) == 2, fmt.Sprintf("%d pods", len(pods))
	})

	// Scaled down: pods are deleted, status follows.
	s.MustKubectl("scale", "rs/adopter", "--replicas=0")
	eventually(t, "scaled to zero", func() (bool, string) {
		getJSON(t, s, &rs, "rs", "adopter")
		return len(activePods(t, s, "adopt")) == 0 && rs.Status.Replicas == 0, fmt.Sprintf("%+v", rs.Status)
	})
}

// TestReplicationController: the same controller for the core/v1 kind.
func TestReplicationController(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, `apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 3
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
`+fmt.Sprintf(workloadPodSpec, "registry.example/l:1"))
	var rc corev1.ReplicationController
	eventually(t, "three ready replicas", func() (bool, string) {
		getJSON(t, s, &rc, "rc", "legacy")
		return rc.Status.ReadyReplicas == 3 && rc.Status.AvailableReplicas == 3 && rc.Status.ObservedGeneration == rc.Generation, fmt.Sprintf("%+v", rc.Status)
	})
	for _, p := range activePods(t, s, "legacy") {
		ref := metav1.GetControllerOf(&p)
		if ref == nil || ref.Kind != "ReplicationController" || ref.APIVersion != "v1" || ref.UID != rc.UID || !strings.HasPrefix(p.Name, "legacy-") {
			t.Errorf("pod %s owner %+v", p.Name, p.OwnerReferences)
		}
	}
	s.MustKubectl("scale", "rc/legacy", "--replicas=1")
	eventually(t, "scaled to one", func() (bool, string) {
		getJSON(t, s, &rc, "rc", "legacy")
		return len(activePods(t, s, "legacy")) == 1 && rc.Status.Replicas == 1, fmt.Sprintf("%+v", rc.Status)
	})
}

// TestReplicaSetCreatesExactly: a ReplicaSet of 60 creates exactly 60
// pods, in slow-start batches, and deletes none: the expectations keep a
// pass from acting on a pod informer that has not yet seen the previous
// pass's creations.
func TestReplicaSetCreatesExactly(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := s.ClientSet().CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: "app=burst"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	applyStdin(t, s, `apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: burst
spec:
  replicas: 60
  selector:
    matchLabels: {app: burst}
  template:
    metadata:
      labels: {app: burst}
`+fmt.Sprintf(workloadPodSpec, "registry.example/b:1"))
	added, deleted := map[string]bool{}, 0
	eventually(t, "60 ready replicas", func() (bool, string) {
		var rs appsv1.ReplicaSet
		getJSON(t, s, &rs, "rs", "burst")
		return rs.Status.ReadyReplicas == 60, fmt.Sprintf("%+v", rs.Status)
	})
	// Read the watch up to the last change of any of the pods now listed.
	var pods corev1.PodList
	getJSON(t, s, &pods, "pods", "-l", "app=burst")
	last := map[string]bool{}
	for _, p := range pods.Items {
		last[p.ResourceVersion] = true
	}
	deadline := time.After(waitTimeout)
	for len(last) > 0 {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatal("the pod watch ended")
			}
			p, isPod := ev.Object.(*corev1.Pod)
			if !isPod {
				continue
			}
			delete(last, p.ResourceVersion)
			switch ev.Type {
			case watch.Added:
				added[p.Name] = true
			case watch.Deleted:
				deleted++
			}
		case <-deadline:
			t.Fatalf("the watch did not deliver %d of the pods' last changes", len(last))
		}
	}
	if len(added) != 60 || deleted != 0 {
		t.Errorf("%d pods created and %d deleted for 60 replicas", len(added), deleted)
	}
	if ev := s.MustKubectl("get", "events", "--field-selector", "involvedObject.name=burst,reason=SuccessfulCreate", "-o", "name"); ev == "" {
		t.Error("no SuccessfulCreate events")
	}
}

// TestDeploymentProportionalScaling: scaling a Deployment in the middle of
// a rollout spreads the change over its ReplicaSets by their size.
func TestDeploymentProportionalScaling(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, deploymentManifest("prop", 10, `    type: RollingUpdate
    rollingUpdate: {maxSurge: 3, maxUnavailable: 2}`, "registry.example/p:1"))
	s.MustKubectl("rollout", "status", "deployment/prop", "--timeout=20s")
	old := ""
	for name := range replicaSetsOf(t, s, "prop") {
		old = name
	}
	// A template whose pods never schedule: the rollout stops with the new
	// ReplicaSet at 5 (surge 3 + unavailable 2) and the old one at 8.
	s.MustKubectl("patch", "deployment/prop", "--type=merge", "-p",
		`{"spec":{"template":{"spec":{"nodeSelector":{"no-such-node":"x"}}}}}`)
	sizes := func() (int32, int32, string) {
		var o, n int32
		var all []string
		for name, rs := range replicaSetsOf(t, s, "prop") {
			if name == old {
				o = *rs.Spec.Replicas
			} else {
				n = *rs.Spec.Replicas
			}
			all = append(all, fmt.Sprintf("%s=%d", name, *rs.Spec.Replicas))
		}
		return o, n, strings.Join(all, " ")
	}
	eventually(t, "the stuck rollout at old 8, new 5", func() (bool, string) {
		o, n, all := sizes()
		return o == 8 && n == 5, all
	})
	// 10 -> 20: 23 allowed, 13 held; old 8*23/13 = 14.2 -> 14, new 5*23/13 = 8.8 -> 9.
	s.MustKubectl("scale", "deployment/prop", "--replicas=20")
	eventually(t, "the scale spread over both ReplicaSets", func() (bool, string) {
		o, n, all := sizes()
		return o == 14 && n == 9, all
	})
	for _, rs := range replicaSetsOf(t, s, "prop") {
		if a := rs.Annotations; a["deployment.kubernetes.io/desired-replicas"] != "20" || a["deployment.kubernetes.io/max-replicas"] != "23" {
			t.Errorf("%s annotations %v", rs.Name, a)
		}
	}
}
