// Package schema is skiff's own reading of a CustomResourceDefinition's
// OpenAPI v3 schema: the structural-schema rules, pruning and defaulting that
// upstream implements in apiextensions-apiserver's server packages, which
// skiff may not import (see internal/layering).
//
// Contract:
//
//   - Check(props, path) reports every reason props is not a structural
//     schema, as a field.ErrorList whose paths start at path (for a CRD,
//     spec.versions[i].schema.openAPIV3Schema) and whose messages follow
//     upstream's ("...properties[spec].type: Required value: must not be
//     empty for specified object fields"). An empty list means structural.
//
//   - New(props) builds a *Structural; it returns ErrNotStructural (wrapping
//     Check's list) when Check fails, so callers never prune or default with
//     a schema upstream would reject. The Structural is immutable after New
//     and safe to share between goroutines; it keeps a pointer to props
//     (Structural.Props) for later value validation, so props must not be
//     mutated afterwards.
//
//   - Prune(obj, s) removes, in place, every field s does not specify and
//     returns the removed paths ("spec.foo", "spec.list[0].bar"), sorted,
//     as upstream's `unknown field "spec.foo"` fieldValidation warnings and
//     Strict rejections name them. At the root and in x-kubernetes-embedded-resource objects,
//     apiVersion, kind and metadata are kept: metadata is ObjectMeta's
//     business, not the schema's. x-kubernetes-preserve-unknown-fields keeps
//     unknown fields but known fields below are still pruned.
//
//   - Default(obj, s) sets, in place, each missing property (or a null one
//     that is not nullable) to a deep copy of its schema default, then
//     recurses, including into array items and additionalProperties values.
//     obj never aliases s's defaults.
//
//   - Validate(s, obj, fldPath) checks obj's values as kube-apiserver checks
//     a custom resource, with the same field.ErrorList (types, paths and
//     messages): the OpenAPI keywords, checked by our port of
//     k8s.io/kube-openapi's validator (keywords.go, formats.go; tests hold
//     it to kube-openapi's answers) so messages are upstream's word for
//     word, e.g. "spec.a in body must be of type integer: \"string\"";
//     formats kube-apiserver does not support are ignored as it ignores
//     them, then apiVersion/kind/metadata of embedded resources, then
//     duplicates in x-kubernetes-list-type set and map lists. The root's
//     metadata is only checked as far as the schema restricts name and
//     generateName. x-kubernetes-validations (CEL) rules are not evaluated
//     here; see internal/crd/cel. Errors of the OpenAPI part come in a
//     stable order (kube-apiserver's follows Go's map order).
//
//   - ValidateUpdate(s, obj, old, fldPath) is Validate for an update, with
//     upstream's validation ratcheting: OpenAPI errors in parts that did not
//     change (same property, map key or list-map keys) are forgiven, and
//     list set/map duplicates are only reported when old had none.
//
// Everything is a pure function of its arguments: no goroutines, no I/O.
// obj is JSON-shaped data as decoded by k8s.io/apimachinery/pkg/util/json
// (map[string]any, []any, string, int64, float64, bool, nil).
package schema
