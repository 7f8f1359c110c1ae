package schema

import (
	"reflect"
	"slices"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// fuzzValidateSchema uses every keyword Validate knows, with defaults that
// are themselves valid.
const fuzzValidateSchema = `
type: object
properties:
  metadata: {type: object, properties: {name: {type: string, maxLength: 10}}}
  spec:
    type: object
    default: {}
    required: [size]
    minProperties: 1
    properties:
      size: {type: string, enum: [small, large], default: small}
      replicas: {type: integer, minimum: 0, maximum: 10, exclusiveMaximum: true, multipleOf: 1, format: int32, default: 1}
      ratio: {type: number, minimum: 0.5, exclusiveMinimum: true, nullable: true}
      name: {type: string, pattern: "^[a-z]+$", minLength: 1, maxLength: 5}
      when: {type: string, format: date-time}
      id: {type: string, format: uuid}
      port: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}
      tags: {type: array, items: {type: string}, maxItems: 3, minItems: 0, uniqueItems: true, x-kubernetes-list-type: set}
      ports:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items:
          type: object
          required: [name]
          properties: {name: {type: string}, p: {type: integer, default: 80}}
      labels: {type: object, maxProperties: 2, additionalProperties: {type: string}, x-kubernetes-map-type: granular}
      raw: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {k: {type: boolean}}}
      tpl: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
      choice:
        type: object
        properties: {a: {type: string}, b: {type: string}}
        oneOf: [{required: [a]}, {required: [b]}]
        not: {required: [a, b]}
        allOf: [{minProperties: 1}]
`

// FuzzValidate checks that Validate never panics, never changes its input,
// answers the same twice, and that defaulting and pruning an object a
// second time changes neither it nor its errors. An empty object, once
// defaulted, is valid: the defaults are.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"spec":{"size":"huge","replicas":10,"ratio":0.5,"name":"ABC","when":"x","id":"y","port":true,"tags":["a","a","b","c"],"labels":{"a":"1","b":"2","c":3}}}`,
		`{"spec":{"ports":[{"name":"a"},{"name":"a"},{"p":1},{}],"tpl":{"kind":"K","metadata":{"name":"A/B"}},"choice":{"a":"x","b":"y"}}}`,
		`{"metadata":{"name":"waytoolongname"},"spec":{"raw":{"k":"notbool","x":[1,{"y":null}]},"ratio":null,"port":"50%"}}`,
		`{"spec":null,"status":[1,2]}`,
		`{"spec":{"replicas":1.5,"tags":"x","ports":{},"labels":[],"choice":3}}`,
	} {
		f.Add(seed)
	}
	s, err := New(props(f, fuzzValidateSchema))
	if err != nil {
		f.Fatal(err)
	}
	empty := map[string]any{}
	Default(empty, s)
	if errs := Validate(s, empty, nil); len(errs) > 0 {
		f.Fatalf("defaulted empty object is invalid: %v", errs)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var obj map[string]any
		if utiljson.Unmarshal([]byte(in), &obj) != nil || obj == nil {
			return
		}
		before := deepCopyJSON(obj)
		first := errorStrings(Validate(s, obj, nil))
		if !reflect.DeepEqual(obj, before) {
			t.Fatalf("Validate changed %v to %v", before, obj)
		}
		if again := errorStrings(Validate(s, obj, nil)); !slices.Equal(first, again) {
			t.Fatalf("Validate answered %q, then %q", first, again)
		}
		Default(obj, s)
		Prune(obj, s)
		settled := errorStrings(Validate(s, obj, nil))
		want := deepCopyJSON(obj)
		Default(obj, s)
		Prune(obj, s)
		if !reflect.DeepEqual(obj, want) {
			t.Fatalf("second Default+Prune changed %v to %v", want, obj)
		}
		if again := errorStrings(Validate(s, obj, nil)); !slices.Equal(settled, again) {
			t.Fatalf("errors of a settled object changed from %q to %q", settled, again)
		}
		_ = ValidateUpdate(s, obj, before, nil)
	})
}
