package schema

import (
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// supportedStringFormats are the string formats kube-apiserver validates in
// CRD schemas, in go-openapi's normalized spelling (no dashes). Any other
// format is ignored, as upstream strips it before validating, so a CRD
// using a format we do not know still accepts what kube-apiserver accepts.
var supportedStringFormats = map[string]bool{
	"bsonobjectid": true, "uri": true, "email": true, "hostname": true,
	"ipv4": true, "ipv6": true, "cidr": true, "mac": true,
	"uuid": true, "uuid3": true, "uuid4": true, "uuid5": true,
	"isbn": true, "isbn10": true, "isbn13": true, "creditcard": true,
	"ssn": true, "hexcolor": true, "rgbcolor": true, "byte": true,
	"password": true, "date": true, "duration": true, "datetime": true,
	// Since Kubernetes 1.34.
	"k8sshortname": true, "k8slongname": true,
}

// supportedFormat reports whether kube-apiserver validates format on a
// node of type typ.
func supportedFormat(typ, format string) bool {
	switch typ {
	case "", "string":
		return supportedStringFormats[strings.ReplaceAll(format, "-", "")]
	case "integer":
		return format == "int32" || format == "int64"
	case "number":
		return format == "float" || format == "double"
	default:
		return false
	}
}

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

// decodeJSON decodes an enum value as the API server decodes objects
// (whole numbers as int64), so that enum comparison sees the same types.
func decodeJSON(raw []byte) any {
	var v any
	if err := utiljson.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}
