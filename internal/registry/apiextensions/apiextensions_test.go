package apiextensions

import (
	"context"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	rt "skiff.dev/skiff/internal/registry/registrytest"
)

func validCRD() *apiextensionsv1.CustomResourceDefinition {
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget", ShortNames: []string{"wd"}},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{"replicas": {Type: "integer"}}},
					},
				}},
			}},
		},
	}
	Strategy{}.Default(crd)
	return crd
}

func TestDefault(t *testing.T) {
	crd := validCRD()
	if crd.Spec.Names.Singular != "widget" || crd.Spec.Names.ListKind != "WidgetList" {
		t.Errorf("names = %+v, want singular widget and listKind WidgetList", crd.Spec.Names)
	}
	if crd.Spec.Conversion == nil || crd.Spec.Conversion.Strategy != apiextensionsv1.NoneConverter {
		t.Errorf("conversion = %+v, want strategy None", crd.Spec.Conversion)
	}
}

func TestValidateCRD(t *testing.T) {
	tests := []struct {
		name   string
		change func(*apiextensionsv1.CustomResourceDefinition)
		want   []rt.FieldErr
	}{
		{"valid", func(*apiextensionsv1.CustomResourceDefinition) {}, nil},
		{"name not plural.group", func(c *apiextensionsv1.CustomResourceDefinition) { c.Name = "widget.example.com" },
			[]rt.FieldErr{rt.Invalid("metadata.name")}},
		{"group without a dot", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Group, c.Name = "example", "widgets.example" },
			[]rt.FieldErr{rt.Invalid("spec.group")}},
		{"bad scope", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Scope = "Global" },
			[]rt.FieldErr{rt.NotSupported("spec.scope")}},
		{"no storage version", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Storage = false },
			[]rt.FieldErr{rt.Invalid("spec.versions")}},
		{"two storage versions", func(c *apiextensionsv1.CustomResourceDefinition) {
			v := c.Spec.Versions[0]
			v.Name = "v2"
			c.Spec.Versions = append(c.Spec.Versions, v)
		}, []rt.FieldErr{rt.Invalid("spec.versions")}},
		{"duplicate version", func(c *apiextensionsv1.CustomResourceDefinition) {
			v := c.Spec.Versions[0]
			v.Storage = false
			c.Spec.Versions = append(c.Spec.Versions, v)
		}, []rt.FieldErr{rt.Duplicate("spec.versions[1].name")}},
		{"no schema", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema = nil },
			[]rt.FieldErr{rt.Required("spec.versions[0].schema.openAPIV3Schema")}},
		{"non-structural schema", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"] = apiextensionsv1.JSONSchemaProps{
				Properties: map[string]apiextensionsv1.JSONSchemaProps{"a": {Type: "string"}},
			}
		}, []rt.FieldErr{rt.Required("spec.versions[0].schema.openAPIV3Schema.properties[spec].type")}},
		{"kind equals listKind", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.ListKind = "Widget" },
			[]rt.FieldErr{rt.Invalid("spec.names.listKind")}},
		{"bad short name", func(c *apiextensionsv1.CustomResourceDefinition) { c.Spec.Names.ShortNames = []string{"W_D"} },
			[]rt.FieldErr{rt.Invalid("spec.names.shortNames[0]")}},
		{"scale path outside spec", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].Subresources = &apiextensionsv1.CustomResourceSubresources{Scale: &apiextensionsv1.CustomResourceSubresourceScale{
				SpecReplicasPath: ".status.replicas", StatusReplicasPath: ".status.replicas",
			}}
		}, []rt.FieldErr{rt.Invalid("spec.versions[0].subresources.scale.specReplicasPath")}},
		{"printer column type", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].AdditionalPrinterColumns = []apiextensionsv1.CustomResourceColumnDefinition{{Name: "R", Type: "float", JSONPath: ".spec.replicas"}}
		}, []rt.FieldErr{rt.NotSupported("spec.versions[0].additionalPrinterColumns[0].type")}},
		{"webhook conversion without client config", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter}
		}, []rt.FieldErr{rt.Required("spec.conversion.webhook")}},
		{"webhook over http", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Conversion = &apiextensionsv1.CustomResourceConversion{Strategy: apiextensionsv1.WebhookConverter, Webhook: &apiextensionsv1.WebhookConversion{
				ClientConfig: &apiextensionsv1.WebhookClientConfig{URL: ptr.To("http://x")}, ConversionReviewVersions: []string{"v1"},
			}}
		}, []rt.FieldErr{rt.Invalid("spec.conversion.webhook.clientConfig.url")}},
		{"deprecation warning on a current version", func(c *apiextensionsv1.CustomResourceDefinition) {
			c.Spec.Versions[0].DeprecationWarning = ptr.To("old")
		}, []rt.FieldErr{rt.Invalid("spec.versions[0].deprecationWarning")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crd := validCRD()
			tt.change(crd)
			rt.CheckErrors(t, Strategy{}.Validate(context.Background(), crd), tt.want...)
		})
	}
}

func TestValidateUpdateScopeImmutable(t *testing.T) {
	old := validCRD()
	crd := validCRD()
	crd.Spec.Scope = apiextensionsv1.ClusterScoped
	rt.CheckErrors(t, Strategy{}.ValidateUpdate(context.Background(), crd, old), rt.Invalid("spec.scope"))
}

func TestPrepareForUpdateStoredVersions(t *testing.T) {
	ctx := context.Background()
	old := validCRD()
	Strategy{}.PrepareForCreate(ctx, old)
	if got := old.Status.StoredVersions; len(got) != 1 || got[0] != "v1" {
		t.Fatalf("storedVersions after create = %v, want [v1]", got)
	}
	crd := old.DeepCopy()
	crd.Spec.Versions[0].Storage = false
	v2 := *crd.Spec.Versions[0].DeepCopy()
	v2.Name, v2.Storage = "v2", true
	crd.Spec.Versions = append(crd.Spec.Versions, v2)
	Strategy{}.PrepareForUpdate(ctx, crd, old, "")
	if got := crd.Status.StoredVersions; len(got) != 2 || got[1] != "v2" {
		t.Errorf("storedVersions after a storage change = %v, want [v1 v2]", got)
	}
	if crd.Generation != old.Generation+1 {
		t.Errorf("generation = %d, want %d", crd.Generation, old.Generation+1)
	}
}

func TestDeletionHoldsUntilCleanup(t *testing.T) {
	crd := validCRD()
	s := Strategy{}
	if !s.PendingFinalizers(crd) {
		t.Fatal("a CRD not yet deleting must go through PrepareForDeletion")
	}
	s.PrepareForDeletion(crd)
	now := metav1.Now()
	crd.DeletionTimestamp = &now
	if !s.PendingFinalizers(crd) || !IsTrue(&crd.Status, apiextensionsv1.Terminating) {
		t.Fatalf("after PrepareForDeletion: finalizers %v, conditions %v", crd.Finalizers, crd.Status.Conditions)
	}
	crd.Finalizers = nil
	if s.PendingFinalizers(crd) {
		t.Error("a CRD whose cleanup finalizer is gone must be deletable")
	}
}
