// Package generated holds the OpenAPI definitions openapi-gen produces from
// the Go API types skiff serves. zz_generated.openapi.go and
// definitions.jsonl are written by ../generate.sh; do not edit them.
//
// The skiff binary does not link this package: package openapi embeds
// definitions.jsonl, the same definitions as data, half the size.
// Only the generator of that file and tests use the Go code.
package generated
