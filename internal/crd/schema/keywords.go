package schema

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
)

// This file checks the OpenAPI keywords of a custom resource value with the
// semantics, messages and quirks of kube-openapi's validate package, which
// kube-apiserver uses: linking that package (and the strfmt registry it
// needs) costs the binary about 7 MiB of memory at rest. Errors are built
// with kube-openapi's errors package, so their text is upstream's.
//
// Upstream runs, for each schema node, a fixed chain of checks and keeps
// count of the checks that passed ("match count"): when no alternative of
// an anyOf or oneOf matches, it reports the errors of the alternative with
// the highest count. The count is reproduced here step by step for that
// choice to be the same.

const (
	typeArray   = "array"
	typeBoolean = "boolean"
	typeInteger = "integer"
	typeNull    = "null"
	typeNumber  = "number"
	typeObject  = "object"
	typeString  = "string"

	// in is where upstream says a value is: a CR is a request body.
	in = "body"
)

// keywords is a schema node compiled for value validation.
type keywords struct {
	// types is the node's type, ["integer", "string"] for
	// x-kubernetes-int-or-string.
	types    []string
	nullable bool
	// format is the format if kube-apiserver validates it for this type,
	// else "". check is its checker for strings, if any.
	format string
	check  func(string) bool
	// numType and numFormat are what bounds of a single integer or number
	// type are range-checked against.
	numType, numFormat string

	maximum, minimum, multipleOf   *float64
	exclusiveMaximum, exclusiveMin bool

	maxLength, minLength *int64
	pattern              string
	re                   *regexp.Regexp
	reErr                error

	maxItems, minItems *int64
	uniqueItems        bool
	items              *keywords

	maxProperties, minProperties *int64
	required                     []string
	properties                   map[string]*keywords
	propertyNames                []string // sorted
	patternProperties            []patternProperty
	// forbidUnknown is additionalProperties: false.
	forbidUnknown        bool
	additionalProperties *keywords
	dependencies         map[string]dependency

	enum []any

	allOf, anyOf, oneOf []*keywords
	not                 *keywords
}

type patternProperty struct {
	pattern string
	re      *regexp.Regexp // nil when the pattern does not compile: it matches nothing
	schema  *keywords
}

type dependency struct {
	schema     *keywords
	properties []string
}

// compileKeywords converts p; nil stays nil (no check at all).
func compileKeywords(p *apiextensionsv1.JSONSchemaProps) *keywords {
	if p == nil {
		return nil
	}
	k := &keywords{
		nullable:         p.Nullable,
		maximum:          p.Maximum,
		minimum:          p.Minimum,
		multipleOf:       p.MultipleOf,
		exclusiveMaximum: p.ExclusiveMaximum,
		exclusiveMin:     p.ExclusiveMinimum,
		maxLength:        p.MaxLength,
		minLength:        p.MinLength,
		pattern:          p.Pattern,
		maxItems:         p.MaxItems,
		minItems:         p.MinItems,
		uniqueItems:      p.UniqueItems,
		maxProperties:    p.MaxProperties,
		minProperties:    p.MinProperties,
		required:         p.Required,
	}
	switch {
	case p.XIntOrString:
		// As apiextensions-apiserver converts it for kube-openapi.
		k.types = []string{typeInteger, typeString}
	case p.Type != "":
		k.types = []string{p.Type}
	}
	single := ""
	if len(k.types) == 1 {
		single = k.types[0]
	}
	if p.Format != "" && supportedFormat(single, p.Format) {
		k.format = p.Format
		k.check = formatChecker(p.Format)
	}
	switch single {
	case typeInteger:
		k.numType = typeInteger
		if k.format == "int32" || k.format == "int64" {
			k.numFormat = k.format
		}
	case typeNumber:
		k.numType = typeNumber
		if k.format == "float" || k.format == "double" {
			k.numFormat = k.format
		}
	}
	if p.Pattern != "" {
		k.re, k.reErr = regexp.Compile(p.Pattern)
	}
	if p.Items != nil {
		// Tuple items (an array of schemas) are not structural: New
		// rejects them. additionalItems, which only means something next
		// to tuple items, is ignored; kube-apiserver forbids it in CRDs
		// (and kube-openapi panics on it next to a single items schema).
		k.items = compileKeywords(p.Items.Schema)
	}
	if len(p.Properties) > 0 {
		k.properties = make(map[string]*keywords, len(p.Properties))
		for name := range p.Properties {
			prop := p.Properties[name]
			k.properties[name] = compileKeywords(&prop)
			k.propertyNames = append(k.propertyNames, name)
		}
		slices.Sort(k.propertyNames)
	}
	for pattern := range p.PatternProperties {
		prop := p.PatternProperties[pattern]
		re, _ := regexp.Compile(pattern)
		k.patternProperties = append(k.patternProperties, patternProperty{pattern: pattern, re: re, schema: compileKeywords(&prop)})
	}
	slices.SortFunc(k.patternProperties, func(a, b patternProperty) int { return strings.Compare(a.pattern, b.pattern) })
	if ap := p.AdditionalProperties; ap != nil {
		if ap.Allows {
			k.additionalProperties = compileKeywords(ap.Schema)
		} else {
			k.forbidUnknown = true
		}
	}
	if len(p.Dependencies) > 0 {
		k.dependencies = make(map[string]dependency, len(p.Dependencies))
		for name, d := range p.Dependencies {
			k.dependencies[name] = dependency{schema: compileKeywords(d.Schema), properties: d.Property}
		}
	}
	if p.Enum != nil {
		k.enum = make([]any, len(p.Enum))
		for i, e := range p.Enum {
			k.enum[i] = decodeJSON(e.Raw)
		}
	}
	k.allOf = compileAll(p.AllOf)
	k.anyOf = compileAll(p.AnyOf)
	k.oneOf = compileAll(p.OneOf)
	k.not = compileKeywords(p.Not)
	return k
}

