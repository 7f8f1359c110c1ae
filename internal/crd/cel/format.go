package cel

import (
	"fmt"
	"net/url"
	"reflect"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"

	"skiff.dev/skiff/internal/crd/schema"
)

// Kubernetes' format library: format.<name>() and format.named(name)
// (optional) give a named format, f.validate(s) is optional.none() when s
// is valid and the list of problems otherwise. Names and messages are
// upstream's.

var formatType = cel.ObjectType("kubernetes.NamedFormat")

type namedFormat struct {
	name     string
	validate func(string) []string
	// maxRegexSize is how long a regexp doing the same would be; it
	// prices validate().
	maxRegexSize int
}

type formatVal struct{ f *namedFormat }

func (v formatVal) ConvertToNative(t reflect.Type) (any, error) {
	return nil, fmt.Errorf("type conversion error from 'Format' to '%v'", t)
}

func (v formatVal) ConvertToType(t ref.Type) ref.Val {
	switch t {
	case formatType:
		return v
	case types.TypeType:
		return formatType
	}
	return types.NewErr("type conversion error from '%s' to '%s'", formatType, t)
}

func (v formatVal) Equal(other ref.Val) ref.Val {
	o, ok := other.(formatVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Bool(v.f.name == o.f.name)
}

func (v formatVal) Type() ref.Type { return formatType }
func (v formatVal) Value() any     { return v.f }

const (
	maxNameFormatRegexSize = 128
	base64RegexLength      = 84
	urlRegexLength         = 1103
	// The lengths of strfmt's UUID and date-time patterns, which upstream
	// charges for; strfmt itself is not linked (its init compiles dozens
	// of regular expressions).
	uuidRegexLength     = 70
	dateTimeRegexLength = 71
)

func strfmtCheck(format, msg string) func(string) []string {
	return func(s string) []string {
		if valid, _ := schema.CheckFormat(format, s); !valid {
			return []string{msg}
		}
		return nil
	}
}

var namedFormats = map[string]*namedFormat{
	"dns1123Label":           {"DNS1123Label", func(s string) []string { return metavalidation.NameIsDNSLabel(s, false) }, 30},
	"dns1123Subdomain":       {"DNS1123Subdomain", func(s string) []string { return metavalidation.NameIsDNSSubdomain(s, false) }, 60},
	"dns1035Label":           {"DNS1035Label", func(s string) []string { return metavalidation.NameIsDNS1035Label(s, false) }, 30},
	"qualifiedName":          {"QualifiedName", validation.IsQualifiedName, 60},
	"dns1123LabelPrefix":     {"DNS1123LabelPrefix", func(s string) []string { return metavalidation.NameIsDNSLabel(s, true) }, 30},
	"dns1123SubdomainPrefix": {"DNS1123SubdomainPrefix", func(s string) []string { return metavalidation.NameIsDNSSubdomain(s, true) }, 60},
	"dns1035LabelPrefix":     {"DNS1035LabelPrefix", func(s string) []string { return metavalidation.NameIsDNS1035Label(s, true) }, 30},
	"labelValue":             {"LabelValue", validation.IsValidLabelValue, 40},
	"uri": {"URI", func(s string) []string {
		if _, err := url.ParseRequestURI(s); err != nil {
			return []string{err.Error()}
		}
		return nil
	}, urlRegexLength},
	"uuid":     {"uuid", strfmtCheck("uuid", "does not match the UUID format"), uuidRegexLength},
	"byte":     {"byte", strfmtCheck("byte", "invalid base64"), base64RegexLength},
	"date":     {"date", strfmtCheck("date", "invalid date"), dateTimeRegexLength},
	"datetime": {"datetime", strfmtCheck("datetime", "invalid datetime"), dateTimeRegexLength},
}

func k8sFormat() cel.EnvOption {
	opts := []cel.EnvOption{
		cel.Function("validate", cel.MemberOverload("format-validate", []*cel.Type{formatType, cel.StringType},
			cel.OptionalType(cel.ListType(cel.StringType)), cel.BinaryBinding(formatValidate))),
		cel.Function("format.named", cel.Overload("format-named", []*cel.Type{cel.StringType}, cel.OptionalType(formatType),
			cel.UnaryBinding(func(name ref.Val) ref.Val {
				s, ok := name.Value().(string)
				if !ok {
					return types.MaybeNoSuchOverloadErr(name)
				}
				f, ok := namedFormats[s]
				if !ok {
					return types.OptionalNone
				}
				return types.OptionalOf(formatVal{f})
			}))),
	}
	for name, f := range namedFormats {
		v := formatVal{f}
		fn := "format." + name
		opts = append(opts, cel.Function(fn, cel.Overload(fn, []*cel.Type{}, formatType,
			cel.FunctionBinding(func(...ref.Val) ref.Val { return v }))))
	}
	return cel.Lib(&libOpts{opts: opts})
}

func formatValidate(f, s ref.Val) ref.Val {
	fv, ok := f.(formatVal)
	if !ok {
		return types.MaybeNoSuchOverloadErr(f)
	}
	str, ok := s.Value().(string)
	if !ok {
		return types.MaybeNoSuchOverloadErr(s)
	}
	if problems := fv.f.validate(str); len(problems) > 0 {
		return types.OptionalOf(types.NewStringList(types.DefaultTypeAdapter, problems))
	}
	return types.OptionalNone
}
