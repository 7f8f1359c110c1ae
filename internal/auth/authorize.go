package auth

import "context"

// Attributes describe what a request wants to do, as authorization sees it.
type Attributes struct {
	User *User
	// Verb is the API verb for resource requests (get, list, watch, create,
	// update, patch, delete, deletecollection) and the lowercased HTTP
	// method otherwise.
	Verb string
	// ResourceRequest is false for non-resource paths such as /version.
	ResourceRequest bool
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Namespace       string
	Name            string
	// Path is the request path, for non-resource requests.
	Path string
}

// Decision is an authorizer's verdict.
type Decision int

const (
	// NoOpinion: this authorizer neither allows nor denies; the next one
	// decides, and if none does the request is denied.
	NoOpinion Decision = iota
	Allow
	Deny
)

// Authorizer decides whether a request may proceed. reason explains a
// denial to the client.
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (d Decision, reason string, err error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, a Attributes) (Decision, string, error)

// Authorize implements Authorizer.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	return f(ctx, a)
}

// AlwaysAllow allows every authenticated request. It holds the place of
// authorization in the request path until RBAC is served.
var AlwaysAllow Authorizer = AuthorizerFunc(func(context.Context, Attributes) (Decision, string, error) {
	return Allow, "", nil
})
