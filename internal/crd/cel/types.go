package cel

import (
	"fmt"
	"regexp"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"skiff.dev/skiff/internal/crd/schema"
)

// Size limits kube-apiserver assumes when a schema gives no bound; they
// decide the estimated cost of rules that iterate.
const (
	maxRequestSizeBytes = int64(3 * 1024 * 1024)
	minStringSize       = 2  // ""
	minBoolSize         = 4  // true
	minNumberSize       = 1  // 0
	minDurationSizeJSON = 3  // "0s"
	jsonDateSize        = 12 // "2006-01-02"
	minDatetimeSizeJSON = 21
	maxDurationSizeJSON = 32
	maxDatetimeSizeJSON = 32
)

// declType is the CEL type of one schema node, with what cost estimation
// needs to know about its size.
type declType struct {
	cel *types.Type
	// fields of an object type, by escaped name.
	fields map[string]*declType
	// elem is the item type of a list, or the value type of a map.
	elem *declType
	// key is the key type of a map (always string).
	key *declType
	// maxElements bounds size(): string length, list items, map entries.
	maxElements       int64
	minSerializedSize int64
}

var typeSeq atomic.Uint64

// schemaDeclType is upstream's SchemaDeclType: the CEL type of values of
// s, or nil when s has no CEL representation (then no rule may sit there).
// Objects get a unique object type name so two CRDs never share a
// declaration. Resource roots (the CR, embedded resources) also declare
// apiVersion, kind and metadata.name/generateName.
func schemaDeclType(s *schema.Structural, isResourceRoot bool, name string, reg map[string]*declType) *declType {
	if s == nil {
		return nil
	}
	if s.XIntOrString {
		d := &declType{cel: cel.DynType, minSerializedSize: 1}
		if ml := maxLength(s); ml != nil {
			d.maxElements = zeroIfNegative(*ml) * 4
		} else {
			d.maxElements = maxRequestSizeBytes - 2
		}
		return d
	}
	switch s.Type {
	case "array":
		if s.Items == nil {
			return nil
		}
		item := schemaDeclType(s.Items, s.Items.XEmbeddedResource, name+".@items", reg)
		if item == nil {
			return nil
		}
		d := &declType{cel: types.NewListType(item.cel), elem: item, minSerializedSize: 2}
		if s.Props != nil && s.Props.MaxItems != nil {
			d.maxElements = zeroIfNegative(*s.Props.MaxItems)
		} else {
			d.maxElements = (maxRequestSizeBytes - 2) / (item.minSerializedSize + 1)
		}
		return d
	case "object":
		if s.AdditionalProperties != nil && s.AdditionalProperties.Props != nil {
			ap := s.AdditionalProperties
			val := schemaDeclType(ap, ap.XEmbeddedResource, name+".@values", reg)
			if val == nil {
				return nil
			}
			str := &declType{cel: types.StringType, minSerializedSize: minStringSize, maxElements: maxRequestSizeBytes - 2}
			d := &declType{cel: types.NewMapType(types.StringType, val.cel), key: str, elem: val, minSerializedSize: 2}
			if s.Props.MaxProperties != nil {
				d.maxElements = zeroIfNegative(*s.Props.MaxProperties)
			} else {
				d.maxElements = (maxRequestSizeBytes - 2) / (val.minSerializedSize + 6)
			}
			return d
		}
		props := s.Properties
		if isResourceRoot || s.XEmbeddedResource {
			props = withTypeAndObjectMeta(props)
		}
		d := &declType{fields: make(map[string]*declType, len(props)), minSerializedSize: 2}
		var required map[string]bool
		if s.Props != nil {
			required = make(map[string]bool, len(s.Props.Required))
			for _, r := range s.Props.Required {
				required[r] = true
			}
		}
		for k, p := range props {
			ft := schemaDeclType(p, p.XEmbeddedResource, name+"."+k, reg)
			if ft == nil {
				continue
			}
			if esc, ok := escape(k); ok {
				d.fields[esc] = ft
			}
			if required[k] && p.Default == nil {
				d.minSerializedSize += int64(len(k)) + ft.minSerializedSize + 4
			}
		}
		d.cel = types.NewObjectType(name)
		reg[name] = d
		return d
	case "string":
		d := &declType{cel: types.StringType, minSerializedSize: minStringSize}
		format := ""
		if s.Props != nil {
			format = s.Props.Format
		}
		switch format {
		case "byte":
			d.cel = types.BytesType
			if ml := maxLength(s); ml != nil {
				d.maxElements = zeroIfNegative(*ml)
			} else {
				d.maxElements = maxRequestSizeBytes - 2
			}
			return d
		case "duration":
			return &declType{cel: types.DurationType, minSerializedSize: minDurationSizeJSON, maxElements: maxDurationSizeJSON}
		case "date":
			return &declType{cel: types.TimestampType, minSerializedSize: jsonDateSize, maxElements: jsonDateSize}
		case "date-time":
			return &declType{cel: types.TimestampType, minSerializedSize: minDatetimeSizeJSON, maxElements: maxDatetimeSizeJSON}
		}
		switch ml := maxLength(s); {
		case ml != nil:
			// maxLength counts runes; a rune is up to 4 bytes.
			d.maxElements = zeroIfNegative(*ml) * 4
		case s.Props != nil && len(s.Props.Enum) > 0:
			for _, e := range s.Props.Enum {
				// Raw is the quoted JSON string; its length bounds the value's.
				if n := int64(len(e.Raw)) - 2; n > d.maxElements {
					d.maxElements = n
				}
			}
		default:
			d.maxElements = maxRequestSizeBytes - 2
		}
		return d
	case "boolean":
		return &declType{cel: types.BoolType, minSerializedSize: minBoolSize}
	case "number":
		return &declType{cel: types.DoubleType, minSerializedSize: minNumberSize}
	case "integer":
		return &declType{cel: types.IntType, minSerializedSize: minNumberSize}
	}
	return nil
}