func compileAll(ps []apiextensionsv1.JSONSchemaProps) []*keywords {
	var out []*keywords
	for i := range ps {
		out = append(out, compileKeywords(&ps[i]))
	}
	return out
}

// result is what checking a value found: errors (possibly repeated; see
// dedupErrors) and the match count.
type result struct {
	errs  []error
	count int
}

func (r *result) add(err error)      { r.errs = append(r.errs, err) }
func (r *result) merge(other result) { r.errs = append(r.errs, other.errs...); r.count += other.count }
func (r result) valid() bool         { return len(r.errs) == 0 }

// dedupErrors drops errors whose message was already reported, keeping the
// first: upstream reports each message once (the same keyword reached
// twice, e.g. through allOf, says the same thing).
func dedupErrors(errs []error) []error {
	if len(errs) < 2 {
		return errs
	}
	seen := make(map[string]bool, len(errs))
	out := errs[:0:0]
	for _, err := range errs {
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			out = append(out, err)
		}
	}
	return out
}

// validate checks data at path (upstream's dotted spelling: "spec.a[0].b",
// "" at the root).
//
// For an update, c pairs data with its old value (nil on create, or where
// the old object has no counterpart): validation ratcheting forgives the
// errors of a node whose value did not change, so that objects stored under
// an older, laxer schema stay updatable. As in kube-apiserver, where
// ratcheting wraps the validator of each property and item, forgiven errors
// still count as matches, and the alternatives of anyOf, oneOf, allOf and
// not are judged without ratcheting (the node as a whole is forgiven if it
// did not change).
func (k *keywords) validate(path string, data any, c *correlated) result {
	var r result
	if k == nil {
		return r
	}
	r = k.validateNode(path, data, c)
	if c != nil && !r.valid() && c.deepEqual() {
		r.errs = nil
	}
	return r
}

