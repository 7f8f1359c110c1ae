package schema

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"k8s.io/utils/ptr"
)

// Our keyword validator replaces kube-openapi's (see keywords.go). These
// tests hold it to kube-openapi's answers, which are kube-apiserver's:
// the test binary may link kube-openapi, the skiff binary does not.

// upstreamCheck validates data with kube-openapi against p converted as
// apiextensions-apiserver converts a CRD schema.
func upstreamCheck(p *apiextensionsv1.JSONSchemaProps, data any) ([]string, int) {
	v := validate.NewSchemaValidator(toOpenAPI(p), nil, "", strfmt.Default)
	res := v.Validate(data)
	return describeErrors(res.Errors), res.MatchCount
}

func ourCheck(p *apiextensionsv1.JSONSchemaProps, data any) ([]string, int) {
	res := compileKeywords(p).validate("", data, nil)
	return describeErrors(dedupErrors(res.errs)), res.count
}

// describeErrors renders every part of each error that the field errors
// are made of, sorted: upstream's order follows Go's map order.
func describeErrors(errs []error) []string {
	var out []string
	for _, err := range errs {
		if v, ok := err.(*openapierrors.Validation); ok {
			out = append(out, fmt.Sprintf("%d %q %q value=%#v valid=%#v values=%#v", v.Code(), v.Name, v.Error(), v.Value, v.Valid, v.Values))
		} else {
			out = append(out, fmt.Sprintf("%T %q", err, err.Error()))
		}
	}
	slices.Sort(out)
	return out
}

func compareWithUpstream(t *testing.T, p *apiextensionsv1.JSONSchemaProps, data any) {
	t.Helper()
	want, wantCount := upstreamCheck(p, data)
	got, gotCount := ourCheck(p, data)
	if !slices.Equal(got, want) || gotCount != wantCount {
		schema, _ := json.Marshal(p)
		value, _ := json.Marshal(data)
		t.Fatalf("schema %s, value %s (%#v):\ngot  %d %q\nwant %d %q", schema, value, data, gotCount, got, wantCount, want)
	}
}

