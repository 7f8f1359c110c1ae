package schema

import (
	"encoding/json"
	"strings"

	"k8s.io/apimachinery/pkg/api/validate/content"
	metavalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	openapierrors "k8s.io/kube-openapi/pkg/validation/errors"
)

// Validate checks obj against s's value validations the way kube-apiserver
// checks a custom resource: first the OpenAPI keywords (type, required,
// enum, pattern, format, bounds, lengths, uniqueItems, allOf/anyOf/oneOf/not,
// nullable, int-or-string), then the apiVersion, kind and metadata of every
// x-kubernetes-embedded-resource object, then the uniqueness of
// x-kubernetes-list-type set and map lists. Paths start at fldPath (nil for
// the resource root). The root object's own metadata is not checked beyond
// what the schema says about metadata.name and metadata.generateName: it is
// ObjectMeta's, which the generic store validates.
//
// obj is JSON-shaped (map[string]any, []any, string, int64, float64, bool,
// nil); it is only read.
func Validate(s *Structural, obj any, fldPath *field.Path) field.ErrorList {
	return validateValue(s, obj, nil, fldPath, true, false)
}

// ValidateUpdate is Validate for an update from old, with kube-apiserver's
// validation ratcheting: an OpenAPI error in a part of the object that did
// not change (the same property or map key, the list-map item with the
// same keys, compared as upstream compares them) is forgiven, and list-type
// set/map duplicates are only reported when old had none. Objects stored
// under an older, laxer schema thus stay updatable (finalizers can be
// removed) as long as their invalid parts are left alone.
func ValidateUpdate(s *Structural, obj, old any, fldPath *field.Path) field.ErrorList {
	checkLists := true
	if m, ok := old.(map[string]any); ok {
		checkLists = len(validateListSetsAndMaps(fldPath, s, m)) == 0
	}
	return validateValue(s, obj, old, fldPath, checkLists, old != nil)
}

func validateValue(s *Structural, obj, old any, fldPath *field.Path, checkLists, ratchet bool) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	var c *correlated
	if ratchet {
		c = newCorrelated(obj, old, s)
	}
	if res := s.compiledKeywords().validate("", obj, c); !res.valid() {
		errs = append(errs, openAPIResultToFieldErrors(fldPath, dedupErrors(res.errs))...)
	}
	errs = append(errs, validateEmbedded(fldPath, obj, s)...)
	if m, ok := obj.(map[string]any); ok && checkLists {
		errs = append(errs, validateListSetsAndMaps(fldPath, s, m)...)
	}
	return errs
}

// compiledKeywords converts the node's props once (nil, which allows
// anything, for a node New did not build: additionalProperties: true); the
// result is only read afterwards, so concurrent requests share it.
func (s *Structural) compiledKeywords() *keywords {
	s.keywordsOnce.Do(func() { s.keywords = compileKeywords(s.Props) })
	return s.keywords
}

// openAPIResultToFieldErrors maps kube-openapi's errors onto field errors as
// apiextensions-apiserver does, so messages match kube-apiserver's word for
// word ("spec.replicas in body must be of type integer: \"string\"").
func openAPIResultToFieldErrors(fldPath *field.Path, result []error) field.ErrorList {
	var errs field.ErrorList
	for _, err := range result {
		verr, ok := err.(*openapierrors.Validation)
		if !ok {
			errs = append(errs, field.Invalid(fldPath, "", err.Error()))
			continue
		}
		path := fldPath
		if verr.Name != "" && verr.Name != "." {
			path = path.Child(strings.TrimPrefix(verr.Name, "."))
		}
		value := verr.Value
		if value == nil {
			value = ""
		}
		switch verr.Code() {
		case openapierrors.RequiredFailCode:
			errs = append(errs, field.Required(path, ""))
		case openapierrors.EnumFailCode:
			values := make([]string, 0, len(verr.Values))
			for _, v := range verr.Values {
				if s, ok := v.(string); ok {
					values = append(values, s)
				} else {
					b, _ := json.Marshal(v)
					values = append(values, string(b))
				}
			}
			errs = append(errs, field.NotSupported(path, verr.Value, values))
		case openapierrors.TooLongFailCode:
			errs = append(errs, field.TooLong(path, "", int(int64OrMinusOne(verr.Valid))))
		case openapierrors.MaxItemsFailCode, openapierrors.TooManyPropertiesCode:
			errs = append(errs, field.TooMany(path, int(int64OrMinusOne(verr.Value)), int(int64OrMinusOne(verr.Valid))))
		case openapierrors.InvalidTypeCode:
			errs = append(errs, field.TypeInvalid(path, value, verr.Error()))
		default:
			errs = append(errs, field.Invalid(path, value, verr.Error()))
		}
	}
	return errs
}