func (k *keywords) validateNode(path string, data any, c *correlated) result {
	var r result
	if k == nil {
		return r
	}
	data = normalizeNumber(data)
	if data == nil {
		// null only meets the type and enum checks.
		r.merge(k.validateType(path, nil))
		if err := k.validateEnum(path, nil); err != nil {
			r.add(err)
		}
		return r
	}
	if len(k.types) > 0 || k.format != "" {
		r.merge(k.validateType(path, data))
		r.count++
	}
	r.merge(k.validateJunctors(path, data))
	r.count++
	switch v := data.(type) {
	case string:
		if err := k.validateString(path, v); err != nil {
			r.add(err)
		}
		r.count++
		if k.check != nil {
			if !k.check(v) {
				r.add(openapierrors.InvalidType(path, in, k.format, v))
			}
			r.count++
		}
	case int64, float64:
		r.merge(k.validateNumber(path, v))
		r.count++
	case []any:
		r.merge(k.validateArray(path, v, c))
		r.count++
	}
	if err := k.validateEnum(path, data); err != nil {
		r.add(err)
	}
	r.count++
	if m, ok := data.(map[string]any); ok {
		r.merge(k.validateObject(path, m, c))
		r.count++
	}
	r.count++
	return r
}

// normalizeNumber widens Go's other numeric types to the two the API
// server decodes JSON numbers into.
func normalizeNumber(data any) any {
	switch v := data.(type) {
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	}
	return data
}

// jsonType names data's JSON type, and its Go number format as upstream
// spells it.
func jsonType(data any) (typ, format string) {
	switch data.(type) {
	case bool:
		return typeBoolean, ""
	case string:
		return typeString, ""
	case int64:
		return typeInteger, "int64"
	case float64:
		return typeNumber, "float64"
	case []any:
		return typeArray, ""
	case map[string]any:
		return typeObject, ""
	}
	return "", ""
}

func (k *keywords) hasType(t string) bool { return slices.Contains(k.types, t) }

func (k *keywords) validateType(path string, data any) result {
	if data == nil {
		if len(k.types) > 0 && !k.hasType(typeNull) && !k.nullable {
			return result{errs: []error{openapierrors.InvalidType(path, in, strings.Join(k.types, ","), typeNull)}}
		}
		return result{count: 1}
	}
	typ, format := jsonType(data)
	f, isFloat := data.(float64)
	// A whole float is an integer and an integer a number.
	floatInt := isFloat && isJSONInteger(f) && k.hasType(typeInteger)
	intFloat := typ == typeInteger && k.hasType(typeNumber)
	_, isString := data.(string)
	_, isArray := data.([]any)
	if !isString && !isArray && k.format != "" && !(k.hasType(typ) || format == k.format || floatInt || intFloat) {
		return result{errs: []error{openapierrors.InvalidType(path, in, k.format, format)}}
	}
	if !k.hasType(typeNumber) && !k.hasType(typeInteger) && k.format != "" && (isString || isArray) {
		return result{count: 1}
	}
	if !(k.hasType(typ) || floatInt || intFloat) {
		return result{errs: []error{openapierrors.InvalidType(path, in, strings.Join(k.types, ","), typ)}}
	}
	return result{count: 1}
}

// isJSONInteger reports whether f is a whole number JSON can carry
// exactly (within ±2^53), allowing a relative error of 1e-9.
func isJSONInteger(f float64) bool {
	const maxJSON = float64(1<<53 - 1)
	if math.IsNaN(f) || math.IsInf(f, 0) || f < -maxJSON || f > maxJSON {
		return false
	}
	rounded := math.Round(f)
	if f == rounded {
		return true
	}
	if rounded == 0 {
		return false
	}
	return math.Abs(f-rounded) < 1e-9*math.Abs(rounded)
}

