package cel

import (
	"encoding/base64"
	"reflect"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"

	"skiff.dev/skiff/internal/crd/schema"
)

// toVal converts JSON-shaped data into the CEL value its schema declares:
// numbers become doubles even when written as whole numbers, formatted
// strings become durations, timestamps and bytes, object properties are
// keyed by their escaped names. Data that does not fit the schema becomes
// an error value, which fails only the rules that read it, as upstream's
// lazy conversion does.
func toVal(x any, s *schema.Structural, isResourceRoot bool) ref.Val {
	if x == nil {
		if s == nil || s.Nullable {
			return types.NullValue
		}
		return types.NewErr("invalid data, got null for schema with nullable=false")
	}
	if s == nil {
		return types.DefaultTypeAdapter.NativeToValue(x)
	}
	if s.XIntOrString {
		switch v := x.(type) {
		case string:
			return types.String(v)
		case int64:
			return types.Int(v)
		}
		return types.NewErr("invalid data, expected XIntOrString value to be either a string or integer")
	}
	switch s.Type {
	case "object":
		m, ok := x.(map[string]any)
		if !ok {
			return types.NewErr("invalid data, expected a map for the provided schema with type=object")
		}
		return &objectVal{m: m, s: s, resource: isResourceRoot || s.XEmbeddedResource}
	case "array":
		l, ok := x.([]any)
		if !ok {
			return types.NewErr("invalid data, expected an array for the provided schema with type=array")
		}
		out := make([]ref.Val, len(l))
		for i, v := range l {
			out[i] = toVal(v, s.Items, s.Items != nil && s.Items.XEmbeddedResource)
		}
		list := types.NewRefValList(types.DefaultTypeAdapter, out)
		if s.Props != nil && s.Props.XListType != nil {
			switch *s.Props.XListType {
			case "set":
				return setList{list}
			case "map":
				keys := make([]string, len(s.Props.XListMapKeys))
				for i, k := range s.Props.XListMapKeys {
					if esc, ok := escape(k); ok {
						keys[i] = esc
					} else {
						keys[i] = k
					}
				}
				return mapList{Lister: list, keys: keys}
			}
		}
		return list
	case "string":
		str, ok := x.(string)
		if !ok {
			return types.NewErr("invalid data, expected string, got %T", x)
		}
		format := ""
		if s.Props != nil {
			format = s.Props.Format
		}
		switch format {
		case "duration":
			d, err := schema.ParseDuration(str)
			if err != nil {
				return types.NewErr("Invalid duration %s: %v", str, err)
			}
			return types.Duration{Duration: d}
		case "date":
			d, err := time.Parse(schema.DateLayout, str)
			if err != nil {
				return types.NewErr("Invalid date formatted string %s: %v", str, err)
			}
			return types.Timestamp{Time: d}
		case "date-time":
			d, err := schema.ParseDateTime(str)
			if err != nil {
				return types.NewErr("Invalid date-time formatted string %s: %v", str, err)
			}
			return types.Timestamp{Time: time.Time(d)}
		case "byte":
			b, err := base64.StdEncoding.DecodeString(str)
			if err != nil {
				return types.NewErr("Invalid byte formatted string %s: %v", str, err)
			}
			return types.Bytes(b)
		}
		return types.String(str)
	case "number":
		switch v := x.(type) {
		case int64:
			return types.Double(v)
		case float64:
			return types.Double(v)
		}
		return types.NewErr("invalid data, expected float, got %T", x)
	case "integer":
		if v, ok := x.(int64); ok {
			return types.Int(v)
		}
		return types.NewErr("invalid data, expected int, got %T", x)
	case "boolean":
		if b, ok := x.(bool); ok {
			return types.Bool(b)
		}
		return types.NewErr("invalid data, expected bool, got %T", x)
	}
	if s.XPreserveUnknownFields {
		return types.DefaultTypeAdapter.NativeToValue(x)
	}
	return types.NewErr("invalid type, expected object, array, number, integer, boolean or string, or no type with x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields is true, got %s", s.Type)
}

