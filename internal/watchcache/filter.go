package watchcache

import (
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
)

// Field names every resource's field selectors support.
const (
	fieldName      = "metadata.name"
	fieldNamespace = "metadata.namespace"
)

// filter is what a list or watch selects: a key range (the resource, one
// namespace, or one key) and selectors on the entries in it.
type filter struct {
	prefix string // every selected key has it
	key    string // when set, the only key selected
	name   string // when set (and key is not), metadata.name must equal it
	label  labels.Selector
	field  fields.Selector
}

// newFilter narrows the key range as far as the request allows: the
// namespace and name come from the request or, when the field selector
// requires exact values, from it (which is still applied in full).
func (c *Cache) newFilter(namespace, name string, ls labels.Selector, fs fields.Selector) filter {
	if ls != nil && ls.Empty() {
		ls = nil
	}
	if fs != nil && fs.Empty() {
		fs = nil
	}
	if fs != nil {
		if v, ok := fs.RequiresExactMatch(fieldNamespace); ok && namespace == "" {
			namespace = v
		}
		if v, ok := fs.RequiresExactMatch(fieldName); ok && name == "" {
			name = v
		}
	}
	f := filter{prefix: c.cfg.Prefix, label: ls, field: fs}
	if c.cfg.Namespaced && namespace != "" {
		f.prefix += namespace + "/"
	}
	switch {
	case name == "":
	case !c.cfg.Namespaced || namespace != "":
		f.key = f.prefix + name
	default:
		f.name = name
	}
	return f
}

// filtered reports whether the filter drops entries within its key range,
// so that counts of keys are not counts of results.
func (f *filter) filtered() bool {
	return f.key != "" || f.name != "" || f.label != nil || f.field != nil
}

// scope is the key of the filter's range in the watcher index.
func (f *filter) scope() string {
	if f.key != "" {
		return f.key
	}
	return f.prefix
}

func (f *filter) inRange(key string) bool {
	if f.key != "" {
		return key == f.key
	}
	return strings.HasPrefix(key, f.prefix)
}

// matches reports whether e is selected (e in range is the caller's
// check); it returns e's object when it is. A name the key rules out is
// decided without decoding the object.
func (f *filter) matches(e *entry) (*decoded, bool) {
	if f.name != "" && e.name() != f.name {
		return nil, false
	}
	d := e.load()
	switch {
	case d == nil:
		return nil, false
	case f.name != "" && d.fields[fieldName] != f.name:
		return nil, false
	case f.label != nil && !f.label.Matches(d.labels):
		return nil, false
	case f.field != nil && !f.field.Matches(d.fields):
		return nil, false
	}
	return d, true
}

// convert turns a change into what a watcher with this filter sees, if
// anything. An object that starts matching is ADDED, one that stops
// matching DELETED (with its new state), and a deletion carries the last
// state stamped with the deletion's revision. A new state that does not
// decode is a deletion too, of the last state.
func (f *filter) convert(e *event) (watch.Event, bool) {
	if !f.inRange(e.key) {
		return watch.Event{}, false
	}
	switch e.typ {
	case storage.Created:
		if d, ok := f.matches(e.cur); ok {
			return watch.Event{Type: watch.Added, Object: d.obj}, true
		}
	case storage.Updated:
		d, now := f.matches(e.cur)
		var before bool
		if e.prev != nil {
			_, before = f.matches(e.prev)
		}
		switch {
		case now && before:
			return watch.Event{Type: watch.Modified, Object: d.obj}, true
		case now:
			return watch.Event{Type: watch.Added, Object: d.obj}, true
		case before:
			if d := e.cur.load(); d != nil {
				return watch.Event{Type: watch.Deleted, Object: d.obj}, true
			}
			gone := stamped(e.prev.load(), e.rev)
			return watch.Event{Type: watch.Deleted, Object: gone.obj}, true
		}
	case storage.Deleted:
		if d, ok := f.matches(e.cur); ok {
			return watch.Event{Type: watch.Deleted, Object: d.obj}, true
		}
	}
	return watch.Event{}, false
}
