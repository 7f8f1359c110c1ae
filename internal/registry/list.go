package registry

import (
	"context"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/watchcache"
)

// ListOptions select and page a list.
type ListOptions struct {
	Labels               labels.Selector
	Fields               fields.Selector
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch
	Limit                int64
	Continue             string
}

// ObjectAttrs are what selectors match on an object of r: its labels, and
// metadata.name, metadata.namespace plus the kind's selectable fields.
func ObjectAttrs(r *Resource, obj runtime.Object) Attrs {
	m, err := meta.Accessor(obj)
	if err != nil {
		return Attrs{}
	}
	f := fields.Set{"metadata.name": m.GetName()}
	if r.Namespaced {
		f["metadata.namespace"] = m.GetNamespace()
	}
	for k, v := range r.Strategy.SelectableFields(obj) {
		f[k] = v
	}
	return Attrs{Labels: labels.Set(m.GetLabels()), Fields: f}
}

// Matches reports whether obj satisfies the options' selectors.
func (o ListOptions) Matches(a Attrs) bool {
	if o.Labels != nil && !o.Labels.Matches(a.Labels) {
		return false
	}
	if o.Fields != nil && !o.Fields.Matches(a.Fields) {
		return false
	}
	return true
}

// WatchOptions select a watch.
type WatchOptions struct {
	ListOptions
	AllowBookmarks    bool
	SendInitialEvents *bool
}

// List returns the objects under namespace ns ("" for all) that match opts,
// from the resource's watch cache, as a list of the resource's list kind.
// The items are shared with the cache: callers must not modify them.
func (s *Store) List(ctx context.Context, ns string, opts ListOptions) (runtime.Object, error) {
	l, err := s.ListCached(ctx, ns, opts)
	if err != nil {
		return nil, err
	}
	return l.List()
}

// CachedList is one list answer: its metadata, and the items as cacheable
// objects whose encodings are made once and shared by every list and
// watch that sends them. List builds the typed list only when a caller
// needs it (Tables, YAML, protobuf); JSON is written from the items.
type CachedList struct {
	ResourceVersion    string
	Continue           string
	RemainingItemCount *int64
	Items              []*watchcache.CachedObject

	store *Store
	raw   []runtime.Object // the same objects, unwrapped
}

// List is the typed list of the resource's list kind. Its items are shared
// with the cache: callers must not modify them.
func (l *CachedList) List() (runtime.Object, error) {
	return l.store.NewList(l.raw, l.ResourceVersion, l.Continue, l.RemainingItemCount)
}

// ListCached is List, with the items also in cacheable form.
func (s *Store) ListCached(ctx context.Context, ns string, opts ListOptions) (*CachedList, error) {
	res, err := s.cache.List(ctx, watchcache.ListOptions{
		Namespace:            ns,
		LabelSelector:        opts.Labels,
		FieldSelector:        opts.Fields,
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Limit:                opts.Limit,
		Continue:             opts.Continue,
	})
	if err != nil {
		return nil, err
	}
	return &CachedList{
		ResourceVersion:    strconv.FormatInt(int64(res.Revision), 10),
		Continue:           res.Continue,
		RemainingItemCount: res.RemainingItemCount,
		Items:              res.Cached,
		store:              s,
		raw:                res.Items,
	}, nil
}

// Watch streams changes to the objects under namespace ns that match
// opts, from the resource's watch cache. Event objects are shared
// runtime.CacheableObjects: callers must not modify them.
func (s *Store) Watch(ctx context.Context, ns string, opts WatchOptions) (watch.Interface, error) {
	return s.cache.Watch(ctx, watchcache.WatchOptions{
		Namespace:         ns,
		LabelSelector:     opts.Labels,
		FieldSelector:     opts.Fields,
		ResourceVersion:   opts.ResourceVersion,
		AllowBookmarks:    opts.AllowBookmarks,
		SendInitialEvents: opts.SendInitialEvents,
	})
}

// NewList wraps items in a list of the resource's list kind.
func (s *Store) NewList(items []runtime.Object, rv, cont string, remaining *int64) (runtime.Object, error) {
	list := s.Resource.Strategy.NewList()
	if err := meta.SetList(list, items); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm.SetResourceVersion(rv)
	lm.SetContinue(cont)
	lm.SetRemainingItemCount(remaining)
	list.GetObjectKind().SetGroupVersionKind(s.Resource.GVR.GroupVersion().WithKind(s.Resource.ListKind))
	return list, nil
}
