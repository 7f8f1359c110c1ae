package watchcache_test

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/watchcache"
)

// cachedEvent returns the object of a watch event for a fresh ConfigMap.
func cachedEvent(t *testing.T) (*watchcache.CachedObject, *corev1.ConfigMap) {
	t.Helper()
	f := newFixture(t)
	w := f.watch(watchcache.WatchOptions{ResourceVersion: f.caughtUp().String()})
	cm := f.create(configMap("a", "x", map[string]string{"app": "web"}, map[string]string{"k": "v"}))
	ev := w.next()
	co, ok := ev.Object.(*watchcache.CachedObject)
	if ev.Type != watch.Added || !ok {
		t.Fatalf("event %s with %T, want ADDED with a *CachedObject", ev.Type, ev.Object)
	}
	return co, cm
}

// The apimachinery serializers encode a CachedObject through CacheEncode:
// the same bytes as the plain object, from any number of goroutines (the
// race detector watches the shared object).
func TestCachedObjectSerializers(t *testing.T) {
	co, cm := cachedEvent(t)
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	codecs := serializer.NewCodecFactory(scheme)
	var encoders []runtime.Encoder
	for _, info := range codecs.SupportedMediaTypes() {
		encoders = append(encoders, info.Serializer)
	}
	encoders = append(encoders, codecs.LegacyCodec(corev1.SchemeGroupVersion))

	for _, enc := range encoders {
		var want bytes.Buffer
		if err := enc.Encode(cm.DeepCopy(), &want); err != nil {
			t.Fatalf("%s: encoding the plain object: %v", enc.Identifier(), err)
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				var got bytes.Buffer
				if err := enc.Encode(co, &got); err != nil {
					t.Errorf("%s: %v", enc.Identifier(), err)
					return
				}
				if !bytes.Equal(got.Bytes(), want.Bytes()) {
					t.Errorf("%s: cached encoding\n%q\nwant\n%q", enc.Identifier(), got.Bytes(), want.Bytes())
				}
			})
		}
		wg.Wait()
	}
	if got := co.Object(); !sameObject(got, cm) {
		t.Fatalf("encoding changed the shared object: %s", toJSON(got))
	}
}

// The first encoding is not kept (most versions are encoded for one
// watcher only); the second is, and serves every later reader.
func TestCachedObjectKeepsTheSecondEncoding(t *testing.T) {
	co, _ := cachedEvent(t)
	var calls atomic.Int64
	encode := func(obj runtime.Object, w io.Writer) error {
		calls.Add(1)
		if obj == co.Object() {
			t.Error("encode got the shared object, want a copy")
		}
		_, err := w.Write([]byte(obj.(*corev1.ConfigMap).Name))
		return err
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			var b bytes.Buffer
			if err := co.CacheEncode("test", encode, &b); err != nil || b.String() != "x" {
				t.Errorf("CacheEncode: %q, %v", b.String(), err)
			}
		})
	}
	wg.Wait()
	if n := calls.Load(); n != 2 {
		t.Fatalf("encoded %d times for 16 readers, want twice", n)
	}
	for range 2 {
		if err := co.CacheEncode("other", encode, io.Discard); err != nil || calls.Load() != 3 {
			t.Fatalf("another identifier: %v, %d encodings, want 3", err, calls.Load())
		}
	}

	// Copies are the caller's; a kind change copies on write.
	cp := co.GetObject().(*corev1.ConfigMap)
	cp.Name = "changed"
	gvk := co.GroupVersionKind()
	gvk.Version = "v2"
	co.SetGroupVersionKind(gvk)
	if name := co.Object().(*corev1.ConfigMap).Name; name != "x" {
		t.Fatalf("shared object's name is %q after changing a copy", name)
	}
	if co.GroupVersionKind() != gvk {
		t.Fatalf("kind %v after SetGroupVersionKind(%v)", co.GroupVersionKind(), gvk)
	}
}
