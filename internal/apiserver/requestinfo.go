package apiserver

import (
	"net/http"
	"net/url"
	"strings"
)

// RequestInfo is what a resource request's method and path say.
type RequestInfo struct {
	IsResourceRequest bool
	// Verb is one of get, list, watch, create, update, patch, delete,
	// deletecollection; for non-resource requests the lowercased method.
	Verb        string
	APIPrefix   string // "api" or "apis"
	APIGroup    string
	APIVersion  string
	Namespace   string
	Resource    string
	Subresource string
	Name        string
	Path        string
	// Parts are the path segments after the group-version.
	Parts []string
	// Query is the request's query, parsed once for every handler of the
	// request (url.URL.Query parses it anew on each call); nil when there
	// is none. Read-only: it is shared.
	Query url.Values
}

// ParseRequestInfo reads a request as Kubernetes routes it:
//
//	/api/v1/namespaces/{ns}/{resource}/{name}/{subresource}
//	/apis/{group}/{version}/namespaces/{ns}/{resource}/{name}/{subresource}
//	/api/v1/{resource}/{name}                        (cluster scope, or all namespaces)
//	/api/v1/namespaces/{name}[/status|/finalize]     (the namespace resource itself)
//	/api/v1/watch/...                                (legacy watch paths)
func ParseRequestInfo(r *http.Request) RequestInfo {
	info := RequestInfo{Path: r.URL.Path, Verb: strings.ToLower(r.Method)}
	if r.URL.RawQuery != "" {
		info.Query = r.URL.Query()
	}
	parts := splitPath(r.URL.Path)
	if len(parts) < 2 || (parts[0] != "api" && parts[0] != "apis") {
		return info
	}
	info.APIPrefix = parts[0]
	parts = parts[1:]
	if info.APIPrefix == "apis" {
		if len(parts) < 2 {
			return info // /apis or /apis/{group}: discovery
		}
		info.APIGroup = parts[0]
		parts = parts[1:]
	}
	info.APIVersion = parts[0]
	parts = parts[1:]
	if len(parts) == 0 {
		return info // /api/v1 discovery
	}
	info.IsResourceRequest = true

	legacyWatch := false
	if parts[0] == "watch" {
		legacyWatch = true
		parts = parts[1:]
	}
	// namespaces/{ns}/{resource}... names a namespaced resource, unless it
	// is the namespace itself (or its subresources).
	if len(parts) >= 3 && parts[0] == "namespaces" {
		info.Namespace = parts[1]
		parts = parts[2:]
		if len(parts) >= 1 && (parts[0] == "status" || parts[0] == "finalize") && len(parts) == 1 {
			info.Resource, info.Name, info.Subresource = "namespaces", info.Namespace, parts[0]
			info.Namespace = ""
			parts = nil
		}
	} else if len(parts) >= 2 && parts[0] == "namespaces" {
		info.Resource, info.Name = "namespaces", parts[1]
		parts = nil
	}
	info.Parts = parts
	if len(parts) > 0 {
		info.Resource = parts[0]
	}
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
	}

	q := info.Query
	switch info.Verb {
	case "get", "head":
		info.Verb = "get"
		if info.Name == "" {
			info.Verb = "list"
		}
		if legacyWatch || q.Get("watch") == "true" || q.Get("watch") == "1" {
			info.Verb = "watch"
		}
	case "post":
		info.Verb = "create"
	case "put":
		info.Verb = "update"
	case "patch":
		info.Verb = "patch"
	case "delete":
		info.Verb = "delete"
		if info.Name == "" {
			info.Verb = "deletecollection"
		}
	}
	return info
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
