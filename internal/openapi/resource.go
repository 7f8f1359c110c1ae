package openapi

import (
	"errors"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ErrInvalidResource is wrapped by the errors New and Update return for a
// Resource that cannot be described.
var ErrInvalidResource = errors.New("openapi: invalid resource")

// Resource is one REST resource the server serves, as discovery describes
// it. The kind (GVK) and list kind (same group and version, ListKind) must
// each be named by the ExtensionGVK of exactly one definition.
type Resource struct {
	GVK schema.GroupVersionKind
	// Resource is the plural, lower-case path segment, e.g. "configmaps".
	Resource   string
	Namespaced bool
	// Verbs are discovery's verbs: get, list, watch, create, update, patch,
	// delete, deletecollection. Others are ignored.
	Verbs []string
	// Subresources are the subresource names served under the item path,
	// e.g. "status", "scale". Those without a known shape (connect
	// subresources such as exec, attach, portforward, proxy) are left out of
	// the documents.
	Subresources []string
	// ListKind defaults to GVK.Kind + "List".
	ListKind string
	// CustomResource marks a CRD's resource: JSON and YAML only, and no
	// strategic merge patch.
	CustomResource bool
}

func (r Resource) listKind() string {
	if r.ListKind != "" {
		return r.ListKind
	}
	return r.GVK.Kind + "List"
}

func (r Resource) has(verb string) bool { return slices.Contains(r.Verbs, verb) }

func (r Resource) validate() error {
	switch {
	case r.GVK.Version == "" || r.GVK.Kind == "":
		return fmt.Errorf("%w: %q needs a version and a kind, got %v", ErrInvalidResource, r.Resource, r.GVK)
	case r.Resource == "":
		return fmt.Errorf("%w: %v has no resource name", ErrInvalidResource, r.GVK)
	}
	return nil
}

// groupVersionKey is the name of a group-version's OpenAPI v3 document and
// its path prefix without the leading slash: "api/v1", "apis/apps/v1".
func groupVersionKey(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "api/" + gv.Version
	}
	return "apis/" + gv.Group + "/" + gv.Version
}

// groupKey is the name of a group's v3 document: "api" for the core group,
// "apis/<group>" otherwise.
func groupKey(group string) string {
	if group == "" {
		return "api"
	}
	return "apis/" + group
}
