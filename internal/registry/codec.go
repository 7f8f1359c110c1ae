package registry

import (
	"encoding/json"
	"fmt"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"skiff.dev/skiff/internal/storage"
)

// Objects are stored as their JSON with apiVersion and kind and without
// metadata.resourceVersion: the store's ModRevision is the resource
// version, set on every decode.

// Encode returns the stored form of obj: its JSON, converted first when the
// resource is stored as another resource's kind.
func (s *Store) Encode(obj runtime.Object) ([]byte, error) {
	if f := s.Resource.StoredAs; f != nil {
		conv, err := f.ToStorage(obj)
		if err != nil {
			return nil, err
		}
		return encodeForStorage(conv, f.Resource.GVK())
	}
	return encodeForStorage(obj, s.Resource.GVK())
}

// Decode reads a stored object as the resource's kind, with its
// resourceVersion set from the store.
func (s *Store) Decode(kv storage.KeyValue) (runtime.Object, error) {
	if f := s.Resource.StoredAs; f != nil {
		stored := f.Resource.Strategy.New()
		if err := decodeFromStorage(kv, stored); err != nil {
			return nil, err
		}
		return f.FromStorage(stored)
	}
	obj := s.Resource.Strategy.New()
	if err := decodeFromStorage(kv, obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func encodeForStorage(obj runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	data, err := json.Marshal(obj)
	m.SetResourceVersion(rv)
	return data, err
}

func decodeFromStorage(kv storage.KeyValue, into runtime.Object) error {
	if err := json.Unmarshal(kv.Value, into); err != nil {
		return fmt.Errorf("registry: decode %s at revision %d: %w", kv.Key, kv.ModRevision, err)
	}
	m, err := meta.Accessor(into)
	if err != nil {
		return err
	}
	m.SetResourceVersion(strconv.FormatInt(int64(kv.ModRevision), 10))
	return nil
}

// ParseResourceVersion parses a client's resourceVersion; "" is zero.
func ParseResourceVersion(rv string) (storage.Revision, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid resource version %q", rv)
	}
	return storage.Revision(n), nil
}
