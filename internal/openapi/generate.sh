#!/usr/bin/env bash
# Regenerates generated/zz_generated.openapi.go, the OpenAPI definitions of
# every API type skiff serves, produced by k8s.io/kube-openapi's openapi-gen
# from the Go types in k8s.io/api, k8s.io/apimachinery and
# k8s.io/apiextensions-apiserver at the versions go.mod pins; and from it
# generated/definitions.jsonl, the same definitions as data, which is what
# skiff embeds (see internal/gendefs).
#
# Run from anywhere: `go generate ./internal/openapi/` or
# `internal/openapi/generate.sh`. Needs only the Go module proxy.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

# The generator is built at the kube-openapi version go.mod pins, in its own
# module context (pkg@version), so its build dependencies stay out of go.mod.
kube_openapi="$(go list -m -f '{{.Version}}' k8s.io/kube-openapi)"

# Every GA group-version of k8s.io/api that carries openapi-gen tags, and the
# packages their types refer to (TestDefinitionsClosed fails when one is missing).
api_gvs=(
	admissionregistration/v1
	apidiscovery/v2
	apps/v1
	authentication/v1
	authorization/v1
	autoscaling/v1
	autoscaling/v2
	batch/v1
	certificates/v1
	coordination/v1
	core/v1
	discovery/v1
	events/v1
	flowcontrol/v1
	networking/v1
	node/v1
	policy/v1
	rbac/v1
	resource/v1
	scheduling/v1
	# Not GA, but GA types refer to its types (batch/v1 Job, core/v1 Pod).
	scheduling/v1alpha3
	storage/v1
	storagemigration/v1
)
pkgs=()
for gv in "${api_gvs[@]}"; do pkgs+=("k8s.io/api/$gv"); done
pkgs+=(
	k8s.io/apimachinery/pkg/apis/meta/v1
	k8s.io/apimachinery/pkg/runtime
	k8s.io/apimachinery/pkg/version
	k8s.io/apimachinery/pkg/util/intstr
	k8s.io/apimachinery/pkg/api/resource
	k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/boilerplate.go.txt"

# API rule violations of upstream types are upstream's business: the report
# goes to a file we discard instead of failing the run.
go run "k8s.io/kube-openapi/cmd/openapi-gen@${kube_openapi}" \
	--go-header-file "$tmp/boilerplate.go.txt" \
	--output-dir "$here/generated" \
	--output-pkg skiff.dev/skiff/internal/openapi/generated \
	--output-file zz_generated.openapi.go \
	--report-filename "$tmp/violations.txt" \
	--readonly-pkg "$(IFS=,; echo "${pkgs[*]}")" \
	"${pkgs[@]}"

go run ./internal/openapi/internal/gendefs -o "$here/generated/definitions.jsonl"

gofmt -l "$here/generated" | (! grep .) || { echo "generated code is not gofmt-clean" >&2; exit 1; }
