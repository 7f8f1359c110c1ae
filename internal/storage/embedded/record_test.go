package embedded

import (
	"bytes"
	"testing"
)

// A record encoded in its write's frame is byte for byte the record encoded
// on its own, and decodes back to what was written.
func TestRecordEncodeInFrame(t *testing.T) {
	for _, r := range []record{
		{rev: 7, createRev: 7, key: "/registry/core/configmaps/ns/a", value: []byte(`{"data":{"k":"v"}}`)},
		{rev: 1 << 40, createRev: 1 << 33, key: "k", value: []byte{}},
		{rev: 9, createRev: 3, key: "/registry/core/pods/ns/p", tombstone: true},
	} {
		want := r.encode()
		framed := r
		framed.frame, framed.value = newFrame(r.key, r.value)
		if r.tombstone {
			framed.value = nil
		}
		if got := framed.encode(); !bytes.Equal(got, want) {
			t.Errorf("rev %d: framed %q, plain %q", r.rev, got, want)
		}
		back, err := decodeRecord(r.rev, want)
		if err != nil {
			t.Fatalf("rev %d: %v", r.rev, err)
		}
		if back.key != r.key || back.createRev != r.createRev || back.tombstone != r.tombstone || !bytes.Equal(back.value, r.value) {
			t.Errorf("rev %d: decoded %+v, wrote %+v", r.rev, back, r)
		}
	}
}
