package controlplane

import (
	"testing"

	"skiff.dev/skiff/internal/apiserver"
)

// TestSchemeKnowsEveryServedKind: apiserver.Scheme registers only the
// group-versions skiff serves (each one registered is code in the binary),
// so serving a new group means registering it there too.
func TestSchemeKnowsEveryServedKind(t *testing.T) {
	for _, r := range Resources() {
		for _, gvk := range []string{r.Kind, r.ListKind} {
			if gvk == "" {
				continue
			}
			k := r.GVR.GroupVersion().WithKind(gvk)
			if !apiserver.Scheme.Recognizes(k) {
				t.Errorf("%s is served but apiserver.Scheme does not know %v: add its group-version to builtinGroupVersions in internal/apiserver/codec.go", r.GVR, k)
			}
		}
	}
}