// objectVal is an object or map converted on access: a rule usually reads
// a few fields, and converting whole subtrees for every rule on every
// level would cost more than the rules. Operations on the whole map
// (equality, iteration, size) convert it once.
type objectVal struct {
	m        map[string]any
	s        *schema.Structural
	resource bool
	whole    traits.Mapper
}

var _ traits.Mapper = (*objectVal)(nil)

// isMap: additionalProperties without properties; keys are data, not
// escaped property names.
func (o *objectVal) isMap() bool {
	return o.s.AdditionalProperties != nil && o.s.AdditionalProperties.Props != nil && len(o.s.Properties) == 0
}

// child is the schema of key k, as withTypeAndObjectMeta declares it for
// resources; nil with known false for a preserved unknown field.
func (o *objectVal) child(k string) (s *schema.Structural, known bool) {
	if o.isMap() {
		return o.s.AdditionalProperties, true
	}
	if o.resource {
		switch k {
		case "apiVersion", "kind":
			return stringNode, true
		case "metadata":
			return metaNode, true
		}
	}
	p, ok := o.s.Properties[k]
	return p, ok
}

func (o *objectVal) convert(k string, v any) ref.Val {
	s, known := o.child(k)
	if !known {
		// Preserved unknown fields: not addressable from rules (the type
		// checker refuses them), but kept for equality.
		return toVal(v, nil, false)
	}
	return toVal(v, s, s.XEmbeddedResource)
}

// Find looks a key up; for objects the key is the escaped property name.
func (o *objectVal) Find(key ref.Val) (ref.Val, bool) {
	k, ok := key.(types.String)
	if !ok {
		return nil, false
	}
	name := string(k)
	if o.isMap() {
		v, ok := o.m[name]
		if !ok {
			return nil, false
		}
		return o.convert(name, v), true
	}
	// A property set to null is absent to rules, as upstream treats it
	// (map values and list items keep their nulls).
	if v, ok := o.m[name]; ok && v != nil {
		if esc, ok := escape(name); ok && esc == name {
			return o.convert(name, v), true
		}
	}
	if strings.Contains(name, "__") {
		// An escaped name (foo__dash__bar, __namespace__): find the key
		// that escapes to it.
		for orig, v := range o.m {
			if esc, ok := escape(orig); ok && esc == name && orig != name && v != nil {
				return o.convert(orig, v), true
			}
		}
	}
	return nil, false
}

func (o *objectVal) all() traits.Mapper {
	if o.whole != nil {
		return o.whole
	}
	out := make(map[ref.Val]ref.Val, len(o.m))
	for k, v := range o.m {
		key := k
		if !o.isMap() {
			esc, ok := escape(k)
			if !ok || v == nil {
				continue
			}
			key = esc
		}
		out[types.String(key)] = o.convert(k, v)
	}
	o.whole = types.NewRefValMap(types.DefaultTypeAdapter, out)
	return o.whole
}

func (o *objectVal) Get(key ref.Val) ref.Val {
	if v, ok := o.Find(key); ok {
		return v
	}
	return types.NewErr("no such key: %v", key)
}

func (o *objectVal) Contains(key ref.Val) ref.Val {
	_, ok := o.Find(key)
	return types.Bool(ok)
}

func (o *objectVal) ConvertToNative(t reflect.Type) (any, error) { return o.all().ConvertToNative(t) }
func (o *objectVal) ConvertToType(t ref.Type) ref.Val            { return o.all().ConvertToType(t) }
func (o *objectVal) Equal(other ref.Val) ref.Val                 { return o.all().Equal(other) }
func (o *objectVal) Type() ref.Type                              { return types.MapType }
func (o *objectVal) Value() any                                  { return o.all().Value() }
func (o *objectVal) Iterator() traits.Iterator                   { return o.all().Iterator() }
func (o *objectVal) Size() ref.Val                               { return o.all().Size() }