func int64OrMinusOne(v any) int64 {
	if i, ok := v.(int64); ok {
		return i
	}
	return -1
}

// validateEmbedded checks apiVersion, kind and metadata of every
// x-kubernetes-embedded-resource object below x: an embedded resource is a
// resource of its own and must be a well-formed one.
func validateEmbedded(path *field.Path, x any, s *Structural) field.ErrorList {
	if s == nil {
		return nil
	}
	var errs field.ErrorList
	switch x := x.(type) {
	case map[string]any:
		if s.XEmbeddedResource {
			errs = append(errs, validateEmbeddedResource(path, x)...)
		}
		for _, k := range sortedKeys(x) {
			if prop, ok := s.Properties[k]; ok {
				errs = append(errs, validateEmbedded(path.Child(k), x[k], prop)...)
			} else if s.AdditionalProperties != nil {
				errs = append(errs, validateEmbedded(path.Key(k), x[k], s.AdditionalProperties)...)
			}
		}
	case []any:
		for i, v := range x {
			errs = append(errs, validateEmbedded(path.Index(i), v, s.Items)...)
		}
	}
	return errs
}

func validateEmbeddedResource(path *field.Path, x map[string]any) field.ErrorList {
	var errs field.ErrorList
	// apiVersion and kind are required, metadata is not.
	if _, ok := x["apiVersion"]; !ok {
		errs = append(errs, field.Required(path.Child("apiVersion"), ""))
	}
	if _, ok := x["kind"]; !ok {
		errs = append(errs, field.Required(path.Child("kind"), ""))
	}
	if v, ok := x["apiVersion"]; ok {
		av, isString := v.(string)
		switch {
		case !isString:
			errs = append(errs, field.Invalid(path.Child("apiVersion"), v, "must be a string"))
		case av == "":
			errs = append(errs, field.Invalid(path.Child("apiVersion"), av, "must not be empty"))
		default:
			if _, err := schema.ParseGroupVersion(av); err != nil {
				errs = append(errs, field.Invalid(path.Child("apiVersion"), av, err.Error()))
			}
		}
	}
	if v, ok := x["kind"]; ok {
		kind, isString := v.(string)
		switch {
		case !isString:
			errs = append(errs, field.Invalid(path.Child("kind"), v, "must be a string"))
		case kind == "":
			errs = append(errs, field.Invalid(path.Child("kind"), kind, "must not be empty"))
		default:
			if msgs := utilvalidation.IsDNS1035Label(strings.ToLower(kind)); len(msgs) > 0 {
				errs = append(errs, field.Invalid(path.Child("kind"), kind, "may have mixed case, but should otherwise match: "+strings.Join(msgs, ",")))
			}
		}
	}
	if v, ok := x["metadata"]; ok {
		meta, err := objectMeta(v)
		if err != nil {
			errs = append(errs, field.Invalid(path.Child("metadata"), v, err.Error()))
		} else {
			if meta.Name == "" {
				// An embedded resource may be nameless (a template);
				// ValidateObjectMeta insists on one.
				meta.Name = "fakename"
			}
			errs = append(errs, metavalidation.ValidateObjectMeta(meta, meta.Namespace != "", pathSegmentName, path.Child("metadata"))...)
		}
	}
	return errs
}

func pathSegmentName(name string, prefix bool) []string {
	if prefix {
		return content.IsPathSegmentPrefix(name)
	}
	return content.IsPathSegmentName(name)
}

