package schema

import (
	"reflect"
	"testing"
)

func TestDefault(t *testing.T) {
	const widget = `
type: object
properties:
  spec:
    type: object
    default: {}
    properties:
      size: {type: string, default: small}
      replicas: {type: integer, default: 1}
      opts: {type: object, default: {a: [1, 2]}, properties: {a: {type: array, items: {type: integer}}, b: {type: string, default: bee}}}
      ports:
        type: array
        items: {type: object, default: {port: 8080}, properties: {port: {type: integer}, protocol: {type: string, default: TCP}}}
      labels:
        type: object
        additionalProperties: {type: object, properties: {v: {type: string, default: vee}}}
      maybe: {type: string, nullable: true, default: set}
`
	tests := []struct {
		name string
		obj  string
		want string
	}{{
		name: "missing spec gets its default, then defaults inside it",
		obj:  `{"kind":"Widget"}`,
		want: `{"kind":"Widget","spec":{"size":"small","replicas":1,"opts":{"a":[1,2],"b":"bee"},"maybe":"set"}}`,
	}, {
		name: "set values are kept",
		obj:  `{"spec":{"size":"big","replicas":0,"opts":{"b":"x"},"maybe":"no"}}`,
		want: `{"spec":{"size":"big","replicas":0,"opts":{"b":"x"},"maybe":"no"}}`,
	}, {
		name: "null without nullable is defaulted, with nullable kept",
		obj:  `{"spec":{"size":null,"maybe":null}}`,
		want: `{"spec":{"size":"small","replicas":1,"opts":{"a":[1,2],"b":"bee"},"maybe":null}}`,
	}, {
		name: "array items: null items and fields inside items",
		obj:  `{"spec":{"ports":[{"port":80},null]}}`,
		want: `{"spec":{"size":"small","replicas":1,"opts":{"a":[1,2],"b":"bee"},"maybe":"set","ports":[{"port":80,"protocol":"TCP"},{"port":8080,"protocol":"TCP"}]}}`,
	}, {
		name: "additionalProperties values",
		obj:  `{"spec":{"labels":{"x":{},"y":{"v":"own"}}}}`,
		want: `{"spec":{"size":"small","replicas":1,"opts":{"a":[1,2],"b":"bee"},"maybe":"set","labels":{"x":{"v":"vee"},"y":{"v":"own"}}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := object(t, tt.obj)
			Default(obj, structural(t, widget))
			if want := object(t, tt.want); !reflect.DeepEqual(obj, want) {
				t.Errorf("Default:\n got %v\nwant %v", obj, want)
			}
		})
	}
}

// Defaults are copied: changing one defaulted object must not change the
// schema or another object.
func TestDefaultCopies(t *testing.T) {
	s := structural(t, `{type: object, properties: {spec: {type: object, default: {list: [{a: 1}]}}}}`)
	first, second := map[string]any{}, map[string]any{}
	Default(first, s)
	Default(second, s)
	first["spec"].(map[string]any)["list"].([]any)[0].(map[string]any)["a"] = int64(2)
	want := map[string]any{"spec": map[string]any{"list": []any{map[string]any{"a": int64(1)}}}}
	if !reflect.DeepEqual(second, want) {
		t.Errorf("second object: got %v, want %v", second, want)
	}
	if !reflect.DeepEqual(s.Properties["spec"].Default, want["spec"]) {
		t.Errorf("schema default changed: %v", s.Properties["spec"].Default)
	}
}
