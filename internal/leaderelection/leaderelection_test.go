package leaderelection

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
)

// memLeases is an in-memory Lease store with the API server's
// compare-and-swap on resourceVersion.
type memLeases struct {
	mu    sync.Mutex
	lease *coordinationv1.Lease
	rv    int
}

var leaseGR = schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}

func (m *memLeases) Get(_ context.Context, name string, _ metav1.GetOptions) (*coordinationv1.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease == nil {
		return nil, apierrors.NewNotFound(leaseGR, name)
	}
	return m.lease.DeepCopy(), nil
}

func (m *memLeases) Create(_ context.Context, l *coordinationv1.Lease, _ metav1.CreateOptions) (*coordinationv1.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease != nil {
		return nil, apierrors.NewAlreadyExists(leaseGR, l.Name)
	}
	m.rv++
	l = l.DeepCopy()
	l.ResourceVersion = strconv.Itoa(m.rv)
	m.lease = l
	return l.DeepCopy(), nil
}

func (m *memLeases) Update(_ context.Context, l *coordinationv1.Lease, _ metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease == nil || m.lease.ResourceVersion != l.ResourceVersion {
		return nil, apierrors.NewConflict(leaseGR, l.Name, errors.New("stale resourceVersion"))
	}
	m.rv++
	l = l.DeepCopy()
	l.ResourceVersion = strconv.Itoa(m.rv)
	m.lease = l
	return l.DeepCopy(), nil
}

func (m *memLeases) holder() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lease == nil {
		return ""
	}
	return ptr.Deref(m.lease.Spec.HolderIdentity, "")
}

// failing wraps a LeaseClient and fails every call while fail is set, as
// a partitioned candidate would see.
type failing struct {
	LeaseClient
	fail atomic.Bool
}

var errPartitioned = errors.New("partitioned")

func (f *failing) Get(ctx context.Context, name string, o metav1.GetOptions) (*coordinationv1.Lease, error) {
	if f.fail.Load() {
		return nil, errPartitioned
	}
	return f.LeaseClient.Get(ctx, name, o)
}

func (f *failing) Update(ctx context.Context, l *coordinationv1.Lease, o metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	if f.fail.Load() {
		return nil, errPartitioned
	}
	return f.LeaseClient.Update(ctx, l, o)
}

// candidate runs one elector and reports leadership on its channels.
type candidate struct {
	started, stopped chan struct{}
	leading          atomic.Bool
	cancel           context.CancelFunc
	done             chan error
}

func runCandidate(t *testing.T, id string, c LeaseClient, leading *atomic.Int32) *candidate {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cd := &candidate{started: make(chan struct{}, 10), stopped: make(chan struct{}, 10), cancel: cancel, done: make(chan error, 1)}
	go func() {
		cd.done <- Run(ctx, Config{
			Client: c, Namespace: "kube-system", Name: "kube-scheduler", Identity: id,
			LeaseDuration: 1 * time.Second, RenewDeadline: 400 * time.Millisecond, RetryPeriod: 20 * time.Millisecond,
			OnStartedLeading: func(ctx context.Context) {
				if leading.Add(1) > 1 {
					t.Errorf("%s: two leaders at once", id)
				}
				cd.leading.Store(true)
				cd.started <- struct{}{}
				<-ctx.Done()
				cd.leading.Store(false)
				leading.Add(-1)
			},
			OnStoppedLeading: func() { cd.stopped <- struct{}{} },
		})
	}()
	t.Cleanup(func() {
		cancel()
		<-cd.done
	})
	return cd
}

func waitFor(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestOneLeaderAndHandoverOnRelease(t *testing.T) {
	store := &memLeases{}
	var leading atomic.Int32
	a := runCandidate(t, "a", store, &leading)
	waitFor(t, a.started, "a to lead")
	b := runCandidate(t, "b", store, &leading)
	select {
	case <-b.started:
		t.Fatal("b leads while a holds the lease")
	case <-time.After(200 * time.Millisecond): // several of b's retry periods
	}
	if got := store.holder(); got != "a" {
		t.Fatalf("holder = %q, want a", got)
	}
	// a shuts down: it stops leading, releases, and b takes over well
	// before the lease would have expired.
	a.cancel()
	waitFor(t, a.stopped, "a to stop")
	if err := <-a.done; err != nil {
		t.Fatal(err)
	}
	a.done <- nil // for the cleanup
	waitFor(t, b.started, "b to lead")
	if got := store.holder(); got != "b" {
		t.Fatalf("holder = %q, want b", got)
	}
	store.mu.Lock()
	transitions := ptr.Deref(store.lease.Spec.LeaseTransitions, 0)
	store.mu.Unlock()
	if got := transitions; got != 1 {
		t.Fatalf("leaseTransitions = %d, want 1", got)
	}
}

func TestLeaderThatCannotRenewStepsDownBeforeTakeover(t *testing.T) {
	store := &memLeases{}
	var leading atomic.Int32
	fa := &failing{LeaseClient: store}
	a := runCandidate(t, "a", fa, &leading)
	waitFor(t, a.started, "a to lead")
	b := runCandidate(t, "b", store, &leading)
	fa.fail.Store(true)
	// a must step down after RenewDeadline; b may only lead after the
	// lease duration; the two-leaders check in OnStartedLeading catches
	// an overlap.
	waitFor(t, a.stopped, "a to step down")
	waitFor(t, b.started, "b to take over the expired lease")
	if got := store.holder(); got != "b" {
		t.Fatalf("holder = %q, want b", got)
	}
	// a campaigns again once reachable, but b holds the lease.
	fa.fail.Store(false)
	select {
	case <-a.started:
		t.Fatal("a leads again while b holds the lease")
	case <-time.After(200 * time.Millisecond):
	}
}

func TestConfigValidation(t *testing.T) {
	noop := func(context.Context) {}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"no identity", Config{Client: &memLeases{}, Name: "l", OnStartedLeading: noop}},
		{"renew deadline not below lease", Config{Client: &memLeases{}, Name: "l", Identity: "a", OnStartedLeading: noop, LeaseDuration: time.Second, RenewDeadline: time.Second}},
		{"retry not below renew deadline", Config{Client: &memLeases{}, Name: "l", Identity: "a", OnStartedLeading: noop, RenewDeadline: time.Second, RetryPeriod: time.Second}},
	} {
		if err := Run(context.Background(), tc.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", tc.name, err)
		}
	}
}
