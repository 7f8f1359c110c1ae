package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Polling cadence while waiting for members. Each probe is a real client
// call bounded by probeTimeout; between failed probes we wait retryInterval.
const (
	probeTimeout  = time.Second
	retryInterval = 20 * time.Millisecond
)

// newProbeClient is a quiet client that redials quickly: gRPC's default
// reconnect backoff starts at 1s, which would dominate the time to notice a
// member that has just begun listening.
func newProbeClient(endpoints ...string) (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints: endpoints,
		Logger:    zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 20 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: time.Second,
		})},
	})
}

// waitServing polls member i with linearizable Gets until one succeeds: the
// member is up, a leader exists and the member reaches it. It fails early
// when member i's process exits or, while the cluster is starting (starting
// set), when any member's does: without it member i may never get a quorum.
func (c *Cluster) waitServing(ctx context.Context, i int, starting bool) error {
	m := c.members[i]
	c.mu.Lock()
	p := m.proc
	c.mu.Unlock()
	if p == nil {
		return fmt.Errorf("etcdtest: member %d (%s) is not running", i, m.name)
	}
	cli, err := newProbeClient(m.clientURL)
	if err != nil {
		return fmt.Errorf("etcdtest: client for member %d: %w", i, err)
	}
	defer cli.Close()

	retry := time.NewTimer(0)
	defer retry.Stop()
	for {
		select {
		case <-p.done:
			return fmt.Errorf("etcdtest: member %d (%s) exited while starting: %v; log tail:\n%s",
				i, m.name, p.err, c.LogTail(i, 4096))
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: member %d (%s) not serving at %s: %w (last probe: %v); log tail:\n%s",
				i, m.name, m.clientURL, ctx.Err(), err, c.LogTail(i, 4096))
		case <-retry.C:
		}
		if starting {
			if j := c.exitedMember(); j >= 0 {
				return fmt.Errorf("etcdtest: member %d (%s) exited while the cluster was starting; log tail:\n%s",
					j, c.members[j].name, c.LogTail(j, 4096))
			}
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		go func() { // a probe does not outlive the process it asks
			select {
			case <-p.done:
				cancel()
			case <-pctx.Done():
			}
		}()
		_, err = cli.Get(pctx, "etcdtest/ready")
		cancel()
		if err == nil {
			return nil
		}
		retry.Reset(retryInterval)
	}
}

// Leader waits (up to Options.StartTimeout) until a running member reports
// itself leader and returns its index.
func (c *Cluster) Leader() (int, error) {
	if c.tb != nil {
		c.tb.Helper()
	}
	i, err := c.leader()
	return i, c.check(err)
}

func (c *Cluster) leader() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.StartTimeout)
	defer cancel()
	cli, err := newProbeClient(c.Endpoints()...)
	if err != nil {
		return -1, err
	}
	defer cli.Close()

	retry := time.NewTimer(0)
	defer retry.Stop()
	lastErr := errors.New("no member reports itself leader")
	for {
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("no leader after %v: %v", c.opts.StartTimeout, lastErr)
		case <-retry.C:
		}
		best, bestTerm := -1, uint64(0)
		for i, m := range c.members {
			if !c.Running(i) {
				continue
			}
			pctx, cancel := context.WithTimeout(ctx, probeTimeout)
			st, err := cli.Status(pctx, m.clientURL)
			cancel()
			if err != nil {
				lastErr = fmt.Errorf("status of member %d: %w", i, err)
				continue
			}
			// A deposed leader cut off from the others may still think it
			// leads; the highest term wins.
			if st.Leader != 0 && st.Leader == st.Header.MemberId && st.RaftTerm >= bestTerm {
				best, bestTerm = i, st.RaftTerm
			}
		}
		if best >= 0 {
			return best, nil
		}
		retry.Reset(retryInterval)
	}
}

// exitedMember is the index of a member whose process has exited on its own,
// or -1.
func (c *Cluster) exitedMember() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, m := range c.members {
		if m.proc != nil && m.proc.exited() {
			return i
		}
	}
	return -1
}
