package apiserver

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// localPod has a Quantity in a struct field, the emptyDir size limit,
// whose canonical form (8Gi) the decoder does not cache (it caches only
// some canonical forms), and Quantities in ResourceLists.
const localPod = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"app":"web"}},
"spec":{"volumes":[{"name":"s","emptyDir":{"sizeLimit":"8192Mi"}}],
"containers":[{"name":"c","image":"i","resources":{"requests":{"cpu":"0.5","memory":"1048576Ki"}}}]}}`

// An informer over LocalListWatch sees the server's objects as its
// clients do, and reads them while the server encodes the same objects
// for other clients (the race detector watches). Its watch events carry
// the cache's own objects: no copy.
func TestLocalListWatchFeedsInformers(t *testing.T) {
	s, hs := newTestServer(t)
	if code, _, body := do(t, "POST", hs.URL+"/api/v1/namespaces/default/pods", "application/json", "", []byte(localPod)); code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	lw, ok := s.LocalListWatch(corev1.SchemeGroupVersion.WithResource("pods"))
	if !ok {
		t.Fatal("pods are not served locally")
	}
	if _, ok := s.LocalListWatch(corev1.SchemeGroupVersion.WithResource("nothings")); ok {
		t.Error("an unknown resource is served locally")
	}
	inf := cache.NewSharedIndexInformer(lw, &corev1.Pod{}, 0, cache.Indexers{})
	events := make(chan string, 16)
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { events <- "add " + obj.(*corev1.Pod).Name },
		UpdateFunc: func(_, obj any) {
			events <- "update " + obj.(*corev1.Pod).Name + " " + string(obj.(*corev1.Pod).Status.Phase)
		},
		DeleteFunc: func(obj any) {
			if p, ok := obj.(*corev1.Pod); ok {
				events <- "delete " + p.Name
			}
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { inf.RunWithContext(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	next := func(want string) {
		t.Helper()
		select {
		case got := <-events:
			if got != want {
				t.Fatalf("informer event %q, want %q", got, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no informer event; want %q", want)
		}
	}
	next("add p")

	// Clients encode the same cached objects while the informer reads.
	var readers sync.WaitGroup
	for _, accept := range []string{mediaProtobuf, "application/json"} {
		readers.Go(func() {
			for range 20 {
				if code, _, body := do(t, "GET", hs.URL+"/api/v1/pods", "", accept, nil); code != 200 {
					t.Errorf("list as %s: %d %s", accept, code, body)
					return
				}
			}
		})
	}
	for range 20 {
		obj, ok, err := inf.GetStore().GetByKey("default/p")
		if err != nil || !ok {
			t.Fatalf("informer lost the pod: %v", err)
		}
		p := obj.(*corev1.Pod)
		if len(p.ManagedFields) == 0 {
			t.Fatal("the informer's pod has no managed fields")
		}
		if got := p.Spec.Volumes[0].EmptyDir.SizeLimit.String(); got != "8Gi" {
			t.Fatalf("sizeLimit %s, want 8Gi", got)
		}
	}
	readers.Wait()

	code, _, body := do(t, "GET", hs.URL+"/api/v1/namespaces/default/pods/p", "", "application/json", nil)
	var served corev1.Pod
	if code != 200 || json.Unmarshal(body, &served) != nil {
		t.Fatalf("get: %d %s", code, body)
	}
	served.Status.Phase = corev1.PodRunning
	status, _ := json.Marshal(&served)
	if code, _, body := do(t, "PUT", hs.URL+"/api/v1/namespaces/default/pods/p/status", "application/json", "", status); code != 200 {
		t.Fatalf("status update: %d %s", code, body)
	}
	next("update p Running")
	// The watch event's pod is the cache's: what the registry reads.
	obj, _, _ := inf.GetStore().GetByKey("default/p")
	cached, err := s.resources[corev1.SchemeGroupVersion.WithResource("pods")].store.GetShared(context.Background(), "default", "p")
	if err != nil || obj != cached {
		t.Fatalf("the informer holds %p, the cache %p (%v): want the same object", obj, cached, err)
	}
	if code, _, body := do(t, "DELETE", hs.URL+"/api/v1/namespaces/default/pods/p?gracePeriodSeconds=0", "", "", nil); code != 200 {
		t.Fatalf("delete: %d %s", code, body)
	}
	// A pod with no node goes at once; one that is bound waits for its
	// kubelet. Either way the informer follows.
	for {
		select {
		case got := <-events:
			if got == "delete p" {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatal("no delete event")
		}
	}
}