// validateJunctors checks anyOf, oneOf, allOf, not and dependencies. When
// no alternative matches, anyOf and oneOf report the errors of the one that
// matched best.
func (k *keywords) validateJunctors(path string, data any) result {
	var r result
	if len(k.anyOf) > 0 {
		var best, firstSuccess *result
		succeeded := false
		for _, s := range k.anyOf {
			sr := s.validate(path, data, nil)
			if sr.valid() {
				best, succeeded, firstSuccess = nil, true, &sr
				break
			}
			if best == nil || sr.count > best.count {
				best = &sr
			}
		}
		if !succeeded {
			r.add(openapierrors.New(openapierrors.CompositeErrorCode, "%q must validate at least one schema (anyOf)", path))
		}
		if best != nil {
			r.merge(*best)
		} else if firstSuccess != nil {
			r.merge(*firstSuccess)
		}
	}
	if len(k.oneOf) > 0 {
		var best, firstSuccess *result
		validated := 0
		for _, s := range k.oneOf {
			sr := s.validate(path, data, nil)
			if sr.valid() {
				validated++
				best = nil
				if firstSuccess == nil {
					firstSuccess = &sr
				}
				continue
			}
			if validated == 0 && (best == nil || sr.count > best.count) {
				best = &sr
			}
		}
		if validated != 1 {
			detail := "Found none valid"
			if validated > 1 {
				detail = fmt.Sprintf("Found %d valid alternatives", validated)
			}
			r.add(openapierrors.New(openapierrors.CompositeErrorCode, "%q must validate one and only one schema (oneOf). %s", path, detail))
			if best != nil {
				r.merge(*best)
			}
		} else {
			r.merge(*firstSuccess)
		}
	}
	if len(k.allOf) > 0 {
		validated := 0
		for _, s := range k.allOf {
			sr := s.validate(path, data, nil)
			if sr.valid() {
				validated++
			}
			r.merge(sr)
		}
		if validated != len(k.allOf) {
			detail := ""
			if validated == 0 {
				detail = ". None validated"
			}
			r.add(openapierrors.New(openapierrors.CompositeErrorCode, "%q must validate all the schemas (allOf)%s", path, detail))
		}
	}
	if k.not != nil && k.not.validate(path, data, nil).valid() {
		r.add(openapierrors.New(openapierrors.CompositeErrorCode, "%q must not validate the schema (not)", path))
	}
	if m, ok := data.(map[string]any); ok && len(k.dependencies) > 0 {
		for _, key := range sortedKeys(m) {
			dep, ok := k.dependencies[key]
			if !ok {
				continue
			}
			if dep.schema != nil {
				r.merge(dep.schema.validate(path+"."+key, data, nil))
				continue
			}
			for _, needed := range dep.properties {
				if _, ok := m[needed]; !ok {
					r.add(openapierrors.New(openapierrors.CompositeErrorCode, "%q has a dependency on %s", path, needed))
				}
			}
		}
	}
	r.count++
	return r
}

// validateString checks maxLength, minLength and pattern, reporting only
// the first that fails.
func (k *keywords) validateString(path, s string) error {
	if k.maxLength != nil && runeCount(s) > *k.maxLength {
		return openapierrors.TooLong(path, in, *k.maxLength, s)
	}
	if k.minLength != nil && runeCount(s) < *k.minLength {
		return openapierrors.TooShort(path, in, *k.minLength, s)
	}
	if k.pattern != "" {
		if k.reErr != nil {
			return openapierrors.FailedPattern(path, in, fmt.Sprintf("%s, but pattern is invalid: %s", k.pattern, k.reErr.Error()), s)
		}
		if !k.re.MatchString(s) {
			return openapierrors.FailedPattern(path, in, k.pattern, s)
		}
	}
	return nil
}

// validateNumber checks that the value fits the declared integer or float
// format, then multipleOf, minimum and maximum. A bound that itself fits
// the type is compared in the value's own type (so an integer is compared
// with the bound truncated to an integer), else as floats.
func (k *keywords) validateNumber(path string, v any) result {
	r := result{count: 1}
	if err := k.rangeError(v, "Checked", path); err != nil {
		r.add(err)
	}
	f := asFloat(v)
	i, isInt := v.(int64)
	if k.multipleOf != nil {
		factor := *k.multipleOf
		if err := k.rangeError(factor, "MultipleOf", path); err != nil {
			r.add(err)
			r.addIf(multipleOfFloat(path, f, factor))
		} else if isInt {
			r.addIf(multipleOfInt(path, i, int64(factor)))
		} else {
			r.addIf(multipleOfFloat(path, f, factor))
		}
	}
	if k.minimum != nil {
		bound := *k.minimum
		if err := k.rangeError(bound, "Minimum boundary", path); err != nil {
			r.add(err)
			r.addIf(minimumFloat(path, f, bound, k.exclusiveMin))
		} else if isInt {
			if b := int64(bound); (!k.exclusiveMin && i < b) || (k.exclusiveMin && i <= b) {
				r.add(openapierrors.ExceedsMinimumInt(path, in, b, k.exclusiveMin, i))
			}
		} else {
			r.addIf(minimumFloat(path, f, bound, k.exclusiveMin))
		}
	}
	if k.maximum != nil {
		bound := *k.maximum
		if err := k.rangeError(bound, "Maximum boundary", path); err != nil {
			r.add(err)
			r.addIf(maximumFloat(path, f, bound, k.exclusiveMaximum))
		} else if isInt {
			if b := int64(bound); (!k.exclusiveMaximum && i > b) || (k.exclusiveMaximum && i >= b) {
				r.add(openapierrors.ExceedsMaximumInt(path, in, b, k.exclusiveMaximum, i))
			}
		} else {
			r.addIf(maximumFloat(path, f, bound, k.exclusiveMaximum))
		}
	}
	return r
}

