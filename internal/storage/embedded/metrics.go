package embedded

import "github.com/prometheus/client_golang/prometheus"

// storeMetrics describe the committer: how long a durable commit takes and
// how many writes share it (group commit at work).
type storeMetrics struct {
	commitSeconds prometheus.Histogram
	batchSize     prometheus.Histogram
}

func newStoreMetrics() storeMetrics {
	return storeMetrics{
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_storage_commit_duration_seconds",
			Help:    "Time to make one batch of writes durable (one bbolt transaction and fsync).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "skiff_storage_commit_batch_size",
			Help:    "Writes committed together in one transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
	}
}

// Collectors are the store's Prometheus metrics, for the caller to register.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.metrics.commitSeconds, s.metrics.batchSize}
}
