package watchcache

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"skiff.dev/skiff/internal/storage"
)

// Defaults for zero Config fields.
const (
	DefaultWindow = 4096
	// DefaultWatchBuffer lets a watcher fall well behind before it is cut
	// off: a busy cluster's pods change thousands of times a second, and
	// a client that paused for a second behind a 1,024-event buffer was
	// closed, resumed past the window, got 410 Gone and re-listed every
	// pod, seconds of stall for a controller or node agent. A lagging
	// watcher's queue holds references to shared events: at most this
	// many, whatever the number of watchers.
	DefaultWatchBuffer      = 16384
	DefaultBookmarkInterval = time.Minute
	DefaultRevisionWait     = 3 * time.Second
)

// Config describes one resource's cache.
type Config struct {
	// Store holds the resource; Prefix is its key prefix, ending in "/"
	// (e.g. "/registry/core/configmaps/"). Keys are <Prefix><namespace>/<name>
	// when Namespaced, else <Prefix><name>.
	Store      storage.Store
	Prefix     string
	Namespaced bool

	// GVK is the resource's kind and New returns an empty object of it;
	// bookmark events carry such an object holding only a resourceVersion.
	GVK schema.GroupVersionKind
	New func() runtime.Object

	// Decode turns a stored value into an object whose resourceVersion is
	// kv.ModRevision. The cache owns the result and never modifies it.
	Decode func(kv storage.KeyValue) (runtime.Object, error)

	// Attrs returns what selectors match: labels and fields, the fields
	// including metadata.name and metadata.namespace (added when missing).
	// The cache keeps the returned sets. Nil: the object's labels, and
	// those two fields only.
	Attrs func(obj runtime.Object) (labels.Set, fields.Set)

	// Window is how many recent events the cache keeps for watches that
	// resume from a resourceVersion and for lists at a past one (default
	// DefaultWindow).
	Window int
	// WatchBuffer is how many events a watcher may have undelivered before
	// it is closed as too slow (default DefaultWatchBuffer).
	WatchBuffer int
	// BookmarkInterval is how often watchers that allow bookmarks get one
	// (default DefaultBookmarkInterval).
	BookmarkInterval time.Duration
	// RevisionWait bounds how long a request for a resourceVersion the
	// cache has not reached waits before it fails with 504 (default
	// DefaultRevisionWait, as kube-apiserver).
	RevisionWait time.Duration
	// Clock drives bookmarks, waits and retries (default the real clock).
	Clock clock.WithTicker
	// Logger receives errors Run recovers from: undecodable values, failed
	// storage calls (default slog.Default()).
	Logger *slog.Logger
}

func (c *Config) validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("no Store"))
	}
	if !strings.HasSuffix(c.Prefix, "/") {
		errs = append(errs, fmt.Errorf("Prefix %q does not end in /", c.Prefix))
	}
	if c.New == nil || c.Decode == nil {
		errs = append(errs, errors.New("New and Decode are required"))
	}
	if c.GVK.Kind == "" {
		errs = append(errs, errors.New("no GVK"))
	}
	if c.Window < 0 || c.WatchBuffer < 0 || c.BookmarkInterval < 0 || c.RevisionWait < 0 {
		errs = append(errs, errors.New("negative Window, WatchBuffer, BookmarkInterval or RevisionWait"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("watchcache: invalid config: %w", err)
	}
	if c.Window == 0 {
		c.Window = DefaultWindow
	}
	if c.WatchBuffer == 0 {
		c.WatchBuffer = DefaultWatchBuffer
	}
	if c.BookmarkInterval == 0 {
		c.BookmarkInterval = DefaultBookmarkInterval
	}
	if c.RevisionWait == 0 {
		c.RevisionWait = DefaultRevisionWait
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return nil
}

// decoded wraps a decoded object with its selectable attributes.
func (c *Config) decoded(obj runtime.Object) (decoded, error) {
	ls, fs, err := c.attrs(obj)
	if err != nil {
		return decoded{}, err
	}
	warmQuantities(obj)
	return decoded{raw: obj, obj: newCachedObject(obj), labels: ls, fields: fs}, nil
}

// attrs computes an object's selectable attributes.
func (c *Config) attrs(obj runtime.Object) (labels.Set, fields.Set, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, err
	}
	var ls labels.Set
	var fs fields.Set
	if c.Attrs != nil {
		ls, fs = c.Attrs(obj)
	} else {
		ls = labels.Set(m.GetLabels())
	}
	if fs == nil {
		fs = make(fields.Set, 2)
	}
	if _, ok := fs[fieldName]; !ok {
		fs[fieldName] = m.GetName()
	}
	if _, ok := fs[fieldNamespace]; !ok {
		fs[fieldNamespace] = m.GetNamespace()
	}
	return ls, fs, nil
}
