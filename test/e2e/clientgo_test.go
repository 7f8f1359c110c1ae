package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// eventLog records what informer handlers saw, as "VERB name k=value" lines,
// for the objects whose names start with prefix.
type eventLog struct {
	prefix string

	mu      sync.Mutex
	entries []string
	rvs     []uint64
	errs    []string
}

func (l *eventLog) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { l.record("ADD", obj) },
		UpdateFunc: func(oldObj, newObj any) {
			// A relist that finds an object unchanged redelivers it with the
			// same resourceVersion; only real changes count.
			if oldObj.(*corev1.ConfigMap).ResourceVersion != newObj.(*corev1.ConfigMap).ResourceVersion {
				l.record("UPDATE", newObj)
			}
		},
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				l.mu.Lock()
				l.errs = append(l.errs, "a delete was only noticed by a relist: "+d.Key)
				l.mu.Unlock()
				obj = d.Obj
			}
			l.record("DELETE", obj)
		},
	}
}

func (l *eventLog) record(verb string, obj any) {
	cm := obj.(*corev1.ConfigMap)
	if !strings.HasPrefix(cm.Name, l.prefix) {
		return
	}
	rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64)
	l.mu.Lock()
	defer l.mu.Unlock()
	entry := verb + " " + cm.Name
	if verb != "DELETE" {
		entry += " k=" + cm.Data["k"]
	}
	l.entries = append(l.entries, entry)
	l.rvs = append(l.rvs, rv)
}

func (l *eventLog) snapshot() ([]string, []uint64, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries), slices.Clone(l.rvs), slices.Clone(l.errs)
}

// waitFor waits until the log has exactly want, in order.
func (l *eventLog) waitFor(t *testing.T, want []string) {
	t.Helper()
	eventually(t, "informer events", func() (bool, string) {
		got, _, _ := l.snapshot()
		if len(got) < len(want) {
			return false, fmt.Sprintf("got %d of %d events:\n%s", len(got), len(want), strings.Join(got, "\n"))
		}
		return true, ""
	})
	got, rvs, errs := l.snapshot()
	if !slices.Equal(got, want) {
		t.Errorf("informer saw:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for i := 1; i < len(rvs); i++ {
		if rvs[i] <= rvs[i-1] {
			t.Errorf("resourceVersions not increasing at event %d (%s): %v", i, got[i], rvs)
			break
		}
	}
	for _, e := range errs {
		t.Error(e)
	}
}

// startInformer runs a configmap informer on namespace ns until the test ends.
func startInformer(t *testing.T, cs kubernetes.Interface, ns string, h cache.ResourceEventHandler) cache.SharedIndexInformer {
	t.Helper()
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(ns))
	inf := factory.Core().V1().ConfigMaps().Informer()
	if _, err := inf.AddEventHandler(h); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	factory.Start(stop)
	t.Cleanup(func() {
		close(stop)
		factory.Shutdown()
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatalf("informer did not sync within %v", waitTimeout)
	}
	return inf
}

// cmOps performs configmap writes through client-go and returns the log
// entries an informer must show for them.
type cmOps struct {
	t  *testing.T
	cs kubernetes.Interface
	ns string
}

func (o cmOps) create(name, k string) string {
	o.t.Helper()
	_, err := o.cs.CoreV1().ConfigMaps(o.ns).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"k": k}}, metav1.CreateOptions{})
	if err != nil {
		o.t.Fatalf("create %s: %v", name, err)
	}
	return "ADD " + name + " k=" + k
}

func (o cmOps) update(name, k string) string {
	o.t.Helper()
	cm, err := o.cs.CoreV1().ConfigMaps(o.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		o.t.Fatalf("get %s: %v", name, err)
	}
	cm.Data["k"] = k
	if _, err := o.cs.CoreV1().ConfigMaps(o.ns).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		o.t.Fatalf("update %s: %v", name, err)
	}
	return "UPDATE " + name + " k=" + k
}

func (o cmOps) delete(name string) string {
	o.t.Helper()
	if err := o.cs.CoreV1().ConfigMaps(o.ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		o.t.Fatalf("delete %s: %v", name, err)
	}
	return "DELETE " + name
}

