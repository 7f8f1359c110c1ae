package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

var _ Authenticator = (*TokenAuthenticator)(nil)

// TokenAuthenticator authenticates static bearer tokens. It is safe for
// concurrent use; tokens may be added while requests are served.
type TokenAuthenticator struct {
	mu     sync.RWMutex
	tokens []tokenEntry // guarded by mu
}

// tokenEntry keeps only the token's SHA-256: lookups compare digests of
// equal length in constant time, so neither a token's bytes nor its length
// leak through timing, and a heap dump shows no tokens.
type tokenEntry struct {
	digest [sha256.Size]byte
	user   *User
}

// NewTokenAuthenticator returns an authenticator with no tokens.
func NewTokenAuthenticator() *TokenAuthenticator {
	return &TokenAuthenticator{}
}

// LoadTokenFile returns an authenticator with the tokens of a token file
// (format in the package documentation).
func LoadTokenFile(path string) (*TokenAuthenticator, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	defer f.Close()
	a := NewTokenAuthenticator()
	if err := a.AddCSV(f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Add registers token for u. The token and the user name must not be
// empty, and the token must not be registered already. u is copied.
func (a *TokenAuthenticator) Add(token string, u User) error {
	return a.add([]string{token}, []User{u})
}

// AddCSV registers every token of a token file read from r. It adds all of
// them or, on error, none.
func (a *TokenAuthenticator) AddCSV(r io.Reader) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	var (
		tokens []string
		users  []User
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: %v", ErrTokenFile, err)
		}
		line, _ := cr.FieldPos(0)
		if len(tokens) == 0 {
			rec[0] = strings.TrimPrefix(rec[0], "\uFEFF") // byte order mark
		}
		if len(rec) < 3 {
			return fmt.Errorf("%w: line %d: want at least 3 columns (token, user name, user uid), found %d",
				ErrTokenFile, line, len(rec))
		}
		u := User{Name: rec[1], UID: rec[2]}
		if len(rec) >= 4 {
			for g := range strings.SplitSeq(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		tokens = append(tokens, rec[0])
		users = append(users, u)
	}
	if err := a.add(tokens, users); err != nil {
		return fmt.Errorf("%w: %v", ErrTokenFile, err)
	}
	return nil
}

func (a *TokenAuthenticator) add(tokens []string, users []User) error {
	entries := make([]tokenEntry, 0, len(tokens))
	seen := make(map[[sha256.Size]byte]bool, len(tokens))
	for i, t := range tokens {
		switch {
		case t == "":
			return fmt.Errorf("empty token (for user %q)", users[i].Name)
		case users[i].Name == "":
			return errors.New("token with an empty user name")
		}
		d := sha256.Sum256([]byte(t))
		if seen[d] {
			return fmt.Errorf("duplicate token (for user %q)", users[i].Name)
		}
		seen[d] = true
		entries = append(entries, tokenEntry{digest: d, user: users[i].clone()})
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.tokens {
		if seen[e.digest] {
			return fmt.Errorf("token already registered (for user %q)", e.user.Name)
		}
	}
	a.tokens = append(a.tokens, entries...)
	return nil
}

// Authenticate looks up the request's bearer token. A request without an
// "Authorization: Bearer" header carries no credentials of this kind.
func (a *TokenAuthenticator) Authenticate(r *http.Request) (*User, bool, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, false, nil
	}
	d := sha256.Sum256([]byte(token))

	a.mu.RLock()
	defer a.mu.RUnlock()
	// Look at every entry, without stopping at a match, so the time taken
	// does not tell which entry (if any) matched.
	var found *User
	for i := range a.tokens {
		if subtle.ConstantTimeCompare(a.tokens[i].digest[:], d[:]) == 1 {
			found = a.tokens[i].user
		}
	}
	if found == nil {
		return nil, false, ErrInvalidToken
	}
	u := found.clone()
	u.Groups = withAuthenticated(u.Groups)
	return u, true, nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive, as in kube-apiserver.
func bearerToken(r *http.Request) (string, bool) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	// kube-apiserver takes the text up to the next space; "Bearer  x" (two
	// spaces) is no token at all.
	token, _, _ = strings.Cut(token, " ")
	return token, token != ""
}
