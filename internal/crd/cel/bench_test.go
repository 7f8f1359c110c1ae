package cel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

const benchSchema = `
type: object
x-kubernetes-validations: [{rule: "self.metadata.name.size() <= 63"}]
properties:
  spec:
    type: object
    x-kubernetes-validations:
    - {rule: "self.replicas <= self.maxReplicas", message: "replicas above max"}
    - {rule: "self.replicas >= oldSelf.replicas", message: "cannot shrink"}
    properties:
      replicas: {type: integer}
      maxReplicas: {type: integer}
      image: {type: string, maxLength: 256, x-kubernetes-validations: [{rule: "self.contains(':')"}]}
      ports:
        type: array
        maxItems: 100
        x-kubernetes-list-type: map
        x-kubernetes-list-map-keys: [name]
        items:
          type: object
          required: [name]
          properties: {name: {type: string, maxLength: 15}, port: {type: integer}}
          x-kubernetes-validations: [{rule: "self.port > 0 && self.port < 65536"}]
`

func benchObject(replicas int) map[string]any {
	var ports []string
	for i := 0; i < 20; i++ {
		ports = append(ports, fmt.Sprintf(`{"name":"p%d","port":%d}`, i, 8000+i))
	}
	return object(nil, fmt.Sprintf(`{"apiVersion":"x.io/v1","kind":"W","metadata":{"name":"w"},"spec":{"replicas":%d,"maxReplicas":10,"image":"nginx:1","ports":[%s]}}`, replicas, strings.Join(ports, ","))).(map[string]any)
}

// BenchmarkValidate measures an update of an object with 25 rule
// evaluations (20 list items).
func BenchmarkValidate(b *testing.B) {
	v := compileOK(b, benchSchema)
	obj, old := benchObject(3), benchObject(2)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if errs := v.Validate(ctx, nil, obj, old); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	s := structural(b, benchSchema)
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := Compile(s, field.NewPath("openAPIV3Schema")); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
