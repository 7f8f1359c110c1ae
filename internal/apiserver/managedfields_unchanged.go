package apiserver

import (
	"reflect"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/watchcache"
)

// withoutShared returns live and obj for the field manager's comparison,
// less the top-level fields (spec, status, ...) that obj shares with live:
// shallow copies of both with those fields zeroed, or live and obj
// themselves when there are none. A field both hold identically adds
// nothing to the comparison of the two (nothing added, changed or
// removed under it), so the managed fields the chain computes are the
// same; walking it was a tenth of a busy server's CPU. The status
// strategies share the live spec that way (pod.Spec = old.Spec), and the
// main resource's share the live status.
//
// Sharing is checked, not equality: the same scalars and strings, and
// slices, maps and pointers that point at the same memory, field by field
// down to that memory. Metadata is always compared: the chain reads and
// writes it.
func withoutShared(live, obj runtime.Object) (runtime.Object, runtime.Object) {
	lv, ov := reflect.ValueOf(live), reflect.ValueOf(obj)
	if lv.Kind() != reflect.Pointer || lv.Type() != ov.Type() || lv.IsNil() || ov.IsNil() || lv.Elem().Kind() != reflect.Struct {
		return live, obj
	}
	l, o := lv.Elem(), ov.Elem()
	var drop []int
	for i := range l.NumField() {
		f := l.Type().Field(i)
		if f.Anonymous || f.Name == "ObjectMeta" || !f.IsExported() {
			continue // TypeMeta, ObjectMeta
		}
		if sameMemory(l.Field(i), o.Field(i)) {
			drop = append(drop, i)
		}
	}
	if len(drop) == 0 {
		return live, obj
	}
	lc, oc := reflect.New(l.Type()), reflect.New(o.Type())
	lc.Elem().Set(l)
	oc.Elem().Set(o)
	for _, i := range drop {
		lc.Elem().Field(i).SetZero()
		oc.Elem().Field(i).SetZero()
	}
	return lc.Interface().(runtime.Object), oc.Interface().(runtime.Object)
}

// sameMemory reports whether a and b, of one type, hold the same value by
// sharing it: what one holds directly equals the other's, and what it
// points at is the very memory the other points at.
func sameMemory(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameMemory(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Array:
		for i := range a.Len() {
			if !sameMemory(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		return a.IsNil() == b.IsNil() && a.Len() == b.Len() && (a.Len() == 0 || a.Pointer() == b.Pointer())
	case reflect.Map:
		return a.IsNil() == b.IsNil() && a.Len() == b.Len() && (a.Len() == 0 || a.Pointer() == b.Pointer())
	case reflect.Pointer, reflect.UnsafePointer, reflect.Chan, reflect.Func:
		return a.Pointer() == b.Pointer()
	case reflect.Interface:
		return a.IsNil() && b.IsNil()
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return a.Float() == b.Float()
	case reflect.Complex64, reflect.Complex128:
		return a.Complex() == b.Complex()
	}
	return false
}

// withoutManagedFields is o without managed fields: o itself when it has
// none, or else a shallow copy of it (of obj's copy o, or of obj) with
// none.
func withoutManagedFields(o, obj runtime.Object) runtime.Object {
	m, err := meta.Accessor(o)
	if err != nil || len(m.GetManagedFields()) == 0 {
		return o
	}
	if o == obj {
		o = watchcache.Shallow(obj)
		m, _ = meta.Accessor(o)
	}
	m.SetManagedFields(nil)
	return o
}