func (r *result) addIf(err *openapierrors.Validation) {
	if err != nil {
		r.add(err)
	}
}

func asFloat(v any) float64 {
	if i, ok := v.(int64); ok {
		return float64(i)
	}
	return v.(float64)
}

// rangeError reports a value (or bound) that does not fit the node's
// numeric type and format: an integer must be a whole int64 (int32 with
// that format), a float format must fit a float32.
func (k *keywords) rangeError(v any, prefix, path string) error {
	var s string
	if i, ok := v.(int64); ok {
		s = strconv.FormatInt(i, 10)
	} else {
		s = strconv.FormatFloat(v.(float64), 'f', -1, 64)
	}
	var err error
	switch k.numType {
	case typeInteger:
		bits := 64
		if k.numFormat == "int32" {
			bits = 32
		}
		_, err = strconv.ParseInt(s, 10, bits)
	default:
		if k.numFormat == "float" {
			_, err = strconv.ParseFloat(s, 32)
		}
	}
	if err == nil {
		return nil
	}
	if k.numFormat != "" {
		return fmt.Errorf("%s value must be of type %s with format %s in %s", prefix, k.numType, k.numFormat, path)
	}
	return fmt.Errorf("%s value must be of type %s (default format) in %s", prefix, k.numType, path)
}

func multipleOfInt(path string, v, factor int64) *openapierrors.Validation {
	if factor <= 0 {
		return openapierrors.MultipleOfMustBePositive(path, in, factor)
	}
	if v/factor*factor != v {
		return openapierrors.NotMultipleOf(path, in, factor, v)
	}
	return nil
}

func multipleOfFloat(path string, v, factor float64) *openapierrors.Validation {
	if factor <= 0 {
		return openapierrors.MultipleOfMustBePositive(path, in, factor)
	}
	var quotient float64
	if factor < 1 {
		quotient = 1 / factor * v
	} else {
		quotient = v / factor
	}
	if !isJSONInteger(quotient) {
		return openapierrors.NotMultipleOf(path, in, factor, v)
	}
	return nil
}

func minimumFloat(path string, v, bound float64, exclusive bool) *openapierrors.Validation {
	if (!exclusive && v < bound) || (exclusive && v <= bound) {
		return openapierrors.ExceedsMinimum(path, in, bound, exclusive, v)
	}
	return nil
}

func maximumFloat(path string, v, bound float64, exclusive bool) *openapierrors.Validation {
	if (!exclusive && v > bound) || (exclusive && v >= bound) {
		return openapierrors.ExceedsMaximum(path, in, bound, exclusive, v)
	}
	return nil
}

// validateArray checks the items, then minItems, maxItems and uniqueItems.
func (k *keywords) validateArray(path string, list []any, c *correlated) result {
	var r result
	if k.items != nil {
		for i, item := range list {
			r.merge(k.items.validate(path+"["+strconv.Itoa(i)+"]", item, c.index(i)))
		}
	}
	size := int64(len(list))
	if k.minItems != nil && size < *k.minItems {
		r.add(openapierrors.TooFewItems(path, in, *k.minItems, size))
	}
	if k.maxItems != nil && size > *k.maxItems {
		r.add(openapierrors.TooManyItems(path, in, *k.maxItems, size))
	}
	if k.uniqueItems && hasDuplicates(list) {
		r.add(openapierrors.DuplicateItems(path, in))
	}
	r.count++
	return r
}

