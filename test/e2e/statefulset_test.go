package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// The StatefulSet controller on `skiff up`'s simulated node, whose pods go
// Running and Ready on their own, driven with kubectl.

func statefulSetManifest(name, image, extraSpec string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  clusterIP: None
  selector: {app: %[1]s}
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: %[1]s
spec:
  serviceName: %[1]s
  replicas: 3
  selector:
    matchLabels: {app: %[1]s}
%[3]s
  template:
    metadata:
      labels: {app: %[1]s}
    spec:
      terminationGracePeriodSeconds: 0
      tolerations:
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}
      containers:
      - name: app
        image: %[2]s
`, name, image, extraSpec)
}

// podEvent is one pod watch event, in the order the server sent them.
type podEvent struct {
	typ      watch.EventType
	name     string
	ready    bool
	deleting bool
}

// podLog records a label's pod events from before the test acts.
type podLog struct {
	mu     sync.Mutex
	events []podEvent
}

func watchPods(t *testing.T, s *Skiff, selector string) *podLog {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w, err := s.ClientSet().CoreV1().Pods("default").Watch(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatal(err)
	}
	l := &podLog{}
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); w.Stop(); <-done })
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				continue
			}
			e := podEvent{typ: ev.Type, name: p.Name, deleting: p.DeletionTimestamp != nil || ev.Type == watch.Deleted}
			for _, c := range p.Status.Conditions {
				e.ready = e.ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.Status.Phase == corev1.PodRunning)
			}
			l.mu.Lock()
			l.events = append(l.events, e)
			l.mu.Unlock()
		}
	}()
	return l
}

// first is the index of the first event from `from` on that matches, or -1.
func (l *podLog) first(from int, match func(podEvent) bool) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := from; i < len(l.events); i++ {
		if match(l.events[i]) {
			return i
		}
	}
	return -1
}

func (l *podLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.events)
}

func (l *podLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, e := range l.events {
		fmt.Fprintf(&b, "%d %s %s ready=%v deleting=%v\n", i, e.typ, e.name, e.ready, e.deleting)
	}
	return b.String()
}

func statefulSet(t *testing.T, s *Skiff, name string) appsv1.StatefulSet {
	t.Helper()
	var ss appsv1.StatefulSet
	getJSON(t, s, &ss, "statefulset", name)
	return ss
}

// setPods maps the pods of app not being deleted by name.
func setPods(t *testing.T, s *Skiff, app string) map[string]corev1.Pod {
	t.Helper()
	out := map[string]corev1.Pod{}
	for _, p := range activePods(t, s, app) {
		out[p.Name] = p
	}
	return out
}

func TestStatefulSet(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	log := watchPods(t, s, "app=web")
	applyStdin(t, s, statefulSetManifest("web", "registry.example/web:1", ""))
	s.MustKubectl("rollout", "status", "statefulset/web", "--timeout=30s")

	// OrderedReady: web-N is created only once web-N-1 has been seen Ready.
	for n := 1; n < 3; n++ {
		added := log.first(0, func(e podEvent) bool { return e.typ == watch.Added && e.name == fmt.Sprintf("web-%d", n) })
		readyBefore := log.first(0, func(e podEvent) bool { return e.name == fmt.Sprintf("web-%d", n-1) && e.ready })
		if added < 0 || readyBefore < 0 || readyBefore > added {
			t.Errorf("web-%d created (event %d) before web-%d was ready (event %d):\n%s", n, added, n-1, readyBefore, log)
		}
	}
	set := statefulSet(t, s, "web")
	if st := set.Status; st.Replicas != 3 || st.ReadyReplicas != 3 || st.AvailableReplicas != 3 || st.CurrentReplicas != 3 ||
		st.UpdatedReplicas != 3 || st.CurrentRevision == "" || st.CurrentRevision != st.UpdateRevision || st.ObservedGeneration != set.Generation {
		t.Errorf("status after rollout: %+v", st)
	}
	pods := setPods(t, s, "web")
	for i := range 3 {
		name := fmt.Sprintf("web-%d", i)
		p, ok := pods[name]
		if !ok {
			t.Fatalf("no pod %s; have %v", name, pods)
		}
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels[appsv1.StatefulSetPodNameLabel] != name ||
			p.Labels[appsv1.PodIndexLabel] != fmt.Sprint(i) || p.Labels[appsv1.StatefulSetRevisionLabel] != set.Status.UpdateRevision {
			t.Errorf("pod %s: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
		if ref := metav1.GetControllerOf(&p); ref == nil || ref.UID != set.UID {
			t.Errorf("pod %s controller %+v", name, ref)
		}
	}

	// Scale down: web-2 goes first, and web-1 only once web-2 is gone.
	mark := log.len()
	s.MustKubectl("scale", "statefulset/web", "--replicas=1")
	eventually(t, "web scaled down to 1", func() (bool, string) {
		ss := statefulSet(t, s, "web")
		return ss.Status.Replicas == 1 && len(setPods(t, s, "web")) == 1, fmt.Sprintf("%+v", ss.Status)
	})
	gone2 := log.first(mark, func(e podEvent) bool { return e.name == "web-2" && e.typ == watch.Deleted })
	del1 := log.first(mark, func(e podEvent) bool { return e.name == "web-1" && e.deleting })
	if gone2 < 0 || del1 < 0 || del1 < gone2 {
		t.Errorf("web-1's deletion (event %d) began before web-2 was gone (event %d):\n%s", del1, gone2, log)
	}
	if _, ok := setPods(t, s, "web")["web-0"]; !ok {
		t.Errorf("web-0 did not survive the scale-down")
	}

	// A rolling update with partition 1 replaces web-2 and web-1 only.
	s.MustKubectl("scale", "statefulset/web", "--replicas=3")
	s.MustKubectl("rollout", "status", "statefulset/web", "--timeout=30s")
	s.MustKubectl("patch", "statefulset/web", "--type=merge", "-p",
		`{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}},"template":{"spec":{"containers":[{"name":"app","image":"registry.example/web:2"}]}}}}`)
	out := s.MustKubectl("rollout", "status", "statefulset/web", "--timeout=30s")
	wantContains(t, "rollout status with a partition", out, "partitioned roll out complete")
	set = statefulSet(t, s, "web")
	if set.Status.CurrentRevision == set.Status.UpdateRevision || set.Status.UpdatedReplicas != 2 || set.Status.CurrentReplicas != 1 {
		t.Errorf("status after the partitioned update: %+v", set.Status)
	}
	pods = setPods(t, s, "web")
	for name, want := range map[string]string{"web-0": "registry.example/web:1", "web-1": "registry.example/web:2", "web-2": "registry.example/web:2"} {
		p := pods[name]
		wantRev := set.Status.UpdateRevision
		if name == "web-0" {
			wantRev = set.Status.CurrentRevision
		}
		if len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != want || p.Labels[appsv1.StatefulSetRevisionLabel] != wantRev {
			t.Errorf("pod %s after the partitioned update: %v at %s, want %s at %s", name, p.Spec.Containers, p.Labels[appsv1.StatefulSetRevisionLabel], want, wantRev)
		}
	}

	// Partition 0 finishes it; the update revision becomes current. (kubectl
	// words any rollout with a partition set, even 0, as partitioned.)
	s.MustKubectl("patch", "statefulset/web", "--type=merge", "-p", `{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}`)
	out = s.MustKubectl("rollout", "status", "statefulset/web", "--timeout=30s")
	wantContains(t, "rollout status", out, "partitioned roll out complete: 3 new pods have been updated")
	if p := setPods(t, s, "web")["web-0"]; len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != "registry.example/web:2" {
		t.Errorf("web-0 after the update: %v", p.Spec.Containers)
	}
	if st := statefulSet(t, s, "web").Status; st.CurrentRevision != set.Status.UpdateRevision || st.CurrentReplicas != 3 {
		t.Errorf("status after the update: %+v", st)
	}

	// History and undo go through the ControllerRevisions.
	hist := s.MustKubectl("rollout", "history", "statefulset/web")
	wantContains(t, "rollout history", hist, "REVISION", "1", "2")
	s.MustKubectl("rollout", "undo", "statefulset/web")
	s.MustKubectl("rollout", "status", "statefulset/web", "--timeout=30s")
	for name, p := range setPods(t, s, "web") {
		if len(p.Spec.Containers) == 0 || p.Spec.Containers[0].Image != "registry.example/web:1" {
			t.Errorf("pod %s after undo: %v", name, p.Spec.Containers)
		}
	}
	var revs appsv1.ControllerRevisionList
	getJSON(t, s, &revs, "controllerrevisions", "-l", "app=web")
	var numbers []int64
	for _, r := range revs.Items {
		numbers = append(numbers, r.Revision)
	}
	slices.Sort(numbers)
	if !slices.Equal(numbers, []int64{2, 3}) {
		t.Errorf("revisions after undo: %v, want the first renumbered 3 beside 2", numbers)
	}
}

// Claims from volumeClaimTemplates are made before their pods, whether or
// not anything binds them; whenScaled=Delete hands a scaled-away pod's
// claim to the pod, so the garbage collector deletes it with the pod.
func TestStatefulSetClaims(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, statefulSetManifest("db", "registry.example/db:1", `  podManagementPolicy: Parallel
  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Mi}}`))
	claimNames := func() []string {
		var l corev1.PersistentVolumeClaimList
		getJSON(t, s, &l, "pvc", "-l", "app=db")
		var names []string
		for _, c := range l.Items {
			if c.DeletionTimestamp == nil {
				names = append(names, c.Name)
			}
		}
		slices.Sort(names)
		return names
	}
	eventually(t, "db's three pods and claims", func() (bool, string) {
		return len(setPods(t, s, "db")) == 3 && slices.Equal(claimNames(), []string{"data-db-0", "data-db-1", "data-db-2"}),
			fmt.Sprint(claimNames())
	})
	for name, p := range setPods(t, s, "db") {
		var claim string
		for _, v := range p.Spec.Volumes {
			if v.Name == "data" && v.PersistentVolumeClaim != nil {
				claim = v.PersistentVolumeClaim.ClaimName
			}
		}
		if claim != "data-"+name {
			t.Errorf("pod %s mounts claim %q, want data-%s", name, claim, name)
		}
	}
	s.MustKubectl("scale", "statefulset/db", "--replicas=1")
	eventually(t, "db-1's and db-2's claims deleted with their pods", func() (bool, string) {
		return len(setPods(t, s, "db")) == 1 && slices.Equal(claimNames(), []string{"data-db-0"}), fmt.Sprint(claimNames())
	})
}
