package embedded

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"skiff.dev/skiff/internal/storage"
)

// walFixture is a data dir whose database is at revision 1 (fresh) and
// whose first write-ahead log file holds two frames written after it:
// revisions 2-4 and 5-6, creates of /k2 ... /k6. frames[i] is the offset
// frame i starts at; the frames end at frames[2], and zeros follow to the
// file's end (walGrowth).
func walFixture(t *testing.T) (dir string, frames [3]int64) {
	t.Helper()
	dir = t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cur, _ := s.CurrentRevision(context.Background()); cur != 1 {
		t.Fatalf("fresh store at revision %d, want 1", cur)
	}
	s.Close()
	w, err := openWAL(dir, walFileNames[0])
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	for i, revs := range [][]storage.Revision{{2, 3, 4}, {5, 6}} {
		frames[i] = w.off
		appendCreates(t, w, revs...)
	}
	frames[2] = w.off
	return dir, frames
}

// appendCreates appends one frame of creates of /k<rev> to w.
func appendCreates(t *testing.T, w *wal, revs ...storage.Revision) {
	t.Helper()
	var rs []record
	for _, rev := range revs {
		rs = append(rs, record{rev: rev, createRev: rev, key: fmt.Sprintf("/k%d", rev), value: []byte(fmt.Sprintf("v%d", rev))})
	}
	if err := w.append(rs); err != nil {
		t.Fatal(err)
	}
}

// revisionAfterOpen opens dir, checks the keys the fixture wrote up to its
// revision, and returns that revision, or Open's error.
func revisionAfterOpen(t *testing.T, dir string) (storage.Revision, error) {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	ctx := context.Background()
	cur, _ := s.CurrentRevision(ctx)
	for rev := storage.Revision(2); rev <= cur; rev++ {
		kv, err := s.Get(ctx, fmt.Sprintf("/k%d", rev))
		if err != nil || string(kv.Value) != fmt.Sprintf("v%d", rev) || kv.ModRevision != rev {
			t.Fatalf("after Open at %d: /k%d = %+v, %v", cur, rev, kv, err)
		}
	}
	return cur, nil
}

func TestWriteAheadLogReplay(t *testing.T) {
	flip := func(off int64) func(t *testing.T, path string) {
		return func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			b := make([]byte, 1)
			f.ReadAt(b, off)
			b[0] ^= 0xff
			f.WriteAt(b, off)
		}
	}
	truncate := func(size func(frames [3]int64) int64) func(*testing.T, string, [3]int64) {
		return func(t *testing.T, path string, frames [3]int64) {
			if err := os.Truncate(path, size(frames)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name    string
		damage  func(t *testing.T, path string, frames [3]int64)
		wantRev storage.Revision
		wantErr error
	}{
		{name: "intact", damage: func(*testing.T, string, [3]int64) {}, wantRev: 6},
		{name: "last frame torn", damage: truncate(func(f [3]int64) int64 { return f[2] - 3 }), wantRev: 4},
		{name: "last header torn", damage: truncate(func(f [3]int64) int64 { return f[1] + 10 }), wantRev: 4},
		{name: "first frame torn", damage: truncate(func(f [3]int64) int64 { return f[1] - 1 }), wantRev: 1},
		{name: "last frame garbled", damage: func(t *testing.T, p string, f [3]int64) { flip(f[2]-2)(t, p) }, wantRev: 4},
		{name: "last header garbled", damage: func(t *testing.T, p string, f [3]int64) { flip(f[1]+9)(t, p) }, wantRev: 4},
		{
			name:    "acknowledged frame garbled",
			damage:  func(t *testing.T, p string, f [3]int64) { flip(f[1]-2)(t, p) },
			wantErr: errCorruptRecord,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, frames := walFixture(t)
			tc.damage(t, filepath.Join(dir, walFileNames[0]), frames)
			rev, err := revisionAfterOpen(t, dir)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Open: %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || rev != tc.wantRev {
				t.Fatalf("Open: revision %d, %v; want %d", rev, err, tc.wantRev)
			}
			// Open checkpointed the replayed writes; the frames left in the
			// log are stale now and a second Open must not apply them again.
			if rev, err := revisionAfterOpen(t, dir); err != nil || rev != tc.wantRev {
				t.Fatalf("second Open: revision %d, %v; want %d", rev, err, tc.wantRev)
			}
		})
	}
}

// The second file continues where the first ends: it took the commits
// while the first was being checkpointed. Frames of older generations
// after the chain, in either file, are not replayed.
// The log's file grows in walGrowth steps of zeros, so that commits
// overwrite blocks it has; replay stops at the zeros.
func TestWriteAheadLogGrowsInZeroedSteps(t *testing.T) {
	dir, frames := walFixture(t)
	st, err := os.Stat(filepath.Join(dir, walFileNames[0]))
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != walGrowth {
		t.Fatalf("log file of %d bytes after %d bytes of frames, want %d", st.Size(), frames[2], walGrowth)
	}
	if rev, err := revisionAfterOpen(t, dir); err != nil || rev != 6 {
		t.Fatalf("reopened at revision %d (%v), want 6", rev, err)
	}
}

func TestWriteAheadLogContinuesInTheOtherFile(t *testing.T) {
	dir, _ := walFixture(t) // wal.0: 2-4, 5-6
	w1, err := openWAL(dir, walFileNames[1])
	if err != nil {
		t.Fatal(err)
	}
	appendCreates(t, w1, 7, 8)
	appendCreates(t, w1, 9)
	appendCreates(t, w1, 3, 4) // stale: older than the chain
	w1.close()
	if rev, err := revisionAfterOpen(t, dir); err != nil || rev != 9 {
		t.Fatalf("Open: revision %d, %v; want 9", rev, err)
	}
	if rev, err := revisionAfterOpen(t, dir); err != nil || rev != 9 {
		t.Fatalf("second Open: revision %d, %v; want 9", rev, err)
	}
}

// Writes after a checkpoint overwrite the log from its start; what is left
// of older frames beyond them is never replayed.
func TestWriteAheadLogStartsOverAfterCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openTest(t, dir, Options{CheckpointEvery: 5})
	var last storage.Revision
	for i := range 23 {
		rev, err := s.Create(ctx, fmt.Sprintf("/k%d", i), []byte(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		last = rev
	}
	s.Close()
	s = openTest(t, dir, Options{CheckpointEvery: 5})
	if cur, _ := s.CurrentRevision(ctx); cur != last {
		t.Fatalf("after reopen at %d, want %d", cur, last)
	}
	res, err := s.List(ctx, "/", storage.ListOptions{})
	if err != nil || len(res.KVs) != 23 {
		t.Fatalf("List after reopen: %d keys, %v", len(res.KVs), err)
	}
}

// A file grown past its usual size is cut back when it starts over; one
// that is not keeps its blocks, which later commits overwrite in place.
func TestWriteAheadLogShrinksAfterABurst(t *testing.T) {
	w, err := openWAL(t.TempDir(), walFileNames[0])
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.keep = 50 // one frame of one create is 36 bytes, of six 96
	appendCreates(t, w, 2)
	size := func() int64 {
		st, err := w.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	w.reset()
	if size() == 0 {
		t.Fatal("a small file was cut back")
	}
	appendCreates(t, w, 2, 3, 4, 5, 6, 7)
	w.reset()
	if n := size(); n != 0 {
		t.Fatalf("after a burst past keep, the file has %d bytes", n)
	}
}
