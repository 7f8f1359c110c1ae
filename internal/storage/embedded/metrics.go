package embedded

import "github.com/prometheus/client_golang/prometheus"

// storeMetrics describe the committer: how long a durable commit takes,
// how many writes share it (group commit at work), and how long copying
// the write-ahead log into the database takes.
type storeMetrics struct {
	commitSeconds     prometheus.Histogram
	batchSize         prometheus.Histogram
	checkpointSeconds prometheus.Histogram
}

func newStoreMetrics() storeMetrics {
	return storeMetrics{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_storage_commit_duration_seconds",
			Help:    "Time to make one batch of writes durable (one write-ahead log append and fdatasync).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_storage_commit_batch_size",
			Help:    "Writes committed together in one write-ahead log frame.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		checkpointSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_storage_checkpoint_duration_seconds",
			Help:    "Time to copy the write-ahead log into the database (one bbolt transaction), compacting when due.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
	}
}

// Collectors are the store's Prometheus metrics, for the caller to register.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.metrics.commitSeconds, s.metrics.batchSize, s.metrics.checkpointSeconds}
}
