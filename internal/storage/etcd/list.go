package etcd

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"

	"skiff.dev/skiff/internal/storage"
)

// List reads one page of keys under prefix, linearizably, at opts.Revision.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if opts.Revision < 0 || opts.Limit < 0 {
		return storage.ListResult{}, fmt.Errorf("etcd: list %q: %w: revision %d, limit %d",
			prefix, storage.ErrInvalid, opts.Revision, opts.Limit)
	}
	if s.isClosed() {
		return storage.ListResult{}, storage.ErrClosed
	}
	full := s.full(prefix)
	start := full
	switch {
	case opts.Continue != "" && opts.Start != "":
		return storage.ListResult{}, fmt.Errorf("etcd: list %q: %w: both Continue and Start set", prefix, storage.ErrInvalid)
	case opts.Continue != "":
		key, err := decodeContinue(opts.Continue, prefix)
		if err != nil {
			return storage.ListResult{}, fmt.Errorf("etcd: list %q: %w", prefix, err)
		}
		start = s.full(key)
	case opts.Start != "":
		if !strings.HasPrefix(opts.Start, prefix) {
			return storage.ListResult{}, fmt.Errorf("etcd: list %q: %w: start key %q is not under the prefix", prefix, storage.ErrInvalid, opts.Start)
		}
		start = s.full(opts.Start)
	}
	if start == "" {
		// etcd has no empty key; "\x00" is the smallest key there is.
		start = "\x00"
	}
	ops := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(full))}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	if opts.Revision != storage.AnyRevision {
		ops = append(ops, clientv3.WithRev(int64(opts.Revision)))
	}
	resp, err := s.cli.Get(ctx, start, ops...)
	if err != nil {
		return storage.ListResult{}, s.wrap(fmt.Sprintf("list %q at revision %d", prefix, opts.Revision), err)
	}

	res := storage.ListResult{
		KVs:      make([]storage.KeyValue, len(resp.Kvs)),
		Revision: opts.Revision,
	}
	if res.Revision == storage.AnyRevision {
		// The header revision is the one the read was served at; for a
		// read at an explicit revision it is the (later) current one.
		res.Revision = storage.Revision(resp.Header.Revision)
	}
	for i, kv := range resp.Kvs {
		res.KVs[i] = s.keyValue(kv)
	}
	if resp.More && len(res.KVs) > 0 {
		// Count covers [start, end), so what follows this page is the rest.
		res.Remaining = resp.Count - int64(len(res.KVs))
		res.Continue = encodeContinue(res.KVs[len(res.KVs)-1].Key + "\x00")
	}
	return res, nil
}

// A Continue token is the key (below the Store's Prefix) the next page starts
// at, base64url-encoded so it is opaque and safe in a URL.
func encodeContinue(next string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(next))
}

// decodeContinue returns the start key of a token issued for prefix.
func decodeContinue(token, prefix string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("%w: malformed continue token", storage.ErrInvalid)
	}
	key := string(b)
	if key == "" || !strings.HasPrefix(key, prefix) {
		return "", fmt.Errorf("%w: continue token is not for prefix %q", storage.ErrInvalid, prefix)
	}
	return key, nil
}