// TestInformerAcrossRestart: an informer sees every change, in order, exactly
// once, across a restart of the server.
func TestInformerAcrossRestart(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	// The informer resumes its watch across the restart only if nothing
	// it watches (ConfigMaps, in any namespace) is written meanwhile;
	// otherwise it relists, as upstream's watch cache makes it, and sees
	// coalesced events. So first let the service account controller
	// finish publishing kube-root-ca.crt everywhere.
	waitForRootCAs(t, s)
	log := &eventLog{prefix: "inf-"}
	startInformer(t, s.ClientSet(), "default", log.handler())

	ops := cmOps{t, s.ClientSet(), "default"}
	want := []string{
		ops.create("inf-a", "1"),
		ops.create("inf-b", "1"),
		ops.update("inf-a", "2"),
		ops.delete("inf-b"),
		ops.create("inf-c", "1"),
	}
	log.waitFor(t, want)

	s.Restart()

	// A restarted server's watch cache starts at the store's current
	// revision; background writers (leases renew every few seconds) move
	// it past the informer's last resourceVersion, so, as against
	// kube-apiserver, the informer usually relists and sees the writes
	// below coalesced. Whichever way it recovers, what it holds must end
	// up exactly the server's state.
	ops.cs = s.ClientSet()
	ops.update("inf-a", "3")
	ops.create("inf-d", "1")
	ops.delete("inf-c")
	ops.update("inf-d", "2")
	eventually(t, "the informer's view after the restart", func() (bool, string) {
		// A delete noticed only by the relist (DeletedFinalStateUnknown)
		// is expected here.
		got, _, _ := log.snapshot()
		state := map[string]string{}
		for _, e := range got {
			verb, rest, _ := strings.Cut(e, " ")
			name, data, _ := strings.Cut(rest, " ")
			if verb == "DELETE" {
				delete(state, name)
			} else {
				state[name] = data
			}
		}
		want := map[string]string{"inf-a": "k=3", "inf-d": "k=2"}
		return maps.Equal(state, want), fmt.Sprintf("state %v (want %v), events:\n%s", state, want, strings.Join(got, "\n"))
	})
}

func TestConcurrentUpdatersOneConflict(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx := context.Background()
	cms := s.ClientSet().CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "race"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	clients := []kubernetes.Interface{s.ClientSet(), s.ClientSet()} // separate connections
	for round := range 20 {
		base, err := cms.Get(ctx, "race", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cm := base.DeepCopy()
				cm.Data = map[string]string{"writer": strconv.Itoa(i), "round": strconv.Itoa(round)}
				<-start
				_, errs[i] = clients[i].CoreV1().ConfigMaps("default").Update(ctx, cm, metav1.UpdateOptions{})
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner != -1 {
					t.Fatalf("round %d: both updates from resourceVersion %s succeeded", round, base.ResourceVersion)
				}
				winner = i
			case apierrors.IsConflict(err):
			default:
				t.Fatalf("round %d: writer %d: %v, want success or 409 Conflict", round, i, err)
			}
		}
		if winner == -1 {
			t.Fatalf("round %d: both updates failed with Conflict: %v", round, errs)
		}
		got, err := cms.Get(ctx, "race", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Data["writer"] != strconv.Itoa(winner) || got.Data["round"] != strconv.Itoa(round) {
			t.Fatalf("round %d: stored data %v, want writer %d's", round, got.Data, winner)
		}
	}
}

