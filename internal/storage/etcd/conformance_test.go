package etcd_test

import (
	"testing"

	"skiff.dev/skiff/internal/storage/storagetest"
)

// TestConformance runs the shared storage suite with every subtest on its own
// key prefix of the shared cluster, as several API servers would share one.
// Other subtests' writes interleave, so revisions are not exclusive.
func TestConformance(t *testing.T) {
	storagetest.Run(t, newSharedStore)
}

// TestConformanceExclusive runs the suite again with a cluster per subtest,
// adding the checks that every write advances the revision by exactly one.
func TestConformanceExclusive(t *testing.T) {
	storagetest.Run(t, newExclusiveStore, storagetest.RunOptions{ExclusiveRevisions: true})
}

// TestModel compares random operation sequences with the suite's reference
// model; it predicts revisions exactly, so each seed gets its own cluster.
func TestModel(t *testing.T) {
	storagetest.RunModel(t, newExclusiveStore, 3, 200)
}
