// Package etcdtest starts real etcd clusters — the etcd binary found in PATH,
// as separate processes on loopback ports — for tests and benchmarks.
//
// Tests call StartCluster(t, 1) or StartCluster(t, 3); programs (a `go run`
// benchmark) call Start(ctx, Options) and Cluster.Stop. Either way:
//
//   - Every member listens on 127.0.0.1 on ports chosen free just before
//     launch; when a member loses the race for its port the whole cluster is
//     relaunched on fresh ports (a few attempts).
//   - Data lives in a temporary directory (t.TempDir for StartCluster), one
//     sub-directory per member. Writes are fsynced as in production: the
//     harness never passes --unsafe-no-fsync, so numbers measured against it
//     are numbers for durable writes.
//   - Start returns only when every member answers a linearizable Get through
//     the etcd client (so a leader exists and every member reaches it). It
//     polls with a deadline; it never sleeps a fixed time.
//   - Each member's stdout and stderr go to <dir>/<name>.log. Start errors
//     quote the tail of the relevant logs; StartCluster prints every member's
//     log tail when the test has failed.
//   - StartCluster stops every process (SIGKILL, then waits for it) and
//     removes the data in tb.Cleanup. On Linux the processes also get
//     SIGKILL if the test binary dies, so a crashed test leaves no etcd
//     behind.
//
// A missing etcd binary is an error, and for StartCluster a test failure with
// the install hint — never a skip: the tests that need etcd are part of the
// suite, and the machine is expected to have it (apt-get install -y
// etcd-server).
//
// Kill(i) sends SIGKILL to member i and waits for it to exit; Restart(i)
// starts it again with the same name, data directory and ports and waits
// until it serves linearizable reads again. Leader reports which member
// leads. A Cluster is safe for concurrent use; the methods of a Cluster from
// StartCluster call tb.Fatalf on error, so call them from the test goroutine.
//
// The harness sets the election timing (Options.HeartbeatInterval,
// Options.ElectionTimeout) and strips ETCD_* variables from the members'
// environment so a developer's shell cannot reconfigure the members.
package etcdtest
