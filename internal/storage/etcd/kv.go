package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"skiff.dev/skiff/internal/storage"
)

// Get returns the key's current state, read linearizably.
func (s *Store) Get(ctx context.Context, key string) (storage.KeyValue, error) {
	if err := s.check(key); err != nil {
		return storage.KeyValue{}, err
	}
	resp, err := s.cli.Get(ctx, s.full(key))
	if err != nil {
		return storage.KeyValue{}, s.wrap(fmt.Sprintf("get %q", key), err)
	}
	if len(resp.Kvs) == 0 {
		return storage.KeyValue{}, fmt.Errorf("etcd: get %q: %w", key, storage.ErrNotFound)
	}
	return s.keyValue(resp.Kvs[0]), nil
}

// Create puts the key only if it has never been created or was deleted since.
func (s *Store) Create(ctx context.Context, key string, value []byte) (storage.Revision, error) {
	if err := s.check(key); err != nil {
		return 0, err
	}
	k := s.full(key)
	resp, err := s.cli.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
		Then(clientv3.OpPut(k, string(value))).
		Commit()
	if err != nil {
		return 0, s.wrap(fmt.Sprintf("create %q", key), err)
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("etcd: create %q: %w", key, storage.ErrKeyExists)
	}
	return storage.Revision(resp.Header.Revision), nil
}

// Update puts the key if it exists at the expected revision.
func (s *Store) Update(ctx context.Context, key string, value []byte, expected storage.Revision) (storage.Revision, error) {
	if err := s.checkCAS(key, expected); err != nil {
		return 0, err
	}
	k := s.full(key)
	resp, err := s.cli.Txn(ctx).
		If(precondition(k, expected)).
		Then(clientv3.OpPut(k, string(value))).
		Else(clientv3.OpGet(k, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, s.wrap(fmt.Sprintf("update %q", key), err)
	}
	if !resp.Succeeded {
		return 0, failedPrecondition("update", key, expected, resp)
	}
	return storage.Revision(resp.Header.Revision), nil
}

// Delete removes the key if it exists at the expected revision and returns
// the state it removed.
func (s *Store) Delete(ctx context.Context, key string, expected storage.Revision) (storage.Revision, storage.KeyValue, error) {
	if err := s.checkCAS(key, expected); err != nil {
		return 0, storage.KeyValue{}, err
	}
	k := s.full(key)
	resp, err := s.cli.Txn(ctx).
		If(precondition(k, expected)).
		Then(clientv3.OpDelete(k, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(k, clientv3.WithKeysOnly())).
		Commit()
	if err != nil {
		return 0, storage.KeyValue{}, s.wrap(fmt.Sprintf("delete %q", key), err)
	}
	if !resp.Succeeded {
		return 0, storage.KeyValue{}, failedPrecondition("delete", key, expected, resp)
	}
	prev := resp.Responses[0].GetResponseDeleteRange().GetPrevKvs()
	if len(prev) != 1 {
		// The compare held, so the key existed and was deleted in this txn.
		return 0, storage.KeyValue{}, fmt.Errorf("etcd: delete %q: compare succeeded but %d previous values returned", key, len(prev))
	}
	return storage.Revision(resp.Header.Revision), s.keyValue(prev[0]), nil
}

// precondition is the compare of a conditional write: the key is at the
// expected ModRevision, or for AnyRevision merely exists.
func precondition(k string, expected storage.Revision) clientv3.Cmp {
	if expected == storage.AnyRevision {
		return clientv3.Compare(clientv3.CreateRevision(k), ">", 0)
	}
	return clientv3.Compare(clientv3.ModRevision(k), "=", int64(expected))
}

// failedPrecondition tells ErrNotFound from ErrConflict by the txn's Else Get.
func failedPrecondition(op, key string, expected storage.Revision, resp *clientv3.TxnResponse) error {
	var kvs int
	if len(resp.Responses) == 1 {
		kvs = len(resp.Responses[0].GetResponseRange().GetKvs())
	}
	if kvs == 0 {
		return fmt.Errorf("etcd: %s %q: %w", op, key, storage.ErrNotFound)
	}
	current := resp.Responses[0].GetResponseRange().GetKvs()[0].ModRevision
	return fmt.Errorf("etcd: %s %q: %w: expected revision %d, found %d", op, key, storage.ErrConflict, expected, current)
}

// check rejects calls on a closed Store and empty keys.
func (s *Store) check(key string) error {
	if key == "" {
		return fmt.Errorf("etcd: %w: empty key", storage.ErrInvalid)
	}
	if s.isClosed() {
		return storage.ErrClosed
	}
	return nil
}

func (s *Store) checkCAS(key string, expected storage.Revision) error {
	if expected < 0 {
		return fmt.Errorf("etcd: %w: negative expected revision %d for %q", storage.ErrInvalid, expected, key)
	}
	return s.check(key)
}