// TestKeywordsMatchUpstream checks hand-picked cases of every keyword,
// including upstream's quirks (integers compared with truncated bounds,
// enum values matched after Go conversions, oneOf's best failure).
func TestKeywordsMatchUpstream(t *testing.T) {
	tests := []struct {
		schema string
		values []string
	}{
		{`{type: integer}`, []string{`1`, `1.5`, `2.0`, `"1"`, `null`, `true`, `[]`, `{}`, `1e30`}},
		{`{type: integer, format: int32}`, []string{`1`, `2147483648`, `1.5`, `"x"`, `true`, `{}`}},
		{`{type: integer, format: int64}`, []string{`1`, `1.0`, `9223372036854775807`, `"x"`, `false`}},
		{`{type: number, format: float}`, []string{`1`, `1.5`, `1e39`, `"x"`}},
		{`{type: number, format: double}`, []string{`1`, `1e300`, `"x"`}},
		{`{type: number}`, []string{`1`, `1.5`, `"1"`, `null`}},
		{`{type: string}`, []string{`"a"`, `1`, `null`, `[]`, `{}`, `true`}},
		{`{type: string, nullable: true}`, []string{`null`, `"a"`}},
		{`{type: boolean}`, []string{`true`, `"true"`, `0`}},
		{`{type: array, items: {type: integer}}`, []string{`[]`, `[1,"a",2.5]`, `{}`, `"a"`}},
		{`{type: object}`, []string{`{}`, `[]`, `1`}},
		{`{x-kubernetes-int-or-string: true}`, []string{`1`, `"a"`, `1.5`, `2.0`, `true`, `null`, `{}`}},
		{`{x-kubernetes-int-or-string: true, anyOf: [{type: integer}, {type: string}]}`, []string{`1`, `"a"`, `1.5`, `true`}},
		{`{x-kubernetes-int-or-string: true, pattern: "^[0-9]+%$", maximum: 3}`, []string{`1`, `4`, `"5%"`, `"x"`}},
		{`{format: date}`, []string{`1`, `"2020-01-01"`, `"x"`, `true`, `[]`, `{}`}},
		{`{type: integer, format: date}`, []string{`1`, `"x"`}},
		{`{type: string, format: int32}`, []string{`"x"`, `1`}},
		{`{type: integer, maximum: 10, minimum: 1}`, []string{`0`, `1`, `10`, `11`, `5.5`, `10.5`}},
		{`{type: integer, maximum: 10, exclusiveMaximum: true, minimum: 1, exclusiveMinimum: true}`, []string{`1`, `10`, `5`}},
		{`{type: integer, maximum: 1.5}`, []string{`1`, `2`, `1.6`}},
		{`{type: number, maximum: 1.5, minimum: -0.5}`, []string{`2`, `1.6`, `-1`, `-0.6`, `0`}},
		{`{type: integer, format: int32, maximum: 3000000000}`, []string{`1`, `3000000001`}},
		{`{type: number, format: float, minimum: 1e39}`, []string{`1`, `1e40`}},
		{`{type: integer, maximum: 1e30}`, []string{`1`, `1e31`}},
		{`{maximum: 5}`, []string{`6`, `6.5`, `"x"`}},
		{`{type: integer, multipleOf: 3}`, []string{`9`, `10`, `9.0`, `9.5`}},
		{`{type: integer, multipleOf: 0.5}`, []string{`1`, `3`}},
		{`{type: number, multipleOf: 0.1}`, []string{`0.3`, `0.35`, `3`}},
		{`{type: number, multipleOf: 2.5}`, []string{`5`, `7.5`, `6`}},
		{`{type: number, multipleOf: 0}`, []string{`1`, `1.5`}},
		{`{type: integer, multipleOf: -2}`, []string{`4`}},
		{`{type: string, maxLength: 2, minLength: 1, pattern: "^[a-z]+$"}`, []string{`""`, `"ab"`, `"abc"`, `"AB"`, `"é"`, `"ééé"`}},
		{`{type: string, pattern: "("}`, []string{`"a"`}},
		{`{type: string, enum: [red, green]}`, []string{`"red"`, `"blue"`, `null`, `1`}},
		{`{enum: [1, 2.5, "A", true, null, {a: 1}, [1]]}`, []string{`1`, `1.0`, `2.5`, `2`, `2.9`, `65`, `"A"`, `true`, `null`, `{"a":1}`, `{"a":1.0}`, `[1]`, `"x"`}},
		{`{type: integer, enum: [2]}`, []string{`2`, `2.5`, `3`}},
		{`{type: array, maxItems: 2, minItems: 1, uniqueItems: true, items: {type: string}}`, []string{`[]`, `["a"]`, `["a","a"]`, `["a","b","c"]`, `[1,1]`}},
		{`{type: array, uniqueItems: true, items: {}}`, []string{`[1,1.0]`, `[{"a":1},{"a":1}]`, `[[1],[1]]`}},
		{`{type: object, maxProperties: 1, minProperties: 1}`, []string{`{}`, `{"a":1}`, `{"a":1,"b":2}`}},
		{`{type: object, required: [a, b], properties: {a: {type: string}, b: {type: integer, nullable: true}}}`, []string{`{}`, `{"a":1,"b":null}`, `{"a":"x","b":"y"}`}},
		{`{type: object, additionalProperties: {type: integer, maximum: 2}}`, []string{`{"a":1,"b":3,"c":"x"}`}},
		{`{type: object, additionalProperties: false, properties: {a: {type: integer}}}`, []string{`{"a":1,"b":2,"c":3}`}},
		{`{type: object, additionalProperties: true}`, []string{`{"a":1}`}},
		{`{type: object, properties: {a: {type: integer}}, patternProperties: {"^x": {type: string}, "(": {type: string}, "y$": {type: integer}}}`, []string{`{"a":1,"xy":2,"x":1,"y":"1","b":1}`}},
		{`{type: object, additionalProperties: false, patternProperties: {"^x": {type: string}}}`, []string{`{"x1":1,"b":1}`}},
		{`{type: object, dependencies: {a: [b, c], b: {required: [d]}}}`, []string{`{"a":1}`, `{"b":1}`, `{"a":1,"b":1,"c":1,"d":1}`}},
		{`{anyOf: [{type: integer, minimum: 5}, {type: string, minLength: 3}]}`, []string{`6`, `4`, `"ab"`, `"abc"`, `true`}},
		{`{anyOf: [{properties: {a: {type: integer}, b: {type: integer}}}, {required: [c]}]}`, []string{`{"a":"x","b":"y"}`, `{"a":1,"b":"y"}`, `{"c":1}`}},
		{`{oneOf: [{required: [a]}, {required: [b]}]}`, []string{`{}`, `{"a":1}`, `{"b":1}`, `{"a":1,"b":1}`}},
		{`{oneOf: [{type: integer}, {type: number}, {minimum: 0}]}`, []string{`1`, `1.5`, `-1.5`, `"x"`}},
		{`{allOf: [{minimum: 1}, {maximum: 0}]}`, []string{`1`, `0`, `-1`, `0.5`}},
		{`{allOf: [{type: integer}, {type: integer}], type: integer}`, []string{`"x"`, `1`}},
		{`{not: {type: string}}`, []string{`"x"`, `1`}},
		{`{type: object, properties: {a: {type: object, properties: {b: {type: array, items: {type: object, required: [c], properties: {c: {type: integer}}}}}}}}`, []string{`{"a":{"b":[{},{"c":"x"},{"c":1}]}}`, `{"a":{"b":"x"}}`}},
	}
	for _, tt := range tests {
		p := props(t, tt.schema)
		for _, v := range tt.values {
			var data any
			if err := jsonUnmarshal(v, &data); err != nil {
				t.Fatalf("%s: %v", v, err)
			}
			t.Run(tt.schema+" "+v, func(t *testing.T) { compareWithUpstream(t, p, data) })
		}
	}
}

