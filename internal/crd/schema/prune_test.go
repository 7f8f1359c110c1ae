package schema

import (
	"reflect"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/utils/ptr"
)

func TestPrune(t *testing.T) {
	const widget = `
type: object
properties:
  spec:
    type: object
    properties:
      size: {type: string}
      ports:
        type: array
        items: {type: object, properties: {port: {type: integer}}}
      labels: {type: object, additionalProperties: {type: object, properties: {v: {type: string}}}}
      free: {type: object, additionalProperties: true}
      raw:
        type: object
        x-kubernetes-preserve-unknown-fields: true
        properties: {known: {type: object, properties: {a: {type: string}}}}
      template:
        type: object
        x-kubernetes-embedded-resource: true
        properties: {spec: {type: object, properties: {x: {type: string}}}}
  status: {type: object, properties: {ready: {type: boolean}}}
`
	tests := []struct {
		name   string
		schema string
		obj    string
		want   string
		pruned []string
	}{{
		name:   "nothing unknown",
		schema: widget,
		obj:    `{"apiVersion":"v1","kind":"Widget","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"size":"big"}}`,
		want:   `{"apiVersion":"v1","kind":"Widget","metadata":{"name":"a","labels":{"x":"y"}},"spec":{"size":"big"}}`,
	}, {
		name:   "unknown fields at each level",
		schema: widget,
		obj:    `{"kind":"Widget","extra":1,"spec":{"size":"big","color":"red","ports":[{"port":80,"name":"http"},{"proto":"TCP"}]},"status":{"ready":true,"phase":"x"}}`,
		want:   `{"kind":"Widget","spec":{"size":"big","ports":[{"port":80},{}]},"status":{"ready":true}}`,
		pruned: []string{"extra", "spec.color", "spec.ports[0].name", "spec.ports[1].proto", "status.phase"},
	}, {
		name:   "additionalProperties schema prunes inside values",
		schema: widget,
		obj:    `{"spec":{"labels":{"a":{"v":"1","w":"2"}},"free":{"anything":{"goes":[1]}}}}`,
		want:   `{"spec":{"labels":{"a":{"v":"1"}},"free":{"anything":{"goes":[1]}}}}`,
		pruned: []string{"spec.labels.a.w"},
	}, {
		name:   "preserve-unknown-fields keeps unknown but prunes below known",
		schema: widget,
		obj:    `{"spec":{"raw":{"x":{"y":1},"known":{"a":"s","b":"t"}}}}`,
		want:   `{"spec":{"raw":{"x":{"y":1},"known":{"a":"s"}}}}`,
		pruned: []string{"spec.raw.known.b"},
	}, {
		name:   "embedded resource keeps apiVersion, kind, metadata",
		schema: widget,
		obj:    `{"spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":"1","y":"2"},"other":true}}}`,
		want:   `{"spec":{"template":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"x":"1"}}}}`,
		pruned: []string{"spec.template.other", "spec.template.spec.y"},
	}, {
		name:   "apiVersion outside a resource is pruned",
		schema: widget,
		obj:    `{"spec":{"kind":"x","apiVersion":"y"}}`,
		want:   `{"spec":{}}`,
		pruned: []string{"spec.apiVersion", "spec.kind"},
	}, {
		name:   "preserve at the root",
		schema: `{type: object, x-kubernetes-preserve-unknown-fields: true, properties: {spec: {type: object, properties: {a: {type: string}}}}}`,
		obj:    `{"kind":"K","foo":1,"spec":{"a":"x","b":"y"}}`,
		want:   `{"kind":"K","foo":1,"spec":{"a":"x"}}`,
		pruned: []string{"spec.b"},
	}, {
		name:   "scalar where an object is specified is left to validation",
		schema: widget,
		obj:    `{"spec":"oops","status":[1,{"a":1}]}`,
		want:   `{"spec":"oops","status":[1,{}]}`,
		pruned: []string{"status[1].a"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := object(t, tt.obj)
			pruned := Prune(obj, structural(t, tt.schema))
			if want := object(t, tt.want); !reflect.DeepEqual(obj, want) {
				t.Errorf("Prune: got %v, want %v", obj, want)
			}
			if !slices.Equal(pruned, tt.pruned) {
				t.Errorf("pruned paths: got %q, want %q", pruned, tt.pruned)
			}
		})
	}
}

func TestPruneDropsUnknownMetadataFields(t *testing.T) {
	props := &apiextensionsv1.JSONSchemaProps{
		Type: "object",
		Properties: map[string]apiextensionsv1.JSONSchemaProps{
			"spec": {Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
				"template": {Type: "object", XEmbeddedResource: true, XPreserveUnknownFields: ptr.To(true)},
			}},
		},
	}
	s, err := New(props)
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{
		"metadata": map[string]any{"name": "a", "bogus": 1},
		"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"name": "e", "labels": map[string]any{"k": "v"}, "extra": true},
			"data":     map[string]any{"k": "v"},
		}},
	}
	got := Prune(obj, s)
	want := []string{"metadata.bogus", "spec.template.metadata.extra"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pruned %v, want %v", got, want)
	}
	tmpl := obj["spec"].(map[string]any)["template"].(map[string]any)
	if tmpl["data"] == nil || tmpl["metadata"].(map[string]any)["labels"] == nil {
		t.Errorf("pruned too much: %v", tmpl)
	}
}
