package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestAddCSV(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		want    map[string]User // token → user, after authentication
		wantErr bool
	}{
		{
			name: "kubernetes format",
			csv: `t1,alice,uid-1,"devs,ops"
t2,bob,uid-2
t3, carol ,uid-3,solo,ignored-column

t4,dave,uid-4,""
`,
			want: map[string]User{
				"t1": {Name: "alice", UID: "uid-1", Groups: []string{"devs", "ops", GroupAuthenticated}},
				"t2": {Name: "bob", UID: "uid-2", Groups: []string{GroupAuthenticated}},
				"t3": {Name: "carol ", UID: "uid-3", Groups: []string{"solo", GroupAuthenticated}},
				"t4": {Name: "dave", UID: "uid-4", Groups: []string{GroupAuthenticated}},
			},
		},
		{
			name: "byte order mark",
			csv:  "\uFEFFt1,alice,uid-1\n",
			want: map[string]User{"t1": {Name: "alice", UID: "uid-1", Groups: []string{GroupAuthenticated}}},
		},
		{
			name: "group list with spaces and empty members",
			csv:  `t1,alice,uid-1,"a, b,,c"` + "\n",
			want: map[string]User{"t1": {Name: "alice", UID: "uid-1", Groups: []string{"a", "b", "c", GroupAuthenticated}}},
		},
		{name: "empty file", csv: "", want: map[string]User{}},
		{name: "too few columns", csv: "t1,alice\n", wantErr: true},
		{name: "empty token", csv: ",alice,uid-1\n", wantErr: true},
		{name: "empty user", csv: "t1,,uid-1\n", wantErr: true},
		{name: "duplicate token", csv: "t1,alice,uid-1\nt1,bob,uid-2\n", wantErr: true},
		{name: "bad quoting", csv: "t1,\"alice,uid-1\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewTokenAuthenticator()
			err := a.AddCSV(strings.NewReader(tt.csv))
			if tt.wantErr {
				if !errors.Is(err, ErrTokenFile) {
					t.Fatalf("AddCSV = %v, want ErrTokenFile", err)
				}
				if len(a.tokens) != 0 {
					t.Errorf("a failed AddCSV added %d tokens", len(a.tokens))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(a.tokens) != len(tt.want) {
				t.Errorf("%d tokens loaded, want %d", len(a.tokens), len(tt.want))
			}
			for token, want := range tt.want {
				u, ok, err := a.Authenticate(bearer(token))
				if !ok || err != nil {
					t.Errorf("token %q: ok=%v err=%v", token, ok, err)
					continue
				}
				if !reflect.DeepEqual(*u, want) {
					t.Errorf("token %q: user = %+v, want %+v", token, *u, want)
				}
			}
		})
	}
}

func bearer(token string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/api", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func TestLoadTokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte("secret,alice,1,\"a,b\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok, _ := a.Authenticate(bearer("secret")); !ok || u.Name != "alice" {
		t.Errorf("token from file: %+v, %v", u, ok)
	}
	if _, err := LoadTokenFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("LoadTokenFile of a missing file succeeded")
	}
}

func TestTokenAuthenticate(t *testing.T) {
	a := NewTokenAuthenticator()
	if err := a.Add("s3cret", User{Name: "alice", Groups: []string{"devs"}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add("other", User{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		header   string // Authorization; "" means none
		wantUser string
		wantOK   bool
		wantErr  error
	}{
		{name: "no header"},
		{name: "valid", header: "Bearer s3cret", wantUser: "alice", wantOK: true},
		{name: "scheme case-insensitive", header: "bearer other", wantUser: "bob", wantOK: true},
		{name: "surrounding space", header: "  Bearer s3cret  ", wantUser: "alice", wantOK: true},
		{name: "unknown token", header: "Bearer nope", wantErr: ErrInvalidToken},
		{name: "prefix of a token", header: "Bearer s3cre", wantErr: ErrInvalidToken},
		{name: "basic auth is another kind", header: "Basic YWxpY2U6eA=="},
		{name: "scheme only", header: "Bearer"},
		{name: "two spaces", header: "Bearer  s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			u, ok, err := a.Authenticate(r)
			if ok != tt.wantOK || !errors.Is(err, tt.wantErr) || (err == nil && tt.wantErr != nil) {
				t.Fatalf("Authenticate = %+v, %v, %v; want ok=%v err=%v", u, ok, err, tt.wantOK, tt.wantErr)
			}
			if ok && u.Name != tt.wantUser {
				t.Errorf("user = %q, want %q", u.Name, tt.wantUser)
			}
		})
	}

	// The returned user is a copy: changing it does not change the next answer.
	u, _, _ := a.Authenticate(bearer("s3cret"))
	u.Groups[0] = "hacked"
	u2, _, _ := a.Authenticate(bearer("s3cret"))
	if want := []string{"devs", GroupAuthenticated}; !reflect.DeepEqual(u2.Groups, want) {
		t.Errorf("groups after caller's change = %q, want %q", u2.Groups, want)
	}

	for _, bad := range []struct {
		token string
		user  User
	}{{"", User{Name: "x"}}, {"t", User{}}, {"s3cret", User{Name: "again"}}} {
		if err := a.Add(bad.token, bad.user); err == nil {
			t.Errorf("Add(%q, %+v) succeeded", bad.token, bad.user)
		}
	}
}
