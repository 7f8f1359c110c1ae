package auth

import (
	"encoding/json"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// publicRoots are the endpoints anyone may read without credentials, as
// kube-apiserver's system:public-info-viewer role allows.
var publicRoots = []string{"/healthz", "/livez", "/readyz", "/version"}

// PublicPath reports whether path is a health or version endpoint
// (/healthz, /livez, /readyz, /version, or a path below one of them, such
// as /readyz/etcd) that needs no credentials.
func PublicPath(path string) bool {
	for _, root := range publicRoots {
		if rest, ok := strings.CutPrefix(path, root); ok && (rest == "" || rest[0] == '/') {
			return true
		}
	}
	return false
}

// Middleware authenticates each request with a before passing it to next
// with the User in its context (see UserFrom). A request without
// credentials reaches next only when public(r.URL.Path) is true (public may
// be nil: nothing is public); then the context holds no User. Everything
// else is answered 401 with a Kubernetes Status.
func Middleware(a Authenticator, next http.Handler, public func(path string) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := a.Authenticate(r)
		switch {
		case ok:
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
		case err == nil && public != nil && public(r.URL.Path):
			next.ServeHTTP(w, r)
		default:
			// The client is not told why its credentials failed; that
			// would help someone guessing them.
			writeUnauthorized(w)
		}
	})
}

// unauthorizedBody is the 401 Status, encoded once.
var unauthorizedBody = func() []byte {
	st := apierrors.NewUnauthorized("Unauthorized").Status()
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	b, err := json.Marshal(st)
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}()

func writeUnauthorized(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache, private")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(unauthorizedBody)
}
