package embedded

import (
	"testing"

	"skiff.dev/skiff/internal/storage"
	"skiff.dev/skiff/internal/storage/storagetest"
)

func newConformanceStore(t *testing.T) storage.Store {
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storagetest.Run(t, newConformanceStore, storagetest.RunOptions{ExclusiveRevisions: true})
}

func TestModel(t *testing.T) {
	seeds := 100
	if testing.Short() {
		seeds = 10
	}
	storagetest.RunModel(t, newConformanceStore, seeds, 300)
}

// FuzzStore drives the store with operation sequences decoded from fuzz
// input and compares it with the reference model.
func FuzzStore(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte("create update delete list watch compact"))
	f.Fuzz(func(t *testing.T, data []byte) {
		storagetest.RunModelFromBytes(t, newConformanceStore(t), data)
	})
}