// TestKeywordsAtPaths checks the error paths of nested nodes, at the root
// (where upstream's names start with a dot) and below.
func TestKeywordsAtPaths(t *testing.T) {
	p := props(t, `{type: object, required: [r], properties: {spec: {type: object, required: [x], properties: {l: {type: array, items: {type: object, additionalProperties: {type: string}}}}}}}`)
	data := object(t, `{"spec":{"l":[{"k":1}]}}`)
	compareWithUpstream(t, p, data)
	got, _ := ourCheck(p, data)
	for _, want := range []string{`".r in body is required"`, `"spec.x in body is required"`, `"spec.l[0].k in body must be of type string: \"integer\""`} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.Contains(s, want) }) {
			t.Errorf("no error %s in %q", want, got)
		}
	}
}

// TestKeywordsRandomlyMatchUpstream compares random schemas (every keyword
// a CRD may use, nested through properties, items and junctors) and values
// shaped like them.
func TestKeywordsRandomlyMatchUpstream(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 1000
	}
	for seed := range uint64(n) {
		compareRandom(t, seed)
	}
}

// FuzzKeywordsMatchUpstream explores more seeds: go test -fuzz
// FuzzKeywordsMatchUpstream ./internal/crd/schema.
func FuzzKeywordsMatchUpstream(f *testing.F) {
	f.Add(uint64(0))
	f.Add(uint64(1 << 40))
	f.Fuzz(func(t *testing.T, seed uint64) { compareRandom(t, seed) })
}

func compareRandom(t *testing.T, seed uint64) {
	t.Helper()
	g := &gen{rand.New(rand.NewPCG(seed, 42))}
	p := g.schema(3)
	for range 4 {
		compareWithUpstream(t, p, g.value(p, 3))
	}
}

type gen struct{ r *rand.Rand }

func (g *gen) chance(pct int) bool { return g.r.IntN(100) < pct }

func pick[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }

var (
	genFormats = []string{"", "int32", "int64", "float", "double", "date", "date-time", "datetime", "duration",
		"uuid", "uuid4", "hostname", "email", "ipv4", "ipv6", "cidr", "mac", "byte", "uri", "password", "isbn",
		"k8s-short-name", "k8s-long-name", "bsonobjectid", "creditcard", "hexcolor", "rgbcolor", "ssn", "unknown"}
	genBounds   = []float64{0, 1, 2, 2.5, 0.5, 0.1, -1, 10, 3e9, 1e20, 1.5e300, -0.1, 3, 1e39}
	genPatterns = []string{"^[a-z]+$", "a", "(", "^$", "^[0-9]+%?$", "x"}
	genKeys     = []string{"a", "b", "c", "x1", "y", "apiVersion"}
	genStrings  = []string{"", "a", "ab", "abc", "A", "x1", "é", "red", "1", "50%", "2020-01-01", "2020-13-01",
		"2020-01-01T10:00:00Z", "2020-01-01t25:00:00z", "10s", "3 days", "1.2.3.4", "::1", "10.0.0.0/8",
		"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "de305d54-75b4-431b-adb2-eb6b9e546014", "example.com",
		"a@b.c", "aGk=", "#fff", "rgb(1,2,3)", "00:1a:2b:3c:4d:5e", "http://x/y", "my-name", "My.Name"}
	genNumbers = []any{int64(0), int64(1), int64(2), int64(3), int64(-1), int64(10), int64(11), int64(65),
		int64(1) << 31, int64(1) << 40, int64(-5), 0.5, 1.0, 2.5, 1e20, -0.1, 3.0, 1e-7, 0.3, 1e40, 7.5}
)