// TestWatchList: a watch with sendInitialEvents streams the current objects
// as ADDED, then a bookmark marking the end of the initial events, then
// changes.
func TestWatchList(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ops := cmOps{t, s.ClientSet(), "default"}
	for _, n := range []string{"wl-a", "wl-b", "wl-c"} {
		ops.create(n, "1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	yes := true
	w, err := s.ClientSet().CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{
		SendInitialEvents:    &yes,
		ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan,
		AllowWatchBookmarks:  true,
	})
	if err != nil {
		t.Fatalf("watch with sendInitialEvents: %v", err)
	}
	defer w.Stop()

	var initial []string
	var maxRV uint64
	for done := false; !done; {
		select {
		case ev, ok := <-w.ResultChan():
			if !ok {
				t.Fatalf("watch closed before the initial-events-end bookmark; got %v", initial)
			}
			switch ev.Type {
			case watch.Added:
				cm := ev.Object.(*corev1.ConfigMap)
				initial = append(initial, cm.Name)
				rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64)
				maxRV = max(maxRV, rv)
			case watch.Bookmark:
				cm := ev.Object.(*corev1.ConfigMap)
				if cm.Annotations[metav1.InitialEventsAnnotationKey] != "true" {
					continue // an ordinary progress bookmark
				}
				if rv, _ := strconv.ParseUint(cm.ResourceVersion, 10, 64); rv < maxRV {
					t.Errorf("initial-events-end bookmark at resourceVersion %d, before the initial objects' %d", rv, maxRV)
				}
				done = true
			default:
				t.Fatalf("unexpected %s event before the end bookmark: %#v", ev.Type, ev.Object)
			}
		case <-ctx.Done():
			t.Fatalf("no initial-events-end bookmark within %v; initial events so far: %v", waitTimeout, initial)
		}
	}
	initial = slices.DeleteFunc(initial, func(n string) bool { return !strings.HasPrefix(n, "wl-") })
	slices.Sort(initial)
	if !slices.Equal(initial, []string{"wl-a", "wl-b", "wl-c"}) {
		t.Errorf("initial events for %v, want wl-a, wl-b, wl-c", initial)
	}

	ops.create("wl-d", "1")
	for {
		select {
		case ev := <-w.ResultChan():
			if ev.Type == watch.Bookmark {
				continue
			}
			// The root-CA publisher may add kube-root-ca.crt to the
			// namespace at any time: not this test's.
			if cm, _ := ev.Object.(*corev1.ConfigMap); cm != nil && !strings.HasPrefix(cm.Name, "wl-") {
				continue
			}
			if cm, _ := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Added || cm == nil || cm.Name != "wl-d" {
				t.Errorf("first change after the initial events: %s %v, want ADDED wl-d", ev.Type, ev.Object)
			}
			return
		case <-ctx.Done():
			t.Fatal("no event for wl-d")
		}
	}
}

// TestListPagination: limit/continue pages through one consistent snapshot.
func TestListPagination(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx := context.Background()
	cs := s.ClientSet()
	s.MustKubectl("create", "namespace", "paging")
	// The namespace's kube-root-ca.crt first, so that the controller
	// writing it does not add an item between the lists below.
	waitForRootCAs(t, s)
	ops := cmOps{t, cs, "paging"}
	for i := range 7 {
		ops.create(fmt.Sprintf("page-%d", i), "1")
	}
	full, err := cs.CoreV1().ConfigMaps("paging").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, cm := range full.Items {
		want = append(want, cm.Name)
	}

	var got []string
	var listRV, cont string
	for page := 0; ; page++ {
		l, err := cs.CoreV1().ConfigMaps("paging").List(ctx, metav1.ListOptions{Limit: 3, Continue: cont})
		if err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if len(l.Items) > 3 {
			t.Fatalf("page %d has %d items with limit 3", page, len(l.Items))
		}
		for _, cm := range l.Items {
			got = append(got, cm.Name)
		}
		if page == 0 {
			listRV = l.ResourceVersion
			// Written after the first page: not part of this list.
			ops.create("page-late", "1")
		} else if l.ResourceVersion != listRV {
			t.Errorf("page %d resourceVersion %s, first page %s: pages must share one snapshot", page, l.ResourceVersion, listRV)
		}
		remaining := len(want) - len(got)
		if l.Continue == "" {
			if remaining != 0 {
				t.Fatalf("no continue token after page %d with %d items remaining", page, remaining)
			}
			if l.RemainingItemCount != nil {
				t.Errorf("last page has remainingItemCount %d, want none", *l.RemainingItemCount)
			}
			break
		}
		if l.RemainingItemCount == nil || *l.RemainingItemCount != int64(remaining) {
			t.Errorf("page %d remainingItemCount = %v, want %d", page, l.RemainingItemCount, remaining)
		}
		cont = l.Continue
		if page > 10 {
			t.Fatal("too many pages")
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged names %v, want %v", got, want)
	}

	// kubectl pages too (--chunk-size), and now sees the late object.
	out := s.MustKubectl("get", "cm", "-n", "paging", "--chunk-size=2", "-o", "name")
	if n := strings.Count(out, "configmap/page-"); n != 8 {
		t.Errorf("kubectl get --chunk-size=2 listed %d page-* configmaps, want 8:\n%s", n, out)
	}
}

func TestDeleteCollection(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx := context.Background()
	cms := s.ClientSet().CoreV1().ConfigMaps("default")
	for i := range 6 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("dc-%d", i), Labels: map[string]string{"batch": strconv.Itoa(i % 2)}}}
		if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "batch=0"}); err != nil {
		t.Fatalf("deletecollection: %v", err)
	}
	l, err := cms.List(ctx, metav1.ListOptions{LabelSelector: "batch"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range l.Items {
		names = append(names, cm.Name)
	}
	if want := []string{"dc-1", "dc-3", "dc-5"}; !slices.Equal(names, want) {
		t.Errorf("after deletecollection batch=0: %v, want %v", names, want)
	}
}

// TestProtobufClient: built-in kinds speak protobuf, as controller-runtime's
// typed client does.
func TestProtobufClient(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cfg := s.RESTConfig()
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cms := cs.CoreV1().ConfigMaps("default")
	created, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "proto"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("protobuf create: %v", err)
	}
	if created.UID == "" || created.Data["k"] != "v" {
		t.Errorf("protobuf create returned %+v", created)
	}
	created.Data["k"] = "v2"
	if _, err := cms.Update(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("protobuf update: %v", err)
	}
	got, err := cms.Get(ctx, "proto", metav1.GetOptions{})
	if err != nil || got.Data["k"] != "v2" {
		t.Fatalf("protobuf get: %v %v", got, err)
	}
	l, err := cms.List(ctx, metav1.ListOptions{})
	if err != nil || len(l.Items) == 0 {
		t.Fatalf("protobuf list: %v %v", l, err)
	}

	r := doHTTP(t, s.HTTPClient(), http.MethodGet, s.URL(cmPath+"/proto"), "", nil,
		http.Header{"Accept": {"application/vnd.kubernetes.protobuf"}})
	if ct := r.Header.Get("Content-Type"); r.Code != http.StatusOK || ct != "application/vnd.kubernetes.protobuf" || !strings.HasPrefix(string(r.Body), "k8s\x00") {
		t.Errorf("GET with Accept protobuf: %d, Content-Type %q, body starts %q", r.Code, ct, r.Body[:min(8, len(r.Body))])
	}
}

