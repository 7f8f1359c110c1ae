package apiserver

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

// decodeJSONStrict takes a body only when the strict JSON serializer would
// decode it into the same object without an error or a warning; it leaves
// every other body to the serializer.
func TestDecodeJSONStrictMatchesSerializer(t *testing.T) {
	info, ok := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mediaJSON)
	if !ok {
		t.Fatal("no JSON serializer")
	}
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	for _, tc := range []struct {
		body string
		fast bool
	}{
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"k":"v"}}`, true},
		{`{"metadata":{"name":"a"}}`, true},
		{`{"kind":"ConfigMap","metadata":{"name":"a"}}`, true},
		{`{"apiVersion":"v1","metadata":{"name":"a"}}`, true},
		{`null`, true},
		{`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"}}`, false},
		{`{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"a"}}`, false},
		{`{"apiVersion":"a/b/c","kind":"ConfigMap"}`, false},
		{`{"apiVersion":"v1","Kind":"Secret","metadata":{"name":"a"}}`, false},
		{`{"apiVersion":"v1","kind":"ConfigMap","kind":"Secret"}`, false},
		{`{"apiVersion":"v1","kind":"ConfigMap","spec":{}}`, false},
		{`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","name":"b"}}`, false},
		{`{"apiVersion":"v1","kind":"ConfigMap","data":{"k":1}}`, false},
		{`[]`, false},
		{`{"apiVersion":`, false},
		{``, false},
	} {
		into := &corev1.ConfigMap{}
		got := decodeJSONStrict([]byte(tc.body), gvk, into)
		if got != tc.fast {
			t.Errorf("%s: fast path %v, want %v", tc.body, got, tc.fast)
		}
		if !got {
			continue
		}
		want, wantGVK, err := info.StrictSerializer.Decode([]byte(tc.body), &gvk, &corev1.ConfigMap{})
		if err != nil || *wantGVK != gvk {
			t.Errorf("%s: fast path took a body the serializer decodes as %v, %v", tc.body, wantGVK, err)
			continue
		}
		if !equality.Semantic.DeepEqual(into, want) || into.TypeMeta != want.(*corev1.ConfigMap).TypeMeta {
			t.Errorf("%s: fast path decoded %+v, serializer %+v", tc.body, into, want)
		}
	}
}

// FuzzDecodeJSONStrict: whatever body the fast path takes, the serializer
// decodes to the same object, with no error and no warning.
func FuzzDecodeJSONStrict(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"y"}},"data":{"k":"v"},"binaryData":{"b":"AAE="},"immutable":true}`))
	f.Add([]byte(`{"Kind":"Secret","metadata":{"name":"a"}}`))
	f.Add([]byte(`{"apiVersion":"/v1","kind":""}`))
	info, _ := runtime.SerializerInfoForMediaType(Codecs.SupportedMediaTypes(), mediaJSON)
	gvk := corev1.SchemeGroupVersion.WithKind("ConfigMap")
	f.Fuzz(func(t *testing.T, body []byte) {
		into := &corev1.ConfigMap{}
		if !decodeJSONStrict(body, gvk, into) {
			return
		}
		want, wantGVK, err := info.StrictSerializer.Decode(body, &gvk, &corev1.ConfigMap{})
		if err != nil || *wantGVK != gvk {
			t.Fatalf("fast path took %q, which the serializer decodes as %v, %v", body, wantGVK, err)
		}
		if !equality.Semantic.DeepEqual(into, want) || into.TypeMeta != want.(*corev1.ConfigMap).TypeMeta {
			t.Fatalf("%q: fast path decoded %+v, serializer %+v", body, into, want)
		}
	})
}