func maxLength(s *schema.Structural) *int64 {
	if s.Props == nil {
		return nil
	}
	return s.Props.MaxLength
}

func zeroIfNegative(v int64) int64 {
	return max(v, 0)
}

var (
	stringNode = &schema.Structural{Type: "string"}
	metaNode   = &schema.Structural{Type: "object", Properties: map[string]*schema.Structural{
		"name":         stringNode,
		"generateName": stringNode,
	}}
)

// withTypeAndObjectMeta adds apiVersion, kind and metadata (name and
// generateName only) to a resource's properties, as rules may read them.
func withTypeAndObjectMeta(props map[string]*schema.Structural) map[string]*schema.Structural {
	out := make(map[string]*schema.Structural, len(props)+3)
	for k, v := range props {
		out[k] = v
	}
	out["apiVersion"] = stringNode
	out["kind"] = stringNode
	out["metadata"] = metaNode
	return out
}

// celReserved are CEL's reserved words; properties so named are reachable
// as __name__.
var celReserved = map[string]bool{
	"true": true, "false": true, "null": true, "in": true,
	"as": true, "break": true, "const": true, "continue": true, "else": true,
	"for": true, "function": true, "if": true, "import": true, "let": true,
	"loop": true, "package": true, "namespace": true, "return": true,
	"var": true, "void": true, "while": true,
}

var escapeMatcher = regexp.MustCompile(`(__|[-./]|[^a-zA-Z0-9-./_])`)

// escape maps a property name to the CEL identifier rules use for it
// ("foo-bar" is self.foo__dash__bar), as upstream does. Names that cannot
// be escaped are not accessible from rules.
func escape(ident string) (string, bool) {
	if ident == "" || ('0' <= ident[0] && ident[0] <= '9') {
		return "", false
	}
	if celReserved[ident] {
		return "__" + ident + "__", true
	}
	if plainIdent(ident) {
		// The common case, checked without the regexp: values are
		// converted key by key on every evaluation.
		return ident, true
	}
	ok := true
	out := escapeMatcher.ReplaceAllStringFunc(ident, func(s string) string {
		switch s {
		case "__":
			return "__underscores__"
		case ".":
			return "__dot__"
		case "-":
			return "__dash__"
		case "/":
			return "__slash__"
		default:
			ok = false
			return ""
		}
	})
	if !ok {
		return "", false
	}
	return out, true
}

// plainIdent reports whether ident needs no escaping: letters, digits and
// single underscores only.
func plainIdent(ident string) bool {
	for i := 0; i < len(ident); i++ {
		c := ident[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '_':
			if i > 0 && ident[i-1] == '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// provider answers the type checker's questions about the object types of
// one schema and defers everything else to the base environment's provider.
type provider struct {
	base    types.Provider
	objects map[string]*declType
}

var _ types.Provider = (*provider)(nil)

func (p *provider) EnumValue(name string) ref.Val { return p.base.EnumValue(name) }

func (p *provider) FindIdent(name string) (ref.Val, bool) { return p.base.FindIdent(name) }

func (p *provider) FindStructType(name string) (*types.Type, bool) {
	if d, ok := p.objects[name]; ok {
		return types.NewTypeTypeWithParam(d.cel), true
	}
	return p.base.FindStructType(name)
}

func (p *provider) FindStructFieldNames(name string) ([]string, bool) {
	if d, ok := p.objects[name]; ok {
		names := make([]string, 0, len(d.fields))
		for k := range d.fields {
			names = append(names, k)
		}
		return names, true
	}
	return p.base.FindStructFieldNames(name)
}

func (p *provider) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if d, ok := p.objects[name]; ok {
		f, ok := d.fields[field]
		if !ok {
			return nil, false
		}
		return &types.FieldType{Type: f.cel}, true
	}
	return p.base.FindStructFieldType(name, field)
}

func (p *provider) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := p.objects[name]; ok {
		// Object literals of schema types are not supported: rules read
		// objects, they do not build them.
		return types.NewErr("cannot construct object of type %s", name)
	}
	return p.base.NewValue(name, fields)
}

// uniqueTypeName names a schema's root object type; later nodes append
// their property path, so names are unique within and across CRDs.
func uniqueTypeName() string {
	return fmt.Sprintf("selfType%d", typeSeq.Add(1))
}

// path walks a size-estimation path (field names, @items, @keys, @values)
// from d.
func (d *declType) path(elems []string) *declType {
	cur := d
	for _, e := range elems {
		if cur == nil {
			return nil
		}
		switch e {
		case "@items", "@values":
			cur = cur.elem
		case "@keys":
			cur = cur.key
		default:
			cur = cur.fields[e]
		}
	}
	return cur
}
