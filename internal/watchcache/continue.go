package watchcache

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"skiff.dev/skiff/internal/storage"
)

// A continue token is base64url (unpadded) of JSON
// {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<key relative to the
// resource prefix>"}, the shape kube-apiserver uses: the list's revision and
// the key the next page starts at.
type continueToken struct {
	APIVersion string `json:"v"`
	Revision   int64  `json:"rv"`
	Start      string `json:"start"`
}

const continueAPIVersion = "meta.k8s.io/v1"

// encodeContinue makes the token for a list at rev whose next page starts
// at key next, which is under prefix.
func encodeContinue(rev storage.Revision, next, prefix string) string {
	data, _ := json.Marshal(continueToken{ // cannot fail: strings and an int
		APIVersion: continueAPIVersion,
		Revision:   int64(rev),
		Start:      strings.TrimPrefix(next, prefix),
	})
	return base64.RawURLEncoding.EncodeToString(data)
}

// decodeContinue returns the full start key and the revision of a token.
// The relative key must be clean, so that a client cannot make it point
// outside the prefix ("../").
func decodeContinue(token, prefix string) (start string, rev storage.Revision, err error) {
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("not base64: %w", err)
	}
	var t continueToken
	if err := json.Unmarshal(data, &t); err != nil {
		return "", 0, fmt.Errorf("not a continue token: %w", err)
	}
	switch {
	case t.APIVersion != continueAPIVersion:
		return "", 0, fmt.Errorf("unknown version %q", t.APIVersion)
	case t.Revision <= 0:
		return "", 0, errors.New("no resource version")
	case t.Start == "":
		return "", 0, errors.New("no start key")
	}
	if cleaned := path.Clean("/" + t.Start); cleaned != "/"+t.Start {
		return "", 0, fmt.Errorf("start key %q is not clean", t.Start)
	}
	return prefix + t.Start, storage.Revision(t.Revision), nil
}
