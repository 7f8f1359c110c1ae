package auth

import (
	"context"
	"errors"
	"net/http"
	"slices"
)

// Well-known groups.
const (
	// GroupAuthenticated is added to every authenticated user.
	GroupAuthenticated = "system:authenticated"
	// GroupMasters is the group RBAC lets do everything.
	GroupMasters = "system:masters"
)

// Sentinel errors; authenticators wrap them with %w.
var (
	// ErrInvalidCertificate: a client certificate was presented but does not
	// verify against the CA, or names no user.
	ErrInvalidCertificate = errors.New("auth: invalid client certificate")
	// ErrInvalidToken: a bearer token was presented but is not known.
	ErrInvalidToken = errors.New("auth: invalid bearer token")
	// ErrTokenFile: the token file is malformed.
	ErrTokenFile = errors.New("auth: malformed token file")
)

// User is an authenticated identity.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// clone returns a deep copy, so that stored users are never shared.
func (u *User) clone() *User {
	c := &User{Name: u.Name, UID: u.UID, Groups: slices.Clone(u.Groups)}
	if u.Extra != nil {
		c.Extra = make(map[string][]string, len(u.Extra))
		for k, v := range u.Extra {
			c.Extra[k] = slices.Clone(v)
		}
	}
	return c
}

// withAuthenticated returns groups plus GroupAuthenticated, in a new slice.
func withAuthenticated(groups []string) []string {
	out := slices.Clone(groups)
	if !slices.Contains(out, GroupAuthenticated) {
		out = append(out, GroupAuthenticated)
	}
	return out
}

// Authenticator finds out who sent a request. See the package
// documentation for the meaning of the three results.
type Authenticator interface {
	Authenticate(r *http.Request) (*User, bool, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*User, bool, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*User, bool, error) { return f(r) }

// Union returns an Authenticator that tries each of authenticators in order
// and returns the first success. Errors do not stop the search; if nothing
// succeeds they are returned joined, and if there were none the answer is
// "no credentials".
func Union(authenticators ...Authenticator) Authenticator {
	as := slices.Clone(authenticators)
	return AuthenticatorFunc(func(r *http.Request) (*User, bool, error) {
		var errs []error
		for _, a := range as {
			u, ok, err := a.Authenticate(r)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if ok {
				return u, true, nil
			}
		}
		return nil, false, errors.Join(errs...)
	})
}

type userKey struct{}

// WithUser returns a copy of ctx that carries u.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored by WithUser, if any.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(userKey{}).(*User)
	return u, ok && u != nil
}
