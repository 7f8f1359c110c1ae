// Package generated holds the OpenAPI definitions openapi-gen produces from
// the Go API types skiff serves. zz_generated.openapi.go is written by
// ../generate.sh; do not edit it.
package generated
