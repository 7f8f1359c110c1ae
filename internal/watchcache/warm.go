package watchcache

import (
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/api/resource"
)

// resource.Quantity caches its string form in itself the first time it
// is asked for it (String, and the protobuf encoding through it). An
// object the cache shares with several readers (encoders of lists and
// watch events, in-process informers) must not be written by any of
// them, so the cache asks every Quantity of an object for its string
// once, when the object is decoded and before anyone else sees it: later
// calls only read.

// warmer visits the Quantities held in an addressable value of one type.
type warmer func(v reflect.Value)

var (
	quantityType = reflect.TypeFor[resource.Quantity]()
	built        sync.Map // reflect.Type → *warmerOf, complete
	warmersMu    sync.Mutex
	warmers      = map[reflect.Type]*warmerOf{} // guarded by warmersMu
)

// warmerOf is a type's warmer; fn is nil for a type that holds no
// Quantity. Recursive types refer to their own entry while it is built.
type warmerOf struct {
	fn warmer
}

// warmQuantities fills in the cached string of every Quantity reachable
// from obj (a pointer) through exported fields, pointers, slices, arrays
// and map values, and that a reader could write in place. A Quantity
// that is itself a map value (a ResourceList's) is not: every reader
// gets a copy of it, and writes only that. Values behind interfaces are
// not visited. obj must not be shared yet.
func warmQuantities(obj any) {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return
	}
	if w := warmerFor(v.Type()); w.fn != nil {
		w.fn(v)
	}
}

func warmerFor(t reflect.Type) *warmerOf {
	if w, ok := built.Load(t); ok {
		return w.(*warmerOf)
	}
	warmersMu.Lock()
	defer warmersMu.Unlock()
	w := buildWarmer(t)
	built.Store(t, w)
	return w
}

// buildWarmer makes t's warmer; warmersMu is held.
func buildWarmer(t reflect.Type) *warmerOf {
	if w, ok := warmers[t]; ok {
		return w
	}
	w := &warmerOf{}
	warmers[t] = w // seen by the recursion below while fn is still nil
	if t == quantityType {
		w.fn = func(v reflect.Value) { _ = v.Addr().Interface().(*resource.Quantity).String() }
		return w
	}
	if !holdsQuantity(t) {
		return w
	}
	switch t.Kind() {
	case reflect.Pointer:
		elem := buildWarmer(t.Elem())
		w.fn = func(v reflect.Value) {
			if !v.IsNil() && elem.fn != nil {
				elem.fn(v.Elem())
			}
		}
	case reflect.Slice, reflect.Array:
		elem := buildWarmer(t.Elem())
		w.fn = func(v reflect.Value) {
			for i := range v.Len() {
				if elem.fn != nil {
					elem.fn(v.Index(i))
				}
			}
		}
	case reflect.Map:
		elem := buildWarmer(t.Elem())
		// Map values are not addressable: warm a copy, store it back.
		w.fn = func(v reflect.Value) {
			if elem.fn == nil {
				return
			}
			it := v.MapRange()
			for it.Next() {
				c := reflect.New(t.Elem()).Elem()
				c.Set(it.Value())
				elem.fn(c)
				v.SetMapIndex(it.Key(), c)
			}
		}
	case reflect.Struct:
		type field struct {
			index int
			w     *warmerOf
		}
		var fields []field
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && holdsQuantity(f.Type) {
				fields = append(fields, field{i, buildWarmer(f.Type)})
			}
		}
		w.fn = func(v reflect.Value) {
			for _, f := range fields {
				if f.w.fn != nil {
					f.w.fn(v.Field(f.index))
				}
			}
		}
	}
	return w
}

// holdsQuantity reports whether a value of t can hold a Quantity that
// warmQuantities visits.
func holdsQuantity(t reflect.Type) bool { return holds(t, map[reflect.Type]bool{}) }

func holds(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == quantityType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Map:
		return t.Elem() != quantityType && holds(t.Elem(), seen)
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return holds(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holds(f.Type, seen) {
				return true
			}
		}
	}
	return false
}
