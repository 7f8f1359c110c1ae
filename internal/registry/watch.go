package registry

import (
	"context"
	"errors"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"skiff.dev/skiff/internal/storage"
)

// WatchOptions select a watch.
type WatchOptions struct {
	ListOptions
	AllowBookmarks    bool
	SendInitialEvents *bool
}

// Watch streams changes to the objects under namespace ns that match opts,
// straight from storage: resourceVersion "" or "0" first sends the current
// objects as ADDED, then their changes; a resourceVersion N sends every
// change after N, or a 410 Expired error event when N is compacted. An
// object that stops matching the selectors is sent as DELETED, one that
// starts matching as ADDED.
func (s *Store) Watch(ctx context.Context, ns string, opts WatchOptions) (watch.Interface, error) {
	since, err := ParseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	initial := opts.ResourceVersion == "" || opts.ResourceVersion == "0"
	if opts.SendInitialEvents != nil {
		initial = *opts.SendInitialEvents
	}
	prefix := s.Key(ns, "")
	var initialObjs []runtime.Object
	if initial {
		res, err := s.Storage.List(ctx, prefix, storage.ListOptions{})
		if err != nil {
			return nil, s.storageError(err, "")
		}
		for _, kv := range res.KVs {
			obj, err := s.Decode(kv)
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			if opts.Matches(ObjectAttrs(s.Resource, obj)) {
				initialObjs = append(initialObjs, obj)
			}
		}
		if since < res.Revision {
			since = res.Revision
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &storeWatch{s: s, opts: opts, out: make(chan watch.Event, 100), cancel: cancel, done: make(chan struct{})}
	sw, err := s.Storage.Watch(ctx, prefix, since)
	if err != nil && !errors.Is(err, storage.ErrCompacted) {
		cancel()
		return nil, s.storageError(err, "")
	}
	go w.run(ctx, sw, err, initialObjs, initial && opts.SendInitialEvents != nil && opts.AllowBookmarks, since)
	return w, nil
}

type storeWatch struct {
	s      *Store
	opts   WatchOptions
	out    chan watch.Event
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *storeWatch) Stop()                          { w.cancel(); <-w.done }
func (w *storeWatch) ResultChan() <-chan watch.Event { return w.out }

func (w *storeWatch) run(ctx context.Context, sw storage.Watch, werr error, initial []runtime.Object, endBookmark bool, rev storage.Revision) {
	defer close(w.done)
	defer close(w.out)
	send := func(ev watch.Event) bool {
		select {
		case w.out <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if werr != nil {
		st := apierrors.NewResourceExpired("too old resource version").Status()
		send(watch.Event{Type: watch.Error, Object: &st})
		return
	}
	defer sw.Stop()
	for _, obj := range initial {
		if !send(watch.Event{Type: watch.Added, Object: obj}) {
			return
		}
	}
	if endBookmark {
		bm := w.s.Resource.Strategy.New()
		bm.GetObjectKind().SetGroupVersionKind(w.s.Resource.GVK())
		m, _ := meta.Accessor(bm)
		m.SetResourceVersion(strconv.FormatInt(int64(rev), 10))
		m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
		if !send(watch.Event{Type: watch.Bookmark, Object: bm}) {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sw.Events():
			if !ok {
				if errors.Is(sw.Err(), storage.ErrCompacted) || errors.Is(sw.Err(), storage.ErrWatcherTooSlow) {
					st := apierrors.NewResourceExpired("too old resource version").Status()
					send(watch.Event{Type: watch.Error, Object: &st})
				}
				return
			}
			out, ok := w.translate(ev)
			if ok && !send(out) {
				return
			}
		}
	}
}

// translate turns a storage event into the watch event this watcher sees,
// given its selectors.
func (w *storeWatch) translate(ev storage.Event) (watch.Event, bool) {
	decode := func(kv storage.KeyValue) (runtime.Object, bool) {
		obj, err := w.s.Decode(kv)
		if err != nil {
			return nil, false
		}
		return obj, true
	}
	var cur, prev runtime.Object
	var ok bool
	if ev.Type != storage.Deleted {
		if cur, ok = decode(ev.KV); !ok {
			return watch.Event{}, false
		}
	}
	if ev.Prev.Key != "" {
		if prev, ok = decode(ev.Prev); !ok {
			return watch.Event{}, false
		}
	}
	curMatch := cur != nil && w.opts.Matches(ObjectAttrs(w.s.Resource, cur))
	prevMatch := prev != nil && w.opts.Matches(ObjectAttrs(w.s.Resource, prev))
	switch {
	case ev.Type == storage.Deleted:
		if !prevMatch {
			return watch.Event{}, false
		}
		m, _ := meta.Accessor(prev)
		m.SetResourceVersion(ev.KV.ModRevision.String())
		return watch.Event{Type: watch.Deleted, Object: prev}, true
	case curMatch && prevMatch:
		return watch.Event{Type: watch.Modified, Object: cur}, true
	case curMatch:
		return watch.Event{Type: watch.Added, Object: cur}, true
	case prevMatch:
		return watch.Event{Type: watch.Deleted, Object: cur}, true
	}
	return watch.Event{}, false
}
