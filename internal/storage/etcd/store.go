package etcd

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"skiff.dev/skiff/internal/storage"
)

// Defaults for zero Config fields.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultWatchBuffer = 4096
)

// Config says how to reach the cluster and how to lay keys out in it.
type Config struct {
	// Endpoints are the members' client URLs, e.g. "https://10.0.0.1:2379".
	Endpoints []string

	// TLS configures client TLS directly. Alternatively set CertFile,
	// KeyFile and CAFile (PEM files); setting both TLS and files is an error.
	TLS      *tls.Config
	CertFile string
	KeyFile  string
	CAFile   string

	// Username and Password enable etcd authentication when both are set.
	Username string
	Password string

	// DialTimeout bounds New's first request: New fails when the cluster
	// has not served a linearizable read by then. Zero means
	// DefaultDialTimeout.
	DialTimeout time.Duration

	// Prefix is prepended to every key and stripped from every returned
	// key, so Stores with different prefixes share a cluster without
	// seeing each other. Empty: keys are used as given.
	Prefix string

	// WatchBuffer is how many events a watch holds for a consumer that
	// has not read them yet; a watch whose consumer lets it fill up ends
	// with storage.ErrWatcherTooSlow. Zero means DefaultWatchBuffer.
	WatchBuffer int

	// Logger receives the etcd client's logs. Nil: the client's default
	// (info level to stderr).
	Logger *zap.Logger
}

// Store is a storage.Store on an etcd cluster.
type Store struct {
	cli         *clientv3.Client
	prefix      string
	watchBuffer int

	// serverVersion is the lowest etcd version among the endpoints that
	// answered at New; orderedProgress says whether that version keeps
	// requested progress notifications in order with watch events, which
	// Watch.RequestProgress needs.
	serverVersion   string
	orderedProgress bool

	// ctx is cancelled by Close; every watch's context follows it.
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool           // guarded by mu; set once by Close
	wg     sync.WaitGroup // running watch goroutines; Add only under mu while !closed
}

var _ storage.Store = (*Store)(nil)

// New connects to the cluster and checks that it serves linearizable reads,
// failing when it does not within DialTimeout (or ctx's deadline).
func New(ctx context.Context, cfg Config) (*Store, error) {
	if len(cfg.Endpoints) == 0 {
		return nil, fmt.Errorf("etcd: %w: no endpoints", storage.ErrInvalid)
	}
	if cfg.WatchBuffer < 0 {
		return nil, fmt.Errorf("etcd: %w: negative WatchBuffer", storage.ErrInvalid)
	}
	tlsCfg, err := clientTLS(cfg)
	if err != nil {
		return nil, err
	}
	ccfg := clientv3.Config{
		Endpoints:   cfg.Endpoints,
		TLS:         tlsCfg,
		Username:    cfg.Username,
		Password:    cfg.Password,
		DialTimeout: cfg.DialTimeout,
		// Detect a member that vanished without closing the connection
		// (power loss, partition), so watches move to another member.
		DialKeepAliveTime:    30 * time.Second,
		DialKeepAliveTimeout: 10 * time.Second,
		Logger:               cfg.Logger,
	}
	if ccfg.DialTimeout == 0 {
		ccfg.DialTimeout = DefaultDialTimeout
	}
	cli, err := clientv3.New(ccfg)
	if err != nil {
		return nil, fmt.Errorf("etcd: connecting to %v: %w", cfg.Endpoints, err)
	}
	s := &Store{cli: cli, prefix: cfg.Prefix, watchBuffer: cfg.WatchBuffer}
	if s.watchBuffer == 0 {
		s.watchBuffer = DefaultWatchBuffer
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	// The client dials lazily and waits for a connection forever; bound
	// the first request so an unreachable cluster fails New.
	pctx, cancel := context.WithTimeout(ctx, ccfg.DialTimeout)
	defer cancel()
	if _, err := s.CurrentRevision(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("etcd: cluster at %v not serving: %w", cfg.Endpoints, err)
	}
	s.serverVersion = s.lowestVersion(pctx, cfg.Endpoints)
	s.orderedProgress = progressOrdered(s.serverVersion)
	return s, nil
}

// lowestVersion asks every endpoint for its etcd version and returns the
// lowest, or "unknown" when none answers.
func (s *Store) lowestVersion(ctx context.Context, endpoints []string) string {
	lowest := "unknown"
	var low [3]int
	for _, ep := range endpoints {
		st, err := s.cli.Status(ctx, ep)
		if err != nil {
			continue
		}
		v, ok := parseVersion(st.Version)
		if ok && (lowest == "unknown" || compareVersions(v, low) < 0) {
			lowest, low = st.Version, v
		}
	}
	return lowest
}

// progressOrdered reports whether an etcd release sends requested progress
// notifications through the watch's ordered event channel, and only while
// the watch is synced: the fix for etcd-io/etcd#15220, in 3.4.25, 3.5.8
// and every later release. Before it a notification can overtake events
// still queued for the watch.
func progressOrdered(version string) bool {
	v, ok := parseVersion(version)
	if !ok {
		return false
	}
	switch {
	case v[0] != 3:
		return v[0] > 3
	case v[1] == 4:
		return v[2] >= 25
	case v[1] == 5:
		return v[2] >= 8
	}
	return v[1] > 5
}

// parseVersion reads "major.minor.patch", ignoring a "-pre" or "+build"
// suffix.
func parseVersion(s string) (v [3]int, ok bool) {
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func compareVersions(a, b [3]int) int {
	for i := range a {
		if a[i] != b[i] {
			return cmp.Compare(a[i], b[i])
		}
	}
	return 0
}

func clientTLS(cfg Config) (*tls.Config, error) {
	files := cfg.CertFile != "" || cfg.KeyFile != "" || cfg.CAFile != ""
	switch {
	case cfg.TLS != nil && files:
		return nil, fmt.Errorf("etcd: %w: both TLS and certificate files set", storage.ErrInvalid)
	case cfg.TLS != nil:
		return cfg.TLS.Clone(), nil
	case !files:
		return nil, nil
	}
	info := transport.TLSInfo{CertFile: cfg.CertFile, KeyFile: cfg.KeyFile, TrustedCAFile: cfg.CAFile}
	c, err := info.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("etcd: client TLS: %w", err)
	}
	return c, nil
}

// Close ends every watch with storage.ErrClosed, waits for their goroutines
// and closes the client. Later calls return nil.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	s.cancel()
	s.wg.Wait()
	if err := s.cli.Close(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("etcd: closing client: %w", err)
	}
	return nil
}

