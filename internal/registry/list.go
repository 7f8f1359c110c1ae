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
	return l.List, nil
}

// CachedList is a list and the same items as cacheable objects, whose
// encodings are made once and shared by every list and watch that sends
// them.
type CachedList struct {
	List  runtime.Object
	Items []*watchcache.CachedObject
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
	list, err := s.NewList(res.Items, strconv.FormatInt(int64(res.Revision), 10), res.Continue, res.RemainingItemCount)
	if err != nil {
		return nil, err
	}
	return &CachedList{List: list, Items: res.Cached}, nil
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