func (g *gen) bound() *float64 {
	if !g.chance(20) {
		return nil
	}
	return ptr.To(pick(g, genBounds...))
}

func (g *gen) count() *int64 {
	if !g.chance(15) {
		return nil
	}
	return ptr.To(int64(g.r.IntN(4)))
}

func (g *gen) schema(depth int) *apiextensionsv1.JSONSchemaProps {
	p := &apiextensionsv1.JSONSchemaProps{}
	if g.chance(10) {
		p.XIntOrString = true
	} else if g.chance(85) {
		p.Type = pick(g, "string", "integer", "number", "boolean", "array", "object")
	}
	p.Nullable = g.chance(15)
	if g.chance(25) {
		p.Format = pick(g, genFormats...)
	}
	p.Maximum, p.Minimum, p.MultipleOf = g.bound(), g.bound(), g.bound()
	p.ExclusiveMaximum, p.ExclusiveMinimum = g.chance(30), g.chance(30)
	p.MaxLength, p.MinLength = g.count(), g.count()
	if g.chance(15) {
		p.Pattern = pick(g, genPatterns...)
	}
	p.MaxItems, p.MinItems, p.MaxProperties, p.MinProperties = g.count(), g.count(), g.count(), g.count()
	p.UniqueItems = g.chance(10)
	if g.chance(15) {
		for range 1 + g.r.IntN(3) {
			b, _ := json.Marshal(g.scalar())
			p.Enum = append(p.Enum, apiextensionsv1.JSON{Raw: b})
		}
	}
	if depth == 0 {
		return p
	}
	if p.Type == "array" || g.chance(10) {
		p.Items = &apiextensionsv1.JSONSchemaPropsOrArray{Schema: g.schema(depth - 1)}
		if items := p.Items.Schema; items.Type == "object" && len(items.Properties) > 0 && g.chance(50) {
			p.XListType = ptr.To("map")
			p.XListMapKeys = []string{slices.Sorted(maps.Keys(items.Properties))[0]}
		}
	}
	if p.Type == "object" || g.chance(10) {
		switch g.r.IntN(5) {
		case 0:
			p.AdditionalProperties = &apiextensionsv1.JSONSchemaPropsOrBool{Allows: true, Schema: g.schema(depth - 1)}
		case 1:
			p.AdditionalProperties = &apiextensionsv1.JSONSchemaPropsOrBool{Allows: g.chance(50)}
		default:
			for _, k := range genKeys[:g.r.IntN(4)] {
				if p.Properties == nil {
					p.Properties = map[string]apiextensionsv1.JSONSchemaProps{}
				}
				p.Properties[k] = *g.schema(depth - 1)
			}
		}
		if g.chance(20) {
			p.Required = []string{pick(g, genKeys...), pick(g, genKeys...)}
		}
		if g.chance(5) {
			p.PatternProperties = map[string]apiextensionsv1.JSONSchemaProps{pick(g, genPatterns...): *g.schema(depth - 1)}
		}
		if g.chance(5) {
			p.Dependencies = apiextensionsv1.JSONSchemaDependencies{
				"a": {Property: []string{"b"}},
				"b": {Schema: g.schema(depth - 1)},
			}
		}
	}
	for _, junctor := range []*[]apiextensionsv1.JSONSchemaProps{&p.AllOf, &p.AnyOf, &p.OneOf} {
		if g.chance(12) {
			for range 1 + g.r.IntN(3) {
				*junctor = append(*junctor, *g.schema(depth - 1))
			}
		}
	}
	if g.chance(8) {
		p.Not = g.schema(depth - 1)
	}
	return p
}