// objectMeta decodes embedded metadata through JSON, as upstream does, so
// that a wrongly typed field is an error rather than silently dropped.
func objectMeta(v any) (*metav1.ObjectMeta, error) {
	b, err := utiljson.Marshal(v)
	if err != nil {
		return nil, err
	}
	meta := &metav1.ObjectMeta{}
	if err := utiljson.Unmarshal(b, meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// validateListSetsAndMaps reports duplicates in x-kubernetes-list-type set
// lists (whole items) and map lists (the list-map-keys of items).
func validateListSetsAndMaps(path *field.Path, s *Structural, obj map[string]any) field.ErrorList {
	if s == nil || obj == nil {
		return nil
	}
	var errs field.ErrorList
	for _, k := range sortedKeys(obj) {
		if prop, ok := s.Properties[k]; ok {
			errs = append(errs, validateListSetsAndMapsValue(path.Child(k), prop, obj[k])...)
		} else if s.AdditionalProperties != nil {
			errs = append(errs, validateListSetsAndMapsValue(path.Key(k), s.AdditionalProperties, obj[k])...)
		}
	}
	return errs
}

func validateListSetsAndMapsValue(path *field.Path, s *Structural, x any) field.ErrorList {
	switch x := x.(type) {
	case []any:
		return validateListSetsAndMapsArray(path, s, x)
	case map[string]any:
		return validateListSetsAndMaps(path, s, x)
	}
	return nil
}

func validateListSetsAndMapsArray(path *field.Path, s *Structural, list []any) field.ErrorList {
	var errs field.ErrorList
	if s.Props != nil && s.Props.XListType != nil {
		switch *s.Props.XListType {
		case "set":
			nonUnique, err := nonUniqueIndices(path, list)
			if err != nil {
				errs = append(errs, err)
			}
			for _, i := range nonUnique {
				errs = append(errs, field.Duplicate(path.Index(i), list[i]))
			}
		case "map":
			errs = append(errs, validateListMap(path, s.Props.XListMapKeys, list)...)
		}
	}
	if s.Items != nil {
		for i, v := range list {
			errs = append(errs, validateListSetsAndMapsValue(path.Index(i), s.Items, v)...)
		}
	}
	return errs
}

// unspecifiedKey stands for an item without the key, which compares equal
// only to another item without it.
type unspecifiedKey struct{}

// nonUniqueIndices returns the index of the second occurrence of each
// repeated item (later repeats are not reported again), as upstream does.
func nonUniqueIndices(path *field.Path, list []any) ([]int, *field.Error) {
	if len(list) <= 1 {
		return nil, nil
	}
	seenScalars := make(map[any]int, len(list))
	seenCompounds := make(map[string]int, len(list))
	var out []int
	for i, x := range list {
		switch x.(type) {
		case map[string]any, []any:
			b, err := json.Marshal(x)
			if err != nil {
				return nil, field.Invalid(path.Index(i), x, "internal error")
			}
			seenCompounds[string(b)]++
			if seenCompounds[string(b)] == 2 {
				out = append(out, i)
			}
		default:
			seenScalars[x]++
			if seenScalars[x] == 2 {
				out = append(out, i)
			}
		}
	}
	return out, nil
}

func validateListMap(path *field.Path, keys []string, list []any) field.ErrorList {
	for i, x := range list {
		if _, ok := x.(map[string]any); x != nil && !ok {
			return field.ErrorList{field.Invalid(path.Index(i), x, "must be an object for an array of list-type map")}
		}
	}
	if len(list) <= 1 {
		return nil
	}
	if len(keys) == 1 {
		k := keys[0]
		values := make([]any, len(list))
		for i, x := range list {
			values[i] = unspecifiedKey{}
			if m, _ := x.(map[string]any); m != nil {
				if v, ok := m[k]; ok {
					values[i] = v
				}
			}
		}
		nonUnique, err := nonUniqueIndices(path, values)
		if err != nil {
			return field.ErrorList{err}
		}
		var errs field.ErrorList
		for _, i := range nonUnique {
			if values[i] == (unspecifiedKey{}) {
				errs = append(errs, field.Duplicate(path.Index(i), map[string]any{}))
			} else {
				errs = append(errs, field.Duplicate(path.Index(i), map[string]any{k: values[i]}))
			}
		}
		return errs
	}
	values := make([]any, len(list))
	for i, x := range list {
		key := map[string]any{}
		if m, _ := x.(map[string]any); m != nil {
			for _, k := range keys {
				if v, ok := m[k]; ok {
					key[k] = v
				}
			}
		}
		values[i] = key
	}
	nonUnique, err := nonUniqueIndices(path, values)
	if err != nil {
		return field.ErrorList{err}
	}
	var errs field.ErrorList
	for _, i := range nonUnique {
		errs = append(errs, field.Duplicate(path.Index(i), values[i]))
	}
	return errs
}
