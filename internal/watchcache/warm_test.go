package watchcache

import (
	"reflect"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// cachedString is a Quantity's cached string form (its unexported s).
func cachedString(q *resource.Quantity) string {
	return reflect.ValueOf(q).Elem().FieldByName("s").String()
}

// A pod decoded from storage: Quantities in struct fields and behind
// pointers, and in ResourceLists (map values).
func quantityPod() *corev1.Pod {
	// A non-canonical form: parsing it, as protobuf decoding does, leaves
	// the string cache empty.
	size := resource.MustParse("1024Mi")
	return &corev1.Pod{Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}}},
			{Name: "info", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{{
				Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: resource.MustParse("1000m")},
			}}}}},
		},
		Containers: []corev1.Container{{
			Name: "c",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("0.5"),
			}},
		}},
	}}
}

func TestWarmQuantitiesFillsSharedQuantities(t *testing.T) {
	p := quantityPod()
	size := p.Spec.Volumes[0].EmptyDir.SizeLimit
	divisor := &p.Spec.Volumes[1].DownwardAPI.Items[0].ResourceFieldRef.Divisor
	if cachedString(size) != "" || cachedString(divisor) != "" {
		t.Fatalf("test setup: strings already cached: %q %q", cachedString(size), cachedString(divisor))
	}
	warmQuantities(p)
	if got := cachedString(size); got != "1Gi" {
		t.Errorf("emptyDir sizeLimit cached %q, want 1Gi", got)
	}
	if got := cachedString(divisor); got != "1" {
		t.Errorf("divisor cached %q, want 1", got)
	}
	// Map values are copied by every reader: left alone, never shared.
	cpu := p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
	if got := cachedString(&cpu); got != "" {
		t.Errorf("ResourceList value rewritten (cached %q); it is read by copy", got)
	}
}

// Once warmed, readers that encode the object at the same time write
// nothing in it: the race detector watches.
func TestWarmedObjectEncodesConcurrently(t *testing.T) {
	p := quantityPod()
	want, err := p.DeepCopy().Marshal() // a copy: p's strings stay uncached
	if err != nil {
		t.Fatal(err)
	}
	warmQuantities(p)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			got, err := p.Marshal()
			if err != nil || string(got) != string(want) {
				t.Errorf("concurrent protobuf encoding differs (err %v)", err)
			}
		})
	}
	wg.Wait()
}

// Recursive types (a CRD's schema) and types without Quantities get
// warmers without looping.
func TestWarmQuantitiesRecursiveTypes(t *testing.T) {
	crd := &apiextensionsv1.CustomResourceDefinition{Spec: apiextensionsv1.CustomResourceDefinitionSpec{
		Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Schema: &apiextensionsv1.CustomResourceValidation{
			OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
				"spec": {Type: "object", Items: &apiextensionsv1.JSONSchemaPropsOrArray{Schema: &apiextensionsv1.JSONSchemaProps{Type: "string"}}},
			}},
		}}},
	}}
	warmQuantities(crd)
	if w := warmerFor(reflect.TypeOf(crd)); w.fn != nil {
		t.Errorf("a CRD holds no Quantity, but has a warmer")
	}
	cm := &corev1.ConfigMap{Data: map[string]string{"a": "b"}}
	warmQuantities(cm)
	if w := warmerFor(reflect.TypeOf(cm)); w.fn != nil {
		t.Errorf("a ConfigMap holds no Quantity, but has a warmer")
	}
}
