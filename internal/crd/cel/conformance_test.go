package cel

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// TestConformance evaluates rules whose results upstream's own tests
// (apiextensions-apiserver's TestValidationExpressions) fix: each valid
// rule must compile and hold for the object, each error rule must fail to
// compile or evaluate with a message containing the given text. Static
// cost limits are not applied, as upstream's runtime validator does not
// apply them either.
func TestConformance(t *testing.T) {
	tests := []struct {
		name   string
		props  string // JSON of the root's properties
		obj    string // JSON
		valid  []string
		errors map[string]string
		cost   int64 // runtime cost of the (single) valid rule, if set
	}{{
		name: "escaping",
		props: `{"true":{"type":"integer"},"false":{"type":"integer"},"null":{"type":"integer"},"in":{"type":"integer"},"as":{"type":"integer"},
"break":{"type":"integer"},"const":{"type":"integer"},"continue":{"type":"integer"},"else":{"type":"integer"},"for":{"type":"integer"},
"function":{"type":"integer"},"if":{"type":"integer"},"import":{"type":"integer"},"let":{"type":"integer"},"loop":{"type":"integer"},
"package":{"type":"integer"},"namespace":{"type":"integer"},"return":{"type":"integer"},"var":{"type":"integer"},"void":{"type":"integer"},
"while":{"type":"integer"},"int":{"type":"integer"},"uint":{"type":"integer"},"double":{"type":"integer"},"bool":{"type":"integer"},
"string":{"type":"integer"},"bytes":{"type":"integer"},"list":{"type":"integer"},"map":{"type":"integer"},"null_type":{"type":"integer"},
"type":{"type":"integer"},"self":{"type":"integer"},"getDate":{"type":"integer"},"all":{"type":"integer"},"size":{"type":"string"},
"_true":{"type":"integer"},"dot.dot":{"type":"integer"},"dash-dash":{"type":"integer"},"slash/slash":{"type":"integer"},
"underscore_underscore":{"type":"integer"},"doubleunderscore__doubleunderscore":{"type":"integer"}}`,
		obj: `{"true":1,"false":2,"null":3,"in":4,"as":5,"break":6,"const":7,"continue":8,"else":9,"for":10,"function":11,"if":12,
"import":13,"let":14,"loop":15,"package":16,"namespace":17,"return":18,"var":19,"void":20,"while":21,"int":101,"uint":102,"double":103,
"bool":104,"string":105,"bytes":106,"list":107,"map":108,"null_type":109,"type":110,"self":201,"getDate":202,"all":203,"size":"204",
"_true":301,"dot.dot":401,"dash-dash":402,"slash/slash":403,"underscore_underscore":404,"doubleunderscore__doubleunderscore":405}`,
		valid: []string{
			"self.__true__ == 1", "self.__false__ == 2", "self.__null__ == 3", "self.__in__ == 4", "self.__as__ == 5",
			"self.__break__ == 6", "self.__const__ == 7", "self.__continue__ == 8", "self.__else__ == 9",
			"self.__for__ == 10", "self.__function__ == 11", "self.__if__ == 12", "self.__import__ == 13",
			"self.__let__ == 14", "self.__loop__ == 15", "self.__package__ == 16", "self.__namespace__ == 17",
			"self.__return__ == 18", "self.__var__ == 19", "self.__void__ == 20", "self.__while__ == 21",
			"self.int == 101", "self.uint == 102", "self.double == 103", "self.bool == 104",
			"self.string == 105", "self.bytes == 106", "self.list == 107", "self.map == 108",
			"self.null_type == 109", "self.type == 110", "self.self == 201", "self.getDate == 202",
			"self.all == 203", "self.size == '204'", "self._true == 301", "self.__true__ != 301",
			"self.dot__dot__dot == 401", "self.dash__dash__dash == 402", "self.slash__slash__slash == 403",
			"self.underscore_underscore == 404", "self.doubleunderscore__underscores__doubleunderscore == 405",
		},
		errors: map[string]string{
			"self.true == 1":          "mismatched input 'true' expecting IDENTIFIER",
			"self == 201":             "found no matching overload for '_==_'",
			"self.__illegal__ == 301": "undefined field '__illegal__'",
		},
	}, {
		name:  "map keys are not escaped",
		props: `{"m":{"type":"object","additionalProperties":{"type":"integer"}}}`,
		obj:   `{"m":{"@":1,"9":2,"int":3,"./-":4,"👑":5}}`,
		valid: []string{"self.m['@'] == 1", "self.m['9'] == 2", "self.m['int'] == 3", "self.m['./-'] == 4", "self.m['👑'] == 5"},
	}, {
		name:  "listSets",
		props: `{"val1":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},"val2":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}`,
		obj:   `{"val1":["a","b","c"],"val2":["a","c","b"]}`,
		valid: []string{
			"self.val1 == ['c', 'b', 'a']", "self.val1 == self.val2", "'a' in self.val1", "self.val2[0] in self.val1",
			"!('x' in self.val1)", "self.val1 + self.val2 == ['a', 'b', 'c']", "self.val1 + ['c', 'd'] == ['a', 'b', 'c', 'd']",
			"sets.contains(['a', 'b'], [])", "sets.contains(['a', 'b'], ['b'])", "!sets.contains(['a', 'b'], ['c'])",
			"sets.equivalent([], [])", "sets.equivalent(['c', 'b', 'a'], ['b', 'c', 'a'])", "!sets.equivalent(['a', 'b'], ['b', 'c'])",
			"sets.intersects(['a', 'b'], ['b', 'c'])", "!sets.intersects([], [])", "!sets.intersects(['a', 'b'], [])",
			"sets.contains([{'a': 1}, {'b': 2}], [{'b': 2}])", "sets.contains([[1, 2], [3, 4]], [[3, 4]])",
			"sets.contains([duration('1h'), duration('2h')], [duration('2h')])",
			"sets.equivalent([timestamp('2012-01-01T00:00:00.000+01:00')], [timestamp('2012-01-01T00:00:00.000+01:00')])",
		},
	}, {
		name:  "listMaps",
		props: `{"objs":{"type":"array","items":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"],"items":{"type":"object","properties":{"k":{"type":"string"},"v":{"type":"string"}}}}}}`,
		obj:   `{"objs":[[{"k":"a","v":"1"},{"k":"b","v":"2"}],[{"k":"b","v":"2"},{"k":"a","v":"1"}],[{"k":"b","v":"3"},{"k":"a","v":"1"}],[{"k":"c","v":"4"}]]}`,
		valid: []string{
			"self.objs[0] == self.objs[1]", "self.objs[0] + self.objs[2] == self.objs[2]", "self.objs[2] + self.objs[0] == self.objs[0]",
			"self.objs[0] == [self.objs[0][0], self.objs[0][1]]", "self.objs[0] == [self.objs[0][1], self.objs[0][0]]",
			"self.objs[2] + [self.objs[0][0], self.objs[0][1]] == self.objs[0]", "size(self.objs[0] + [self.objs[3][0]]) == 3",
		},
		errors: map[string]string{"self.objs[0] == {'k': 'a', 'v': '1'}": "no matching overload for '_==_'"},
	}, {
		name:   "maps",
		props:  `{"val1":{"type":"object","additionalProperties":{"type":"string"}},"val2":{"type":"object","additionalProperties":{"type":"string"}}}`,
		obj:    `{"val1":{"k1":"a","k2":"b"},"val2":{"k2":"b","k1":"a"}}`,
		valid:  []string{"self.val1 == self.val2", "'k1' in self.val1", "!('k3' in self.val1)", "self.val1 == {'k1': 'a', 'k2': 'b'}"},
		errors: map[string]string{"{'k1': 'a', 'k2': 1, 'k2': false}": "expected type 'string' but found 'int'"},
	}, {
		name:   "objects",
		props:  `{"objs":{"type":"array","items":{"type":"object","properties":{"f1":{"type":"string"},"f2":{"type":"string"}}}}}`,
		obj:    `{"objs":[{"f1":"a","f2":"b"},{"f1":"a","f2":"b"}]}`,
		valid:  []string{"self.objs[0] == self.objs[1]"},
		errors: map[string]string{"self.objs[0] == {'f1': 'a', 'f2': 'b'}": "found no matching overload for '_==_'"},
	}, {
		name: "stdlib list functions",
		props: `{"ints":{"type":"array","items":{"type":"integer"}},"unsortedInts":{"type":"array","items":{"type":"integer"}},"emptyInts":{"type":"array","items":{"type":"integer"}},
"intBackedDoubles":{"type":"array","items":{"type":"number"}},"emptyDoubles":{"type":"array","items":{"type":"number"}},
"durations":{"type":"array","items":{"type":"string","format":"duration"}},"unsortedDurations":{"type":"array","items":{"type":"string","format":"duration"}},"emptyDurations":{"type":"array","items":{"type":"string","format":"duration"}},
"strings":{"type":"array","items":{"type":"string"}},"emptyStrings":{"type":"array","items":{"type":"string"}},
"dates":{"type":"array","items":{"type":"string","format":"date"}},"unsortedDates":{"type":"array","items":{"type":"string","format":"date"}},
"objs":{"type":"array","items":{"type":"object","properties":{"f1":{"type":"string"},"f2":{"type":"string"}}}}}`,
		obj: `{"ints":[1,2,2,3],"unsortedInts":[2,1],"emptyInts":[],"intBackedDoubles":[1,2,2,3],"emptyDoubles":[],
"durations":["1s","1m","1m","1h"],"unsortedDurations":["1m","1s"],"emptyDurations":[],"strings":["a","b","b","c"],"emptyStrings":[],
"dates":["2000-01-01","2000-02-01","2000-02-01","2010-01-01"],"unsortedDates":["2000-02-01","2000-01-01"],
"objs":[{"f1":"a","f2":"a"},{"f1":"a","f2":"b"},{"f1":"a","f2":"b"},{"f1":"a","f2":"c"}]}`,
		valid: []string{
			"self.ints.sum() == 8", "self.ints.min() == 1", "self.ints.max() == 3", "self.emptyInts.sum() == 0",
			"self.ints.isSorted()", "self.emptyInts.isSorted()", "self.unsortedInts.isSorted() == false",
			"self.ints.indexOf(2) == 1", "self.ints.lastIndexOf(2) == 2", "self.ints.indexOf(10) == -1",
			"self.intBackedDoubles.sum() == 8.0", "self.intBackedDoubles.min() == 1.0", "self.intBackedDoubles.max() == 3.0",
			"self.emptyDoubles.sum() == 0.0", "self.intBackedDoubles.indexOf(2.0) == 1",
			"self.durations.sum() == duration('1h2m1s')", "self.durations.min() == duration('1s')", "self.durations.max() == duration('1h')",
			"self.emptyDurations.sum() == duration('0')", "self.durations.isSorted()", "self.unsortedDurations.isSorted() == false",
			"self.durations.lastIndexOf(duration('1m')) == 2",
			"self.strings.min() == 'a'", "self.strings.max() == 'c'", "self.strings.isSorted()", "self.strings.lastIndexOf('b') == 2",
			"self.dates.min() == timestamp('2000-01-01T00:00:00.000Z')", "self.dates.max() == timestamp('2010-01-01T00:00:00.000Z')",
			"self.dates.isSorted()", "self.unsortedDates.isSorted() == false",
			"self.dates.indexOf(timestamp('2000-02-01T00:00:00.000Z')) == 1",
			"[[1], [2]].indexOf([1]) == 0", "[{'a': 1}, {'b': 2}].lastIndexOf({'b': 2}) == 1",
			"self.objs.indexOf(self.objs[1]) == 1", "self.objs.lastIndexOf(self.objs[1]) == 2",
			"([0] + self.emptyInts).min() == 0", "dyn([]).sum() == 0", "dyn([1, 2]).sum() == 3", "dyn([1.0, 2.0]).sum() == 3.0",
			"[].sum() == 0",
		},
		errors: map[string]string{
			"self.emptyInts.min() == 1":              "min called on empty list",
			"self.emptyStrings.max() == 'c'":         "max called on empty list",
			"['a', 'b'].sum() == 'c'":                "found no matching overload for 'sum' applied to 'list(string).()",
			"[[1], [2]].min() == [1]":                "found no matching overload for 'min' applied to 'list(list(int)).()",
			"[{'a': 1}, {'b': 2}].max() == {'b': 2}": "found no matching overload for 'max' applied to 'list(map(string, int)).()",
		},
	}, {
		name:  "stdlib regex functions",
		props: `{"str":{"type":"string"}}`,
		obj:   `{"str":"this is a 123 string 456"}`,
		valid: []string{
			"self.str.find('[0-9]+') == '123'", "self.str.find('[0-9]+') != '456'", "self.str.find('xyz') == ''",
			"self.str.findAll('[0-9]+') == ['123', '456']", "self.str.findAll('[0-9]+', 0) == []",
			"self.str.findAll('[0-9]+', 1) == ['123']", "self.str.findAll('[0-9]+', 3) == ['123', '456']",
			"self.str.findAll('[0-9]+', -1) == ['123', '456']", "self.str.findAll('xyz') == []", "self.str.findAll('xyz', 1) == []",
		},
		errors: map[string]string{
			"self.str.find(')') == ''":       "error parsing regexp: unexpected ): `)`",
			"self.str.findAll(')', 1) == []": "error parsing regexp: unexpected ): `)`",
			"self.str.matches('x++')":        "invalid matches argument",
		},
	}, {
		name:  "URL parsing",
		props: `{"url":{"type":"string"}}`,
		obj:   `{"url":"https://user:pass@kubernetes.io:80/docs/home?k1=a&k2=b&k2=c#anchor"}`,
		valid: []string{
			"url('/path').getScheme() == ''", "url('https://example.com/').getScheme() == 'https'",
			"url('https://example.com:80/').getHost() == 'example.com:80'", "url('https://[::1]:80/').getHost() == '[::1]:80'",
			"url('https://[::1]/').getHostname() == '::1'", "url('https://example.com:80/').getPort() == '80'",
			"url('https://example.com/with space/').getEscapedPath() == '/with%20space/'",
			"url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == { 'k1': ['a'], 'k2': ['b', 'c']}",
			"url('https://example.com/path?').getQuery() == {}",
			"url(self.url).getHost() == 'kubernetes.io:80'", "url(self.url).getEscapedPath() == '/docs/home'",
			"isURL('https://user:pass@example.com:80/path?query=val#fragment')", "isURL('/path') == true",
			"isURL('https://a:b:c/') == false", "isURL('../relative-path') == false",
		},
	}, {
		name:  "optionals",
		props: `{"str":{"type":"string"},"m":{"type":"object","additionalProperties":{"type":"string"}},"obj":{"type":"object","properties":{"a":{"type":"string"},"absent":{"type":"string"}}},"absentObj":{"type":"object","properties":{"absentStr":{"type":"string"}}}}`,
		obj:   `{"str":"x","m":{"k":"v"},"obj":{"a":"b"}}`,
		valid: []string{
			"self.?str == optional.of('x')", "self.?absentObj.?absentStr == optional.none()",
			"self.m[?'k'] == optional.of('v')", "self.m[?'x'].orValue('d') == 'd'", "self.obj.?absent.hasValue() == false",
			"optional.ofNonZeroValue('').hasValue() == false", "[?self.?str, ?self.?absentObj.?absentStr] == ['x']",
		},
		errors: map[string]string{"self.absentObj.?absentStr == optional.none()": "no such key: absentObj"},
	}, {
		name:  "typemeta and objectmeta access",
		props: `{"spec":{"type":"object","properties":{"field1":{"type":"string"}}}}`,
		obj:   `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"foo","generateName":"pickItForMe","namespace":"xyz"},"spec":{"field1":"a"}}`,
		valid: []string{
			"self.kind == 'Pod'", "self.apiVersion == 'v1'", "self.metadata.name == 'foo'",
			"self.metadata.generateName == 'pickItForMe'", "self.spec.field1 == 'a'",
		},
		errors: map[string]string{"has(self.metadata.namespace)": "undefined field 'namespace'"},
	}, {
		name:  "embedded object",
		props: `{"embedded":{"type":"object","x-kubernetes-embedded-resource":true,"x-kubernetes-preserve-unknown-fields":true}}`,
		obj:   `{"embedded":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"foo","generateName":"pickItForMe","namespace":"xyz"},"spec":{"field1":"a"}}}`,
		valid: []string{
			"self.embedded.kind == 'Pod'", "self.embedded.apiVersion == 'v1'", "self.embedded.metadata.name == 'foo'",
			"self.embedded.metadata.generateName == 'pickItForMe'", "has(self.embedded)",
		},
		errors: map[string]string{
			"has(self.embedded.metadata.namespace)": "undefined field 'namespace'",
			"has(self.embedded.spec)":               "undefined field 'spec'",
		},
	}, {
		name:  "embedded object with properties",
		props: `{"embedded":{"type":"object","x-kubernetes-embedded-resource":true,"properties":{"kind":{"type":"string"},"apiVersion":{"type":"string"},"metadata":{"type":"object","properties":{"name":{"type":"string"},"generateName":{"type":"string"}}},"spec":{"type":"object","properties":{"field1":{"type":"string"},"if":{"type":"string"}}}}}}`,
		obj:   `{"embedded":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"foo","generateName":"pickItForMe","namespace":"xyz"},"spec":{"field1":"a","if":"kw"}}}`,
		valid: []string{
			"self.embedded.kind == 'Pod'", "self.embedded.metadata.name == 'foo'", "self.embedded.spec.field1 == 'a'",
			"has(self.embedded.spec.__if__)", "self.embedded.spec.__if__ == 'kw'",
		},
		errors: map[string]string{"has(self.embedded.metadata.namespace)": "undefined field 'namespace'"},
	}, {
		name:  "string in intOrString",
		props: `{"something":{"x-kubernetes-int-or-string":true}}`,
		obj:   `{"something":"25%"}`,
		valid: []string{
			"self.something == '25%'", "self.something != 1", "self.something == 1 || self.something == '25%'",
			"self.something == '25%' || self.something == 1", "type(self.something) == string && self.something == '25%'",
			"type(self.something) == int ? self.something == 1 : self.something == '25%'", "self.something != ['anything']",
		},
	}, {
		name:  "int in intOrString",
		props: `{"something":{"x-kubernetes-int-or-string":true}}`,
		obj:   `{"something":1}`,
		valid: []string{
			"self.something == 1", "self.something != 'some string'", "self.something == '25%' || self.something == 1",
			"type(self.something) == int && self.something == 1", "self.something != ['anything']",
		},
	}, {
		name:   "null in intOrString",
		props:  `{"something":{"x-kubernetes-int-or-string":true,"nullable":true}}`,
		obj:    `{"something":null}`,
		valid:  []string{"!has(self.something)"},
		errors: map[string]string{"type(self.something) == int": "no such key"},
	}, {
		name:  "percent comparison using intOrString",
		props: `{"min":{"x-kubernetes-int-or-string":true},"current":{"type":"integer"},"available":{"type":"integer"}}`,
		obj:   `{"min":"50%","current":5,"available":10}`,
		valid: []string{
			`type(self.min) == string && self.min.matches(r'(\d+(\.\d+)?%)')`,
			"type(self.min) == int ? self.current <= self.min : double(self.current) / double(self.available) >= double(self.min.replace('%', '')) / 100.0",
		},
	}, {
		name: "field nullability",
		props: `{"unsetPlainStr":{"type":"string"},"unsetNullableStr":{"type":"string","nullable":true},"setPlainStr":{"type":"string"},
"setNullableStr":{"type":"string","nullable":true},"setToNullNullableStr":{"type":"string","nullable":true}}`,
		obj: `{"setPlainStr":"v1","setNullableStr":"v3","setToNullNullableStr":null}`,
		valid: []string{
			"!has(self.unsetPlainStr)", "!has(self.unsetNullableStr)", "has(self.setPlainStr) && self.setPlainStr == 'v1'",
			"has(self.setNullableStr) && self.setNullableStr == 'v3'", "type(self.setNullableStr) != null_type",
			"!has(self.setToNullNullableStr)",
		},
		errors: map[string]string{
			"self.unsetPlainStr == null":    "no matching overload for '_==_' applied to '(string, null)",
			"self.unsetNullableStr == null": "no matching overload for '_==_' applied to '(string, null)",
			"self.setNullableStr != null":   "no matching overload for '_!=_' applied to '(string, null)",
		},
	}, {
		name: "null values in container types",
		props: `{"m":{"type":"object","additionalProperties":{"type":"string","nullable":true}},"l":{"type":"array","items":{"type":"string","nullable":true}},
"s":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string","nullable":true}}}`,
		obj: `{"m":{"a":null,"b":"not-nil"},"l":[null,"not-nil"],"s":[null,"not-nil"]}`,
		valid: []string{
			"self.m.size() == 2", "'a' in self.m", "type(self.m['a']) == null_type",
			"self.l.size() == 2", "type(self.l[0]) == null_type", "self.s.size() == 2", "type(self.s[0]) == null_type",
		},
	}, {
		name: "preserve unknown fields",
		props: `{"withUnknown":{"type":"object","x-kubernetes-preserve-unknown-fields":true},
"withUnknownList":{"type":"array","items":{"type":"object","x-kubernetes-preserve-unknown-fields":true}},
"withUnknownFieldList":{"type":"array","items":{"type":"object","properties":{"fieldOfUnknownType":{"x-kubernetes-preserve-unknown-fields":true}}}},
"anyvalList":{"type":"array","items":{"x-kubernetes-preserve-unknown-fields":true}},
"anyvalMap":{"type":"object","additionalProperties":{"x-kubernetes-preserve-unknown-fields":true}},
"anyvalField1":{"x-kubernetes-preserve-unknown-fields":true},"anyvalField2":{"x-kubernetes-preserve-unknown-fields":true}}`,
		obj: `{"withUnknown":{"field1":"a","field2":"b"},"withUnknownList":[{"field1":"a","field2":"b"},{"field1":"x","field2":"y"},{"field1":"x","field2":"y"},{},{}],
"withUnknownFieldList":[{"fieldOfUnknownType":"a"},{"fieldOfUnknownType":1},{"fieldOfUnknownType":1}],
"anyvalList":["a",2],"anyvalMap":{"k":"1"},"anyvalField1":1,"anyvalField2":"a"}`,
		valid: []string{
			"has(self.withUnknown)", "self.withUnknownList.size() == 5",
			"self.withUnknownList[0] != self.withUnknownList[1]", "self.withUnknownList[1] == self.withUnknownList[2]",
			"self.withUnknownList[3] == self.withUnknownList[4]",
			"self.withUnknownFieldList[0] != self.withUnknownFieldList[1]", "self.withUnknownFieldList[1] == self.withUnknownFieldList[2]",
		},
		errors: map[string]string{
			"has(self.withUnknown.field1)": "undefined field 'field1'",
			"has(self.anyvalList)":         "undefined field 'anyvalList'",
			"has(self.anyvalMap)":          "undefined field 'anyvalMap'",
			"has(self.anyvalField1)":       "undefined field 'anyvalField1'",
		},
	}, {
		name:  "known and unknown fields",
		props: `{"withUnknown":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"known":{"type":"integer"}}},"withUnknownList":{"type":"array","items":{"type":"object","x-kubernetes-preserve-unknown-fields":true,"properties":{"known":{"type":"integer"}}}}}`,
		obj:   `{"withUnknown":{"known":1,"unknown":"a"},"withUnknownList":[{"known":1,"unknown":"a"},{"known":1,"unknown":"b"},{"known":1,"unknown":"b"},{"known":1},{"known":1},{"known":2}]}`,
		valid: []string{
			"self.withUnknown.known == 1", "self.withUnknownList[0] != self.withUnknownList[1]",
			"self.withUnknownList[1] == self.withUnknownList[2]", "self.withUnknownList[0] != self.withUnknownList[3]",
			"self.withUnknownList[0] != self.withUnknownList[5]", "self.withUnknownList[3] == self.withUnknownList[4]",
			"self.withUnknownList[4] != self.withUnknownList[5]",
		},
		errors: map[string]string{"has(self.withUnknown.unknown)": "undefined field 'unknown'"},
	}, {
		name:  "unicode strings",
		props: `{"val1":{"type":"string"},"val2":{"type":"string"}}`,
		obj:   `{"val1":"Rook takes 👑","val2":"Rook takes 👑"}`,
		valid: []string{
			"self.val1 == self.val2", "self.val1 == 'Rook takes 👑'", "self.val1.startsWith('Rook')", "self.val1.contains('takes')",
			"self.val1.endsWith('👑')", "self.val1.matches('^[^0-9]*$')", "size(self.val1) == 12", "self.val1.charAt(3) == 'k'",
			"self.val1.indexOf('o', 2) == 2", "self.val1.replace(' ', 'x', 1) == 'Rookxtakes 👑'",
			"self.val1.split(' ', 2) == ['Rook', 'takes 👑']", "self.val1.substring(4, 10).trim() == 'takes'",
			"self.val1.upperAscii() == 'ROOK TAKES 👑'",
			"'%d %s %f %s %s'.format([1, 'abc', 1.0, duration('1m'), timestamp('2000-01-01T00:00:00.000Z')]) == '1 abc 1.000000 60s 2000-01-01T00:00:00Z'",
			"'%o %o %o'.format([7, 8, 9]) == '7 10 11'", "'%b %b %b'.format([7, 8, 9]) == '111 1000 1001'",
		},
		errors: map[string]string{"self.val1.matches(')')": "compilation failed: ERROR: <input>:1:19: invalid matches argument"},
	}, {
		name:  "escaped strings and bytes",
		props: `{"val1":{"type":"string"},"b":{"type":"string","format":"byte"}}`,
		obj:   `{"val1":"l1\nl2","b":"QUI="}`,
		valid: []string{
			`self.val1 == 'l1\nl2'`, "self.b == b'AB'", "self.b == bytes('AB')",
			`self.b == b'\x41\x42'`, "type(self.b) == bytes", "size(self.b) == 2",
		},
	}, {
		name:  "duration, date and date-time formats",
		props: `{"d":{"type":"string","format":"duration"},"day":{"type":"string","format":"date"},"t":{"type":"string","format":"date-time"}}`,
		obj:   `{"d":"1h2m3s4ms","day":"1997-07-16","t":"2011-08-18T19:03:37.010000000+01:00"}`,
		valid: []string{
			"self.d == duration('1h2m3s4ms')", "self.d == duration('1h2m') + duration('3s4ms')", "self.d.getMinutes() == 62",
			"self.d.getMilliseconds() == 3723004", "type(self.d) == google.protobuf.Duration",
			"self.day == timestamp('1997-07-16T00:00:00.000Z')", "self.day.getMonth() == 06", "self.day.getFullYear() == 1997",
			"self.t == timestamp('2011-08-18T19:03:37.010+01:00')",
			"self.t == timestamp('2011-08-18T00:00:00.000+01:00') + duration('19h3m37s10ms')",
			"self.t.getHours('01:00') == 19", "self.t.getHours('UTC') == 18", "type(self.t) == google.protobuf.Timestamp",
		},
		errors: map[string]string{
			"duration('1d')":                     "compilation failed: ERROR: <input>:1:10: invalid duration argument",
			"timestamp('1000-00-00T00:00:00Z')":  "compilation failed: ERROR: <input>:1:11: invalid timestamp",
			"timestamp('1000-01-01T00:00:00ZZ')": "compilation failed: ERROR: <input>:1:11: invalid timestamp",
		},
	}, {
		name: "conversions",
		props: `{"val1":{"type":"integer"},"val2":{"type":"number"},"val3":{"type":"number"},"val4":{"type":"number"},"val5":{"type":"boolean"},
"val6":{"type":"string"},"val7":{"type":"string","format":"byte"},"val8":{"type":"string"},"val9":{"type":"string","format":"duration"},
"val10":{"type":"string"},"val11":{"type":"string","format":"date-time"},"val12":{"type":"string"},"val13":{"type":"string","format":"date"}}`,
		obj: `{"val1":10,"val2":10.0,"val3":10.49,"val4":10.5,"val5":true,"val6":"10","val7":"MTA=","val8":"3723.004s","val9":"1h2m3s4ms",
"val10":"2011-08-18T19:03:37.01+01:00","val11":"2011-08-18T19:03:37.01+01:00","val12":"2011-08-18T00:00:00Z","val13":"2011-08-18"}`,
		valid: []string{
			"int(self.val2) == self.val1", "int(self.val3) == self.val1", "int(self.val4) == self.val1", "int(self.val6) == self.val1",
			"double(self.val1) == self.val2", "double(self.val6) == self.val2", "bytes(self.val6) == self.val7",
			"string(self.val1) == self.val6", "string(self.val2) == '10'", "string(self.val3) == '10.49'", "string(self.val4) == '10.5'",
			"string(self.val5) == 'true'", "string(self.val7) == self.val6", "duration(self.val8) == self.val9",
			"string(self.val9) == self.val8", "timestamp(self.val10) == self.val11", "string(self.val11) == self.val10",
			"timestamp(self.val12) == self.val13", "string(self.val13) == self.val12",
		},
	}, {
		name:  "lists and ext lists",
		props: `{"val1":{"type":"array","items":{"type":"integer"}},"val2":{"type":"array","items":{"type":"integer"}},"s":{"type":"array","items":{"type":"string"}}}`,
		obj:   `{"val1":[1,2,3],"val2":[1,2,3],"s":["a","b","c"]}`,
		valid: []string{
			"self.val1 == self.val2", "self.val1 == [1, 2, 3]", "1 in self.val1", "!(0 in self.val1)",
			"self.val1 + self.val2 == [1, 2, 3, 1, 2, 3]", "self.val1 + [4, 5] == [1, 2, 3, 4, 5]",
			"self.s.join('-') == 'a-b-c'", "self.s.join() == 'abc'",
			`lists.range(4) == [0,1,2,3]`, `[5,1,2,3].reverse() == [3,2,1,5]`, `[1,2,3,4].slice(1, 3) == [2, 3]`,
			`dyn([1,2,3,4]).flatten() == [1,2,3,4]`, `[4, 3, 2, 1].sort() == [1, 2, 3, 4]`,
			`[-3, 1, -5, -2, 4].sortBy(e, -(e * e)) == [-5, 4, -3, -2, 1]`,
			`[{'name': 'foo'}, {'name': 'bar'}, {'name': 'baz'}].sortBy(e, e.name) == [{'name': 'bar'}, {'name': 'baz'}, {'name': 'foo'}]`,
			`[-2, 5, -2, 1, 1, 5, -2, 1].distinct() == [-2, 5, 1]`, `[[1],[2],[3,4]].flatten() == [1,2,3,4]`,
		},
		errors: map[string]string{
			"[1, 'a', false].filter(x, string(x) == 'a')":     "compilation failed: ERROR: <input>:1:5: expected type 'int' but found 'string'",
			`[1,2,3,4].slice(3, 0) != [1,2]`:                  "cannot slice(3, 0), start index must be less than or equal to end index",
			`[1,2,3,4].slice(0, 10) != [1,2]`:                 "cannot slice(0, 10), list is length 4",
			`[[1],[2],[3,4]].flatten(-1) == [1,2,3,4]`:        "level must be non-negative evaluating rule: [[1],[2],[3,4]].flatten(-1) == [1,2,3,4]",
			`["d", 3, 2, "c"].sort() == ["a", "b", "c", "d"]`: "expected type 'string' but found 'int'",
		},
	}, {
		name:  "object access",
		props: `{"a":{"type":"object","properties":{"b":{"type":"integer"},"c":{"type":"integer"},"d":{"type":"integer","nullable":true}}},"a1":{"type":"object","properties":{"b1":{"type":"object","properties":{"c1":{"type":"integer"}}},"d2":{"type":"object","properties":{"e2":{"type":"integer"}}}}}}`,
		obj:   `{"a":{"b":1,"d":null},"a1":{"b1":{"c1":4}},"a3":{}}`,
		valid: []string{
			"has(self.a.b)", "!has(self.a.c)", "!has(self.a.d)", "has(self.a1.b1.c1)",
			"!(has(self.a1.d2) && has(self.a1.d2.e2))", "!has(self.a1.d2)",
		},
		errors: map[string]string{
			"has(self.a.z)":      "undefined field 'z'",
			"self.a['b'] == 1":   "no matching overload for '_[_]'",
			"has(self.a1.d2.e2)": "no such key: d2",
		},
	}, {
		name:  "map access",
		props: `{"val":{"type":"object","additionalProperties":{"type":"integer"}}}`,
		obj:   `{"val":{"b":1,"d":2}}`,
		valid: []string{
			"!('a' in self.val)", "'b' in self.val", "!has(self.val.a)", "has(self.val.b)",
			"self.val.all(k, self.val[k] > 0)", "self.val.exists_one(k, self.val[k] == 2)", "!self.val.exists_one(k, self.val[k] > 0)",
			"size(self.val) == 2", "self.val.map(k, self.val[k]).exists(v, v == 1)", "size(self.val.filter(k, self.val[k] > 1)) == 1",
			"self.val.all(k, v, v > 0)", "self.val.existsOne(k, v, v == 2)", "self.val.transformMap(k, v, v > 1, v + 1).size() == 1",
			"self.val.transformMapEntry(k, v, {k + '2': v + 1}).size() == 2",
		},
		errors: map[string]string{"self.val['c'] == 1": "no such key: c"},
	}, {
		name:  "listMap access",
		props: `{"listMap":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["k"],"items":{"type":"object","properties":{"k":{"type":"string"},"v":{"type":"string"},"v2":{"type":"string"}}}}}`,
		obj:   `{"listMap":[{"k":"a1","v":"b1"},{"k":"a2","v":"b2"},{"k":"a3","v":"b3","v2":"z"}]}`,
		valid: []string{
			"has(self.listMap[0].v)", "self.listMap.all(m, m.k.startsWith('a'))", "self.listMap.all(m, !has(m.v2) || m.v2 == 'z')",
			"self.listMap.exists_one(m, m.k == 'a3')", "!self.listMap.exists_one(m, m.k.startsWith('a'))",
			"self.listMap.map(m, has(m.v2) && m.v2 == 'z', m.v2).size() == 1",
			"self.listMap.exists(m, m.v2 == 'z')", "!self.listMap.all(m, m.v2 != 'z')",
			"self.listMap.existsOne(i, m, has(m.v2) && m.v2 == 'z')", "self.listMap.transformList(i, m, m.v).size() == 3",
		},
		errors: map[string]string{
			"self.listMap.all(m, m.v2 == 'z')":      "no such key: v2",
			"self.listMap.map(m, m.v2).size() == 1": "no such key: v2",
		},
	}, {
		name:  "list access",
		props: `{"array":{"type":"array","items":{"type":"integer"}}}`,
		obj:   `{"array":[1,1,2,2,3,3,4,5]}`,
		valid: []string{
			"2 in self.array", "self.array.exists_one(e, e > 4)", "!self.array.exists_one(e, e == 2)",
			"size(self.array.filter(e, e%2 == 0)) == 3", "self.array.map(e, e * 20).filter(e, e > 50).exists(e, e == 60)",
			"self.array.all(i, e, e > 0)", "self.array.transformList(i, e, e > 2, e * 2).size() > 0",
		},
		errors: map[string]string{"self.array[100] == 0": "index out of bounds: 100"},
	}, {
		name:  "quantity",
		props: `{"val1":{"type":"string"},"val2":{"type":"string"}}`,
		obj:   `{"val1":"20","val2":"200M"}`,
		valid: []string{
			"isQuantity(self.val1)", `isQuantity("20Mi")`,
			`quantity(self.val2) == quantity("0.2G") && quantity("0.2G") == quantity("200M")`,
			`quantity("2M") == quantity("0.002G") && quantity("2000k") == quantity("2M") && quantity("0.002G") == quantity("2000k")`,
			`quantity(self.val1).isLessThan(quantity("100M"))`, `quantity(self.val2).isGreaterThan(quantity("50M"))`,
			`quantity(self.val2).compareTo(quantity("0.2G")) == 0`, `quantity("50k").add(quantity(self.val1)) == quantity("50.02k")`,
			`quantity("50k").sub(quantity(self.val1)) == quantity("49980")`, `quantity(self.val1).isInteger()`,
		},
	}, {
		name:  "IP and CIDR",
		props: `{"val1":{"type":"string"}}`,
		obj:   `{"val1":"20"}`,
		valid: []string{
			`isIP("192.168.0.1")`, `ip.isCanonical("127.0.0.1")`, `ip("192.168.0.1").family() > 0`, `ip("0.0.0.0").isUnspecified()`,
			`ip("127.0.0.1").isLoopback()`, `ip("224.0.0.1").isLinkLocalMulticast()`, `ip("192.168.0.1").isGlobalUnicast()`,
			`type(ip("192.168.0.1")) == net.IP`, `cidr("192.168.0.0/24").containsIP(ip("192.168.0.1"))`,
			`cidr("192.168.0.0/24").containsCIDR("192.168.0.0/25")`, `cidr("2001:db8::/32").containsCIDR(cidr("2001:db8::/33"))`,
			`type(cidr("2001:db8::/32").ip()) == net.IP`, `cidr('192.168.0.0/24') == cidr('192.168.0.0/24').masked()`,
			`cidr('192.168.0.0/16').prefixLength() == 16`, `cidr('::1/128').ip().family() == 6`,
		},
	}, {
		name:   "authorizer is not supported for CRD validation rules",
		props:  `{}`,
		obj:    `{}`,
		errors: map[string]string{"authorizer.path('/healthz').check('get').allowed()": "undeclared reference to 'authorizer'"},
	}, {
		name:  "cost: isSorted",
		props: `{}`, obj: `{}`,
		valid: []string{"[1,2,3,4].isSorted()"}, cost: 4,
	}, {
		name:  "cost: url",
		props: `{}`, obj: `{}`,
		valid: []string{"url('https:://kubernetes.io/').getHostname() != 'test'"}, cost: 4,
	}, {
		name:  "cost: split",
		props: `{}`, obj: `{}`,
		valid: []string{"size('abc 123 def 123'.split(' ')) > 0"}, cost: 5,
	}, {
		name:  "cost: join",
		props: `{}`, obj: `{}`,
		valid: []string{"size(['aa', 'bb', 'cc', 'd', 'e', 'f', 'g', 'h', 'i', 'j'].join(' ')) > 0"}, cost: 7,
	}, {
		name:  "format",
		props: `{}`,
		obj:   `{}`,
		valid: []string{
			`format.dns1123Label().validate("my-label-name") == optional.none()`,
			`format.dns1123Subdomain().validate("apiextensions.k8s.io") == optional.none()`,
			`format.qualifiedName().validate("apiextensions.k8s.io/v1beta1") == optional.none()`,
			`format.dns1123LabelPrefix().validate("my-label-prefix-") == optional.none()`,
			`format.dns1123SubdomainPrefix().validate("mysubdomain.prefix.-") == optional.none()`,
			`format.dns1035LabelPrefix().validate("my-label-prefix-") == optional.none()`,
			`format.uri().validate("http://example.com") == optional.none()`,
			`format.uuid().validate("123e4567-e89b-12d3-a456-426614174000") == optional.none()`,
			`format.byte().validate("aGVsbG8=") == optional.none()`,
			`format.date().validate("2021-01-01") == optional.none()`,
			`format.datetime().validate("2021-01-01T00:00:00Z") == optional.none()`,
			`format.named("dns1123Label").value().validate("my-name") == optional.none()`,
			`format.dns1123Label().validate("contains a space").value()[0] == "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or \'-\', and must start and end with an alphanumeric character (e.g. \'my-name\',  or \'123-abc\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?\')"`,
			`!format.named("unknown").hasValue()`,
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obj map[string]any
			if err := utiljson.Unmarshal([]byte(tt.obj), &obj); err != nil {
				t.Fatal(err)
			}
			check := func(rule string) string {
				r, _ := json.Marshal(rule)
				s := structural(t, `{"type":"object","properties":`+tt.props+`,"x-kubernetes-validations":[{"rule":`+string(r)+`}]}`)
				v, errs := compile(s, nil, PerCallLimit, false)
				if len(errs) > 0 {
					return errs.ToAggregate().Error()
				}
				if errs := v.Validate(context.Background(), nil, obj, nil); len(errs) > 0 {
					return errs.ToAggregate().Error()
				}
				return ""
			}
			for _, rule := range tt.valid {
				if got := check(rule); got != "" {
					t.Errorf("%s: %s", rule, got)
				}
				if tt.cost == 0 {
					continue
				}
				r, _ := json.Marshal(rule)
				v, _ := compile(structural(t, `{"type":"object","x-kubernetes-validations":[{"rule":`+string(r)+`}]}`), nil, PerCallLimit, false)
				_, remaining := v.ValidateWithBudget(context.Background(), nil, obj, nil, RuntimeCostBudget)
				if cost := RuntimeCostBudget - remaining; cost != tt.cost {
					t.Errorf("%s: cost %d, want %d", rule, cost, tt.cost)
				}
			}
			for rule, want := range tt.errors {
				if got := check(rule); !strings.Contains(got, want) {
					t.Errorf("%s: got %q, want it to contain %q", rule, got, want)
				}
			}
		})
	}
}
