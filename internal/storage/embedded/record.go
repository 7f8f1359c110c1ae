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
	// frame, when set, is the write's buffer from submit: headroom bytes,
	// then the key, then the value (which value aliases). encode writes
	// the header into the headroom instead of copying key and value again.
	frame []byte
}

// headroom is the most a record header takes: flags and two uvarints.
const headroom = 1 + 2*binary.MaxVarintLen64

// newFrame returns a write's buffer for record.frame, and the value inside
// it (a copy of value, never nil).
func newFrame(key string, value []byte) (frame, inFrame []byte) {
	frame = make([]byte, headroom+len(key)+len(value))
	copy(frame[headroom:], key)
	copy(frame[headroom+len(key):], value)
	return frame, frame[headroom+len(key):]
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
	var flags byte
	if r.tombstone {
		flags |= flagTombstone
	}
	var hdr [headroom]byte
	h := append(hdr[:0], flags)
	h = binary.AppendUvarint(h, uint64(r.createRev))
	h = binary.AppendUvarint(h, uint64(len(r.key)))
	if r.frame != nil {
		off := headroom - len(h)
		copy(r.frame[off:], h)
		return r.frame[off : headroom+len(r.key)+len(r.value)]
	}
	buf := make([]byte, 0, len(h)+len(r.key)+len(r.value))
	buf = append(buf, h...)
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
