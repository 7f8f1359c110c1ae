// Package version holds the build's identity, set at link time with
// -ldflags "-X skiff.dev/skiff/internal/version.Version=v0.2.0".
package version

import "runtime"

var (
	// Version is skiff's own release, a semantic version.
	Version = "v0.1.0-dev"
	// Commit is the source revision the binary was built from.
	Commit = ""
	// Kubernetes is the Kubernetes API version skiff serves, as /version's
	// gitVersion. Clients (kubectl, Helm) parse it as semver; the build
	// metadata names skiff without making it a pre-release.
	Kubernetes = "v1.37.2+skiff"
)

// String is the one-line identity printed by `skiff version`.
func String() string {
	return "skiff " + Version + " (Kubernetes API " + Kubernetes + ") " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
