package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

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
	var buf bytes.Buffer
	if err := s.encodeTo(&buf, obj); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodePooled is Encode into a pooled buffer, for a write: stores do not
// retain the slices they are passed (see package storage), so once the
// write returns the buffer goes back with putEncodeBuffer.
func (s *Store) encodePooled(obj runtime.Object) (*bytes.Buffer, error) {
	buf := encodeBuffers.Get().(*bytes.Buffer)
	if err := s.encodeTo(buf, obj); err != nil {
		putEncodeBuffer(buf)
		return nil, err
	}
	return buf, nil
}

var encodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledEncodeBuffer keeps the buffers of large objects out of the
// pool, where they would pin their memory.
const maxPooledEncodeBuffer = 64 << 10

func putEncodeBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledEncodeBuffer {
		buf.Reset()
		encodeBuffers.Put(buf)
	}
}

func (s *Store) encodeTo(buf *bytes.Buffer, obj runtime.Object) error {
	if f := s.Resource.StoredAs; f != nil {
		conv, err := f.ToStorage(obj)
		if err != nil {
			return err
		}
		return encodeForStorage(buf, conv, f.Resource.GVK())
	}
	return encodeForStorage(buf, obj, s.Resource.GVK())
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

// encodeForStorage appends obj's JSON to buf, exactly as json.Marshal
// makes it.
func encodeForStorage(buf *bytes.Buffer, obj runtime.Object, gvk schema.GroupVersionKind) error {
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	err = json.NewEncoder(buf).Encode(obj)
	m.SetResourceVersion(rv)
	if err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends the value with a newline
	return nil
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
