package watchcache_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/embedded"
	"skiff.dev/skiff/internal/watchcache"
)

// A cluster-scoped resource: keys are <prefix><name>, a namespace in the
// request is meaningless, names select single keys.
func TestClusterScoped(t *testing.T) {
	const nsPrefix = "/registry/core/namespaces/"
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := watchcache.New(watchcache.Config{
		Store: s, Prefix: nsPrefix, GVK: corev1.SchemeGroupVersion.WithKind("Namespace"),
		New: func() runtime.Object { return &corev1.Namespace{} },
		Decode: func(kv storage.KeyValue) (runtime.Object, error) {
			ns := &corev1.Namespace{}
			if err := json.Unmarshal(kv.Value, ns); err != nil {
				return nil, err
			}
			ns.ResourceVersion = kv.ModRevision.String()
			return ns, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	for _, name := range []string{"default", "kube-system", "kube-public"} {
		data, _ := json.Marshal(&corev1.Namespace{TypeMeta: metav1.TypeMeta{Kind: "Namespace", APIVersion: "v1"}, ObjectMeta: metav1.ObjectMeta{Name: name}})
		if _, err := s.Create(ctx, nsPrefix+name, data); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.List(ctx, watchcache.ListOptions{Namespace: "ignored"})
	if err != nil || len(res.Items) != 3 {
		t.Fatalf("List: %v, %d items", err, len(res.Items))
	}
	res, err = c.List(ctx, watchcache.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", "kube-system"), Limit: 1})
	if err != nil || len(res.Items) != 1 || res.Continue != "" {
		t.Fatalf("List by name: %v, %v, continue %q", err, names(res.Items), res.Continue)
	}
	w, err := c.Watch(ctx, watchcache.WatchOptions{Name: "default", ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Added || names([]runtime.Object{ev.Object})[0] != "/default" {
			t.Fatalf("watch by name: %s %s", ev.Type, toJSON(ev.Object))
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
	if _, _, err := s.Delete(ctx, nsPrefix+"kube-public", 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Delete(ctx, nsPrefix+"default", 0); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		if ev.Type != watch.Deleted || names([]runtime.Object{ev.Object})[0] != "/default" {
			t.Fatalf("watch by name: %s %s, want the deletion of default only", ev.Type, toJSON(ev.Object))
		}
	case <-ctx.Done():
		t.Fatal("no event")
	}
}

func TestLifecycle(t *testing.T) {
	f := newFixture(t)
	if !f.cache.Ready() {
		t.Fatal("not ready after WaitReady")
	}
	if err := f.cache.Run(context.Background()); err == nil {
		t.Fatal("a second Run succeeded")
	}
	if _, err := watchcache.New(watchcache.Config{Prefix: "no-slash"}); err == nil {
		t.Fatal("New accepted an invalid config")
	}

	// A cache that is never run is never ready; requests wait for their
	// context.
	c, err := watchcache.New(watchcache.Config{
		Store: f.store, Prefix: prefix, GVK: configMapGVK, Decode: decode,
		New: func() runtime.Object { return &corev1.ConfigMap{} },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.List(ctx, watchcache.ListOptions{}); err != context.DeadlineExceeded {
		t.Fatalf("List on a cache never run: %v, want the context's deadline", err)
	}
}
