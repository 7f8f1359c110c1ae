// Package registrytest helps test strategies: it compares the field errors
// a validation returns with the ones a test expects, by type and path.
package registrytest

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// FieldErr is what a test expects of one field.Error: its type and path.
type FieldErr struct {
	Type  field.ErrorType
	Field string
}

func (e FieldErr) String() string { return string(e.Type) + " " + e.Field }

// Constructors of expected errors, one per error type.
func Required(path string) FieldErr     { return FieldErr{field.ErrorTypeRequired, path} }
func Invalid(path string) FieldErr      { return FieldErr{field.ErrorTypeInvalid, path} }
func Forbidden(path string) FieldErr    { return FieldErr{field.ErrorTypeForbidden, path} }
func TooLong(path string) FieldErr      { return FieldErr{field.ErrorTypeTooLong, path} }
func NotSupported(path string) FieldErr { return FieldErr{field.ErrorTypeNotSupported, path} }
func Duplicate(path string) FieldErr    { return FieldErr{field.ErrorTypeDuplicate, path} }

// CheckErrors compares errors as a set: validation walks maps, so their
// order is not defined.
func CheckErrors(t testing.TB, got field.ErrorList, want ...FieldErr) {
	t.Helper()
	g := make([]string, 0, len(got))
	for _, e := range got {
		g = append(g, FieldErr{e.Type, e.Field}.String())
	}
	w := make([]string, 0, len(want))
	for _, e := range want {
		w = append(w, e.String())
	}
	slices.Sort(g)
	slices.Sort(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("errors:\n  got  %q\n  want %q\n  (%v)", g, w, got)
	}
}

// Resource returns the resource of kind among resources, failing t when
// there is none.
func Resource(t testing.TB, resources []*registry.Resource, kind string) *registry.Resource {
	t.Helper()
	for _, r := range resources {
		if r.Kind == kind {
			return r
		}
	}
	t.Fatalf("no resource of kind %s", kind)
	return nil
}
