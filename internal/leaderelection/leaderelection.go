package leaderelection

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// Defaults are kube-scheduler's.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRenewDeadline = 10 * time.Second
	DefaultRetryPeriod   = 2 * time.Second
)

// LeaseClient is what the elector needs of a namespaced Lease client;
// client.Group.Leases(ns) satisfies it.
type LeaseClient interface {
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*coordinationv1.Lease, error)
	Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error)
	Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error)
}

// Config describes one candidate.
type Config struct {
	Client LeaseClient
	// Namespace and Name of the Lease; Namespace is only recorded on a
	// created Lease, the client is already namespaced.
	Namespace, Name string
	// Identity is this candidate's holderIdentity; unique per process.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod default to
	// kube-scheduler's 15 s, 10 s and 2 s.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Clock defaults to the real clock.
	Clock clock.WithTicker
	// OnStartedLeading runs while this candidate leads; its context is
	// cancelled when leadership is lost or Run's context ends, and it
	// must return promptly then.
	OnStartedLeading func(ctx context.Context)
	// OnStoppedLeading, if set, is called after OnStartedLeading returned.
	OnStoppedLeading func()
}

// ErrInvalidConfig reports a Config that cannot guarantee a single leader.
var ErrInvalidConfig = errors.New("leaderelection: invalid config")

type elector struct {
	cfg Config
	// observed is the Lease as last read or written, observedTime when
	// it last changed on this candidate's clock.
	observed     *coordinationv1.Lease
	observedTime time.Time
}

// Run campaigns for the Lease until ctx ends, leading whenever it holds it.
func Run(ctx context.Context, cfg Config) error {
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.RenewDeadline == 0 {
		cfg.RenewDeadline = DefaultRenewDeadline
	}
	if cfg.RetryPeriod == 0 {
		cfg.RetryPeriod = DefaultRetryPeriod
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	switch {
	case cfg.Client == nil || cfg.Name == "" || cfg.Identity == "" || cfg.OnStartedLeading == nil:
		return fmt.Errorf("%w: Client, Name, Identity and OnStartedLeading are required", ErrInvalidConfig)
	case cfg.LeaseDuration <= cfg.RenewDeadline:
		return fmt.Errorf("%w: LeaseDuration must be greater than RenewDeadline", ErrInvalidConfig)
	case cfg.RenewDeadline <= cfg.RetryPeriod:
		return fmt.Errorf("%w: RenewDeadline must be greater than RetryPeriod", ErrInvalidConfig)
	}
	e := &elector{cfg: cfg}
	for {
		if !e.acquire(ctx) {
			return nil
		}
		slog.Info("leader election: acquired lease", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
		e.lead(ctx)
		if cfg.OnStoppedLeading != nil {
			cfg.OnStoppedLeading()
		}
		if ctx.Err() != nil {
			return nil
		}
		slog.Warn("leader election: lost lease", "lease", cfg.Namespace+"/"+cfg.Name, "identity", cfg.Identity)
	}
}

// acquire retries every RetryPeriod (jittered, as client-go does, so
// candidates do not collide) until the Lease is ours or ctx ends.
func (e *elector) acquire(ctx context.Context) bool {
	for {
		if e.tryAcquireOrRenew(ctx) {
			return true
		}
		t := e.cfg.Clock.NewTimer(wait.Jitter(e.cfg.RetryPeriod, 1.2))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C():
		}
	}
}

// lead runs OnStartedLeading and renews until renewal fails for
// RenewDeadline, another holder is seen, or ctx ends; it returns once
// OnStartedLeading has returned.
func (e *elector) lead(ctx context.Context) {
	leadCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.cfg.OnStartedLeading(leadCtx)
	}()
	defer func() {
		cancel()
		<-done
		if ctx.Err() != nil {
			e.release()
		}
	}()
	lastRenew := e.cfg.Clock.Now()
	ticker := e.cfg.Clock.NewTicker(e.cfg.RetryPeriod)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
		rctx, rcancel := context.WithTimeout(ctx, e.cfg.RenewDeadline)
		ok := e.tryAcquireOrRenew(rctx)
		rcancel()
		now := e.cfg.Clock.Now()
		switch {
		case ok:
			lastRenew = now
		case ctx.Err() != nil:
			return
		case e.observed != nil && e.holder() != e.cfg.Identity:
			return // someone else holds it now
		case now.Sub(lastRenew) >= e.cfg.RenewDeadline:
			return
		}
	}
}

func (e *elector) holder() string {
	return ptr.Deref(e.observed.Spec.HolderIdentity, "")
}

func (e *elector) observe(l *coordinationv1.Lease) {
	if e.observed == nil || e.observed.ResourceVersion != l.ResourceVersion {
		e.observed = l
		e.observedTime = e.cfg.Clock.Now()
	}
}

// tryAcquireOrRenew takes or renews the Lease with one compare-and-swap.
func (e *elector) tryAcquireOrRenew(ctx context.Context) bool {
	now := e.cfg.Clock.Now()
	seconds := int32(e.cfg.LeaseDuration / time.Second)
	if seconds < 1 {
		seconds = 1
	}
	lease, err := e.cfg.Client.Get(ctx, e.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		created, err := e.cfg.Client.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: e.cfg.Name, Namespace: e.cfg.Namespace},
			Spec: coordinationv1.LeaseSpec{
				HolderIdentity:       ptr.To(e.cfg.Identity),
				LeaseDurationSeconds: ptr.To(seconds),
				AcquireTime:          &metav1.MicroTime{Time: now},
				RenewTime:            &metav1.MicroTime{Time: now},
				LeaseTransitions:     ptr.To[int32](0),
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return false
		}
		e.observe(created)
		return true
	}
	if err != nil {
		slog.Debug("leader election: reading lease", "err", err)
		return false
	}
	e.observe(lease)
	holder := ptr.Deref(lease.Spec.HolderIdentity, "")
	duration := time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0)) * time.Second
	if holder != "" && holder != e.cfg.Identity && e.observedTime.Add(duration).After(now) {
		return false
	}
	next := lease.DeepCopy()
	next.Spec.HolderIdentity = ptr.To(e.cfg.Identity)
	next.Spec.LeaseDurationSeconds = ptr.To(seconds)
	next.Spec.RenewTime = &metav1.MicroTime{Time: now}
	if holder != e.cfg.Identity {
		next.Spec.AcquireTime = &metav1.MicroTime{Time: now}
		next.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	updated, err := e.cfg.Client.Update(ctx, next, metav1.UpdateOptions{})
	if err != nil {
		return false
	}
	e.observe(updated)
	return true
}

// release clears the holder so that a successor need not wait for the
// Lease to expire; best effort, bounded in time.
func (e *elector) release() {
	if e.observed == nil || e.holder() != e.cfg.Identity {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.RetryPeriod)
	defer cancel()
	now := e.cfg.Clock.Now()
	next := e.observed.DeepCopy()
	next.Spec.HolderIdentity = nil
	next.Spec.LeaseDurationSeconds = ptr.To[int32](1)
	next.Spec.RenewTime = &metav1.MicroTime{Time: now}
	next.Spec.AcquireTime = &metav1.MicroTime{Time: now}
	if _, err := e.cfg.Client.Update(ctx, next, metav1.UpdateOptions{}); err != nil {
		slog.Warn("leader election: releasing lease", "lease", e.cfg.Namespace+"/"+e.cfg.Name, "err", err)
	}
}
