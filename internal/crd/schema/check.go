package schema

import (
	"fmt"
	"sort"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// level is where a schema sits; the "type must not be empty" message names it.
type level int

const (
	rootLevel level = iota
	fieldLevel
	itemLevel
)

// Check reports why p is not a structural schema, with paths under path.
// The rules are upstream's ("Specifying a structural schema"):
//   - every node of the structural part has a type, except under
//     x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields
//     (and the root must be an object without additionalProperties);
//   - arrays specify items, as a single schema;
//   - allOf/anyOf/oneOf/not only restrict values: type, default, nullable,
//     title, description, additionalProperties and the x-kubernetes
//     extensions (x-kubernetes-validations included) are forbidden there, and any property or items they name
//     must also be specified in the structural part;
//   - metadata at the root may only restrict name and generateName;
//   - x-kubernetes-int-or-string excludes the other two extensions, and an
//     embedded resource is an object with properties or preserved fields.
func Check(p *apiextensionsv1.JSONSchemaProps, path *field.Path) field.ErrorList {
	if p == nil {
		return field.ErrorList{field.Required(path, "must not be empty")}
	}
	return checkStructural(p, rootLevel, path)
}

func checkStructural(p *apiextensionsv1.JSONSchemaProps, lvl level, path *field.Path) field.ErrorList {
	var errs field.ErrorList

	if p.Items != nil && len(p.Items.JSONSchemas) > 0 {
		errs = append(errs, field.Forbidden(path.Child("items"), "items must be a schema object and not an array"))
	}
	if p.Type == "array" && (p.Items == nil || p.Items.Schema == nil) && (p.Items == nil || len(p.Items.JSONSchemas) == 0) {
		errs = append(errs, field.Required(path.Child("items"), "must be specified"))
	}
	if p.Items != nil && p.Items.Schema != nil {
		errs = append(errs, checkStructural(p.Items.Schema, itemLevel, path.Child("items"))...)
	}
	for _, k := range sortedKeys(p.Properties) {
		prop := p.Properties[k]
		errs = append(errs, checkStructural(&prop, fieldLevel, path.Child("properties").Key(k))...)
	}
	if ap := p.AdditionalProperties; ap != nil {
		if lvl == rootLevel {
			errs = append(errs, field.Forbidden(path.Child("additionalProperties"), "must not be used at the root"))
		}
		if len(p.Properties) > 0 {
			errs = append(errs, field.Forbidden(path.Child("additionalProperties"), "additionalProperties and properties are mutual exclusive"))
		}
		if ap.Schema != nil {
			errs = append(errs, checkStructural(ap.Schema, fieldLevel, path.Child("additionalProperties"))...)
		}
	}

	preserve := p.XPreserveUnknownFields != nil && *p.XPreserveUnknownFields
	if p.XIntOrString && preserve {
		errs = append(errs, field.Invalid(path.Child("x-kubernetes-preserve-unknown-fields"), true, "must be false if x-kubernetes-int-or-string is true"))
	}
	if p.XIntOrString && p.XEmbeddedResource {
		errs = append(errs, field.Invalid(path.Child("x-kubernetes-embedded-resource"), true, "must be false if x-kubernetes-int-or-string is true"))
	}

	// The two spellings of int-or-string may keep their types in anyOf.
	skipAnyOf := isIntOrStringAnyOf(p)
	skipFirstAllOfAnyOf := isIntOrStringAllOf(p)
	errs = append(errs, checkValueValidation(p, skipAnyOf, skipFirstAllOfAnyOf, lvl, path)...)
	errs = append(errs, checkCompleteness(p, path)...)

	switch {
	case p.XEmbeddedResource && p.Type == "":
		errs = append(errs, field.Required(path.Child("type"), "must be object if x-kubernetes-embedded-resource is true"))
	case p.XEmbeddedResource && p.Type != "object":
		errs = append(errs, field.Invalid(path.Child("type"), p.Type, "must be object if x-kubernetes-embedded-resource is true"))
	case p.Type == "" && !p.XIntOrString && !preserve:
		switch lvl {
		case rootLevel:
			errs = append(errs, field.Required(path.Child("type"), "must not be empty at the root"))
		case itemLevel:
			errs = append(errs, field.Required(path.Child("type"), "must not be empty for specified array items"))
		default:
			errs = append(errs, field.Required(path.Child("type"), "must not be empty for specified object fields"))
		}
	}
	if p.XEmbeddedResource && p.AdditionalProperties != nil {
		errs = append(errs, field.Forbidden(path.Child("additionalProperties"), "must not be used if x-kubernetes-embedded-resource is set"))
	}
	if lvl == rootLevel && p.Type != "" && p.Type != "object" {
		errs = append(errs, field.Invalid(path.Child("type"), p.Type, "must be object at the root"))
	}

	if lvl == rootLevel || p.XEmbeddedResource {
		errs = append(errs, checkTypeMeta(p, lvl, path)...)
	}
	if p.XEmbeddedResource && !preserve && len(p.Properties) == 0 {
		errs = append(errs, field.Required(path.Child("properties"), "must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields"))
	}
	return errs
}

// checkTypeMeta restricts apiVersion, kind and metadata of a resource (the
// root or an embedded one): they are the API's, not the schema's.
func checkTypeMeta(p *apiextensionsv1.JSONSchemaProps, lvl level, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	props := path.Child("properties")
	if kind, ok := p.Properties["kind"]; ok && kind.Type != "string" {
		errs = append(errs, field.Invalid(props.Key("kind").Child("type"), kind.Type, "must be string"))
	}
	if av, ok := p.Properties["apiVersion"]; ok && av.Type != "string" {
		errs = append(errs, field.Invalid(props.Key("apiVersion").Child("type"), av.Type, "must be string"))
	}
	meta, ok := p.Properties["metadata"]
	if !ok {
		return errs
	}
	if meta.Type != "object" {
		errs = append(errs, field.Invalid(props.Key("metadata").Child("type"), meta.Type, "must be object"))
	}
	if lvl != rootLevel {
		return errs
	}
	// At the root only name and generateName may be restricted; anything
	// else would contradict ObjectMeta, which the server owns.
	m := meta
	extra := false
	for k := range m.Properties {
		if k != "name" && k != "generateName" {
			extra = true
		}
	}
	m.Properties, m.Type, m.Default = nil, "", nil
	if extra || !isEmptyProps(&m) {
		errs = append(errs, field.Forbidden(props.Key("metadata"), "must not specify anything other than name and generateName, but metadata is implicitly specified"))
	}
	return errs
}

// isEmptyProps reports whether p sets nothing but descriptive text.
func isEmptyProps(p *apiextensionsv1.JSONSchemaProps) bool {
	q := *p
	q.Description, q.Title = "", ""
	return q.Type == "" && q.Format == "" && q.Items == nil && len(q.Properties) == 0 &&
		q.AdditionalProperties == nil && q.XPreserveUnknownFields == nil && !q.XEmbeddedResource &&
		!q.XIntOrString && len(q.Required) == 0 && len(q.Enum) == 0 && q.Pattern == "" &&
		q.MinProperties == nil && q.MaxProperties == nil && len(q.AllOf) == 0 &&
		len(q.AnyOf) == 0 && len(q.OneOf) == 0 && q.Not == nil && !q.Nullable &&
		len(q.XValidations) == 0 && q.XMapType == nil
}

// checkValueValidation walks allOf/anyOf/oneOf/not of a node.
func checkValueValidation(p *apiextensionsv1.JSONSchemaProps, skipAnyOf, skipFirstAllOfAnyOf bool, lvl level, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if !skipAnyOf {
		for i := range p.AnyOf {
			errs = append(errs, checkNested(&p.AnyOf[i], false, lvl, path.Child("anyOf").Index(i))...)
		}
	}
	for i := range p.AllOf {
		errs = append(errs, checkNested(&p.AllOf[i], skipFirstAllOfAnyOf && i == 0, lvl, path.Child("allOf").Index(i))...)
	}
	for i := range p.OneOf {
		errs = append(errs, checkNested(&p.OneOf[i], false, lvl, path.Child("oneOf").Index(i))...)
	}
	if p.Not != nil {
		errs = append(errs, checkNested(p.Not, false, lvl, path.Child("not"))...)
	}
	return errs
}

// checkNested checks a schema inside a logical junctor: it may only
// restrict values, never specify structure.
func checkNested(p *apiextensionsv1.JSONSchemaProps, skipAnyOf bool, lvl level, path *field.Path) field.ErrorList {
	errs := checkValueValidation(p, skipAnyOf, false, lvl, path)
	if p.Items != nil && p.Items.Schema != nil {
		errs = append(errs, checkNested(p.Items.Schema, false, lvl, path.Child("items"))...)
	}
	for _, k := range sortedKeys(p.Properties) {
		prop := p.Properties[k]
		errs = append(errs, checkNested(&prop, false, fieldLevel, path.Child("properties").Key(k))...)
	}
	if p.Type != "" {
		errs = append(errs, field.Forbidden(path.Child("type"), "must be empty to be structural"))
	}
	if p.AdditionalProperties != nil {
		errs = append(errs, field.Forbidden(path.Child("additionalProperties"), "must be undefined to be structural"))
	}
	if p.Default != nil {
		errs = append(errs, field.Forbidden(path.Child("default"), "must be undefined to be structural"))
	}
	if p.Title != "" {
		errs = append(errs, field.Forbidden(path.Child("title"), "must be empty to be structural"))
	}
	if p.Description != "" {
		errs = append(errs, field.Forbidden(path.Child("description"), "must be empty to be structural"))
	}
	if p.Nullable {
		errs = append(errs, field.Forbidden(path.Child("nullable"), "must be false to be structural"))
	}
	if p.XPreserveUnknownFields != nil && *p.XPreserveUnknownFields {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-preserve-unknown-fields"), "must be false to be structural"))
	}
	if p.XEmbeddedResource {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-embedded-resource"), "must be false to be structural"))
	}
	if p.XIntOrString {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-int-or-string"), "must be false to be structural"))
	}
	if len(p.XListMapKeys) > 0 {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-list-map-keys"), "must be empty to be structural"))
	}
	if p.XListType != nil {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-list-type"), "must be undefined to be structural"))
	}
	if p.XMapType != nil {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-map-type"), "must be undefined to be structural"))
	}
	// CEL rules type self from the structural part; a rule inside a
	// junctor would have no such type.
	if len(p.XValidations) > 0 {
		errs = append(errs, field.Forbidden(path.Child("x-kubernetes-validations"), "must be empty to be structural"))
	}
	if _, ok := p.Properties["metadata"]; ok {
		errs = append(errs, field.Forbidden(path.Child("properties").Key("metadata"), "must not be specified in a nested context"))
	}
	return errs
}

// checkCompleteness requires that every property or items named inside a
// junctor of s is also specified in s's structural part, so that pruning
// never drops a field a value validation talks about.
func checkCompleteness(s *apiextensionsv1.JSONSchemaProps, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	walk := func(v *apiextensionsv1.JSONSchemaProps, vPath *field.Path) {
		errs = append(errs, checkNestedCompleteness(v, s, path, vPath)...)
	}
	for i := range s.AllOf {
		walk(&s.AllOf[i], path.Child("allOf").Index(i))
	}
	for i := range s.AnyOf {
		walk(&s.AnyOf[i], path.Child("anyOf").Index(i))
	}
	for i := range s.OneOf {
		walk(&s.OneOf[i], path.Child("oneOf").Index(i))
	}
	if s.Not != nil {
		walk(s.Not, path.Child("not"))
	}
	return errs
}

func checkNestedCompleteness(v, s *apiextensionsv1.JSONSchemaProps, sPath, vPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if v.Items != nil && v.Items.Schema != nil {
		if s == nil || s.Items == nil || s.Items.Schema == nil {
			errs = append(errs, field.Required(sPath.Child("items"), fmt.Sprintf("because it is defined in %s", vPath.Child("items"))))
		} else {
			errs = append(errs, checkNestedCompleteness(v.Items.Schema, s.Items.Schema, sPath.Child("items"), vPath.Child("items"))...)
		}
	}
	for _, k := range sortedKeys(v.Properties) {
		vp := v.Properties[k]
		if s != nil {
			if sp, ok := s.Properties[k]; ok {
				errs = append(errs, checkNestedCompleteness(&vp, &sp, sPath.Child("properties").Key(k), vPath.Child("properties").Key(k))...)
				continue
			}
			if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
				errs = append(errs, checkNestedCompleteness(&vp, s.AdditionalProperties.Schema, sPath.Child("additionalProperties"), vPath.Child("properties").Key(k))...)
				continue
			}
		}
		errs = append(errs, field.Required(sPath.Child("properties").Key(k), fmt.Sprintf("because it is defined in %s", vPath.Child("properties").Key(k))))
	}
	// Junctors inside junctors constrain the same node.
	for i := range v.AllOf {
		errs = append(errs, checkNestedCompleteness(&v.AllOf[i], s, sPath, vPath.Child("allOf").Index(i))...)
	}
	for i := range v.AnyOf {
		errs = append(errs, checkNestedCompleteness(&v.AnyOf[i], s, sPath, vPath.Child("anyOf").Index(i))...)
	}
	for i := range v.OneOf {
		errs = append(errs, checkNestedCompleteness(&v.OneOf[i], s, sPath, vPath.Child("oneOf").Index(i))...)
	}
	if v.Not != nil {
		errs = append(errs, checkNestedCompleteness(v.Not, s, sPath, vPath.Child("not"))...)
	}
	return errs
}

// isIntOrStringAnyOf matches anyOf: [{type: integer}, {type: string}].
func isIntOrStringAnyOf(p *apiextensionsv1.JSONSchemaProps) bool {
	if !p.XIntOrString || len(p.AnyOf) != 2 {
		return false
	}
	return isOnlyType(&p.AnyOf[0], "integer") && isOnlyType(&p.AnyOf[1], "string")
}

// isIntOrStringAllOf matches allOf: [{anyOf: [{type: integer}, {type: string}]}, ...].
func isIntOrStringAllOf(p *apiextensionsv1.JSONSchemaProps) bool {
	if !p.XIntOrString || len(p.AllOf) == 0 {
		return false
	}
	first := p.AllOf[0]
	if len(first.AnyOf) != 2 {
		return false
	}
	rest := first
	rest.AnyOf = nil
	return isEmptyProps(&rest) && isOnlyType(&first.AnyOf[0], "integer") && isOnlyType(&first.AnyOf[1], "string")
}

func isOnlyType(p *apiextensionsv1.JSONSchemaProps, t string) bool {
	q := *p
	q.Type = ""
	return p.Type == t && isEmptyProps(&q) && q.Default == nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
