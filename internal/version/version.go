// Package version holds the build's identity, set at link time with
// -ldflags "-X skiff.dev/skiff/internal/version.Version=v0.2.0".
package version

import "runtime"

// Version is skiff's own release, a semantic version.
var Version = "v0.1.0-dev"

// String is the one-line identity printed by `skiff version`.
func String() string {
	return "skiff " + Version + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