// isClosed reports whether Close has begun.
func (s *Store) isClosed() bool { return s.ctx.Err() != nil }

// CurrentRevision is the header revision of a linearizable, count-only read.
func (s *Store) CurrentRevision(ctx context.Context) (storage.Revision, error) {
	if s.isClosed() {
		return 0, storage.ErrClosed
	}
	resp, err := s.cli.Get(ctx, s.probeKey(), clientv3.WithCountOnly())
	if err != nil {
		return 0, s.wrap("current revision", err)
	}
	return storage.Revision(resp.Header.Revision), nil
}

// Compact discards history below rev in the whole cluster and returns once
// the members have applied it (physical compaction).
func (s *Store) Compact(ctx context.Context, rev storage.Revision) error {
	if rev <= 0 {
		return fmt.Errorf("etcd: compact: %w: revision %d", storage.ErrInvalid, rev)
	}
	if s.isClosed() {
		return storage.ErrClosed
	}
	if _, err := s.cli.Compact(ctx, int64(rev), clientv3.WithCompactPhysical()); err != nil {
		return s.wrap("compact at "+rev.String(), err)
	}
	return nil
}

// probeKey is a key no Store call can address (storage keys are not empty
// and this one is the smallest possible suffix): reads of it only fetch the
// response header.
func (s *Store) probeKey() string { return s.prefix + "\x00" }

// full is the etcd key of a storage key.
func (s *Store) full(key string) string { return s.prefix + key }

// keyValue converts an etcd KeyValue under the prefix to a storage one.
func (s *Store) keyValue(kv *mvccpb.KeyValue) storage.KeyValue {
	return storage.KeyValue{
		Key:            string(kv.Key[len(s.prefix):]),
		Value:          kv.Value,
		CreateRevision: storage.Revision(kv.CreateRevision),
		ModRevision:    storage.Revision(kv.ModRevision),
	}
}

// wrap classifies a client error: etcd's compaction and future-revision
// errors become the storage sentinels (keeping etcd's error in the chain),
// anything after Close becomes storage.ErrClosed, and the rest keeps the
// client's error. op names the failed call, e.g. `get "a/b"`.
func (s *Store) wrap(op string, err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("etcd: %s: %w (%w)", op, storage.ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev):
		return fmt.Errorf("etcd: %s: %w (%w)", op, storage.ErrFutureRevision, err)
	case s.isClosed():
		return fmt.Errorf("etcd: %s: %w", op, storage.ErrClosed)
	}
	return fmt.Errorf("etcd: %s: %w", op, err)
}

// ProgressOrdered reports whether the cluster's etcd keeps requested
// progress notifications in order with watch events (3.4.25+, 3.5.8+);
// without it RequestProgress answers storage.ErrUnsupported.
func (s *Store) ProgressOrdered() bool { return s.orderedProgress }
