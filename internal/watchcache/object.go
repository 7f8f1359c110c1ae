package watchcache

import (
	"bytes"
	"io"
	"reflect"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// CachedObject is one version of an object as the cache hands it out in
// watch events and lists. It implements runtime.CacheableObject: the
// serializers of k8s.io/apimachinery (json, protobuf, versioning) call
// CacheEncode. The object's first encoding is written and forgotten;
// later ones are kept, one per serializer and output version, and replayed
// to every later reader of the same version. An object version encoded
// once (for a single watcher, the common case for most objects) so costs
// no memory beyond the decoded object, and one read by many is encoded at
// most twice.
//
// The wrapped object is shared: Object returns it for reading only.
// GetObject and DeepCopyObject return copies a caller may change.
type CachedObject struct {
	mu        sync.RWMutex
	obj       runtime.Object // replaced, never modified, by SetGroupVersionKind
	encoded   bool           // an encoding was made and not kept
	encodings map[runtime.Identifier]*encoding
}

// encoding is one serializer's output for the object, made once.
type encoding struct {
	once sync.Once
	data []byte
	err  error
}

var (
	_ runtime.CacheableObject = (*CachedObject)(nil)
	_ runtime.Object          = (*CachedObject)(nil)
	_ schema.ObjectKind       = (*CachedObject)(nil)
)

func newCachedObject(obj runtime.Object) *CachedObject {
	return &CachedObject{obj: obj}
}

// Object returns the wrapped object. It is shared with every other reader
// and must not be modified.
func (o *CachedObject) Object() runtime.Object {
	o.mu.RLock()
	defer o.mu.RUnlock()
	return o.obj
}

// CacheEncode implements runtime.CacheableObject: the object's first call
// encodes a copy of it with encode straight to w; later calls encode it
// once per id and keep the bytes, which they write.
func (o *CachedObject) CacheEncode(id runtime.Identifier, encode func(runtime.Object, io.Writer) error, w io.Writer) error {
	o.mu.Lock()
	obj := o.obj
	enc := o.encodings[id]
	if enc == nil && !o.encoded {
		o.encoded = true
		o.mu.Unlock()
		// Encoders may set the GVK on what they encode: give them a copy
		// (the interface asks for that too).
		return encode(Shallow(obj), w)
	}
	if enc == nil {
		if o.encodings == nil {
			o.encodings = make(map[runtime.Identifier]*encoding, 1)
		}
		enc = &encoding{}
		o.encodings[id] = enc
	}
	o.mu.Unlock()
	enc.once.Do(func() {
		var buf bytes.Buffer
		enc.err = encode(Shallow(obj), &buf)
		// Kept as long as the object is cached: without the slack a
		// growing buffer leaves (up to half of it).
		enc.data = bytes.Clone(buf.Bytes())
	})
	if enc.err != nil {
		return enc.err
	}
	_, err := w.Write(enc.data)
	return err
}

// Shallow returns a copy of obj whose top-level fields (TypeMeta,
// ObjectMeta, Spec, Status, ...) are the copy's own and whose deeper
// parts (slices, maps, pointers) are shared with obj: the copy's kind,
// metadata fields and so on may be set; nothing below them may. That is
// what encoders (which set the kind) and informers (which drop managed
// fields) do with the cache's objects, at a fraction of a deep copy's
// cost. An unstructured object keeps everything in one map, so it gets a
// deep copy.
func Shallow(obj runtime.Object) runtime.Object {
	if _, ok := obj.(runtime.Unstructured); ok {
		return obj.DeepCopyObject()
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return obj.DeepCopyObject()
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c.Interface().(runtime.Object)
}

// GetObject implements runtime.CacheableObject: a deep copy the caller owns.
func (o *CachedObject) GetObject() runtime.Object { return o.Object().DeepCopyObject() }

// GetObjectKind implements runtime.Object. The kind is the wrapper's, so
// that setting it cannot race with other readers of the shared object.
func (o *CachedObject) GetObjectKind() schema.ObjectKind { return o }

// DeepCopyObject implements runtime.Object: a wrapper around a deep copy,
// with no encodings yet.
func (o *CachedObject) DeepCopyObject() runtime.Object {
	return &CachedObject{obj: o.Object().DeepCopyObject()}
}

// GroupVersionKind implements schema.ObjectKind.
func (o *CachedObject) GroupVersionKind() schema.GroupVersionKind {
	return o.Object().GetObjectKind().GroupVersionKind()
}

// SetGroupVersionKind implements schema.ObjectKind. A different kind
// replaces the wrapped object with a copy carrying it (copy on write) and
// drops the encodings made so far; readers holding the old object keep an
// unchanged one.
func (o *CachedObject) SetGroupVersionKind(gvk schema.GroupVersionKind) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.obj.GetObjectKind().GroupVersionKind() == gvk {
		return
	}
	obj := o.obj.DeepCopyObject()
	obj.GetObjectKind().SetGroupVersionKind(gvk)
	o.obj, o.encoded, o.encodings = obj, false, nil
}
