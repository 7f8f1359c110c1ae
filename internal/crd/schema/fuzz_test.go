package schema

import (
	"reflect"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// FuzzPruneDefault checks, for arbitrary JSON objects, that neither
// function panics and that both are idempotent: pruning a pruned object
// removes nothing, defaulting a defaulted object changes nothing.
func FuzzPruneDefault(f *testing.F) {
	const src = `
type: object
properties:
  spec:
    type: object
    default: {}
    properties:
      size: {type: string, default: small}
      ports: {type: array, items: {type: object, default: {port: 1}, properties: {port: {type: integer}, p: {type: string, default: TCP}}}}
      labels: {type: object, additionalProperties: {type: object, properties: {v: {type: string, default: vee}}}}
      raw: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {k: {type: object, properties: {a: {type: string}}}}}
      tpl: {type: object, x-kubernetes-embedded-resource: true, properties: {spec: {type: object, properties: {x: {type: string, default: y}}}}}
`
	for _, seed := range []string{
		`{}`,
		`{"spec":{"ports":[null,{"port":2,"q":1}],"labels":{"a":null,"b":{"w":1}}}}`,
		`{"spec":{"raw":{"k":{"a":"1","b":2},"z":[1]},"tpl":{"kind":"K","metadata":{"x":1},"spec":null,"extra":1}}}`,
		`{"spec":"scalar","status":[{"a":1}]}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := New(props(t, src))
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if utiljson.Unmarshal([]byte(in), &obj) != nil || obj == nil {
			return
		}
		Default(obj, s)
		Prune(obj, s)
		if again := Prune(obj, s); len(again) != 0 {
			t.Fatalf("second Prune removed %q", again)
		}
		want := deepCopyJSON(obj)
		Default(obj, s)
		if !reflect.DeepEqual(obj, want) {
			t.Fatalf("second Default changed %v to %v", want, obj)
		}
	})
}