func (g *gen) scalar() any {
	switch g.r.IntN(5) {
	case 0:
		return nil
	case 1:
		return g.chance(50)
	case 2, 3:
		return pick(g, genStrings...)
	default:
		return pick(g, genNumbers...)
	}
}

// value is mostly of p's shape, so that nested keywords are reached.
func (g *gen) value(p *apiextensionsv1.JSONSchemaProps, depth int) any {
	if p == nil || depth == 0 || g.chance(15) {
		if depth > 0 && g.chance(20) {
			return g.value(&apiextensionsv1.JSONSchemaProps{Type: pick(g, "array", "object")}, depth)
		}
		return g.scalar()
	}
	switch p.Type {
	case "array":
		var items *apiextensionsv1.JSONSchemaProps
		if p.Items != nil {
			items = p.Items.Schema
		}
		list := []any{}
		for range g.r.IntN(4) {
			list = append(list, g.value(items, depth-1))
		}
		if len(list) > 0 && g.chance(20) {
			list = append(list, list[0])
		}
		return list
	case "object":
		m := map[string]any{}
		for range g.r.IntN(5) {
			k := pick(g, genKeys...)
			var s *apiextensionsv1.JSONSchemaProps
			if prop, ok := p.Properties[k]; ok {
				s = &prop
			} else if p.AdditionalProperties != nil {
				s = p.AdditionalProperties.Schema
			}
			m[k] = g.value(s, depth-1)
		}
		return m
	}
	return g.scalar()
}

// jsonUnmarshal decodes as the API server does: whole numbers as int64.
func jsonUnmarshal(s string, v *any) error {
	return utiljson.Unmarshal([]byte(s), v)
}

// formatSamples are strings near the edges of each format.
var formatSamples = []string{
	"", " ", "a", "-", "x.y", "é", "\xff", "\n",
	// dates and times
	"2020-01-01", "2020-1-01", "2020-02-30", "20200101", "2020-01-01T10:00:00Z", "2020-01-01t10:00:00z",
	"2020-01-01T10:00:00.123+01:00", "2020-01-01T24:00:00Z", "2020-01-01T23:59:60Z", "2020-01-01T10:00:00",
	"2020-01-01T10:00:00x5Z", "2020-01-01T10:00:00Zt", "2020-01-01 10:00:00Z", "2020-01-01T10:00:00+0100",
	"2020-01-01T10:00:00.Z", "2020-01-01T1:00:00Z", "T10:00:00Z", "2020-01-01T10:00:00é5Z", "2020-01-01T10:00:00\n5Z",
	// durations
	"10s", "1h30m", "-5m", "3 days", "3days 4hours", "1 week", "2 fortnights", "5 µs", "5µs", "5μs", "1 minute",
	"10 msec", "x 5s y", "5", "s", "99999999999999999999 s", "1.5h", "1h 2m", "5 Hours", "10 nanoseconds", "7 wk",
	// uuids
	"6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "6ba7b8109dad11d180b400c04fd430c8",
	"6ba7b810-9dad-31d1-80b4-00c04fd430c8", "6ba7b810-9dad-41d1-80b4-00c04fd430c8", "6ba7b810-9dad-51d1-c0b4-00c04fd430c8",
	"6ba7b810-9dad-51d1-80b4-00c04fd430c8", "6ba7b810-9dad-11d1-80b4-00c04fd430c", "6ba7b810-9dad-11d1-80b4-00c04fd430c8-",
	// hosts and addresses
	"example.com", "example.com.", "a", "a-b", "a--b", "-a", "a.b", "a.b1", "1.2.3.4", "xn--bcher-kva.example",
	"exämple.com", "☃.net", "a_b.com", strings.Repeat("a", 63) + ".com", strings.Repeat("a", 64) + ".com",
	strings.Repeat("a.", 127) + "com", "localhost", "a.co", "a.c",
	"1.2.3.4", "01.2.3.4", "1.2.3", "256.1.1.1", "::1", "::ffff:1.2.3.4", "fe80::1%eth0", "1:2:3:4:5:6:7:8",
	"10.0.0.0/8", "010.0.0.0/8", "::/0", "10.0.0.0/33", "10.0.0.0", "00:1a:2b:3c:4d:5e", "00-1A-2B-3C-4D-5E",
	"001a.2b3c.4d5e", "00:1a:2b:3c:4d", "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
	// uris and emails
	"http://example.com/a?b#c", "/a/b", "a/b", "mailto:a@b", "http://[::1]:80/", "http://a b", "*", "%zz",
	"a@b.c", "A <a@b.c>", "a@", "@b", "a.@b", "\"a b\"@c", "a@b@c",
	// isbn, credit cards, ssn
	"0306406152", "0-306-40615-2", "0 306 40615 2", "030640615X", "0306406153", "9780306406157",
	"978-0-306-40615-7", "9780306406158", "4111111111111111", "4111-1111-1111-1111", "4111 1111 1111 1112",
	"5500000000000004", "340000000000009", "30000000000004", "6011000000000004", "3530111333300000", "411111111111111a1",
	"123-45-6789", "123 45 6789", "123-45 6789", "123456789", "123-456-789", "12a-45-6789",
	// colors, bytes, objectids, names
	"#fff", "fff", "#ffff", "#abcdef", "abcdeg", "##fff", "rgb(0,0,0)", "rgb( 255 , 255 , 255 )", "rgb(256,0,0)",
	"rgb(01,0,0)", "rgba(0,0,0,0)", "aGk=", "aGk", "aGk==", "aGVsbG8=", "aGVsbG8h", "a===", "====", "a+/=", "a-_=",
	"507f1f77bcf86cd799439011", "507F1F77BCF86CD799439011", "507f1f77bcf86cd79943901", "507f1f77bcf86cd79943901g",
	"my-name", "My-name", "my.name", "my..name", "-my", strings.Repeat("a", 63), strings.Repeat("a", 64),
	strings.Repeat("a", 253), strings.Repeat("a.", 126) + "a", "secret",
}

