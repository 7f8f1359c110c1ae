package storage

import "errors"

// Sentinel errors. Backends wrap them with %w; callers test with errors.Is.
// The API layer maps them to Kubernetes Status codes: ErrNotFound → 404,
// ErrKeyExists → 409 AlreadyExists, ErrConflict → 409 Conflict,
// ErrCompacted → 410 Expired, ErrFutureRevision → 504 with
// ResourceVersionTooLarge.
var (
	// ErrNotFound: the key does not exist (at the requested revision).
	ErrNotFound = errors.New("storage: key not found")
	// ErrKeyExists: Create of a key that already exists.
	ErrKeyExists = errors.New("storage: key already exists")
	// ErrConflict: the key's revision is not the one the caller expected.
	ErrConflict = errors.New("storage: revision conflict")
	// ErrCompacted: the requested revision is older than retained history.
	ErrCompacted = errors.New("storage: required revision has been compacted")
	// ErrFutureRevision: the requested revision is newer than the store's.
	ErrFutureRevision = errors.New("storage: required revision is a future revision")
	// ErrWatcherTooSlow: the watcher fell too far behind and was closed; the
	// caller must watch again from the last revision it saw (or re-list).
	ErrWatcherTooSlow = errors.New("storage: watcher fell behind and was closed")
	// ErrClosed: the store (or the watch) has been closed.
	ErrClosed = errors.New("storage: closed")
	// ErrInvalid: the request itself is malformed (empty key, bad options).
	ErrInvalid = errors.New("storage: invalid request")
	// ErrUnsupported: the backend cannot do this, e.g. order progress
	// notifications on an etcd server that predates the fix for it. The
	// caller falls back to something the contract always offers.
	ErrUnsupported = errors.New("storage: not supported by this backend")
)
