package crd

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

func testCRD() *apiextensionsv1.CustomResourceDefinition {
	version := func(name string, storage bool) apiextensionsv1.CustomResourceDefinitionVersion {
		return apiextensionsv1.CustomResourceDefinitionVersion{
			Name: name, Served: true, Storage: storage,
			Subresources: &apiextensionsv1.CustomResourceSubresources{
				Status: &apiextensionsv1.CustomResourceSubresourceStatus{},
				Scale:  &apiextensionsv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas", LabelSelectorPath: ptr.To(".status.selector")},
			},
			Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
				Type: "object",
				Properties: map[string]apiextensionsv1.JSONSchemaProps{
					"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"size":     {Type: "string", Enum: []apiextensionsv1.JSON{{Raw: []byte(`"small"`)}, {Raw: []byte(`"large"`)}}, Default: &apiextensionsv1.JSON{Raw: []byte(`"small"`)}},
						"replicas": {Type: "integer"},
					}},
					"status": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"replicas": {Type: "integer"},
						"selector": {Type: "string"},
					}},
				},
			}},
		}
	}
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com", Scope: apiextensionsv1.NamespaceScoped,
			Names:    apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{version("v1beta1", false), version("v1", true)},
		},
		Status: apiextensionsv1.CustomResourceDefinitionStatus{
			AcceptedNames: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
		},
	}
}

func widget(t *testing.T, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatal(err)
	}
	return u
}

func buildTest(t *testing.T) *served {
	t.Helper()
	s, err := build(testCRD(), noneConverter{group: "example.com"}, func() bool { return false })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBuildServesEveryServedVersionOverOneStorage(t *testing.T) {
	s := buildTest(t)
	if len(s.resources) != 2 {
		t.Fatalf("served %d resources, want 2", len(s.resources))
	}
	for _, r := range s.resources {
		if r.StoredAs == nil || r.StoredAs.Resource != s.storage {
			t.Errorf("%v is not kept in the storage version's storage", r.GVR)
		}
		if !r.HasSubresource("status") || !r.HasSubresource("scale") || r.Scale == nil {
			t.Errorf("%v subresources = %v", r.GVR, r.Subresources)
		}
	}
	if s.storage.GVR.Version != "v1" {
		t.Errorf("storage version = %s, want v1", s.storage.GVR.Version)
	}
	// A v1beta1 object is stored as v1 and read back as v1beta1.
	beta := s.resources[0]
	obj := widget(t, `{"apiVersion":"example.com/v1beta1","kind":"Widget","metadata":{"name":"a"},"spec":{"replicas":1}}`)
	stored, err := beta.StoredAs.ToStorage(obj)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.(*unstructured.Unstructured).GetAPIVersion(); got != "example.com/v1" {
		t.Errorf("stored apiVersion = %s", got)
	}
	back, err := beta.StoredAs.FromStorage(stored)
	if err != nil {
		t.Fatal(err)
	}
	u := back.(*unstructured.Unstructured)
	if u.GetAPIVersion() != "example.com/v1beta1" || u.Object["spec"].(map[string]any)["size"] != "small" {
		t.Errorf("read back %v, want v1beta1 with the default size applied on read", u.Object)
	}
}

func TestStrategyWrites(t *testing.T) {
	ctx := context.Background()
	st := buildTest(t).storage.Strategy.(*strategy)
	obj := widget(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"replicas":1,"extra":true},"status":{"replicas":5}}`)
	if got := st.PruneUnknownFields(obj.DeepCopy()); !reflect.DeepEqual(got, []string{"spec.extra"}) {
		t.Errorf("PruneUnknownFields = %v, want [spec.extra]", got)
	}
	st.Default(obj)
	st.PrepareForCreate(ctx, obj)
	if _, ok := obj.Object["status"]; ok {
		t.Error("status set on create through the main resource")
	}
	if spec := obj.Object["spec"].(map[string]any); spec["size"] != "small" || spec["extra"] != nil {
		t.Errorf("spec = %v, want size defaulted and extra pruned", spec)
	}
	if obj.GetGeneration() != 1 {
		t.Errorf("generation = %d, want 1", obj.GetGeneration())
	}
	if errs := st.Validate(ctx, obj); len(errs) != 0 {
		t.Errorf("Validate = %v", errs)
	}

	// /status changes status only; generation stays.
	upd := obj.DeepCopy()
	upd.Object["spec"].(map[string]any)["replicas"] = int64(9)
	upd.Object["status"] = map[string]any{"replicas": int64(3)}
	st.PrepareForUpdate(ctx, upd, obj, "status")
	if upd.Object["spec"].(map[string]any)["replicas"] != int64(1) || upd.GetGeneration() != 1 {
		t.Errorf("after /status: %v", upd.Object)
	}
	// The main resource keeps status and bumps generation on spec changes.
	withStatus := upd
	main := withStatus.DeepCopy()
	main.Object["spec"].(map[string]any)["size"] = "large"
	delete(main.Object, "status")
	st.PrepareForUpdate(ctx, main, withStatus, "")
	if main.Object["status"] == nil || main.GetGeneration() != 2 {
		t.Errorf("after a spec update: generation %d status %v", main.GetGeneration(), main.Object["status"])
	}
	labels := main.DeepCopy()
	labels.SetLabels(map[string]string{"a": "b"})
	st.PrepareForUpdate(ctx, labels, main, "")
	if labels.GetGeneration() != 2 {
		t.Errorf("a metadata-only change bumped generation to %d", labels.GetGeneration())
	}

	bad := widget(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"size":"huge"}}`)
	errs := st.Validate(ctx, bad)
	if len(errs) != 1 || errs[0].Field != "spec.size" {
		t.Errorf("Validate(size huge) = %v, want one error at spec.size", errs)
	}
}

