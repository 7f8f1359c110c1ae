package cel

import (
	"context"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

const crdPath = "spec.validation.openAPIV3Schema"

// TestCompileErrors checks what a CRD's rules are rejected for, with
// kube-apiserver's paths and messages.
func TestCompileErrors(t *testing.T) {
	const p = crdPath + ".properties[spec].x-kubernetes-validations"
	tests := []struct {
		name   string
		schema string // YAML of spec's schema
		want   []string
	}{{
		name:   "undefined field",
		schema: `{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: "self.b == 'x'"}]}`,
		want: []string{p + `[0].rule: Invalid value: {"Rule":"self.b == 'x'","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: ERROR: <input>:1:5: undefined field 'b'
 | self.b == 'x'
 | ....^`},
	}, {
		name:   "type mismatch",
		schema: `{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: "self.a > 1"}]}`,
		want: []string{p + `[0].rule: Invalid value: {"Rule":"self.a \u003e 1","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: ERROR: <input>:1:8: found no matching overload for '_>_' applied to '(string, int)'
 | self.a > 1
 | .......^`},
	}, {
		name:   "sum of strings",
		schema: `{type: object, x-kubernetes-validations: [{rule: "['a'].sum() == 'a'"}]}`,
		want: []string{p + `[0].rule: Invalid value: {"Rule":"['a'].sum() == 'a'","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: compilation failed: ERROR: <input>:1:10: found no matching overload for 'sum' applied to 'list(string).()'
 | ['a'].sum() == 'a'
 | .........^`},
	}, {
		name:   "not a bool",
		schema: `{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: "self.a"}]}`,
		want:   []string{p + `[0].rule: Invalid value: {"Rule":"self.a","Message":"","MessageExpression":"","Reason":null,"FieldPath":"","OptionalOldSelf":null}: cel expression must evaluate to a bool`},
	}, {
		name:   "messageExpression not a string",
		schema: `{type: object, x-kubernetes-validations: [{rule: "true", messageExpression: "1"}]}`,
		want:   []string{p + `[0].messageExpression: Invalid value: {"Rule":"true","Message":"","MessageExpression":"1","Reason":null,"FieldPath":"","OptionalOldSelf":null}: messageExpression must evaluate to a string`},
	}, {
		name:   "messageExpression does not compile",
		schema: `{type: object, x-kubernetes-validations: [{rule: "true", messageExpression: "self.x"}]}`,
		want: []string{p + `[0].messageExpression: Invalid value: {"Rule":"true","Message":"","MessageExpression":"self.x","Reason":null,"FieldPath":"","OptionalOldSelf":null}: messageExpression compilation failed: ERROR: <input>:1:5: undefined field 'x'
 | self.x
 | ....^`},
	}, {
		name:   "empty rule, bad message, reason and fieldPath",
		schema: `{type: object, properties: {a: {type: string}}, x-kubernetes-validations: [{rule: " "}, {rule: "true", message: " "}, {rule: "true", message: "a\nb"}, {rule: "true\n&& true"}, {rule: "true", messageExpression: " "}, {rule: "true", reason: Other}, {rule: "true", fieldPath: ".b"}, {rule: "true", fieldPath: " "}]}`,
		want: []string{
			p + `[0].rule: Required value: rule is not specified`,
			p + `[1].message: Invalid value: " ": must be non-empty if specified`,
			p + `[2].message: Invalid value: "a\nb": must not contain line breaks`,
			p + `[3].message: Required value: message must be specified if rule contains line breaks`,
			p + `[4].messageExpression: Required value: messageExpression must be non-empty if specified`,
			p + `[5].reason: Unsupported value: "Other": supported values: "FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"`,
			p + `[6].fieldPath: Invalid value: ".b": must be a valid path`,
			p + `[7].fieldPath: Invalid value: " ": must be non-empty if specified`,
			p + `[7].fieldPath: Invalid value: " ": must be a valid path`,
		},
	}, {
		name:   "oldSelf in items of an atomic list",
		schema: `{type: object, properties: {l: {type: array, maxItems: 10, items: {type: string, maxLength: 10, x-kubernetes-validations: [{rule: "self == oldSelf"}]}}}}`,
		want:   []string{crdPath + `.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ` + crdPath + `.properties[spec].properties[l]`},
	}, {
		name:   "oldSelf below a set list",
		schema: `{type: object, properties: {l: {type: array, maxItems: 10, x-kubernetes-list-type: set, items: {type: object, properties: {a: {type: string, maxLength: 10, x-kubernetes-validations: [{rule: "self == oldSelf"}]}}}}}}`,
		want:   []string{crdPath + `.properties[spec].properties[l].items.properties[a].x-kubernetes-validations[0].rule: Invalid value: "self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within ` + crdPath + `.properties[spec].properties[l]`},
	}, {
		name:   "oldSelf in items of a map list is fine",
		schema: `{type: object, properties: {l: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [k], items: {type: object, required: [k], properties: {k: {type: string}}, x-kubernetes-validations: [{rule: "self == oldSelf"}]}}}}`,
	}, {
		name:   "optionalOldSelf without oldSelf",
		schema: `{type: object, x-kubernetes-validations: [{rule: "true", optionalOldSelf: true}]}`,
		want:   []string{p + `[0].optionalOldSelf: Invalid value: true: may not be set if oldSelf is not used in rule`},
	}, {
		name:   "estimated cost exceeds the per-rule limit",
		schema: `{type: object, properties: {l: {type: array, items: {type: string}}}, x-kubernetes-validations: [{rule: "self.l.all(a, self.l.all(b, a == b))"}]}`,
		want: []string{
			p + `[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
			p + `[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema`,
			crdPath + `: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
		},
	}, {
		name:   "maxItems and maxLength bound the cost",
		schema: `{type: object, properties: {l: {type: array, maxItems: 100, items: {type: string, maxLength: 64}}}, x-kubernetes-validations: [{rule: "self.l.all(a, self.l.all(b, a == b))"}]}`,
	}, {
		name:   "rules in list items multiply by maxItems",
		schema: `{type: object, properties: {l: {type: array, items: {type: object, properties: {m: {type: array, maxItems: 5000, items: {type: string, maxLength: 100}}}, x-kubernetes-validations: [{rule: "self.m.all(x, x.startsWith('a'))"}]}}}}`,
		want: []string{
			crdPath + `.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
			crdPath + `.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Forbidden: contributed to estimated rule cost total exceeding cost limit for entire OpenAPIv3 schema`,
			crdPath + `: Forbidden: x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 schema exceeds budget by factor of more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := structural(t, `{type: object, properties: {spec: `+tt.schema+`}}`)
			v, errs := Compile(s, field.NewPath("spec", "validation", "openAPIV3Schema"))
			got := errorStrings(errs)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if (v == nil) != (len(tt.want) > 0) {
				t.Errorf("Validator %v with %d errors", v, len(errs))
			}
		})
	}
}

// TestRuntimeCost checks the per-call limit and the per-object budget.
func TestRuntimeCost(t *testing.T) {
	s := structural(t, `
type: object
properties:
  spec:
    type: object
    properties:
      l: {type: array, maxItems: 1000, items: {type: integer}}
    x-kubernetes-validations:
    - rule: "self.l.all(a, self.l.all(b, a >= 0 || b >= 0))"
    - rule: "self.l.size() >= 0"
`)
	list := make([]any, 1000)
	for i := range list {
		list[i] = int64(i)
	}
	obj := map[string]any{"spec": map[string]any{"l": list}}

	// A call over the per-call limit fails and stops all further rules.
	v, errs := compile(s, nil, 10000, true)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := errorStrings(v.Validate(context.Background(), nil, obj, nil))
	want := []string{`spec: Invalid value: "object": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.l.all(a, self.l.all(b, a >= 0 || b >= 0))`}
	if !slices.Equal(got, want) {
		t.Errorf("per-call limit:\ngot  %q\nwant %q", got, want)
	}

	// Within the per-call limit, the object's budget runs out.
	v = compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      l: {type: array, maxItems: 1000, items: {type: integer}}
    x-kubernetes-validations:
    - rule: "self.l.all(a, a >= 0)"
    - rule: "self.l.all(a, a >= 0)"
`)
	errs, remaining := v.ValidateWithBudget(context.Background(), nil, obj, nil, 3000)
	got = errorStrings(errs)
	want = []string{`spec: Invalid value: "object": validation failed due to running out of cost budget, no further validation rules will be run`}
	if !slices.Equal(got, want) || remaining >= 0 {
		t.Errorf("budget: got %q (remaining %d), want %q and a negative remainder", got, remaining, want)
	}
	if errs, remaining := v.ValidateWithBudget(context.Background(), nil, obj, nil, RuntimeCostBudget); len(errs) > 0 || remaining >= RuntimeCostBudget || remaining < 0 {
		t.Errorf("full budget: %v, remaining %d", errs, remaining)
	}
}

func TestValidFieldPath(t *testing.T) {
	s := structural(t, `
type: object
properties:
  a: {type: object, properties: {b: {type: string}}}
  m: {type: object, additionalProperties: {type: object, properties: {c: {type: string}}}}
  l: {type: array, items: {type: string}}
`)
	tests := []struct {
		path, want, err string
	}{
		{path: ".a.b", want: "a.b"},
		{path: ".m['x.y'].c", want: "m[x.y].c"},
		{path: "['a'].b", want: "a.b"},
		{path: ".m['it\\'s']", want: "m[it's]"},
		{path: ".z", err: "does not refer to a valid field"},
		{path: ".l.x", err: "does not refer to a valid field"},
		{path: ".a[b]", err: "expected single quoted string but got b"},
		{path: "a", err: "expected [ or . but got: a"},
		{path: ".a.", err: "unexpected end of JSON path"},
		{path: ".m['x'", err: "unexpected end of JSON path"},
	}
	for _, tt := range tests {
		p, err := ValidFieldPath(tt.path, s)
		switch {
		case tt.err != "" && (err == nil || err.Error() != tt.err):
			t.Errorf("%q: error %v, want %q", tt.path, err, tt.err)
		case tt.err == "" && (err != nil || p.String() != tt.want):
			t.Errorf("%q: got %v, %v; want %q", tt.path, p, err, tt.want)
		}
	}
}

func TestCompileStoredSkipsCostLimits(t *testing.T) {
	s := structural(t, `{type: object, properties: {l: {type: array, items: {type: string}}}, x-kubernetes-validations: [{rule: "self.l.all(a, self.l.all(b, a == b))"}]}`)
	if _, errs := Compile(s, nil); len(errs) == 0 {
		t.Fatal("Compile accepted a rule over the cost limit")
	}
	v, errs := CompileStored(s)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if errs := v.Validate(context.Background(), nil, map[string]any{"l": []any{"x", "y"}}, nil); len(errs) != 1 {
		t.Errorf("got %v, want the rule to fail once", errs)
	}
	if _, errs := CompileStored(structural(t, `{type: object, x-kubernetes-validations: [{rule: "self.nope"}]}`)); len(errs) == 0 {
		t.Error("CompileStored accepted a rule that does not compile")
	}
}