func hasDuplicates(list []any) bool {
	for i := range list {
		for j := range i {
			if reflect.DeepEqual(list[i], list[j]) {
				return true
			}
		}
	}
	return false
}

// validateEnum accepts data equal to an enum value after a Go conversion
// to that value's type, as upstream does (so 2.5 matches 2, and the
// integer 65 matches "A"); null never matches.
func (k *keywords) validateEnum(path string, data any) error {
	if len(k.enum) == 0 {
		return nil
	}
	if data != nil {
		dv := reflect.ValueOf(data)
		for _, e := range k.enum {
			et := reflect.TypeOf(e)
			if et != nil && dv.Type().ConvertibleTo(et) && reflect.DeepEqual(dv.Convert(et).Interface(), e) {
				return nil
			}
		}
	}
	return openapierrors.EnumFail(path, in, data, k.enum)
}

// validateObject checks minProperties, maxProperties, unknown fields, the
// properties, required fields and patternProperties.
func (k *keywords) validateObject(path string, m map[string]any, c *correlated) result {
	var r result
	size := int64(len(m))
	if k.minProperties != nil && size < *k.minProperties {
		r.add(openapierrors.TooFewProperties(path, in, *k.minProperties, size))
	}
	if k.maxProperties != nil && size > *k.maxProperties {
		r.add(openapierrors.TooManyProperties(path, in, *k.maxProperties, size))
	}
	var keys []string
	if k.forbidUnknown || k.additionalProperties != nil || len(k.patternProperties) > 0 {
		keys = sortedKeys(m)
	}
	if k.forbidUnknown {
		for _, key := range keys {
			if _, known := k.properties[key]; !known && !k.matchesPattern(key) {
				r.add(openapierrors.PropertyNotAllowed(path, in, key))
			}
		}
	} else {
		for _, key := range keys {
			_, known := k.properties[key]
			matched := k.validatePatternProperties(&r, path, key, m[key], c)
			if !known && !matched && k.additionalProperties != nil {
				r.merge(k.additionalProperties.validate(path+"."+key, m[key], fieldCorrelated(c, path, key)))
			}
		}
	}
	for _, name := range k.propertyNames {
		if v, ok := m[name]; ok {
			child := name
			if path != "" {
				child = path + "." + name
			}
			r.merge(k.properties[name].validate(child, v, fieldCorrelated(c, path, name)))
		}
	}
	for _, name := range k.required {
		if _, ok := m[name]; !ok {
			r.add(openapierrors.Required(path+"."+name, in))
		}
	}
	// Upstream checks patternProperties once more, and a third time for
	// keys that are not properties; the errors are the same, the match
	// count grows.
	for _, key := range keys {
		_, known := k.properties[key]
		if k.validatePatternProperties(&r, path, key, m[key], c) && !known {
			k.validatePatternProperties(&r, path, key, m[key], c)
		}
	}
	return r
}

func (k *keywords) matchesPattern(key string) bool {
	for _, pp := range k.patternProperties {
		if pp.re != nil && pp.re.MatchString(key) {
			return true
		}
	}
	return false
}

// validatePatternProperties checks value against every patternProperties
// schema whose pattern matches key, into r, and reports whether any did.
func (k *keywords) validatePatternProperties(r *result, path, key string, value any, c *correlated) bool {
	matched := false
	for _, pp := range k.patternProperties {
		if pp.re != nil && pp.re.MatchString(key) {
			matched = true
			r.merge(pp.schema.validate(path+"."+key, value, fieldCorrelated(c, path, key)))
		}
	}
	return matched
}

// fieldCorrelated is c's child for the field name of the object at path.
// The resource's apiVersion and kind never ratchet: old and new are both
// converted to the version being served.
func fieldCorrelated(c *correlated, path, name string) *correlated {
	if path == "" && (name == "apiVersion" || name == "kind") {
		return nil
	}
	return c.key(name)
}