func TestScale(t *testing.T) {
	sc := buildTest(t).storage.Scale
	obj := widget(t, `{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"a"},"spec":{"replicas":2},"status":{"replicas":1,"selector":"app=a"}}`)
	if sc.Replicas(obj) != 2 || sc.StatusReplicas(obj) != 1 || sc.Selector(obj) != "app=a" {
		t.Errorf("scale reads %d %d %q", sc.Replicas(obj), sc.StatusReplicas(obj), sc.Selector(obj))
	}
	sc.SetReplicas(obj, 7)
	if sc.Replicas(obj) != 7 {
		t.Errorf("replicas after SetReplicas(7) = %d", sc.Replicas(obj))
	}
}

func TestTerminatingRefusesCreate(t *testing.T) {
	terminating := false
	s, err := build(testCRD(), noneConverter{group: "example.com"}, func() bool { return terminating })
	if err != nil {
		t.Fatal(err)
	}
	st := s.storage.Strategy.(*strategy)
	if err := st.AllowCreate(); err != nil {
		t.Fatal(err)
	}
	terminating = true
	if err := st.AllowCreate(); err == nil {
		t.Error("create allowed while the CRD is terminating")
	}
}

func TestWebhookConverter(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review apiextensionsv1.ConversionReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		var out []runtime.RawExtension
		for _, raw := range review.Request.Objects {
			u := &unstructured.Unstructured{}
			_ = u.UnmarshalJSON(raw.Raw)
			u.SetAPIVersion(review.Request.DesiredAPIVersion)
			u.SetUID("changed-by-webhook") // not the webhook's to change
			u.SetLabels(map[string]string{"converted": "yes"})
			b, _ := u.MarshalJSON()
			out = append(out, runtime.RawExtension{Raw: b})
		}
		review.Response = &apiextensionsv1.ConversionResponse{UID: review.Request.UID, ConvertedObjects: out, Result: metav1.Status{Status: metav1.StatusSuccess}}
		review.Request = nil
		_ = json.NewEncoder(w).Encode(&review)
	}))
	defer srv.Close()
	crd := testCRD()
	crd.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter, Webhook: &apiextensionsv1.WebhookConversion{
		ClientConfig:             &apiextensionsv1.WebhookClientConfig{URL: ptr.To(srv.URL + "/convert")},
		ConversionReviewVersions: []string{"v1"},
	}}
	conv, err := newConverter(crd)
	if err != nil {
		t.Fatal(err)
	}
	conv.(*webhookConverter).client = srv.Client()
	in := widget(t, `{"apiVersion":"example.com/v1beta1","kind":"Widget","metadata":{"name":"a","uid":"u1"},"spec":{"replicas":1}}`)
	out, err := conv.convert(in, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if out.GetAPIVersion() != "example.com/v1" || string(out.GetUID()) != "u1" || out.GetLabels()["converted"] != "yes" {
		t.Errorf("converted = %v", out.Object)
	}
	if in.GetAPIVersion() != "example.com/v1beta1" {
		t.Error("convert changed its argument")
	}
}