// TestFormatsMatchStrfmt checks every format kube-apiserver validates
// against strfmt's registry.
func TestFormatsMatchStrfmt(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aZ09-._:/@#+=% ()tT,xX\nµé")
	samples := slices.Clone(formatSamples)
	for range 3000 {
		// Mutations of samples find the edges the samples miss.
		s := []rune(formatSamples[r.IntN(len(formatSamples))])
		for range 1 + r.IntN(3) {
			i := r.IntN(len(s) + 1)
			switch r.IntN(3) {
			case 0:
				s = slices.Insert(s, i, alphabet[r.IntN(len(alphabet))])
			case 1:
				if i < len(s) {
					s = slices.Delete(s, i, i+1)
				}
			default:
				if i < len(s) {
					s[i] = alphabet[r.IntN(len(alphabet))]
				}
			}
		}
		samples = append(samples, string(s))
	}
	for name := range supportedStringFormats {
		if !strfmt.Default.ContainsName(name) {
			t.Errorf("strfmt does not know %q", name)
		}
		check := formatChecker(name)
		if check == nil {
			t.Errorf("no checker for %q", name)
			continue
		}
		for _, s := range samples {
			if got, want := check(s), strfmt.Default.Validates(name, s); got != want {
				t.Errorf("format %s, %q: got %v, want %v", name, s, got, want)
			}
		}
	}
	if valid, known := CheckFormat("date-time", "2020-01-01T00:00:00Z"); !valid || !known {
		t.Errorf("CheckFormat(date-time) = %v, %v", valid, known)
	}
	if valid, known := CheckFormat("int32", "x"); !valid || known {
		t.Errorf("CheckFormat(int32) = %v, %v", valid, known)
	}
	if formatChecker("date-time") == nil || formatChecker("k8s-short-name") == nil || formatChecker("int32") != nil {
		t.Errorf("format names are not normalized as strfmt's")
	}
}

// TestParseMatchesStrfmt checks the parsers CEL uses for duration and
// date-time values.
func TestParseMatchesStrfmt(t *testing.T) {
	for _, s := range formatSamples {
		d, err := ParseDuration(s)
		wd, werr := strfmt.ParseDuration(s)
		if d != wd || (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("ParseDuration(%q) = %v, %v; strfmt: %v, %v", s, d, err, wd, werr)
		}
		tm, err := ParseDateTime(s)
		wt, werr := strfmt.ParseDateTime(s)
		if !tm.Equal(time.Time(wt)) || (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			t.Errorf("ParseDateTime(%q) = %v, %v; strfmt: %v, %v", s, tm, err, time.Time(wt), werr)
		}
	}
}

