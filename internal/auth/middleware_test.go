package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// wantUnauthorized is the body kube-apiserver sends with a 401.
const wantUnauthorized = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`

func TestPublicPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"/healthz", true},
		{"/healthz/ping", true},
		{"/livez", true},
		{"/readyz", true},
		{"/readyz/etcd", true},
		{"/version", true},
		{"/version/", true},
		{"/", false},
		{"", false},
		{"/healthzz", false},
		{"/versions", false},
		{"/api", false},
		{"/api/v1/namespaces", false},
		{"/apis/healthz", false},
		{"/metrics", false},
	}
	for _, tt := range tests {
		if got := PublicPath(tt.path); got != tt.want {
			t.Errorf("PublicPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

var (
	errBad = errors.New("bad credentials")
	alice  = &User{Name: "alice"}
	bob    = &User{Name: "bob"}
)

func fixed(u *User, ok bool, err error) Authenticator {
	return AuthenticatorFunc(func(*http.Request) (*User, bool, error) { return u, ok, err })
}

func TestUnion(t *testing.T) {
	none := fixed(nil, false, nil)
	bad := fixed(nil, false, errBad)
	tests := []struct {
		name    string
		as      []Authenticator
		want    *User
		wantErr bool
	}{
		{name: "empty"},
		{name: "no credentials anywhere", as: []Authenticator{none, none}},
		{name: "first success wins", as: []Authenticator{none, fixed(alice, true, nil), fixed(bob, true, nil)}, want: alice},
		{name: "error does not stop the search", as: []Authenticator{bad, fixed(bob, true, nil)}, want: bob},
		{name: "errors returned when nothing succeeds", as: []Authenticator{none, bad}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok, err := Union(tt.as...).Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
			if u != tt.want || ok != (tt.want != nil) || errors.Is(err, errBad) != tt.wantErr {
				t.Errorf("Authenticate = %v, %v, %v", u, ok, err)
			}
		})
	}
}

func TestUserContext(t *testing.T) {
	if u, ok := UserFrom(context.Background()); ok || u != nil {
		t.Errorf("UserFrom(empty) = %v, %v", u, ok)
	}
	if u, ok := UserFrom(WithUser(context.Background(), alice)); !ok || u != alice {
		t.Errorf("UserFrom = %v, %v", u, ok)
	}
	if _, ok := UserFrom(WithUser(context.Background(), nil)); ok {
		t.Error("UserFrom reports a nil user")
	}
}

func TestMiddleware(t *testing.T) {
	tokens := NewTokenAuthenticator()
	if err := tokens.Add("good", User{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, ok := UserFrom(r.Context()); ok {
			w.Write([]byte("user " + u.Name))
			return
		}
		w.Write([]byte("anonymous"))
	})

	tests := []struct {
		name     string
		public   func(string) bool
		path     string
		token    string
		wantCode int
		wantBody string
	}{
		{name: "valid token", path: "/api", token: "good", wantCode: 200, wantBody: "user alice"},
		{name: "no credentials", path: "/api", wantCode: 401, wantBody: wantUnauthorized},
		{name: "bad token", path: "/api", token: "bad", wantCode: 401, wantBody: wantUnauthorized},
		{name: "public without credentials", path: "/healthz", wantCode: 200, wantBody: "anonymous"},
		{name: "public subpath", path: "/readyz/etcd", wantCode: 200, wantBody: "anonymous"},
		{name: "public with valid token", path: "/version", token: "good", wantCode: 200, wantBody: "user alice"},
		{name: "public with bad token", path: "/healthz", token: "bad", wantCode: 401, wantBody: wantUnauthorized},
		{name: "nothing public", public: func(string) bool { return false }, path: "/healthz", wantCode: 401, wantBody: wantUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			public := PublicPath
			if tt.public != nil {
				public = tt.public
			}
			h := Middleware(tokens, next, public)
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.token != "" {
				r.Header.Set("Authorization", "Bearer "+tt.token)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.wantCode || strings.TrimSpace(w.Body.String()) != tt.wantBody {
				t.Errorf("%s = %d %s, want %d %s", tt.path, w.Code, w.Body, tt.wantCode, tt.wantBody)
			}
			if w.Code == 401 && w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("401 Content-Type = %q", w.Header().Get("Content-Type"))
			}
		})
	}

	// A nil public function makes nothing public.
	w := httptest.NewRecorder()
	Middleware(tokens, next, nil).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if w.Code != 401 {
		t.Errorf("nil public: /healthz = %d, want 401", w.Code)
	}
}
