package apiserver

import (
	"fmt"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/conversion"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
)

// Two API versions of one kind kept in one storage (registry.StoredAs)
// must also convert through Scheme: managed fields record the version
// each manager wrote through, and the field manager converts the live
// object to those versions to compare ownership. Without a conversion it
// fails ("unknown conversion") and drops the write's managed fields.

var (
	storedAsMu        sync.Mutex
	storedAsConverted = map[[2]reflect.Type]bool{}
)

// addStoredAsConversions registers in Scheme, once per pair of types, the
// conversions between r's kind and the kind it is stored as. Registration
// happens when the resource is registered, before it is served.
func addStoredAsConversions(r *registry.Resource) error {
	f := r.StoredAs
	if f == nil {
		return nil
	}
	served, stored := r.Strategy.New(), f.Resource.Strategy.New()
	if _, ok := served.(runtime.Unstructured); ok {
		return nil
	}
	if _, ok := stored.(runtime.Unstructured); ok {
		return nil
	}
	key := [2]reflect.Type{reflect.TypeOf(served), reflect.TypeOf(stored)}
	storedAsMu.Lock()
	defer storedAsMu.Unlock()
	if storedAsConverted[key] {
		return nil
	}
	if err := Scheme.AddConversionFunc(served, stored, convertWith(f.ToStorage)); err != nil {
		return err
	}
	if err := Scheme.AddConversionFunc(stored, served, convertWith(f.FromStorage)); err != nil {
		return err
	}
	storedAsConverted[key] = true
	return nil
}

// convertWith adapts a StoredAs conversion to a scheme conversion: the
// result is copied into the object the scheme made.
func convertWith(convert func(runtime.Object) (runtime.Object, error)) conversion.ConversionFunc {
	return func(in, out any, _ conversion.Scope) error {
		obj, ok := in.(runtime.Object)
		if !ok {
			return fmt.Errorf("apiserver: cannot convert %T", in)
		}
		got, err := convert(obj.DeepCopyObject())
		if err != nil {
			return err
		}
		dst, src := reflect.ValueOf(out), reflect.ValueOf(got)
		if dst.Kind() != reflect.Pointer || dst.Type() != src.Type() {
			return fmt.Errorf("apiserver: conversion made %T, want %T", got, out)
		}
		dst.Elem().Set(src.Elem())
		return nil
	}
}
