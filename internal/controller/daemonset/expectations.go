package daemonset

import (
	"sync"
	"time"

	"skiff.dev/skiff/internal/controller/replicaset"
)

// expectations track, per DaemonSet, the pod creations and deletions a
// pass issued and the pod informer has not shown yet. Unlike the
// ReplicaSet's, one pass may both create and delete (a node gains a pod
// while another loses one), so both are set together. While any are
// outstanding the DaemonSet's pods are not managed (status is still
// written), since the informer is known to be stale; they expire after
// replicaset.ExpectationsTimeout in case a watch event is lost.
type expectations struct {
	mu sync.Mutex
	m  map[string]*expected
}

type expected struct {
	adds    int
	deletes map[string]struct{} // pod keys (namespace/name)
	at      time.Time
}

func newExpectations() *expectations { return &expectations{m: map[string]*expected{}} }

// Satisfied reports whether key may act.
func (e *expectations) Satisfied(key string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	return !ok || (x.adds <= 0 && len(x.deletes) == 0) || now.Sub(x.at) > replicaset.ExpectationsTimeout
}

// Expect records the creations and deletions about to be issued,
// replacing what was recorded (only called once that was satisfied).
func (e *expectations) Expect(key string, adds int, deletes []string, now time.Time) {
	x := &expected{adds: adds, deletes: make(map[string]struct{}, len(deletes)), at: now}
	for _, k := range deletes {
		x.deletes[k] = struct{}{}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = x
}

// CreationObserved lowers the creations outstanding by one: a created
// pod was seen, or a creation failed or was skipped.
func (e *expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved marks podKey's deletion as seen (or failed); seen
// twice (update with a deletion timestamp, then delete) counts once.
func (e *expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.deletes, podKey)
	}
}

// Delete forgets key, when its DaemonSet is gone.
func (e *expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
