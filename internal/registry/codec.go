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

// Objects are stored without metadata.resourceVersion (the store's
// ModRevision is the resource version, set on every decode), in
// kube-apiserver's storage format: built-in kinds as protobuf behind the
// magic prefix "k8s\x00", in a runtime.Unknown envelope naming their
// apiVersion and kind; kinds without protobuf (custom resources) as JSON.
// Decoding reads either, so a store written as JSON by an older skiff
// reads on, and moves to protobuf object by object as they are written.
//
// Protobuf because the store is read far more than it is written: the
// watch cache decodes every object written, a protobuf pod decodes in a
// fraction of its JSON's time, and takes about half the bytes in the
// embedded store's memory and on disk.

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

// protoMagic starts every protobuf-encoded stored object, as in
// kube-apiserver's storage.
var protoMagic = []byte{'k', '8', 's', 0}

// protoObject is a kind with generated protobuf code: every built-in kind.
type protoObject interface {
	runtime.Object
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
	Unmarshal([]byte) error
}

// encodeForStorage appends obj's stored form to buf: protobuf when its
// kind has it, else its JSON exactly as json.Marshal makes it.
func encodeForStorage(buf *bytes.Buffer, obj runtime.Object, gvk schema.GroupVersionKind) error {
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	m, err := meta.Accessor(obj)
	if err != nil {
		return err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	defer m.SetResourceVersion(rv)
	if p, ok := obj.(protoObject); ok {
		return encodeProto(buf, p, gvk)
	}
	if err := json.NewEncoder(buf).Encode(obj); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode ends the value with a newline
	return nil
}

// encodeProto appends the magic prefix and the runtime.Unknown envelope
// holding obj's protobuf, the bytes kube-apiserver stores.
func encodeProto(buf *bytes.Buffer, obj protoObject, gvk schema.GroupVersionKind) error {
	raw := make([]byte, obj.Size())
	if _, err := obj.MarshalToSizedBuffer(raw); err != nil {
		return fmt.Errorf("registry: protobuf of %v: %w", gvk, err)
	}
	unk := runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: gvk.GroupVersion().String(), Kind: gvk.Kind}, Raw: raw}
	n := unk.Size()
	buf.Grow(len(protoMagic) + n)
	buf.Write(protoMagic)
	out := buf.AvailableBuffer()[:n]
	if _, err := unk.MarshalToSizedBuffer(out); err != nil {
		return fmt.Errorf("registry: protobuf of %v: %w", gvk, err)
	}
	buf.Write(out)
	return nil
}

func decodeFromStorage(kv storage.KeyValue, into runtime.Object) error {
	var err error
	if bytes.HasPrefix(kv.Value, protoMagic) {
		err = decodeProto(kv.Value[len(protoMagic):], into)
	} else {
		err = json.Unmarshal(kv.Value, into)
	}
	if err != nil {
		return fmt.Errorf("registry: decode %s at revision %d: %w", kv.Key, kv.ModRevision, err)
	}
	m, err := meta.Accessor(into)
	if err != nil {
		return err
	}
	m.SetResourceVersion(strconv.FormatInt(int64(kv.ModRevision), 10))
	return nil
}

// decodeProto reads a protobuf envelope into into, which must be of the
// kind it names.
func decodeProto(data []byte, into runtime.Object) error {
	p, ok := into.(protoObject)
	if !ok {
		return fmt.Errorf("stored as protobuf, but %T has no protobuf", into)
	}
	var unk runtime.Unknown
	if err := unk.Unmarshal(data); err != nil {
		return err
	}
	if err := p.Unmarshal(unk.Raw); err != nil {
		return err
	}
	into.GetObjectKind().SetGroupVersionKind(schema.FromAPIVersionAndKind(unk.APIVersion, unk.Kind))
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
