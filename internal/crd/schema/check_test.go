package schema

import (
	"errors"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestCheck(t *testing.T) {
	const p = "spec.validation.openAPIV3Schema"
	tests := []struct {
		name   string
		schema string
		want   []string
	}{{
		name: "structural",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer, default: 1}
      tags: {type: array, items: {type: string}}
      labels: {type: object, additionalProperties: {type: string}}
      port:
        x-kubernetes-int-or-string: true
        anyOf: [{type: integer}, {type: string}]
      template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
      any: {x-kubernetes-preserve-unknown-fields: true, type: object}
    anyOf:
    - required: [replicas]
    - properties: {tags: {minItems: 1}}
`,
	}, {
		name:   "field without type",
		schema: `{type: object, properties: {spec: {properties: {a: {type: string}}}}}`,
		want:   []string{p + ".properties[spec].type: Required value: must not be empty for specified object fields"},
	}, {
		name:   "root without type",
		schema: `{properties: {spec: {type: object}}}`,
		want:   []string{p + ".type: Required value: must not be empty at the root"},
	}, {
		name:   "root not an object",
		schema: `{type: string}`,
		want:   []string{p + `.type: Invalid value: "string": must be object at the root`},
	}, {
		name:   "items without type",
		schema: `{type: object, properties: {l: {type: array, items: {description: x}}}}`,
		want:   []string{p + ".properties[l].items.type: Required value: must not be empty for specified array items"},
	}, {
		name:   "array without items",
		schema: `{type: object, properties: {l: {type: array}}}`,
		want:   []string{p + ".properties[l].items: Required value: must be specified"},
	}, {
		name:   "additionalProperties at the root",
		schema: `{type: object, additionalProperties: {type: string}}`,
		want:   []string{p + ".additionalProperties: Forbidden: must not be used at the root"},
	}, {
		name:   "additionalProperties value without type",
		schema: `{type: object, properties: {m: {type: object, additionalProperties: {}}}}`,
		want:   []string{p + ".properties[m].additionalProperties.type: Required value: must not be empty for specified object fields"},
	}, {
		// As upstream's validateStructuralInvariants: arbitrary JSON is
		// declared as {x-kubernetes-preserve-unknown-fields: true}.
		name:   "int-or-string and preserve-unknown-fields need no type",
		schema: `{type: object, properties: {a: {x-kubernetes-int-or-string: true}, b: {x-kubernetes-preserve-unknown-fields: true}}}`,
	}, {
		name:   "int-or-string excludes the other extensions",
		schema: `{type: object, properties: {a: {x-kubernetes-int-or-string: true, x-kubernetes-preserve-unknown-fields: true, x-kubernetes-embedded-resource: true}}}`,
		want: []string{
			p + ".properties[a].x-kubernetes-preserve-unknown-fields: Invalid value: true: must be false if x-kubernetes-int-or-string is true",
			p + ".properties[a].x-kubernetes-embedded-resource: Invalid value: true: must be false if x-kubernetes-int-or-string is true",
			p + ".properties[a].type: Required value: must be object if x-kubernetes-embedded-resource is true",
		},
	}, {
		name:   "int-or-string in allOf",
		schema: `{type: object, properties: {a: {x-kubernetes-int-or-string: true, allOf: [{anyOf: [{type: integer}, {type: string}]}, {pattern: "^[0-9]+%?$"}]}}}`,
	}, {
		name:   "anyOf with types without int-or-string",
		schema: `{type: object, properties: {a: {type: string, anyOf: [{type: integer}, {type: string}]}}}`,
		want: []string{
			p + ".properties[a].anyOf[0].type: Forbidden: must be empty to be structural",
			p + ".properties[a].anyOf[1].type: Forbidden: must be empty to be structural",
		},
	}, {
		name: "value-validation-only junctors",
		schema: `
type: object
properties:
  a:
    type: object
    properties: {b: {type: string}}
    allOf: [{properties: {b: {default: x, description: d, nullable: true}}}]
    oneOf: [{title: t, x-kubernetes-preserve-unknown-fields: true, x-kubernetes-list-type: atomic}]
    not: {additionalProperties: {type: string}, x-kubernetes-map-type: atomic, x-kubernetes-embedded-resource: true}
`,
		want: []string{
			p + ".properties[a].allOf[0].properties[b].default: Forbidden: must be undefined to be structural",
			p + ".properties[a].allOf[0].properties[b].description: Forbidden: must be empty to be structural",
			p + ".properties[a].allOf[0].properties[b].nullable: Forbidden: must be false to be structural",
			p + ".properties[a].oneOf[0].title: Forbidden: must be empty to be structural",
			p + ".properties[a].oneOf[0].x-kubernetes-preserve-unknown-fields: Forbidden: must be false to be structural",
			p + ".properties[a].oneOf[0].x-kubernetes-list-type: Forbidden: must be undefined to be structural",
			p + ".properties[a].not.additionalProperties: Forbidden: must be undefined to be structural",
			p + ".properties[a].not.x-kubernetes-embedded-resource: Forbidden: must be false to be structural",
			p + ".properties[a].not.x-kubernetes-map-type: Forbidden: must be undefined to be structural",
		},
	}, {
		name:   "rules only in the structural part",
		schema: `{type: object, properties: {a: {type: string, x-kubernetes-validations: [{rule: "true"}], allOf: [{x-kubernetes-validations: [{rule: "true"}]}], anyOf: [{x-kubernetes-validations: [{rule: "true"}]}]}}}`,
		want: []string{
			p + ".properties[a].anyOf[0].x-kubernetes-validations: Forbidden: must be empty to be structural",
			p + ".properties[a].allOf[0].x-kubernetes-validations: Forbidden: must be empty to be structural",
		},
	}, {
		name:   "junctor names a field the structure lacks",
		schema: `{type: object, properties: {a: {type: object, properties: {b: {type: string}}, anyOf: [{properties: {c: {minLength: 1}}}, {items: {minLength: 1}}]}}}`,
		want: []string{
			p + ".properties[a].properties[c]: Required value: because it is defined in " + p + ".properties[a].anyOf[0].properties[c]",
			p + ".properties[a].items: Required value: because it is defined in " + p + ".properties[a].anyOf[1].items",
		},
	}, {
		name:   "metadata in a junctor",
		schema: `{type: object, properties: {metadata: {type: object}}, anyOf: [{properties: {metadata: {required: [name]}}}]}`,
		want:   []string{p + ".anyOf[0].properties[metadata]: Forbidden: must not be specified in a nested context"},
	}, {
		name:   "metadata may restrict name only",
		schema: `{type: object, properties: {metadata: {type: object, properties: {name: {type: string, maxLength: 10}}}}}`,
	}, {
		name:   "metadata restricting labels",
		schema: `{type: object, properties: {metadata: {type: object, properties: {labels: {type: object}}}}}`,
		want:   []string{p + ".properties[metadata]: Forbidden: must not specify anything other than name and generateName, but metadata is implicitly specified"},
	}, {
		name:   "typemeta at the root must be strings",
		schema: `{type: object, properties: {kind: {type: integer}, apiVersion: {type: string}, metadata: {type: string}}}`,
		want: []string{
			p + `.properties[kind].type: Invalid value: "integer": must be string`,
			p + `.properties[metadata].type: Invalid value: "string": must be object`,
		},
	}, {
		name: "embedded resource rules",
		schema: `
type: object
properties:
  a: {type: string, x-kubernetes-embedded-resource: true}
  b: {type: object, x-kubernetes-embedded-resource: true}
  c: {type: object, x-kubernetes-embedded-resource: true, properties: {kind: {type: integer}}}
  d: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true, additionalProperties: {type: string}}
`,
		want: []string{
			p + `.properties[a].type: Invalid value: "string": must be object if x-kubernetes-embedded-resource is true`,
			p + ".properties[a].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
			p + ".properties[b].properties: Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields",
			p + `.properties[c].properties[kind].type: Invalid value: "integer": must be string`,
			p + ".properties[d].additionalProperties: Forbidden: must not be used if x-kubernetes-embedded-resource is set",
		},
	}, {
		name:   "items as a list of schemas",
		schema: `{type: object, properties: {l: {type: array, items: [{type: string}]}}}`,
		want:   []string{p + ".properties[l].items: Forbidden: items must be a schema object and not an array"},
	}, {
		name:   "properties and additionalProperties together",
		schema: `{type: object, properties: {m: {type: object, properties: {a: {type: string}}, additionalProperties: {type: string}}}}`,
		want:   []string{p + ".properties[m].additionalProperties: Forbidden: additionalProperties and properties are mutual exclusive"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range Check(props(t, tt.schema), field.NewPath("spec", "validation", "openAPIV3Schema")) {
				got = append(got, e.Error())
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Check:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNewRejectsNonStructural(t *testing.T) {
	_, err := New(props(t, `{type: object, properties: {spec: {}}}`))
	if !errors.Is(err, ErrNotStructural) {
		t.Fatalf("New: got %v, want ErrNotStructural", err)
	}
	var nse *NotStructuralError
	if !errors.As(err, &nse) || len(nse.Errs) != 1 || nse.Errs[0].Field != "openAPIV3Schema.properties[spec].type" {
		t.Errorf("New: got %v, want one error at openAPIV3Schema.properties[spec].type", err)
	}
}
