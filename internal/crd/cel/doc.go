// Package cel evaluates the x-kubernetes-validations rules of a
// CustomResourceDefinition's structural schema with github.com/google/cel-go,
// as kube-apiserver does. Upstream's implementation lives in
// apiextensions-apiserver's server packages and k8s.io/apiserver, which skiff
// may not import; this is our own, following its semantics and messages.
//
// Contract:
//
//   - Compile(s, fldPath) compiles every rule of s (a CRD version's schema,
//     rooted at the resource) once, when the CRD is created or updated. Its
//     field.ErrorList is what kube-apiserver rejects such a CRD with, paths
//     under fldPath (spec.versions[i].schema.openAPIV3Schema):
//     "...x-kubernetes-validations[0].rule: Invalid value: {...}: compilation
//     failed: ERROR: <input>:1:5: undefined field 'foo'", non-boolean rules,
//     bad message/messageExpression/reason/fieldPath, oldSelf below a list
//     that is not a map list (or a map that is not granular/atomic),
//     optionalOldSelf without oldSelf, and estimated costs over
//     StaticEstimatedCostLimit per rule (times how often it can run: the
//     product of maxItems/maxProperties above it, or what fits in a 3 MiB
//     request) and StaticEstimatedCRDCostLimit in total. Sizes come from
//     maxLength, maxItems and maxProperties where declared. Compile returns
//     a nil *Validator and no errors when s has no rules. Rules may only
//     sit in the structural part of a schema: schema.Check rejects them
//     inside allOf/anyOf/oneOf/not.
//   - CompileStored(s) compiles an already accepted schema for serving:
//     the same, without the estimated-cost checks (as kube-apiserver's
//     serving path), so a stored CRD stays servable.
//   - (*Validator).Validate(ctx, fldPath, obj, old) evaluates the rules on
//     a create (old nil) or an update, within RuntimeCostBudget per call
//     and PerCallLimit per rule evaluation, and returns kube-apiserver's
//     field errors: "spec: Invalid value: <message>" (objects and lists are
//     not shown; scalars are, as in `spec.size: Invalid value: 3: must be
//     even`), default message "failed rule: <rule>", messageExpression
//     (falling back to message when it fails), reason (FieldValueInvalid,
//     FieldValueForbidden, FieldValueRequired, FieldValueDuplicate) and
//     fieldPath; "... evaluating rule: ..." for runtime errors; "call cost
//     exceeds limit" / "running out of cost budget" stop further rules.
//     Transition rules (reading oldSelf) run only where an old value exists
//     at the same position: same property, same map key, same list-map
//     keys; with optionalOldSelf they also run on create with oldSelf =
//     optional.none(). On updates, a rule that does not read oldSelf
//     does not report a value that did not change (validation ratcheting,
//     as upstream: the nearest part of the object with a counterpart in
//     old is compared, list-map items by key). Null values are not
//     validated. The Validator is
//     immutable and safe for concurrent use; obj and old are only read.
//     ValidateWithBudget shares one budget across several calls.
//   - BlockingError(errs) is kube-apiserver's rule for skipping rules when
//     schema validation already failed on shape (required, type, enum,
//     too long, too many): it returns the error to report instead.
//
// Types: self is typed from the schema: objects with properties are object
// types with field access and has() (property names escaped as upstream:
// foo-bar is foo__dash__bar, namespace is __namespace__), maps
// (additionalProperties) are map(string, T), arrays list(T), integer int,
// number double (whole numbers too), boolean bool, string string, with
// format byte → bytes, duration → duration, date/date-time → timestamp;
// x-kubernetes-int-or-string is dyn. x-kubernetes-preserve-unknown-fields
// objects expose only their declared properties. The resource root and
// embedded resources also have apiVersion, kind, metadata.name and
// metadata.generateName. x-kubernetes-list-type set lists compare
// regardless of order and + is a union; map lists compare item by item
// matched on their keys, and + replaces items with equal keys. Object
// literals of schema types cannot be built.
//
// Libraries: CEL's standard library with optional types, cross-type numeric
// comparisons and literal validation; cel-go's ext.Strings (v2), ext.Sets,
// ext.Lists (v3: slice, flatten, distinct, range, reverse, sort, sortBy,
// first, last) and two-variable comprehensions; Kubernetes' list functions
// (isSorted, sum, min, max, indexOf, lastIndexOf, includes), regex
// (find, findAll), quantity (quantity, isQuantity, sign, isGreaterThan,
// isLessThan, compareTo, add, sub, asInteger, isInteger,
// asApproximateFloat), URL (url, isURL, getScheme, getHost, getHostname,
// getPort, getEscapedPath, getQuery), IP (ip, isIP, ip.isCanonical, family,
// isUnspecified, isLoopback, isLinkLocalMulticast, isLinkLocalUnicast,
// isGlobalUnicast, string) and CIDR (cidr, isCIDR, containsIP,
// containsCIDR, ip, prefixLength, masked, string) and named-format
// (format.dns1123Label() ... format.datetime(), format.named, validate)
// libraries, with upstream's signatures, type names and costs.
//
// Not supported: Kubernetes' semver library (rules using it fail to
// compile). As upstream, the authorizer is not available to CRD rules.
// Also not implemented: the compatibility-version gating of libraries
// (everything above is always available).
package cel
