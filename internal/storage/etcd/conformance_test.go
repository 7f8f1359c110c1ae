package etcd_test

import (
	"testing"

	"skiff.dev/skiff/internal/storage/storagetest"
)

// TestConformance runs the shared storage suite with every subtest on its own
// key prefix of the shared cluster, as several API servers would share one.
// Other subtests' writes interleave, so revisions are not exclusive.
func TestConformance(t *testing.T) {
	storagetest.Run(t, newSharedStore, storagetest.RunOptions{ProgressUnsupported: !progressOrdered(t)})
}

// progressOrdered reports what the etcd on this machine supports: Debian's
// 3.4.23 cannot order progress, newer releases can.
func progressOrdered(t *testing.T) bool {
	return newStore(t, sharedCluster(t).Endpoints(), uniquePrefix(t)).ProgressOrdered()
}

// TestConformanceExclusive runs the suite again with a cluster per subtest,
// adding the checks that every write advances the revision by exactly one.
func TestConformanceExclusive(t *testing.T) {
	storagetest.Run(t, newExclusiveStore, storagetest.RunOptions{ExclusiveRevisions: true, ProgressUnsupported: !progressOrdered(t)})
}

// TestModel compares random operation sequences with the suite's reference
// model; it predicts revisions exactly, so each seed gets its own cluster.
func TestModel(t *testing.T) {
	storagetest.RunModel(t, newExclusiveStore, 3, 200)
}