// The reference implementation the tests compare with: the CRD schema
// converted for kube-openapi as apiextensions-apiserver converts it, and
// kube-openapi's validator with kube-apiserver's ratcheting hooks.

// toOpenAPI converts a CRD schema into kube-openapi's form, keeping what
// value validation reads. Defaults, examples and descriptions do not
// matter for validating a value and are left out.
func toOpenAPI(in *apiextensionsv1.JSONSchemaProps) *spec.Schema {
	if in == nil {
		return nil
	}
	out := &spec.Schema{}
	if in.Type != "" {
		out.Type = spec.StringOrArray{in.Type}
	}
	if in.XIntOrString {
		out.Type = spec.StringOrArray{"integer", "string"}
	}
	out.Nullable = in.Nullable
	if in.Format != "" && supportedFormat(singleType(out.Type), in.Format) {
		out.Format = in.Format
	}
	out.Maximum = in.Maximum
	out.ExclusiveMaximum = in.ExclusiveMaximum
	out.Minimum = in.Minimum
	out.ExclusiveMinimum = in.ExclusiveMinimum
	out.MaxLength = in.MaxLength
	out.MinLength = in.MinLength
	out.Pattern = in.Pattern
	out.MaxItems = in.MaxItems
	out.MinItems = in.MinItems
	out.UniqueItems = in.UniqueItems
	out.MultipleOf = in.MultipleOf
	out.MaxProperties = in.MaxProperties
	out.MinProperties = in.MinProperties
	out.Required = in.Required
	if in.Enum != nil {
		out.Enum = make([]any, len(in.Enum))
		for i, e := range in.Enum {
			out.Enum[i] = decodeJSON(e.Raw)
		}
	}
	for i := range in.AllOf {
		out.AllOf = append(out.AllOf, *toOpenAPI(&in.AllOf[i]))
	}
	for i := range in.OneOf {
		out.OneOf = append(out.OneOf, *toOpenAPI(&in.OneOf[i]))
	}
	for i := range in.AnyOf {
		out.AnyOf = append(out.AnyOf, *toOpenAPI(&in.AnyOf[i]))
	}
	if in.Not != nil {
		out.Not = toOpenAPI(in.Not)
	}
	out.Properties = toOpenAPIMap(in.Properties)
	out.PatternProperties = toOpenAPIMap(in.PatternProperties)
	if ap := in.AdditionalProperties; ap != nil {
		out.AdditionalProperties = &spec.SchemaOrBool{Allows: ap.Allows, Schema: toOpenAPI(ap.Schema)}
	}
	if ai := in.AdditionalItems; ai != nil {
		out.AdditionalItems = &spec.SchemaOrBool{Allows: ai.Allows, Schema: toOpenAPI(ai.Schema)}
	}
	if it := in.Items; it != nil {
		out.Items = &spec.SchemaOrArray{Schema: toOpenAPI(it.Schema)}
		for i := range it.JSONSchemas {
			out.Items.Schemas = append(out.Items.Schemas, *toOpenAPI(&it.JSONSchemas[i]))
		}
	}
	if in.Dependencies != nil {
		out.Dependencies = make(spec.Dependencies, len(in.Dependencies))
		for k, d := range in.Dependencies {
			out.Dependencies[k] = spec.SchemaOrStringArray{Property: d.Property, Schema: toOpenAPI(d.Schema)}
		}
	}
	// kube-openapi reads these extensions while validating: int-or-string
	// switches its type check, preserve-unknown-fields and embedded
	// resources relax additionalProperties.
	if in.XIntOrString {
		out.AddExtension("x-kubernetes-int-or-string", true)
	}
	if in.XPreserveUnknownFields != nil {
		out.AddExtension("x-kubernetes-preserve-unknown-fields", *in.XPreserveUnknownFields)
	}
	if in.XEmbeddedResource {
		out.AddExtension("x-kubernetes-embedded-resource", true)
	}
	return out
}

func toOpenAPIMap(in map[string]apiextensionsv1.JSONSchemaProps) map[string]spec.Schema {
	if in == nil {
		return nil
	}
	out := make(map[string]spec.Schema, len(in))
	for k := range in {
		p := in[k]
		out[k] = *toOpenAPI(&p)
	}
	return out
}