// TestPartialObjectMetadata: as=PartialObjectMetadata(List) on the wire, and
// client-go's metadata client on top of it.
func TestPartialObjectMetadata(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "meta", "--from-literal=k=v")
	s.MustKubectl("label", "configmap", "meta", "app=meta")

	for _, c := range []struct{ path, as string }{
		{cmPath + "/meta", "PartialObjectMetadata"},
		{cmPath + "?labelSelector=app%3Dmeta", "PartialObjectMetadataList"},
	} {
		r := doHTTP(t, s.HTTPClient(), http.MethodGet, s.URL(c.path), "", nil,
			http.Header{"Accept": {"application/json;as=" + c.as + ";g=meta.k8s.io;v=v1"}})
		var got struct {
			APIVersion string
			Kind       string
			Data       map[string]string
			Metadata   metav1.ObjectMeta
			Items      []struct {
				APIVersion string
				Kind       string
				Data       map[string]string
				Metadata   metav1.ObjectMeta
			}
		}
		if r.Code != http.StatusOK {
			t.Errorf("GET %s as=%s: %d %s", c.path, c.as, r.Code, r.Body)
			continue
		}
		if err := json.Unmarshal(r.Body, &got); err != nil {
			t.Fatal(err)
		}
		if got.Kind != c.as || got.APIVersion != "meta.k8s.io/v1" || got.Data != nil {
			t.Errorf("GET %s as=%s: kind %q apiVersion %q data %v; want %s, meta.k8s.io/v1, no data", c.path, c.as, got.Kind, got.APIVersion, got.Data, c.as)
		}
		if c.as == "PartialObjectMetadata" && (got.Metadata.Name != "meta" || got.Metadata.Labels["app"] != "meta") {
			t.Errorf("PartialObjectMetadata metadata = %+v", got.Metadata)
		}
		if c.as == "PartialObjectMetadataList" {
			if len(got.Items) != 1 || got.Items[0].Metadata.Name != "meta" || got.Items[0].Data != nil {
				t.Errorf("PartialObjectMetadataList items = %+v", got.Items)
			}
		}
	}

	mc, err := metadata.NewForConfig(s.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	res := mc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}).Namespace("default")
	ctx := context.Background()
	m, err := res.Get(ctx, "meta", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("metadata client get: %v", err)
	}
	if m.Name != "meta" || m.Labels["app"] != "meta" || m.UID == "" {
		t.Errorf("metadata client get: %+v", m.ObjectMeta)
	}
	l, err := res.List(ctx, metav1.ListOptions{LabelSelector: "app=meta"})
	if err != nil {
		t.Fatalf("metadata client list: %v", err)
	}
	if len(l.Items) != 1 || l.Items[0].Name != "meta" {
		t.Errorf("metadata client list: %d items", len(l.Items))
	}
}

