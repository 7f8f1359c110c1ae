package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"

	"skiff.dev/skiff/internal/storage"
)

// A record is one write as it lies in the log bucket, keyed by its revision
// (8 bytes, big endian, so bbolt keeps the log in revision order):
//
//	flags (1 byte: bit 0 = tombstone)
//	create revision (uvarint)
//	key length (uvarint), key
//	value (rest; empty for tombstones)
type record struct {
	rev       storage.Revision
	createRev storage.Revision
	key       string
	value     []byte
	tombstone bool
}

const flagTombstone = 1

var errCorruptRecord = errors.New("embedded: corrupt log record")

func revKey(rev storage.Revision) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(rev))
	return b[:]
}

func parseRevKey(b []byte) (storage.Revision, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: key of %d bytes", errCorruptRecord, len(b))
	}
	return storage.Revision(binary.BigEndian.Uint64(b)), nil
}

func (r record) encode() []byte {
	buf := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(r.key)+len(r.value))
	var flags byte
	if r.tombstone {
		flags |= flagTombstone
	}
	buf = append(buf, flags)
	buf = binary.AppendUvarint(buf, uint64(r.createRev))
	buf = binary.AppendUvarint(buf, uint64(len(r.key)))
	buf = append(buf, r.key...)
	return append(buf, r.value...)
}

// decodeRecord parses a log value. The returned value is a copy: bbolt's
// memory is only valid inside its transaction.
func decodeRecord(rev storage.Revision, b []byte) (record, error) {
	if len(b) < 1 {
		return record{}, fmt.Errorf("%w: revision %d is empty", errCorruptRecord, rev)
	}
	r := record{rev: rev, tombstone: b[0]&flagTombstone != 0}
	b = b[1:]
	cr, n := binary.Uvarint(b)
	if n <= 0 {
		return record{}, fmt.Errorf("%w: revision %d: bad create revision", errCorruptRecord, rev)
	}
	b = b[n:]
	kl, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < kl {
		return record{}, fmt.Errorf("%w: revision %d: bad key length", errCorruptRecord, rev)
	}
	b = b[n:]
	r.createRev = storage.Revision(cr)
	r.key = string(b[:kl])
	if !r.tombstone {
		r.value = append([]byte{}, b[kl:]...)
	}
	if r.createRev <= 0 || r.createRev > rev || r.key == "" {
		return record{}, fmt.Errorf("%w: revision %d: create revision %d, key %q", errCorruptRecord, rev, cr, r.key)
	}
	return r, nil
}
