package schema

import (
	"slices"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// TestValidate checks each validation keyword with kube-apiserver's error
// type, path and message for a custom resource.
func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		schema string // properties of spec
		spec   string // JSON of spec
		want   []string
	}{{
		name:   "valid",
		schema: `{a: {type: integer}, b: {type: string}, c: {type: boolean}, d: {type: number}}`,
		spec:   `{"a":1,"b":"x","c":true,"d":1.5}`,
	}, {
		name:   "integer gets a string",
		schema: `{a: {type: integer}}`,
		spec:   `{"a":"1"}`,
		want:   []string{`spec.a: Invalid value: "string": spec.a in body must be of type integer: "string"`},
	}, {
		name:   "integer gets a fraction",
		schema: `{a: {type: integer}}`,
		spec:   `{"a":1.5}`,
		want: []string{
			`<nil>: Invalid value: "": Checked value must be of type integer (default format) in spec.a`,
			`spec.a: Invalid value: "number": spec.a in body must be of type integer: "number"`,
		},
	}, {
		name:   "integer accepts a whole float",
		schema: `{a: {type: integer}}`,
		spec:   `{"a":2.0}`,
	}, {
		name:   "number accepts an integer",
		schema: `{d: {type: number}}`,
		spec:   `{"d":2}`,
	}, {
		name:   "string gets an object",
		schema: `{b: {type: string}}`,
		spec:   `{"b":{"x":1}}`,
		want:   []string{`spec.b: Invalid value: "object": spec.b in body must be of type string: "object"`},
	}, {
		name:   "array gets a string",
		schema: `{l: {type: array, items: {type: string}}}`,
		spec:   `{"l":"x"}`,
		want:   []string{`spec.l: Invalid value: "string": spec.l in body must be of type array: "string"`},
	}, {
		name:   "item type",
		schema: `{l: {type: array, items: {type: integer}}}`,
		spec:   `{"l":[1,"x"]}`,
		want:   []string{`spec.l[1]: Invalid value: "string": spec.l[1] in body must be of type integer: "string"`},
	}, {
		name:   "null without nullable",
		schema: `{b: {type: string}}`,
		spec:   `{"b":null}`,
		want:   []string{`spec.b: Invalid value: "null": spec.b in body must be of type string: "null"`},
	}, {
		name:   "null with nullable",
		schema: `{b: {type: string, nullable: true}}`,
		spec:   `{"b":null}`,
	}, {
		name:   "required",
		schema: `{a: {type: integer}, b: {type: string}}`,
		spec:   `{}`,
		want:   []string{`spec.a: Required value`},
	}, {
		name:   "enum",
		schema: `{b: {type: string, enum: [red, green]}, a: {type: integer, enum: [1, 2]}}`,
		spec:   `{"a":3,"b":"blue"}`,
		want: []string{
			`spec.a: Unsupported value: 3: supported values: "1", "2"`,
			`spec.b: Unsupported value: "blue": supported values: "red", "green"`,
		},
	}, {
		name:   "pattern",
		schema: `{b: {type: string, pattern: "^[a-z]+$"}}`,
		spec:   `{"b":"A1"}`,
		want:   []string{`spec.b: Invalid value: "A1": spec.b in body should match '^[a-z]+$'`},
	}, {
		name:   "minLength and maxLength",
		schema: `{b: {type: string, minLength: 3}, s: {type: string, maxLength: 2}}`,
		spec:   `{"b":"ab","s":"abc"}`,
		want: []string{
			`spec.b: Invalid value: "ab": spec.b in body should be at least 3 chars long`,
			`spec.s: Too long: may not be more than 2 bytes`,
		},
	}, {
		name:   "minimum and maximum",
		schema: `{a: {type: integer, minimum: 2}, b: {type: integer, maximum: 5}, c: {type: number, minimum: 1.5, exclusiveMinimum: true}, d: {type: integer, maximum: 5, exclusiveMaximum: true}}`,
		spec:   `{"a":1,"b":6,"c":1.5,"d":5}`,
		want: []string{
			`spec.a: Invalid value: 1: spec.a in body should be greater than or equal to 2`,
			`spec.b: Invalid value: 6: spec.b in body should be less than or equal to 5`,
			`spec.c: Invalid value: 1.5: spec.c in body should be greater than 1.5`,
			`spec.d: Invalid value: 5: spec.d in body should be less than 5`,
		},
	}, {
		name:   "multipleOf",
		schema: `{a: {type: integer, multipleOf: 3}, d: {type: number, multipleOf: 0.5}}`,
		spec:   `{"a":7,"d":0.7}`,
		want: []string{
			`spec.a: Invalid value: 7: spec.a in body should be a multiple of 3`,
			`spec.d: Invalid value: 0.7: spec.d in body should be a multiple of 0.5`,
		},
	}, {
		name:   "minItems, maxItems, uniqueItems",
		schema: `{a: {type: array, items: {type: string}, minItems: 2}, b: {type: array, items: {type: string}, maxItems: 1}, c: {type: array, items: {type: integer}, uniqueItems: true}}`,
		spec:   `{"a":["x"],"b":["x","z"],"c":[1,1]}`,
		want: []string{
			`spec.a: Invalid value: 1: spec.a in body should have at least 2 items`,
			`spec.b: Too many: 2: must have at most 1 item`,
			`spec.c: Invalid value: "": spec.c in body shouldn't contain duplicates`,
		},
	}, {
		name:   "minProperties and maxProperties",
		schema: `{a: {type: object, additionalProperties: {type: string}, minProperties: 2}, b: {type: object, additionalProperties: {type: string}, maxProperties: 1}}`,
		spec:   `{"a":{"k":"v"},"b":{"k":"v","l":"w"}}`,
		want: []string{
			`spec.a: Invalid value: 1: spec.a in body should have at least 2 properties`,
			`spec.b: Too many: 2: must have at most 1 item`,
		},
	}, {
		name:   "additionalProperties schema",
		schema: `{m: {type: object, additionalProperties: {type: integer, minimum: 0}}}`,
		spec:   `{"m":{"k":-1,"l":"x"}}`,
		want: []string{
			`spec.m.k: Invalid value: -1: spec.m.k in body should be greater than or equal to 0`,
			`spec.m.l: Invalid value: "string": spec.m.l in body must be of type integer: "string"`,
		},
	}, {
		name:   "formats",
		schema: `{dt: {type: string, format: date-time}, d: {type: string, format: date}, b: {type: string, format: byte}, u: {type: string, format: uuid}, e: {type: string, format: email}, h: {type: string, format: hostname}, i4: {type: string, format: ipv4}, i6: {type: string, format: ipv6}, c: {type: string, format: cidr}, du: {type: string, format: duration}, uri: {type: string, format: uri}}`,
		spec:   `{"dt":"yesterday","d":"2020-13-01","b":"!!","u":"nope","e":"nope","h":"-x-","i4":"1.2.3","i6":"1.2.3.4","c":"1.2.3.4","du":"forever","uri":"nope"}`,
		want: []string{
			`spec.b: Invalid value: "!!": spec.b in body must be of type byte: "!!"`,
			`spec.c: Invalid value: "1.2.3.4": spec.c in body must be of type cidr: "1.2.3.4"`,
			`spec.d: Invalid value: "2020-13-01": spec.d in body must be of type date: "2020-13-01"`,
			`spec.dt: Invalid value: "yesterday": spec.dt in body must be of type date-time: "yesterday"`,
			`spec.du: Invalid value: "forever": spec.du in body must be of type duration: "forever"`,
			`spec.e: Invalid value: "nope": spec.e in body must be of type email: "nope"`,
			`spec.h: Invalid value: "-x-": spec.h in body must be of type hostname: "-x-"`,
			`spec.i4: Invalid value: "1.2.3": spec.i4 in body must be of type ipv4: "1.2.3"`,
			`spec.i6: Invalid value: "1.2.3.4": spec.i6 in body must be of type ipv6: "1.2.3.4"`,
			`spec.u: Invalid value: "nope": spec.u in body must be of type uuid: "nope"`,
			`spec.uri: Invalid value: "nope": spec.uri in body must be of type uri: "nope"`,
		},
	}, {
		name:   "valid formats",
		schema: `{dt: {type: string, format: date-time}, d: {type: string, format: date}, b: {type: string, format: byte}, u: {type: string, format: uuid}, i4: {type: string, format: ipv4}, c: {type: string, format: cidr}, du: {type: string, format: duration}}`,
		spec:   `{"dt":"2020-01-02T03:04:05Z","d":"2020-12-01","b":"aGk=","u":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","i4":"10.0.0.1","c":"10.0.0.0/8","du":"1h30m"}`,
	}, {
		name:   "unknown formats are ignored",
		schema: `{a: {type: string, format: color}, b: {type: integer, format: uint8}, c: {type: boolean, format: date}}`,
		spec:   `{"a":"not a color","b":300,"c":true}`,
	}, {
		name:   "int32 format",
		schema: `{a: {type: integer, format: int32}}`,
		spec:   `{"a":3000000000}`,
		want:   []string{`<nil>: Invalid value: "": Checked value must be of type integer with format int32 in spec.a`},
	}, {
		name:   "int-or-string",
		schema: `{p: {x-kubernetes-int-or-string: true}, q: {x-kubernetes-int-or-string: true}, r: {x-kubernetes-int-or-string: true}}`,
		spec:   `{"p":1,"q":"50%","r":true}`,
		want:   []string{`spec.r: Invalid value: "boolean": spec.r in body must be of type integer,string: "boolean"`},
	}, {
		name:   "int-or-string with anyOf and pattern",
		schema: `{p: {x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}], pattern: "^[0-9]+%$"}}`,
		spec:   `{"p":"50"}`,
		want:   []string{`spec.p: Invalid value: "50": spec.p in body should match '^[0-9]+%$'`},
	}, {
		name:   "oneOf",
		schema: `{o: {type: object, properties: {a: {type: string}, b: {type: string}}, oneOf: [{required: [a]}, {required: [b]}]}}`,
		spec:   `{"o":{"a":"x","b":"x"}}`,
		want:   []string{`<nil>: Invalid value: "": "spec.o" must validate one and only one schema (oneOf). Found 2 valid alternatives`},
	}, {
		name:   "anyOf",
		schema: `{o: {type: object, properties: {a: {type: string}, b: {type: string}}, anyOf: [{required: [a]}, {required: [b]}]}}`,
		spec:   `{"o":{}}`,
		want: []string{
			`<nil>: Invalid value: "": "spec.o" must validate at least one schema (anyOf)`,
			`spec.o.a: Required value`,
		},
	}, {
		name:   "allOf",
		schema: `{a: {type: integer, allOf: [{minimum: 1}, {maximum: 3}]}}`,
		spec:   `{"a":4}`,
		want: []string{
			`<nil>: Invalid value: "": "spec.a" must validate all the schemas (allOf)`,
			`spec.a: Invalid value: 4: spec.a in body should be less than or equal to 3`,
		},
	}, {
		name:   "not",
		schema: `{a: {type: string, not: {enum: [forbidden]}}}`,
		spec:   `{"a":"forbidden"}`,
		want:   []string{`<nil>: Invalid value: "": "spec.a" must not validate the schema (not)`},
	}, {
		name:   "preserve-unknown-fields still validates known fields",
		schema: `{o: {type: object, x-kubernetes-preserve-unknown-fields: true, properties: {a: {type: integer}}}}`,
		spec:   `{"o":{"a":"x","other":[1]}}`,
		want:   []string{`spec.o.a: Invalid value: "string": spec.o.a in body must be of type integer: "string"`},
	}, {
		name:   "preserve-unknown-fields without type takes any JSON",
		schema: `{j: {x-kubernetes-preserve-unknown-fields: true}, k: {x-kubernetes-preserve-unknown-fields: true}, l: {x-kubernetes-preserve-unknown-fields: true}}`,
		spec:   `{"j":1,"k":"x","l":[{"a":null}]}`,
	}, {
		name:   "embedded resource",
		schema: `{t: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}`,
		spec:   `{"t":{"metadata":{"name":"a/b","labels":{"-":"x"}}}}`,
		want: []string{
			`spec.t.apiVersion: Required value`,
			`spec.t.kind: Required value`,
			`spec.t.metadata.labels: Invalid value: "-": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			`spec.t.metadata.name: Invalid value: "a/b": may not contain '/'`,
		},
	}, {
		name:   "embedded resource with bad apiVersion and kind",
		schema: `{t: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}`,
		spec:   `{"t":{"apiVersion":"a/b/c","kind":"Not A Kind"}}`,
		want: []string{
			`spec.t.apiVersion: Invalid value: "a/b/c": unexpected GroupVersion string: a/b/c`,
			`spec.t.kind: Invalid value: "Not A Kind": may have mixed case, but should otherwise match: a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
		},
	}, {
		name:   "embedded resource, valid",
		schema: `{t: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}}`,
		spec:   `{"t":{"apiVersion":"v1","kind":"Pod","metadata":{"labels":{"app":"x"}}}}`,
	}, {
		name:   "list-type set",
		schema: `{s: {type: array, x-kubernetes-list-type: set, items: {type: string}}}`,
		spec:   `{"s":["a","b","a","a","b"]}`,
		want: []string{
			`spec.s[2]: Duplicate value: "a"`,
			`spec.s[4]: Duplicate value: "b"`,
		},
	}, {
		name:   "list-type map",
		schema: `{m: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [name], items: {type: object, properties: {name: {type: string}, v: {type: integer}}}}}`,
		spec:   `{"m":[{"name":"a","v":1},{"name":"a","v":2},{"v":3},{"v":4}]}`,
		want: []string{
			`spec.m[1]: Duplicate value: {"name":"a"}`,
			`spec.m[3]: Duplicate value: {}`,
		},
	}, {
		name:   "list-type map with two keys",
		schema: `{m: {type: array, x-kubernetes-list-type: map, x-kubernetes-list-map-keys: [port, protocol], items: {type: object, properties: {port: {type: integer}, protocol: {type: string}}}}}`,
		spec:   `{"m":[{"port":80,"protocol":"TCP"},{"port":80,"protocol":"UDP"},{"port":80,"protocol":"TCP"}]}`,
		want:   []string{`spec.m[2]: Duplicate value: {"port":80,"protocol":"TCP"}`},
	}, {
		name:   "map-type and atomic lists accept repeats",
		schema: `{l: {type: array, x-kubernetes-list-type: atomic, items: {type: string}}, m: {type: object, x-kubernetes-map-type: atomic, additionalProperties: {type: string}}}`,
		spec:   `{"l":["a","a"],"m":{"k":"v"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := structural(t, `{type: object, properties: {spec: {type: object, required: [a], properties: `+tt.schema+`}}}`)
			if tt.name != "required" {
				s = structural(t, `{type: object, properties: {spec: {type: object, properties: `+tt.schema+`}}}`)
			}
			got := errorStrings(Validate(s, object(t, `{"spec":`+tt.spec+`}`), nil))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

// kube-openapi reports a junctor's failure without a path ("<nil>") and
// stops at a string's first failed keyword; kube-apiserver does the same,
// and clients see exactly that.
func TestValidateRootMetadataName(t *testing.T) {
	s := structural(t, `{type: object, properties: {metadata: {type: object, properties: {name: {type: string, maxLength: 5, pattern: "^[a-z]+$"}}}}}`)
	// The labels are ObjectMeta's business, not the schema's.
	got := errorStrings(Validate(s, object(t, `{"metadata":{"name":"ab-cdef","namespace":"x","labels":{"!":"?"}}}`), nil))
	want := []string{
		`metadata.name: Too long: may not be more than 5 bytes`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

// As upstream validates status with its own validator, the message names the
// field relative to status while the path is absolute.
func TestValidateSubtreeWithPath(t *testing.T) {
	s := structural(t, `{type: object, properties: {status: {type: object, properties: {num: {type: integer}}}}}`)
	got := errorStrings(Validate(s.Properties["status"], object(t, `{"num":"x"}`), field.NewPath("status")))
	want := []string{`status.num: Invalid value: "string": num in body must be of type integer: "string"`}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestValidateErrorTypes(t *testing.T) {
	s := structural(t, `
type: object
required: [spec]
properties:
  spec:
    type: object
    properties:
      a: {type: integer}
      e: {type: string, enum: [x]}
      s: {type: string, maxLength: 1}
      l: {type: array, maxItems: 0, items: {type: string}, x-kubernetes-list-type: set}
`)
	errs := Validate(s, object(t, `{"spec":{"a":"1","e":"z","s":"ss","l":["q","q"]}}`), nil)
	types := map[string]field.ErrorType{}
	for _, e := range errs {
		types[e.Field] = e.Type
	}
	want := map[string]field.ErrorType{
		"spec.a":    field.ErrorTypeTypeInvalid,
		"spec.e":    field.ErrorTypeNotSupported,
		"spec.s":    field.ErrorTypeTooLong,
		"spec.l":    field.ErrorTypeTooMany,
		"spec.l[1]": field.ErrorTypeDuplicate,
	}
	for f, wt := range want {
		if types[f] != wt {
			t.Errorf("%s: type %q, want %q (all: %v)", f, types[f], wt, errs)
		}
	}
	if errs := Validate(s, object(t, `{}`), nil); len(errs) != 1 || errs[0].Type != field.ErrorTypeRequired || errs[0].Field != "spec" {
		t.Errorf("missing spec: %v", errs)
	}
}

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	slices.Sort(out)
	return out
}

func TestValidateUpdateKeepsListDuplicatesOfOld(t *testing.T) {
	s := structural(t, `{type: object, properties: {spec: {type: object, properties: {s: {type: array, x-kubernetes-list-type: set, items: {type: string}}, a: {type: integer}}}}}`)
	dup := object(t, `{"spec":{"s":["a","a"],"a":"x"}}`)
	clean := object(t, `{"spec":{"s":["a"]}}`)
	want := []string{
		`spec.a: Invalid value: "string": spec.a in body must be of type integer: "string"`,
		`spec.s[1]: Duplicate value: "a"`,
	}
	if got := errorStrings(ValidateUpdate(s, dup, clean, nil)); !slices.Equal(got, want) {
		t.Errorf("from a clean object: got %q, want %q", got, want)
	}
	dup2 := object(t, `{"spec":{"s":["a","a"],"a":"y"}}`)
	want2 := []string{`spec.a: Invalid value: "string": spec.a in body must be of type integer: "string"`}
	if got := errorStrings(ValidateUpdate(s, dup2, dup, nil)); !slices.Equal(got, want2) {
		t.Errorf("from an object with duplicates: got %q, want %q", got, want2)
	}
}

// TestRatcheting checks that updates forgive errors in unchanged parts,
// correlating as kube-apiserver does.
func TestRatcheting(t *testing.T) {
	s := structural(t, `
type: object
properties:
  spec:
    type: object
    required: [size]
    properties:
      size: {type: string}
      name: {type: string, pattern: "^[a-z]+$"}
      other: {type: string, maxLength: 3}
      labels: {type: object, additionalProperties: {type: string, maxLength: 2}}
      ports:
        type: array
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items: {type: object, properties: {name: {type: string}, port: {type: integer, minimum: 1}}}
      tags: {type: array, items: {type: string, maxLength: 2}}
  status: {type: object, properties: {note: {type: string}}}
`)
	tests := []struct {
		name, old, new string
		want           []string
	}{{
		name: "unchanged invalid field, other field changed",
		old:  `{"spec":{"size":"s","name":"BAD","other":"a"}}`,
		new:  `{"spec":{"size":"s","name":"BAD","other":"b"}}`,
	}, {
		name: "invalid field changed",
		old:  `{"spec":{"size":"s","name":"BAD"}}`,
		new:  `{"spec":{"size":"s","name":"WORSE"}}`,
		want: []string{`spec.name: Invalid value: "WORSE": spec.name in body should match '^[a-z]+$'`},
	}, {
		name: "invalid field added",
		old:  `{"spec":{"size":"s"}}`,
		new:  `{"spec":{"size":"s","name":"BAD"}}`,
		want: []string{`spec.name: Invalid value: "BAD": spec.name in body should match '^[a-z]+$'`},
	}, {
		name: "missing required field, the object around it changed",
		old:  `{"spec":{"other":"a"}}`,
		new:  `{"spec":{"other":"b"}}`,
		want: []string{`spec.size: Required value`},
	}, {
		name: "missing required field, the object around it unchanged",
		old:  `{"spec":{"other":"a"},"status":{"note":"x"}}`,
		new:  `{"spec":{"other":"a"},"status":{"note":"y"}}`,
	}, {
		name: "map values correlate by key",
		old:  `{"spec":{"size":"s","labels":{"a":"long","b":"x"}}}`,
		new:  `{"spec":{"size":"s","labels":{"b":"y","a":"long"}}}`,
	}, {
		name: "list-map items correlate by key, even reordered",
		old:  `{"spec":{"size":"s","ports":[{"name":"a","port":0},{"name":"b","port":1}]}}`,
		new:  `{"spec":{"size":"s","ports":[{"name":"b","port":2},{"name":"a","port":0}]}}`,
	}, {
		name: "items of other lists do not correlate",
		old:  `{"spec":{"size":"s","tags":["long","x"]}}`,
		new:  `{"spec":{"size":"s","tags":["long","y"]}}`,
		want: []string{`spec.tags[0]: Too long: may not be more than 2 bytes`},
	}, {
		name: "unchanged lists ratchet as a whole",
		old:  `{"spec":{"size":"s","other":"a","tags":["long"]}}`,
		new:  `{"spec":{"size":"s","other":"b","tags":["long"]}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorStrings(ValidateUpdate(s, object(t, tt.new), object(t, tt.old), nil))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			// Without an old object nothing is forgiven.
			if errs := Validate(s, object(t, tt.new), nil); len(errs) == 0 && tt.name != "invalid field added" {
				t.Errorf("create found no errors; the case tests nothing")
			}
		})
	}
}

// One Structural serves every request of a CRD version at once.
func TestValidateConcurrent(t *testing.T) {
	s := structural(t, fuzzValidateSchema)
	bad := object(t, `{"spec":{"size":"huge","tags":["a","a"],"tpl":{}}}`)
	want := errorStrings(Validate(s, bad, nil))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if got := errorStrings(Validate(s, bad, nil)); !slices.Equal(got, want) {
					t.Errorf("got %q, want %q", got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}
