package replicaset

import (
	"sync"
	"time"
)

// ExpectationsTimeout is how long expectations are trusted: past it a
// controller acts again even if it never saw some of its creations or
// deletions (a lost watch event must not stall it forever), as upstream.
const ExpectationsTimeout = 5 * time.Minute

// Expectations track, per controller key, the pod creations and deletions
// issued but not yet observed through the informer. While any are
// outstanding the controller does not manage replicas, since what the
// informer shows is known to be stale.
type Expectations struct {
	mu sync.Mutex
	m  map[string]*expectation
}

type expectation struct {
	adds    int
	deletes map[string]struct{} // pod keys (namespace/name)
	at      time.Time
}

// NewExpectations returns empty expectations.
func NewExpectations() *Expectations { return &Expectations{m: map[string]*expectation{}} }

// Satisfied reports whether key may act: nothing is outstanding, nothing
// was ever recorded, or the record is older than ExpectationsTimeout.
func (e *Expectations) Satisfied(key string, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.m[key]
	if !ok {
		return true
	}
	return (x.adds <= 0 && len(x.deletes) == 0) || now.Sub(x.at) > ExpectationsTimeout
}

// ExpectCreations records n creations about to be issued; it replaces
// what was recorded, as upstream's SetExpectations does, since it is only
// called once the previous expectations were satisfied.
func (e *Expectations) ExpectCreations(key string, n int, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.m[key] = &expectation{adds: n, deletes: map[string]struct{}{}, at: now}
}

// ExpectDeletions records the pods about to be deleted.
func (e *Expectations) ExpectDeletions(key string, podKeys []string, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x := &expectation{deletes: make(map[string]struct{}, len(podKeys)), at: now}
	for _, k := range podKeys {
		x.deletes[k] = struct{}{}
	}
	e.m[key] = x
}

// CreationObserved lowers the creations outstanding by one: a created pod
// was seen, or a creation was never issued or failed.
func (e *Expectations) CreationObserved(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok && x.adds > 0 {
		x.adds--
	}
}

// DeletionObserved marks podKey's deletion as seen (or failed). A pod
// seen twice, as an update with a deletion timestamp and then as a
// delete, counts once.
func (e *Expectations) DeletionObserved(key, podKey string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.m[key]; ok {
		delete(x.deletes, podKey)
	}
}

// Delete forgets key, when its object is gone.
func (e *Expectations) Delete(key string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, key)
}
