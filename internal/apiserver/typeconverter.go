package apiserver

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/schemaconv"
	"k8s.io/kube-openapi/pkg/validation/spec"
	smdschema "sigs.k8s.io/structured-merge-diff/v6/schema"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// typeConverter is managed fields' type converter over OpenAPI schemas,
// as managedfields.NewTypeConverter builds it, except that an object
// converted with typed.AllowDuplicates is not walked against its schema.
//
// The field manager asks for AllowDuplicates only for objects it compares
// (the live and the new object of an update, the live object of an apply),
// never for a patch it is given to merge: those objects were decoded into
// their Go types or pruned to their CRD's schema and then passed the
// resource's validation, so the walk can find nothing, yet it was a fifth
// of every status update's and every create's cost. Applied patches are
// still validated, with the messages server-side apply users see.
type typeConverter struct {
	types map[schema.GroupVersionKind]*typed.ParseableType
	// unknown answers for kinds with no schema, with the error the field
	// manager recognises as "no such type" (it then drops that version's
	// entries instead of failing).
	unknown managedfields.TypeConverter
}

// newTypeConverter builds the type converter of the kinds in models, the
// OpenAPI definitions of one kind or more and the types they refer to.
func newTypeConverter(models map[string]*spec.Schema) (managedfields.TypeConverter, error) {
	s, err := schemaconv.ToSchemaFromOpenAPI(models, false)
	if err != nil {
		return nil, fmt.Errorf("converting OpenAPI models to a schema: %w", err)
	}
	unknown, err := managedfields.NewTypeConverter(map[string]*spec.Schema{}, false)
	if err != nil {
		return nil, err
	}
	parser := &typed.Parser{Schema: smdschema.Schema{Types: s.Types}}
	tc := &typeConverter{types: map[schema.GroupVersionKind]*typed.ParseableType{}, unknown: unknown}
	for name, model := range models {
		for _, gvk := range modelKinds(model) {
			t := parser.Type(name)
			tc.types[gvk] = &t
		}
	}
	return tc, nil
}

// modelKinds reads a definition's x-kubernetes-group-version-kind.
func modelKinds(model *spec.Schema) []schema.GroupVersionKind {
	list, _ := model.Extensions["x-kubernetes-group-version-kind"].([]any)
	var out []schema.GroupVersionKind
	for _, item := range list {
		var get func(string) string
		switch m := item.(type) {
		case map[string]any:
			get = func(k string) string { s, _ := m[k].(string); return s }
		case map[any]any:
			get = func(k string) string { s, _ := m[k].(string); return s }
		default:
			continue
		}
		if gvk := (schema.GroupVersionKind{Group: get("group"), Version: get("version"), Kind: get("kind")}); gvk.Kind != "" {
			out = append(out, gvk)
		}
	}
	return out
}

func (c *typeConverter) ObjectToTyped(obj runtime.Object, opts ...typed.ValidationOptions) (*typed.TypedValue, error) {
	t := c.types[obj.GetObjectKind().GroupVersionKind()]
	if t == nil {
		return c.unknown.ObjectToTyped(obj, opts...)
	}
	var v value.Value
	switch o := obj.(type) {
	case *unstructured.Unstructured:
		if !slices.Contains(opts, typed.AllowDuplicates) {
			return t.FromUnstructured(o.UnstructuredContent(), opts...)
		}
		v = value.NewValueInterface(o.UnstructuredContent())
	default:
		if !slices.Contains(opts, typed.AllowDuplicates) {
			return t.FromStructured(obj, opts...)
		}
		var err error
		if v, err = value.NewValueReflect(obj); err != nil {
			return nil, fmt.Errorf("error creating struct value reflector: %w", err)
		}
	}
	return typed.AsTypedUnvalidated(v, t.Schema, t.TypeRef), nil
}

func (c *typeConverter) TypedToObject(tv *typed.TypedValue) (runtime.Object, error) {
	m, ok := tv.AsValue().Unstructured().(map[string]any)
	if !ok {
		return nil, fmt.Errorf("failed to convert value to unstructured for type %T", tv.AsValue().Unstructured())
	}
	return &unstructured.Unstructured{Object: m}, nil
}
