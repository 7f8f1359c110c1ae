package schema

import "testing"

// BenchmarkValidate validates a typical custom resource (a dozen fields, a
// 20-item map list) against the fuzz schema.
func BenchmarkValidate(b *testing.B) {
	s, err := New(props(b, fuzzValidateSchema))
	if err != nil {
		b.Fatal(err)
	}
	obj := object(b, `{"apiVersion":"x.io/v1","kind":"W","metadata":{"name":"w"},"spec":{"size":"small","replicas":3,"ratio":1.5,"name":"web","when":"2020-01-01T00:00:00Z","id":"6ba7b810-9dad-11d1-80b4-00c04fd430c8","port":"http","tags":["a","b"],"labels":{"a":"1"},"choice":{"a":"x"},"ports":[
{"name":"p0"},{"name":"p1"},{"name":"p2"},{"name":"p3"},{"name":"p4"},{"name":"p5"},{"name":"p6"},{"name":"p7"},{"name":"p8"},{"name":"p9"},
{"name":"q0"},{"name":"q1"},{"name":"q2"},{"name":"q3"},{"name":"q4"},{"name":"q5"},{"name":"q6"},{"name":"q7"},{"name":"q8"},{"name":"q9"}]}}`)
	b.ReportAllocs()
	for b.Loop() {
		if errs := Validate(s, obj, nil); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
