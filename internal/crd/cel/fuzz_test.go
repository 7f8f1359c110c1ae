package cel

import (
	"context"
	"slices"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"

	"skiff.dev/skiff/internal/crd/schema"
)

// FuzzValidate checks that rules never panic on data that does not fit
// the schema (wrong types, nulls, missing fields) and answer the same twice.
func FuzzValidate(f *testing.F) {
	for _, seed := range []string{
		`{}`,
		`{"spec":{"replicas":1,"max":2,"name":"a","tags":["a"],"ports":[{"name":"a","port":1}],"limits":{"a":1},"port":"1"}}`,
		`{"spec":{"replicas":"x","max":null,"name":5,"tags":"a","ports":[1,null],"limits":[],"port":true,"when":"x","ratio":1}}`,
		`{"spec":[],"metadata":{"name":7}}`,
	} {
		f.Add(seed, `{"spec":{"replicas":2,"ports":[{"name":"a","port":2}]}}`)
	}
	v := compileOK(f, `
type: object
x-kubernetes-validations: [{rule: "self.metadata.name.size() < 10"}]
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - {rule: "self.replicas <= self.max", messageExpression: "'bad ' + self.name"}
    - {rule: "self.replicas >= oldSelf.replicas", reason: FieldValueForbidden, fieldPath: ".replicas"}
    - {rule: "self.tags.all(t, t.size() > 0) && self.tags.isSorted()"}
    - {rule: "!has(self.when) || self.when > timestamp('2000-01-01T00:00:00Z')"}
    - {rule: "self.ratio * 2.0 > 0.0"}
    properties:
      replicas: {type: integer}
      max: {type: integer}
      ratio: {type: number}
      name: {type: string, maxLength: 10}
      when: {type: string, format: date-time}
      tags: {type: array, maxItems: 10, items: {type: string, maxLength: 10}}
      port: {x-kubernetes-int-or-string: true, x-kubernetes-validations: [{rule: "self == 1 || self == '1'"}]}
      ports:
        type: array
        maxItems: 10
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items:
          type: object
          properties: {name: {type: string}, port: {type: integer}}
          x-kubernetes-validations: [{rule: "self.port >= oldSelf.port"}]
      limits:
        type: object
        maxProperties: 10
        additionalProperties: {type: integer, x-kubernetes-validations: [{rule: "self > 0"}]}
`)
	f.Fuzz(func(t *testing.T, in, old string) {
		var obj, oldObj map[string]any
		if utiljson.Unmarshal([]byte(in), &obj) != nil || obj == nil {
			return
		}
		if utiljson.Unmarshal([]byte(old), &oldObj) != nil {
			oldObj = nil
		}
		ctx := context.Background()
		first := errorStrings(v.Validate(ctx, nil, obj, oldObj))
		if again := errorStrings(v.Validate(ctx, nil, obj, oldObj)); !slices.Equal(first, again) {
			t.Fatalf("answered %q, then %q", first, again)
		}
		_ = v.Validate(ctx, nil, obj, nil)
	})
}

// FuzzCompile checks that no rule text makes Compile or Validate panic,
// and that a compiled rule evaluates against a sample object.
func FuzzCompile(f *testing.F) {
	for _, seed := range []string{
		"self.a == 'x'", "self.l.all(x, x > 0)", "self.m.exists(k, v, v == k)", "oldSelf.a != self.a",
		"quantity(self.a).isLessThan(quantity('1'))", "self.?b.orValue(0) > 1", "url(self.a).getHost() == ''",
		"cidr(self.a).containsIP('1.2.3.4')", "format.named(self.a).hasValue()", "self.l.sum() + self.l.max() > 0",
		"(", "self.", "'''", "self.a.matches('(')", "1/0 == 0", "[1,2,3].sortBy(x, -x)[0] == 3",
	} {
		f.Add(seed)
	}
	base := structural(f, `{type: object, properties: {a: {type: string, maxLength: 20}, b: {type: integer}, l: {type: array, maxItems: 5, items: {type: integer}}, m: {type: object, maxProperties: 5, additionalProperties: {type: string, maxLength: 5}}}}`)
	obj := object(f, `{"a":"1.2.3.0/24","b":3,"l":[1,2,3],"m":{"x":"x"}}`)
	old := object(f, `{"a":"y","b":2,"l":[1],"m":{}}`)
	f.Fuzz(func(t *testing.T, rule string) {
		s := *base.Props
		s.XValidations = append(s.XValidations[:0:0], apiextensionsv1.ValidationRule{Rule: rule})
		st, err := schema.New(&s)
		if err != nil {
			t.Fatal(err)
		}
		v, errs := Compile(st, nil)
		if len(errs) > 0 {
			return
		}
		_ = v.Validate(context.Background(), nil, obj, old)
		_ = v.Validate(context.Background(), nil, obj, nil)
	})
}
