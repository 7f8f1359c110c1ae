package cel

import (
	"encoding/base64"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"k8s.io/kube-openapi/pkg/validation/strfmt"

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
		if s.AdditionalProperties != nil && s.AdditionalProperties.Props != nil && len(s.Properties) == 0 {
			out := make(map[ref.Val]ref.Val, len(m))
			for k, v := range m {
				out[types.String(k)] = toVal(v, s.AdditionalProperties, s.AdditionalProperties.XEmbeddedResource)
			}
			return types.NewRefValMap(types.DefaultTypeAdapter, out)
		}
		resource := isResourceRoot || s.XEmbeddedResource
		out := make(map[ref.Val]ref.Val, len(m))
		for k, v := range m {
			prop, known := s.Properties[k]
			if resource {
				// As declared by withTypeAndObjectMeta.
				switch k {
				case "apiVersion", "kind":
					prop, known = stringNode, true
				case "metadata":
					prop, known = metaNode, true
				}
			}
			esc, ok := escape(k)
			if !ok {
				continue
			}
			if known {
				out[types.String(esc)] = toVal(v, prop, prop.XEmbeddedResource)
			} else {
				// Preserved unknown fields: not addressable from rules
				// (the type checker refuses them), but kept for equality.
				out[types.String(esc)] = toVal(v, nil, false)
			}
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, out)
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
			d, err := strfmt.ParseDuration(str)
			if err != nil {
				return types.NewErr("Invalid duration %s: %v", str, err)
			}
			return types.Duration{Duration: d}
		case "date":
			d, err := time.Parse(strfmt.RFC3339FullDate, str)
			if err != nil {
				return types.NewErr("Invalid date formatted string %s: %v", str, err)
			}
			return types.Timestamp{Time: d}
		case "date-time":
			d, err := strfmt.ParseDateTime(str)
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
