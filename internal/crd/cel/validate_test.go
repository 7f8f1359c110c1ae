package cel

import (
	"context"
	"slices"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidate evaluates rules on create (old "") and update, with
// kube-apiserver's error types, paths and messages.
func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		schema   string // YAML of the root schema
		obj, old string
		want     []string
	}{{
		name: "passing rule",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.replicas <= self.max"}]
    properties: {replicas: {type: integer}, max: {type: integer}}`,
		obj: `{"spec":{"replicas":1,"max":2}}`,
	}, {
		name: "failing rule with default message",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.replicas <= self.max"}]
    properties: {replicas: {type: integer}, max: {type: integer}}`,
		obj:  `{"spec":{"replicas":3,"max":2}}`,
		want: []string{`spec: Invalid value: failed rule: self.replicas <= self.max`},
	}, {
		name: "message",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.replicas <= self.max", message: " replicas must not exceed max "}]
    properties: {replicas: {type: integer}, max: {type: integer}}`,
		obj:  `{"spec":{"replicas":3,"max":2}}`,
		want: []string{`spec: Invalid value: replicas must not exceed max`},
	}, {
		name: "scalar values are shown",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      name: {type: string, maxLength: 20, x-kubernetes-validations: [{rule: "self.startsWith('app-')", message: "must start with app-"}]}
      size: {type: integer, x-kubernetes-validations: [{rule: "self % 2 == 0", message: "must be even"}]}`,
		obj: `{"spec":{"name":"web","size":3}}`,
		want: []string{
			`spec.name: Invalid value: "web": must start with app-`,
			`spec.size: Invalid value: 3: must be even`,
		},
	}, {
		name: "messageExpression",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.replicas <= self.max", messageExpression: "'replicas of ' + self.name + ' exceed max'", message: "static"}]
    properties: {replicas: {type: integer}, max: {type: integer}, name: {type: string, maxLength: 10}}`,
		obj:  `{"spec":{"replicas":3,"max":2,"name":"web"}}`,
		want: []string{`spec: Invalid value: replicas of web exceed max`},
	}, {
		name: "messageExpression that fails falls back to message",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "!has(self.name)", messageExpression: "self.other", message: "no name please"}]
    properties: {name: {type: string, maxLength: 5}, other: {type: string, maxLength: 5}}`,
		obj:  `{"spec":{"name":"x"}}`,
		want: []string{`spec: Invalid value: no name please`},
	}, {
		name: "reason and fieldPath",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - {rule: "has(self.a)", reason: FieldValueRequired, fieldPath: ".a", message: "a is required"}
    - {rule: "!has(self.b)", reason: FieldValueForbidden, fieldPath: ".b", message: "b is forbidden"}
    - {rule: "self.c != 'x'", reason: FieldValueDuplicate, fieldPath: ".c"}
    - {rule: "self.c != 'x'", reason: FieldValueInvalid, fieldPath: ".labels['k.io/x']"}
    properties: {a: {type: string}, b: {type: string}, c: {type: string}, labels: {type: object, additionalProperties: {type: string}}}`,
		obj: `{"spec":{"b":"1","c":"x"}}`,
		want: []string{
			`spec.a: Required value: a is required`,
			`spec.b: Forbidden: b is forbidden`,
			`spec.c: Duplicate value`,
			`spec.labels[k.io/x]: Invalid value: failed rule: self.c != 'x'`,
		},
	}, {
		name: "root rule reads metadata.name",
		schema: `
type: object
x-kubernetes-validations: [{rule: "self.metadata.name.startsWith('a') && self.kind == 'Widget'"}]
properties:
  spec: {type: object}`,
		obj:  `{"apiVersion":"x.io/v1","kind":"Widget","metadata":{"name":"bob","namespace":"ns"},"spec":{}}`,
		want: []string{`<nil>: Invalid value: failed rule: self.metadata.name.startsWith('a') && self.kind == 'Widget'`},
	}, {
		name: "transition rule does not run on create",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer, x-kubernetes-validations: [{rule: "self >= oldSelf", message: "cannot shrink"}]}`,
		obj: `{"spec":{"replicas":1}}`,
	}, {
		name: "transition rule runs on update",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer, x-kubernetes-validations: [{rule: "self >= oldSelf", message: "cannot shrink"}]}`,
		obj:  `{"spec":{"replicas":1}}`,
		old:  `{"spec":{"replicas":2}}`,
		want: []string{`spec.replicas: Invalid value: 1: cannot shrink`},
	}, {
		name: "transition rule skipped when the field is new",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      replicas: {type: integer, x-kubernetes-validations: [{rule: "self >= oldSelf", message: "cannot shrink"}]}`,
		obj: `{"spec":{"replicas":1}}`,
		old: `{"spec":{}}`,
	}, {
		name: "immutable field",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      class: {type: string, x-kubernetes-validations: [{rule: "self == oldSelf", message: "Value is immutable"}]}`,
		obj:  `{"spec":{"class":"b"}}`,
		old:  `{"spec":{"class":"a"}}`,
		want: []string{`spec.class: Invalid value: "b": Value is immutable`},
	}, {
		name: "immutable object",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      sel:
        type: object
        x-kubernetes-validations: [{rule: "self == oldSelf && has(self.x__dash__y) && !has(self.z)", message: "selector is immutable"}]
        properties: {x-y: {type: string}, z: {type: string}, m: {type: object, additionalProperties: {type: string}}}`,
		obj:  `{"spec":{"sel":{"x-y":"a","m":{"k":"v"}}}}`,
		old:  `{"spec":{"sel":{"x-y":"a","m":{"k":"w"}}}}`,
		want: []string{`spec.sel: Invalid value: selector is immutable`},
	}, {
		name: "unchanged object",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      sel:
        type: object
        x-kubernetes-validations: [{rule: "self == oldSelf", message: "selector is immutable"}]
        properties: {x-y: {type: string}, m: {type: object, additionalProperties: {type: string}}}`,
		obj: `{"spec":{"sel":{"x-y":"a","m":{"k":"v"}}}}`,
		old: `{"spec":{"sel":{"m":{"k":"v"},"x-y":"a"}}}`,
	}, {
		name: "optionalOldSelf runs on create",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - rule: "oldSelf.hasValue() || self.size == 'small'"
      optionalOldSelf: true
      message: "must start small"
    properties: {size: {type: string}}`,
		obj:  `{"spec":{"size":"large"}}`,
		want: []string{`spec: Invalid value: must start small`},
	}, {
		name: "optionalOldSelf on update",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - rule: "oldSelf.hasValue() || self.size == 'small'"
      optionalOldSelf: true
    properties: {size: {type: string}}`,
		obj: `{"spec":{"size":"large"}}`,
		old: `{"spec":{"size":"small"}}`,
	}, {
		name: "map-list items correlate by key",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      ports:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items:
          type: object
          x-kubernetes-validations: [{rule: "self.port == oldSelf.port", message: "port is immutable"}]
          properties: {name: {type: string}, port: {type: integer}}`,
		obj:  `{"spec":{"ports":[{"name":"new","port":1},{"name":"web","port":81}]}}`,
		old:  `{"spec":{"ports":[{"name":"web","port":80}]}}`,
		want: []string{`spec.ports[1]: Invalid value: port is immutable`},
	}, {
		name: "additionalProperties values",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      limits:
        type: object
        x-kubernetes-validations: [{rule: "self.all(k, k.startsWith('x-'))", message: "keys start with x-"}]
        additionalProperties: {type: integer, x-kubernetes-validations: [{rule: "self > 0", message: "positive"}]}`,
		obj: `{"spec":{"limits":{"x-a":1,"b":0}}}`,
		want: []string{
			`spec.limits: Invalid value: keys start with x-`,
			`spec.limits[b]: Invalid value: 0: positive`,
		},
	}, {
		name: "numbers are doubles even when whole",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.ratio * 2.0 > 1.5"}]
    properties: {ratio: {type: number}}`,
		obj: `{"spec":{"ratio":1}}`,
	}, {
		name: "int-or-string is dyn",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      a: {x-kubernetes-int-or-string: true, x-kubernetes-validations: [{rule: "type(self) == int ? self > 0 : self.endsWith('%')"}]}
      b: {x-kubernetes-int-or-string: true, x-kubernetes-validations: [{rule: "type(self) == int ? self > 0 : self.endsWith('%')"}]}
      c: {x-kubernetes-int-or-string: true, x-kubernetes-validations: [{rule: "self > 0"}]}`,
		obj: `{"spec":{"a":5,"b":"50","c":"x"}}`,
		want: []string{
			`spec.b: Invalid value: "50": failed rule: type(self) == int ? self > 0 : self.endsWith('%')`,
			`spec.c: Invalid value: "": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self > 0`,
		},
	}, {
		name: "evaluation error",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.a == 'x'"}]
    properties: {a: {type: string}}`,
		obj:  `{"spec":{}}`,
		want: []string{`spec: Invalid value: "object": no such key: a evaluating rule: self.a == 'x'`},
	}, {
		name: "null values are not validated",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      a: {type: string, nullable: true, x-kubernetes-validations: [{rule: "self == 'x'"}]}`,
		obj: `{"spec":{"a":null}}`,
	}, {
		name: "escaped property names",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.x__dash__y == 1 && self.__namespace__ == 'n' && self.a__dot__b == 2"}]
    properties: {x-y: {type: integer}, namespace: {type: string}, a.b: {type: integer}}`,
		obj: `{"spec":{"x-y":1,"namespace":"n","a.b":2}}`,
	}, {
		name: "formats become CEL types",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - rule: "self.timeout < duration('1h') && self.start < timestamp('2030-01-01T00:00:00Z') && self.data == b'hi'"
    properties:
      timeout: {type: string, format: duration}
      start: {type: string, format: date-time}
      data: {type: string, format: byte}`,
		obj: `{"spec":{"timeout":"30m","start":"2020-01-01T00:00:00Z","data":"aGk="}}`,
	}, {
		name: "embedded resource",
		schema: `
type: object
properties:
  spec:
    type: object
    properties:
      template:
        type: object
        x-kubernetes-embedded-resource: true
        x-kubernetes-preserve-unknown-fields: true
        x-kubernetes-validations: [{rule: "self.kind == 'Pod' && self.metadata.name == 'p'"}]`,
		obj:  `{"spec":{"template":{"apiVersion":"v1","kind":"Service","metadata":{"name":"p"}}}}`,
		want: []string{`spec.template: Invalid value: failed rule: self.kind == 'Pod' && self.metadata.name == 'p'`},
	}, {
		name: "libraries",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - rule: "self.nums.isSorted() && self.nums.sum() == 6 && self.nums.min() == 1 && self.nums.max() == 3"
    - rule: "self.nums.indexOf(2) == 1 && self.nums.lastIndexOf(9) == -1"
    - rule: "self.name.find('[0-9]+') == '42' && self.name.findAll('[a-z]') == ['a', 'b'] && self.name.findAll('[a-z]', 1) == ['a']"
    - rule: "self.name.split('-').size() == 2 && self.name.upperAscii() == 'AB-42' && self.name.indexOf('-') == 2"
    - rule: "sets.contains(self.nums, [1, 2]) && sets.intersects(self.nums, [3])"
    - rule: "self.?missing.orValue('d') == 'd' && optional.of(1).hasValue()"
    - rule: "self.nums.reverse() == [3, 2, 1] && [3, 1, 2].sort() == self.nums && self.nums.all(i, v, v == i + 1)"
    - rule: "self.nums.exists_one(n, n == 2) && self.nums.map(n, n * 2).filter(n, n > 2).size() == 2"
    - rule: "[1.5, 2.5].sum() == 4.0 && [duration('1s'), duration('2s')].sum() == duration('3s') && self.empty.sum() == 0 && self.words.min() == 'a'"
    - rule: "self.nums.includes(2) && !self.nums.includes(7) && 'x'.includes('x')"
    properties:
      nums: {type: array, maxItems: 10, items: {type: integer}}
      name: {type: string, maxLength: 10}
      missing: {type: string}
      empty: {type: array, maxItems: 10, items: {type: integer}}
      words: {type: array, maxItems: 10, items: {type: string, maxLength: 10}}`,
		obj: `{"spec":{"nums":[1,2,3],"name":"ab-42","empty":[],"words":["b","a"]}}`,
	}, {
		name: "min of an empty list",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations: [{rule: "self.nums.min() > 0"}]
    properties:
      nums: {type: array, maxItems: 10, items: {type: integer}}`,
		obj:  `{"spec":{"nums":[]}}`,
		want: []string{`spec: Invalid value: "object": min called on empty list evaluating rule: self.nums.min() > 0`},
	}, {
		name: "preserve-unknown-fields keeps declared fields typed",
		schema: `
type: object
properties:
  spec:
    type: object
    x-kubernetes-preserve-unknown-fields: true
    x-kubernetes-validations: [{rule: "self.known == 'a'"}]
    properties: {known: {type: string}}`,
		obj: `{"spec":{"known":"a","other":{"x":1}}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := compileOK(t, tt.schema)
			got := errorStrings(v.Validate(context.Background(), nil, object(t, tt.obj), object(t, tt.old)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestErrorTypesAndReasons(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - {rule: "false", reason: FieldValueForbidden}
    - {rule: "false", reason: FieldValueRequired}
    - {rule: "false", reason: FieldValueDuplicate}
    - {rule: "false"}
`)
	errs := v.Validate(context.Background(), nil, object(t, `{"spec":{}}`), nil)
	var got []field.ErrorType
	for _, e := range errs {
		got = append(got, e.Type)
	}
	want := []field.ErrorType{field.ErrorTypeForbidden, field.ErrorTypeRequired, field.ErrorTypeDuplicate, field.ErrorTypeInvalid}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestNoRules(t *testing.T) {
	v, errs := Compile(structural(t, `{type: object, properties: {spec: {type: object}}}`), nil)
	if v != nil || errs != nil {
		t.Fatalf("got %v, %v; want nil, nil", v, errs)
	}
	if errs := v.Validate(context.Background(), nil, object(t, `{"spec":{}}`), nil); errs != nil {
		t.Errorf("nil Validator: %v", errs)
	}
}

func TestValidateWithPath(t *testing.T) {
	s := structural(t, `
type: object
properties:
  status:
    type: object
    x-kubernetes-validations: [{rule: "self.ready"}]
    properties: {ready: {type: boolean}}`)
	v, errs := Compile(s.Properties["status"], nil)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := errorStrings(v.Validate(context.Background(), field.NewPath("status"), map[string]any{"ready": false}, nil))
	want := []string{`status: Invalid value: failed rule: self.ready`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestBlockingError(t *testing.T) {
	p := field.NewPath("spec")
	for _, tt := range []struct {
		errs  field.ErrorList
		block bool
	}{
		{nil, false},
		{field.ErrorList{field.Invalid(p, "x", "pattern")}, false},
		{field.ErrorList{field.Invalid(p, "x", "pattern"), field.Required(p, "")}, true},
		{field.ErrorList{field.TypeInvalid(p, "x", "type")}, true},
		{field.ErrorList{field.NotSupported(p, "x", []string{"y"})}, true},
		{field.ErrorList{field.TooLong(p, "x", 1)}, true},
		{field.ErrorList{field.TooMany(p, 2, 1)}, true},
		{field.ErrorList{field.Duplicate(p, "x")}, false},
	} {
		got := BlockingError(tt.errs)
		if (got != nil) != tt.block {
			t.Errorf("%v: got %v, want blocking %v", tt.errs, got, tt.block)
		}
		if got != nil && got.Error() != "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation" {
			t.Errorf("message %q", got.Error())
		}
	}
}

// Set and map lists compare as upstream's rules see them: regardless of
// order, and + merges.
func TestListTypeSemantics(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      s:
        type: array
        maxItems: 10
        x-kubernetes-list-type: set
        items: {type: string, maxLength: 10}
        x-kubernetes-validations:
        - {rule: "self == oldSelf", message: "set is immutable"}
        - {rule: "(self + self).size() == self.size() && (self + ['zz']).size() == self.size() + 1", message: "union"}
      m:
        type: array
        maxItems: 10
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items: {type: object, required: [name], properties: {name: {type: string, maxLength: 10}, v: {type: integer}}}
        x-kubernetes-validations:
        - {rule: "self == oldSelf", message: "map is immutable"}
        - {rule: "(self + self).size() == self.size()", message: "merge"}
`)
	ctx := context.Background()
	same := `{"spec":{"s":["b","a"],"m":[{"name":"b","v":2},{"name":"a","v":1}]}}`
	old := `{"spec":{"s":["a","b"],"m":[{"name":"a","v":1},{"name":"b","v":2}]}}`
	if errs := v.Validate(ctx, nil, object(t, same), object(t, old)); len(errs) > 0 {
		t.Errorf("reordered lists: %v", errs)
	}
	changed := `{"spec":{"s":["a","c"],"m":[{"name":"a","v":1},{"name":"b","v":3}]}}`
	got := errorStrings(v.Validate(ctx, nil, object(t, changed), object(t, old)))
	want := []string{`spec.m: Invalid value: map is immutable`, `spec.s: Invalid value: set is immutable`}
	if !slices.Equal(got, want) {
		t.Errorf("changed lists: got %q, want %q", got, want)
	}
}

func TestQuantity(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      mem: {type: string, maxLength: 20}
      cpu: {x-kubernetes-int-or-string: true, maxLength: 20}
    x-kubernetes-validations:
    - {rule: "isQuantity(self.mem) && quantity(self.mem).isLessThan(quantity('2Gi'))", message: "mem below 2Gi"}
    - {rule: "quantity(self.mem).add(quantity('1Gi')).compareTo(quantity('2Gi')) <= 0 && quantity('1k').sub(1).asInteger() == 999", message: "arithmetic"}
    - {rule: "sign(quantity(self.mem)) == 1 && quantity('1.5').asApproximateFloat() == 1.5 && !quantity('1.5').isInteger() && quantity('1Ki') == quantity('1024')", message: "accessors"}
    - {rule: "!isQuantity('abc') && quantity(string(self.cpu)).isGreaterThan(quantity('100m'))", message: "cpu above 100m"}
`)
	ctx := context.Background()
	if errs := v.Validate(ctx, nil, object(t, `{"spec":{"mem":"1Gi","cpu":"200m"}}`), nil); len(errs) > 0 {
		t.Errorf("valid: %v", errs)
	}
	got := errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"mem":"3Gi","cpu":"50m"}}`), nil))
	want := []string{`spec: Invalid value: arithmetic`, `spec: Invalid value: cpu above 100m`, `spec: Invalid value: mem below 2Gi`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"mem":"lots","cpu":1}}`), nil))
	want = []string{
		`spec: Invalid value: "object": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' evaluating rule: accessors`,
		`spec: Invalid value: "object": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' evaluating rule: arithmetic`,
		`spec: Invalid value: mem below 2Gi`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestURL(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      endpoint: {type: string, maxLength: 100}
    x-kubernetes-validations:
    - {rule: "isURL(self.endpoint) && url(self.endpoint).getScheme() == 'https'", message: "https only"}
    - {rule: "!isURL(self.endpoint) || (url(self.endpoint).getHostname() == 'example.com' && url(self.endpoint).getPort() in ['', '8443'])", message: "example.com"}
    - {rule: "!isURL(self.endpoint) || !('debug' in url(self.endpoint).getQuery())", message: "no debug"}
    - {rule: "url('https://a/b%20c?x=1').getEscapedPath() == '/b%20c' && url('https://a:1/').getHost() == 'a:1' && url('https://a/') == url('https://a/')", message: "accessors"}
`)
	ctx := context.Background()
	if errs := v.Validate(ctx, nil, object(t, `{"spec":{"endpoint":"https://example.com:8443/x?y=1"}}`), nil); len(errs) > 0 {
		t.Errorf("valid: %v", errs)
	}
	got := errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"endpoint":"http://other.io/?debug=1"}}`), nil))
	want := []string{`spec: Invalid value: example.com`, `spec: Invalid value: https only`, `spec: Invalid value: no debug`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"endpoint":"not a url"}}`), nil))
	want = []string{`spec: Invalid value: https only`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"foo": "foo", "a_b": "a_b", "a__b": "a__underscores__b", "x-y": "x__dash__y", "a.b": "a__dot__b",
		"a/b": "a__slash__b", "namespace": "__namespace__", "in": "__in__", "_x": "_x",
		"9a": "", "a b": "", "": "",
	} {
		got, ok := escape(in)
		if got != want || ok != (want != "") {
			t.Errorf("escape(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestNetwork(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      addr: {type: string, maxLength: 64}
      net: {type: string, maxLength: 64}
    x-kubernetes-validations:
    - {rule: "isIP(self.addr) && ip(self.addr).family() == 4 && ip.isCanonical(self.addr)", message: "canonical IPv4"}
    - {rule: "isCIDR(self.net) && cidr(self.net).containsIP(self.addr) && cidr(self.net).containsIP(ip(self.addr))", message: "addr in net"}
    - {rule: "cidr(self.net).prefixLength() >= 8 && cidr(self.net).masked() == cidr(self.net) && string(cidr(self.net).ip()) == self.net.split('/')[0]", message: "masked net"}
    - {rule: "cidr('10.0.0.0/8').containsCIDR(self.net) && cidr('10.0.0.0/8').containsCIDR(cidr(self.net))", message: "within 10/8"}
    - {rule: "!ip('127.0.0.1').isGlobalUnicast() && ip('127.0.0.1').isLoopback() && ip('::').isUnspecified() && ip('fe80::1').isLinkLocalUnicast() && ip('ff02::1').isLinkLocalMulticast() && string(ip('::1')) == '::1' && ip('1.2.3.4') == ip('1.2.3.4')", message: "accessors"}
`)
	ctx := context.Background()
	if errs := v.Validate(ctx, nil, object(t, `{"spec":{"addr":"10.1.2.3","net":"10.1.0.0/16"}}`), nil); len(errs) > 0 {
		t.Errorf("valid: %v", errs)
	}
	got := errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"addr":"192.168.0.1","net":"192.168.0.1/16"}}`), nil))
	want := []string{`spec: Invalid value: masked net`, `spec: Invalid value: within 10/8`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	got = errorStrings(v.Validate(ctx, nil, object(t, `{"spec":{"addr":"::ffff:1.2.3.4","net":"x"}}`), nil))
	want = []string{
		`spec: Invalid value: "object": network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("x"): no '/' evaluating rule: masked net`,
		`spec: Invalid value: "object": network address parse error during conversion from string: network address parse error during conversion from string: netip.ParsePrefix("x"): no '/' evaluating rule: within 10/8`,
		`spec: Invalid value: addr in net`,
		`spec: Invalid value: canonical IPv4`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// One Validator serves every request of a CRD version at once.
func TestValidateConcurrent(t *testing.T) {
	v := compileOK(t, benchSchema)
	obj, old := benchObject(3), benchObject(5)
	want := errorStrings(v.Validate(context.Background(), nil, obj, old))
	if len(want) == 0 {
		t.Fatal("want a failing update")
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := errorStrings(v.Validate(context.Background(), nil, obj, old)); !slices.Equal(got, want) {
					t.Errorf("got %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestRatcheting: on updates, rules that do not read oldSelf forgive
// values that did not change, as upstream does.
func TestRatcheting(t *testing.T) {
	v := compileOK(t, `
