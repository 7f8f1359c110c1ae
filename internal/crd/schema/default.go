package schema

// Default sets, in place, every property of obj that s gives a default and
// that is missing (or null without nullable: true) to a deep copy of that
// default, then descends into properties, array items and
// additionalProperties values, so defaults inside defaults apply too. A
// null property without nullable: true and without a default is removed,
// as upstream prunes it before defaulting.
func Default(obj map[string]any, s *Structural) {
	defaultValue(obj, s)
}

func defaultValue(x any, s *Structural) {
	if s == nil {
		return
	}
	switch x := x.(type) {
	case map[string]any:
		for k, prop := range s.Properties {
			if prop.Default == nil {
				continue
			}
			if v, ok := x[k]; !ok || (v == nil && !prop.Nullable) {
				x[k] = deepCopyJSON(prop.Default)
			}
		}
		for k, v := range x {
			if prop, ok := s.Properties[k]; ok {
				if v == nil && !prop.Nullable {
					// A null the schema does not allow and has no default
					// for is dropped, as upstream prunes such nulls.
					delete(x, k)
					continue
				}
				defaultValue(v, prop)
				continue
			}
			if ap := s.AdditionalProperties; ap != nil {
				if v == nil && !ap.Nullable {
					if ap.Default == nil {
						delete(x, k)
						continue
					}
					v = deepCopyJSON(ap.Default)
					x[k] = v
				}
				defaultValue(v, ap)
			}
		}
	case []any:
		items := s.Items
		if items == nil {
			return
		}
		for i, v := range x {
			if v == nil && !items.Nullable && items.Default != nil {
				v = deepCopyJSON(items.Default)
				x[i] = v
			}
			defaultValue(v, items)
		}
	}
}

// deepCopyJSON copies JSON-shaped data so that objects never share a
// default's maps or slices with the schema or with each other.
func deepCopyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(v))
		for k, e := range v {
			c[k] = deepCopyJSON(e)
		}
		return c
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = deepCopyJSON(e)
		}
		return c
	default:
		return v
	}
}
