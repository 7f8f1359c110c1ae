package watchcache

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/storage"
)

// ListOptions are a LIST request's parameters, as the API layer parsed them.
type ListOptions struct {
	// Namespace limits the list to one namespace ("" for all).
	Namespace string

	LabelSelector labels.Selector // nil: everything
	FieldSelector fields.Selector // nil: everything

	// ResourceVersion and ResourceVersionMatch have their Kubernetes
	// meaning: "" is a consistent read of the latest state, "0" whatever
	// the cache has, N not older than N (exactly N with
	// ResourceVersionMatch Exact, or with a Limit and no match).
	ResourceVersion      string
	ResourceVersionMatch metav1.ResourceVersionMatch

	// Limit caps the items returned (0: no limit); Continue is the token
	// of the previous page.
	Limit    int64
	Continue string
}

// ListResult is one page of a LIST.
type ListResult struct {
	// Items are the matching objects in key order. They are shared with
	// the cache and other requests: read them, never modify them.
	Items []runtime.Object
	// Cached holds the same objects as Items, wrapped: encoding them
	// through apimachinery serializers reuses each object's kept encoding
	// (CachedObject), across lists and watch events.
	Cached []*CachedObject
	// Revision is the list's resourceVersion: the state it reflects. Every
	// page of a paginated list has the first page's.
	Revision storage.Revision
	// Continue is set when more items may follow.
	Continue string
	// RemainingItemCount is how many objects follow this page; set on
	// pages with a Continue when no selector filters the list.
	RemainingItemCount *int64
}

// readMode is how a list chooses the revision it reads.
type readMode uint8

const (
	readConsistent   readMode = iota + 1 // the store's current revision
	readAny                              // whatever the cache has
	readNotOlderThan                     // the cache at rev or later
	readExact                            // exactly rev
)

// List serves a LIST from the cache, falling back to the store for
// revisions older than the cache's window and for consistent reads the
// cache cannot confirm in time. Errors are API errors (*StatusError): 400
// for bad parameters, 410 Expired for a revision or continue token that is
// gone, 504 ResourceVersionTooLarge for a revision the cache does not reach
// within Config.RevisionWait. A context error is returned as it is.
func (c *Cache) List(ctx context.Context, opts ListOptions) (*ListResult, error) {
	if opts.Limit < 0 {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %d", opts.Limit))
	}
	rv, err := parseResourceVersion(opts.ResourceVersion)
	if err != nil {
		return nil, err
	}
	f := c.newFilter(opts.Namespace, "", opts.LabelSelector, opts.FieldSelector)

	mode, start := readAny, ""
	switch {
	case opts.Continue != "":
		if opts.ResourceVersion != "" && rv != 0 {
			return nil, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
		}
		if opts.ResourceVersionMatch != "" {
			return nil, apierrors.NewBadRequest("resourceVersionMatch is forbidden when continue is provided")
		}
		if start, rv, err = decodeContinue(opts.Continue, c.cfg.Prefix); err != nil {
			return nil, errBadContinue(err)
		}
		mode = readExact
	case opts.ResourceVersionMatch != "" && opts.ResourceVersion == "":
		return nil, apierrors.NewBadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided")
	case opts.ResourceVersionMatch == metav1.ResourceVersionMatchExact:
		if rv == 0 {
			return nil, apierrors.NewBadRequest(`resourceVersionMatch "Exact" is forbidden for resourceVersion "0"`)
		}
		mode = readExact
	case opts.ResourceVersionMatch != "" && opts.ResourceVersionMatch != metav1.ResourceVersionMatchNotOlderThan:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("unknown resourceVersionMatch %q", opts.ResourceVersionMatch))
	case opts.ResourceVersion == "":
		mode = readConsistent
	case rv == 0:
		mode = readAny
	case opts.Limit > 0 && opts.ResourceVersionMatch == "":
		mode = readExact // the legacy meaning of N with a limit
	default:
		mode = readNotOlderThan
	}
	if err := c.WaitReady(ctx); err != nil {
		return nil, err
	}
	q := listQuery{f: f, limit: opts.Limit, start: start, continued: opts.Continue != ""}

	switch mode {
	case readConsistent:
		cur, err := c.cfg.Store.CurrentRevision(ctx)
		if err != nil {
			return nil, storageError(err)
		}
		reached, _, err := c.waitFor(ctx, cur, true)
		if err != nil {
			return nil, err
		}
		if !reached {
			// The store cannot report progress, or the cache is behind:
			// read the store itself, which is consistent by definition.
			return c.listStorage(ctx, storage.AnyRevision, q)
		}
	case readNotOlderThan, readExact:
		if c.Revision() < rv {
			if res, err, done := c.catchUp(ctx, rv, mode, q); done {
				return res, err
			}
		}
	}

	if mode != readExact {
		snap, at := c.snapshot()
		return c.listSnapshot(snap, at, q), nil
	}
	c.mu.RLock()
	snap, ok := c.window.snapshotAt(rv)
	c.mu.RUnlock()
	if ok && snap == nil {
		// A state the window keeps no snapshot of: rebuilt under the write
		// lock (see window.rebuildAt); the window may have moved meanwhile.
		c.mu.Lock()
		snap, ok = c.window.rebuildAt(rv, c.snapshotLocked())
		c.mu.Unlock()
	}
	if !ok {
		return c.listStorage(ctx, rv, q) // older than the window
	}
	return c.listSnapshot(snap, rv, q), nil
}