func singleType(t spec.StringOrArray) string {
	if len(t) == 1 {
		return t[0]
	}
	return ""
}

// ratchetValidator is kube-openapi's validator for one node of an update:
// errors of a node whose value did not change are forgiven (upstream turns
// them into warnings nobody sees), so objects stored under an older,
// laxer schema stay updatable as long as their invalid parts are left
// alone.
type ratchetValidator struct {
	schema  *spec.Schema
	root    any
	path    string
	formats strfmt.Registry
	options []validate.Option
	c       *correlated
}

var _ validate.ValueValidator = (*ratchetValidator)(nil)

func (r *ratchetValidator) SetPath(string)                 {}
func (r *ratchetValidator) Applies(any, reflect.Kind) bool { return true }

func (r *ratchetValidator) Validate(data any) *validate.Result {
	opts := append([]validate.Option{func(o *validate.SchemaValidatorOptions) {
		o.NewValidatorForField = r.field
		o.NewValidatorForIndex = r.index
	}}, r.options...)
	res := validate.NewSchemaValidator(r.schema, r.root, r.path, r.formats, opts...).Validate(r.c.new)
	if res.IsValid() || !r.c.deepEqual() {
		return res
	}
	return (&validate.Result{}).MergeAsWarnings(res)
}

func (r *ratchetValidator) field(field string, s *spec.Schema, root any, path string, formats strfmt.Registry, opts ...validate.Option) validate.ValueValidator {
	ch := r.c.key(field)
	// apiVersion and kind of the resource are the same in old and new
	// (both are converted to the version served), so they never ratchet.
	if ch == nil || (r.path == "" && (field == "apiVersion" || field == "kind")) {
		return validate.NewSchemaValidator(s, root, path, formats, opts...)
	}
	return &ratchetValidator{schema: s, root: root, path: path, formats: formats, options: opts, c: ch}
}

func (r *ratchetValidator) index(i int, s *spec.Schema, root any, path string, formats strfmt.Registry, opts ...validate.Option) validate.ValueValidator {
	ch := r.c.index(i)
	if ch == nil {
		return validate.NewSchemaValidator(s, root, path, formats, opts...)
	}
	return &ratchetValidator{schema: s, root: root, path: path, formats: formats, options: opts, c: ch}
}

// TestRatchetingMatchesUpstream compares updates of random values (an old
// value and a partly changed copy) under random schemas with kube-openapi
// driven by kube-apiserver's ratcheting hooks.
func TestRatchetingMatchesUpstream(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 500
	}
	for seed := range uint64(n) {
		g := &gen{rand.New(rand.NewPCG(seed, 7))}
		p := g.schema(3)
		s, err := build(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			old := g.value(p, 3)
			obj := g.mutate(old, 3)
			want, wantCount := describeErrors(nil), 0
			if sch := toOpenAPI(p); sch != nil {
				r := &ratchetValidator{schema: sch, formats: strfmt.Default, c: newCorrelated(obj, old, s)}
				res := r.Validate(obj)
				want, wantCount = describeErrors(res.Errors), res.MatchCount
			}
			res := compileKeywords(p).validate("", obj, newCorrelated(obj, old, s))
			got, gotCount := describeErrors(dedupErrors(res.errs)), res.count
			if !slices.Equal(got, want) || gotCount != wantCount {
				schema, _ := json.Marshal(p)
				o, _ := json.Marshal(old)
				v, _ := json.Marshal(obj)
				t.Fatalf("seed %d: schema %s, update %s to %s:\ngot  %d %q\nwant %d %q", seed, schema, o, v, gotCount, got, wantCount, want)
			}
		}
	}
}

// mutate returns a copy of v with some parts changed.
func (g *gen) mutate(v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			switch {
			case g.chance(10):
			case g.chance(30):
				out[k] = g.mutate(e, depth-1)
			default:
				out[k] = e
			}
		}
		if g.chance(15) {
			out[pick(g, genKeys...)] = g.scalar()
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if g.chance(70) {
				out = append(out, g.mutate(e, depth-1))
			}
		}
		if g.chance(20) {
			slices.Reverse(out)
		}
		return out
	}
	if g.chance(25) {
		return g.scalar()
	}
	return v
}