// TestEventsV1: events.k8s.io/v1 Events are the core/v1 Events seen
// through another schema.
func TestEventsV1(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	now := metav1.NowMicro()
	_, err := cs.EventsV1().Events("default").Create(ctx, &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "ev1"},
		EventTime:           now,
		ReportingController: "example.com/e2e",
		ReportingInstance:   "e2e-1",
		Action:              "Testing",
		Reason:              "Tested",
		Regarding:           corev1.ObjectReference{APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "subject"},
		Note:                "note from events.k8s.io",
		Type:                corev1.EventTypeNormal,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create events.k8s.io/v1 Event: %v", err)
	}
	core, err := cs.CoreV1().Events("default").Get(ctx, "ev1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get it as core/v1: %v", err)
	}
	if core.InvolvedObject.Name != "subject" || core.Message != "note from events.k8s.io" || core.Reason != "Tested" ||
		core.ReportingController != "example.com/e2e" || core.Action != "Testing" {
		t.Errorf("core/v1 view: involvedObject %+v message %q reason %q reportingController %q action %q",
			core.InvolvedObject, core.Message, core.Reason, core.ReportingController, core.Action)
	}

	fieldSel := "involvedObject.name=subject,involvedObject.kind=ConfigMap"
	l, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{FieldSelector: fieldSel})
	if err != nil || len(l.Items) != 1 {
		t.Errorf("core/v1 list with %s: %v, %v", fieldSel, l, err)
	}
	out := s.MustKubectl("get", "events.v1.events.k8s.io", "-o", "jsonpath={.items[*].note}")
	if out != "note from events.k8s.io" {
		t.Errorf("kubectl get events.v1.events.k8s.io notes = %q", out)
	}
}

// TestLeaderElection: client-go leader election on a coordination.k8s.io Lease.
func TestLeaderElection(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: "e2e-leader", Namespace: "kube-system"},
		Client:     cs.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: "candidate-1"},
	}
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
			Lock:            lock,
			LeaseDuration:   15 * time.Second,
			RenewDeadline:   10 * time.Second,
			RetryPeriod:     2 * time.Second,
			ReleaseOnCancel: true,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(context.Context) { close(leading) },
				OnStoppedLeading: func() {},
			},
		})
	}()
	select {
	case <-leading:
	case <-time.After(waitTimeout):
		cancel()
		t.Fatal("candidate-1 did not become leader")
	}
	if got := s.MustKubectl("get", "lease", "e2e-leader", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}"); got != "candidate-1" {
		t.Errorf("lease holder = %q, want candidate-1", got)
	}
	cancel()
	<-stopped
	// ReleaseOnCancel empties the holder.
	if got := s.MustKubectl("get", "lease", "e2e-leader", "-n", "kube-system", "-o", "jsonpath={.spec.holderIdentity}"); got != "" {
		t.Errorf("lease holder after release = %q, want empty", got)
	}
}

// waitForRootCAs waits until every namespace has its kube-root-ca.crt.
func waitForRootCAs(t *testing.T, s *Skiff) {
	t.Helper()
	ctx := context.Background()
	eventually(t, "kube-root-ca.crt in every namespace", func() (bool, string) {
		nss, err := s.ClientSet().CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, ns := range nss.Items {
			if _, err := s.ClientSet().CoreV1().ConfigMaps(ns.Name).Get(ctx, "kube-root-ca.crt", metav1.GetOptions{}); err != nil {
				return false, fmt.Sprintf("%s: %v", ns.Name, err)
			}
		}
		return true, ""
	})
}
