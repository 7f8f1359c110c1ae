package registry

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/storage"
)

var podGVK = corev1.SchemeGroupVersion.WithKind("Pod")

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u", ResourceVersion: "7",
			CreationTimestamp: metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)),
			Labels:            map[string]string{"app": "a"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.5"},
	}
}

// A built-in kind is stored in kube-apiserver's protobuf envelope, without
// its resourceVersion, and decodes to the object with the store's revision.
func TestStorageProtobufRoundTrip(t *testing.T) {
	pod := testPod()
	var buf bytes.Buffer
	if err := encodeForStorage(&buf, pod, podGVK); err != nil {
		t.Fatal(err)
	}
	if pod.ResourceVersion != "7" {
		t.Errorf("encoding changed the object's resourceVersion to %q", pod.ResourceVersion)
	}
	data := buf.Bytes()
	if !bytes.HasPrefix(data, protoMagic) {
		t.Fatalf("stored form %q does not start with the protobuf magic", data[:min(8, len(data))])
	}
	var unk runtime.Unknown
	if err := unk.Unmarshal(data[len(protoMagic):]); err != nil {
		t.Fatal(err)
	}
	if unk.APIVersion != "v1" || unk.Kind != "Pod" {
		t.Errorf("envelope names %s %s, want v1 Pod", unk.APIVersion, unk.Kind)
	}
	got := &corev1.Pod{}
	if err := decodeFromStorage(storage.KeyValue{Key: "k", Value: data, ModRevision: 9}, got); err != nil {
		t.Fatal(err)
	}
	want := testPod()
	want.ResourceVersion = "9"
	want.APIVersion, want.Kind = "v1", "Pod"
	if !apiequality.Semantic.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant %+v", got, want)
	}
}

// Objects an older skiff stored as JSON still decode.
func TestStorageReadsJSON(t *testing.T) {
	pod := testPod()
	pod.ResourceVersion = ""
	pod.APIVersion, pod.Kind = "v1", "Pod"
	data, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	got := &corev1.Pod{}
	if err := decodeFromStorage(storage.KeyValue{Key: "k", Value: data, ModRevision: 3}, got); err != nil {
		t.Fatal(err)
	}
	pod.ResourceVersion = "3"
	if !apiequality.Semantic.DeepEqual(got, pod) {
		t.Errorf("decoded %+v\nwant %+v", got, pod)
	}
}

// A kind without protobuf (a custom resource) is stored as its JSON.
func TestStorageCustomResourceJSON(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": "w", "resourceVersion": "4"}, "spec": map[string]any{"size": int64(3)}}}
	var buf bytes.Buffer
	gvk := schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}
	if err := encodeForStorage(&buf, u, gvk); err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}`
	if buf.String() != want {
		t.Errorf("stored %s, want %s", buf.String(), want)
	}
	if u.GetResourceVersion() != "4" {
		t.Errorf("encoding changed the object's resourceVersion to %q", u.GetResourceVersion())
	}
	// A protobuf value cannot decode into a kind without protobuf.
	var pb bytes.Buffer
	if err := encodeForStorage(&pb, testPod(), podGVK); err != nil {
		t.Fatal(err)
	}
	if err := decodeFromStorage(storage.KeyValue{Key: "k", Value: pb.Bytes()}, &unstructured.Unstructured{}); err == nil {
		t.Error("a protobuf value decoded into an unstructured object")
	}
}
