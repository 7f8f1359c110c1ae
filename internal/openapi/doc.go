// Package openapi builds and serves skiff's OpenAPI documents: swagger 2.0 at
// /openapi/v2 and OpenAPI 3.0, one document per group-version, under
// /openapi/v3. Clients depend on them: kubectl explain reads v3; kubectl
// apply/create/replace and Helm send fieldValidation=Strict only when the v3
// document of a kind has a PATCH operation carrying the kind's
// x-kubernetes-group-version-kind and a fieldValidation parameter, and fall
// back to client-side validation against v2 (fetched as protobuf) otherwise.
//
// # Definitions
//
// Schemas of the built-in types come from k8s.io/kube-openapi's openapi-gen,
// run over k8s.io/api, k8s.io/apimachinery and the apiextensions v1 types by
// generate.sh into package generated, and turned by it into data
// (generated/definitions.jsonl) that this package embeds: as code they
// would be megabytes of the binary. They are keyed by the canonical names
// Kubernetes publishes ("io.k8s.api.core.v1.ConfigMap"); every registered
// kind carries x-kubernetes-group-version-kind. Extra definitions (custom
// resources) are added as common.GetOpenAPIDefinitions functions, which
// render references in whichever form (v2 or v3) they are asked for.
//
// # Documents
//
// A Service turns Resources (what discovery lists) into paths the way
// kube-apiserver does: collection and item paths, the deprecated /watch/
// paths, the all-namespaces list and watch, status/scale and a few other
// subresources, operation ids such as listCoreV1NamespacedConfigMap, and
// x-kubernetes-action and x-kubernetes-group-version-kind on every
// operation. kube-openapi's builders then pick the reachable definitions.
//
// Documents live in immutable snapshots. Update builds a new snapshot and
// swaps it in atomically; it reuses the v3 documents of group-versions whose
// resources did not change and which hold only built-in schemas, so adding a
// custom resource rebuilds only its own group-version. Update only checks
// that every resource can be described: each document is built and encoded
// on first request (the index at /openapi/v3 carries every document's hash,
// so it builds them all), protobuf and gzip forms on first request for them.
// A built document is kept as gzipped bytes only. The built-in
// definitions are not kept either: a document, or a kind's schemas
// (KindSchemas, for server-side apply), builds the definitions it reaches
// from the generated code and drops them once encoded. Returned documents
// are shared and must not be modified.
//
// # Serving
//
// Service is an http.Handler for /openapi/v2, /openapi/v3 and
// /openapi/v3/<key>. Responses carry strong ETags and answer If-None-Match
// with 304; a v3 document requested with its current hash is marked
// immutable; a stale hash redirects to the current one.
package openapi

//go:generate ./generate.sh
