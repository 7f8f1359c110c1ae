package crd

import (
	"encoding/json"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"skiff.dev/skiff/internal/openapi"
)

const (
	objectMetaDef = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
	listMetaDef   = "io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta"
)

// definitionName is upstream's name of a custom resource's OpenAPI
// definition: the group reversed, then version and kind
// ("stable.example.com" v1 CronTab → com.example.stable.v1.CronTab).
func definitionName(group, version, kind string) string {
	parts := strings.Split(group, ".")
	slices.Reverse(parts)
	return strings.Join(parts, ".") + "." + version + "." + kind
}

// definitions are the OpenAPI definitions of crd's served versions: each
// version's kind and list kind, so kubectl explain reads the schema and
// server-side apply merges by it.
func definitions(crd *apiextensionsv1.CustomResourceDefinition) common.GetOpenAPIDefinitions {
	crdSpec := crd.Spec
	names := crd.Status.AcceptedNames
	return func(ref common.ReferenceCallback) map[string]common.OpenAPIDefinition {
		out := map[string]common.OpenAPIDefinition{}
		for _, v := range crdSpec.Versions {
			if !v.Served {
				continue
			}
			kindName := definitionName(crdSpec.Group, v.Name, names.Kind)
			s := schemaOf(v.Schema)
			if s.Properties == nil {
				s.Properties = map[string]spec.Schema{}
			}
			s.Type = spec.StringOrArray{"object"}
			s.Properties["apiVersion"] = *spec.StringProperty().WithDescription("APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources")
			s.Properties["kind"] = *spec.StringProperty().WithDescription("Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds")
			s.Properties["metadata"] = spec.Schema{SchemaProps: spec.SchemaProps{
				Description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
				AllOf:       []spec.Schema{{SchemaProps: spec.SchemaProps{Ref: ref(objectMetaDef)}}},
			}}
			s.AddExtension(openapi.ExtensionGVK, []any{map[string]any{"group": crdSpec.Group, "version": v.Name, "kind": names.Kind}})
			out[kindName] = common.OpenAPIDefinition{Schema: s, Dependencies: []string{objectMetaDef}}

			list := spec.Schema{SchemaProps: spec.SchemaProps{
				Description: names.ListKind + " is a list of " + names.Kind,
				Type:        spec.StringOrArray{"object"},
				Required:    []string{"items"},
				Properties: map[string]spec.Schema{
					"apiVersion": *spec.StringProperty(),
					"kind":       *spec.StringProperty(),
					"metadata":   {SchemaProps: spec.SchemaProps{AllOf: []spec.Schema{{SchemaProps: spec.SchemaProps{Ref: ref(listMetaDef)}}}}},
					"items": {SchemaProps: spec.SchemaProps{
						Description: "List of " + names.Plural + ". More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
						Type:        spec.StringOrArray{"array"},
						Items:       &spec.SchemaOrArray{Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Ref: ref(kindName)}}},
					}},
				},
			}}
			list.AddExtension(openapi.ExtensionGVK, []any{map[string]any{"group": crdSpec.Group, "version": v.Name, "kind": names.ListKind}})
			out[definitionName(crdSpec.Group, v.Name, names.ListKind)] = common.OpenAPIDefinition{Schema: list, Dependencies: []string{listMetaDef, kindName}}
		}
		return out
	}
}

// schemaOf converts a version's JSON schema to kube-openapi's form; both
// are OpenAPI v3 JSON, so a JSON round trip does it. The root's metadata
// property is dropped: ObjectMeta describes it.
func schemaOf(v *apiextensionsv1.CustomResourceValidation) spec.Schema {
	var s spec.Schema
	if v == nil || v.OpenAPIV3Schema == nil {
		return s
	}
	raw, err := json.Marshal(v.OpenAPIV3Schema)
	if err != nil {
		return s
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return spec.Schema{}
	}
	delete(s.Properties, "metadata")
	return s
}