type: object
properties:
  spec:
    type: object
    properties:
      name: {type: string, maxLength: 10, x-kubernetes-validations: [{rule: "self.startsWith('a')", message: "starts with a"}]}
      other: {type: string}
      tags:
        type: array
        maxItems: 5
        items: {type: string, maxLength: 5, x-kubernetes-validations: [{rule: "self.size() < 3", message: "short"}]}
      ports:
        type: array
        maxItems: 5
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [key]
        items:
          type: object
          properties: {key: {type: string}, p: {type: integer}}
          x-kubernetes-validations: [{rule: "self.p > 0", message: "positive"}]
`)
	tests := []struct {
		name, old, new string
		want           []string
	}{{
		name: "unchanged invalid field",
		old:  `{"spec":{"name":"bob","other":"1"}}`,
		new:  `{"spec":{"name":"bob","other":"2"}}`,
	}, {
		name: "changed invalid field",
		old:  `{"spec":{"name":"bob"}}`,
		new:  `{"spec":{"name":"bill"}}`,
		want: []string{`spec.name: Invalid value: "bill": starts with a`},
	}, {
		name: "unchanged list, item invalid",
		old:  `{"spec":{"tags":["long"],"other":"1"}}`,
		new:  `{"spec":{"tags":["long"],"other":"2"}}`,
	}, {
		name: "changed list, unchanged invalid item",
		old:  `{"spec":{"tags":["long","x"]}}`,
		new:  `{"spec":{"tags":["long","y"]}}`,
		want: []string{`spec.tags[0]: Invalid value: "long": short`},
	}, {
		name: "map-list item unchanged though reordered",
		old:  `{"spec":{"ports":[{"key":"a","p":0},{"key":"b","p":1}]}}`,
		new:  `{"spec":{"ports":[{"key":"b","p":2},{"key":"a","p":0}]}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(v.Validate(context.Background(), nil, object(t, tt.new), object(t, tt.old)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if len(v.Validate(context.Background(), nil, object(t, tt.new), nil)) == 0 {
				t.Error("create found no errors; the case tests nothing")
			}
		})
	}
}