// catchUp waits for the cache to reach rev. When it does not in time, the
// list is served by the store if the store has reached rev (done is true
// then), and fails with 504 if not.
func (c *Cache) catchUp(ctx context.Context, rev storage.Revision, mode readMode, q listQuery) (res *ListResult, err error, done bool) {
	reached, unsupported, err := c.waitFor(ctx, rev, true)
	if err != nil {
		return nil, err, true
	}
	if reached {
		return nil, nil, false
	}
	cur, err := c.cfg.Store.CurrentRevision(ctx)
	if err != nil {
		return nil, storageError(err), true
	}
	if cur >= rev {
		at := rev
		if mode == readNotOlderThan {
			at = storage.AnyRevision
		}
		res, err := c.listStorage(ctx, at, q)
		return res, err, true
	}
	if unsupported { // it did not wait: wait for events alone
		if reached, _, err = c.waitFor(ctx, rev, false); err != nil || reached {
			return nil, err, err != nil
		}
	}
	return nil, errTooLargeResourceVersion(rev, c.Revision()), true
}

// listQuery is what to read, independent of where it is read from.
type listQuery struct {
	f         filter
	limit     int64
	start     string // a key to start at (from a continue token), or ""
	continued bool   // a continue token was given
}

// listSnapshot reads one page from a cache snapshot at rev.
func (c *Cache) listSnapshot(snap *tree, rev storage.Revision, q listQuery) *ListResult {
	res := &ListResult{Revision: rev}
	filtered := q.f.filtered()
	switch {
	case q.limit > 0:
		res.Items = make([]runtime.Object, 0, min(q.limit, int64(snap.Len())))
		res.Cached = make([]*CachedObject, 0, cap(res.Items))
	case !filtered && q.f.prefix == c.cfg.Prefix:
		res.Items = make([]runtime.Object, 0, snap.Len()) // everything
		res.Cached = make([]*CachedObject, 0, snap.Len())
	}
	var last string
	var more bool
	var remaining int64
	ascend(snap, &q.f, q.start, func(e *entry) bool {
		if q.limit > 0 && int64(len(res.Items)) == q.limit {
			if filtered { // is there one more match? stop at the first
				_, more = q.f.matches(e)
				return !more
			}
			more = true
			remaining++
			return true
		}
		if d, ok := q.f.matches(e); ok {
			res.Items = append(res.Items, d.raw)
			res.Cached = append(res.Cached, d.obj)
			last = e.key
		}
		return true
	})
	if more {
		res.Continue = encodeContinue(rev, last+"\x00", c.cfg.Prefix)
		if !filtered {
			res.RemainingItemCount = &remaining
		}
	}
	return res
}

// storageListPage is the smallest page listStorage reads when a selector
// filters the keys it gets.
const storageListPage = 500

// listStorage reads one page from the store at rev (AnyRevision: the
// current state), decoding and filtering there.
func (c *Cache) listStorage(ctx context.Context, rev storage.Revision, q listQuery) (*ListResult, error) {
	prefix := q.f.prefix
	if q.f.key != "" {
		prefix = q.f.key // the key and keys it prefixes; filtered below
	}
	filtered := q.f.filtered()
	opts := storage.ListOptions{Revision: rev, Limit: q.limit}
	if filtered && q.limit > 0 {
		// Matches are sparse: read in bigger pages than asked for.
		opts.Limit = max(q.limit, storageListPage)
	}
	switch {
	case q.start == "" || q.start <= prefix:
	case strings.HasPrefix(q.start, prefix):
		opts.Start = q.start
	default: // starts after the whole range
		return &ListResult{Revision: c.pinned(ctx, rev)}, nil
	}
	res := &ListResult{}
	var last string
	for {
		page, err := c.cfg.Store.List(ctx, prefix, opts)
		if err != nil {
			if q.continued && errors.Is(err, storage.ErrCompacted) {
				return nil, errContinueExpired(c.freshContinue(q.start))
			}
			return nil, storageError(err)
		}
		opts.Revision = page.Revision // later pages read the same snapshot
		res.Revision = page.Revision
		for i, kv := range page.KVs {
			if q.limit > 0 && int64(len(res.Items)) == q.limit {
				res.Continue = encodeContinue(page.Revision, last+"\x00", c.cfg.Prefix)
				if !filtered {
					n := int64(len(page.KVs)-i) + page.Remaining
					res.RemainingItemCount = &n
				}
				return res, nil
			}
			if q.f.key != "" && kv.Key != q.f.key {
				continue
			}
			obj, err := c.cfg.Decode(kv)
			if err != nil {
				return nil, apierrors.NewInternalError(fmt.Errorf("decoding %s at revision %d: %w", kv.Key, kv.ModRevision, err))
			}
			e, err := c.entryFor(kv.Key, obj, kv.ModRevision)
			if err != nil {
				return nil, apierrors.NewInternalError(err)
			}
			if d, ok := q.f.matches(e); ok {
				res.Items = append(res.Items, obj)
				res.Cached = append(res.Cached, d.obj)
				last = kv.Key
			}
		}
		if page.Continue == "" {
			return res, nil
		}
		if q.limit > 0 && int64(len(res.Items)) == q.limit {
			res.Continue = encodeContinue(page.Revision, last+"\x00", c.cfg.Prefix)
			if !filtered {
				res.RemainingItemCount = &page.Remaining
			}
			return res, nil
		}
		opts.Start, opts.Continue = "", page.Continue
	}
}

// pinned is the revision an empty storage read at rev reports.
func (c *Cache) pinned(ctx context.Context, rev storage.Revision) storage.Revision {
	if rev != storage.AnyRevision {
		return rev
	}
	if cur, err := c.cfg.Store.CurrentRevision(ctx); err == nil {
		return cur
	}
	return c.Revision()
}

// freshContinue is a token continuing at start from the cache's current
// revision, offered with a 410 for an expired one.
func (c *Cache) freshContinue(start string) string {
	if start == "" {
		return ""
	}
	return encodeContinue(c.Revision(), start, c.cfg.Prefix)
}
