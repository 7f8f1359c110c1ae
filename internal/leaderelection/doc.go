// Package leaderelection elects one leader among processes that share a
// coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection does,
// over skiff's own typed client (client-go's resource locks link the
// generated clientset, which skiff's binary must not).
//
// Contract:
//   - A candidate acquires the Lease when it does not exist, when it holds
//     it already, or when the holder has not renewed it for
//     leaseDurationSeconds as seen on this candidate's clock: the time is
//     measured from when this candidate last saw the Lease change, never
//     from the holder's renewTime, so clock skew between machines does not
//     shorten a lease.
//   - Every write is a compare-and-swap on resourceVersion, so two
//     candidates never both believe they acquired the same term.
//   - The leader renews every RetryPeriod. If it cannot renew for
//     RenewDeadline (shorter than LeaseDuration) it stops leading: the
//     context given to OnStartedLeading is cancelled, Run waits for
//     OnStartedLeading to return, calls OnStoppedLeading, and campaigns
//     again. A leader therefore stops acting before another candidate can
//     take over.
//   - When Run's context ends, a leader waits for OnStartedLeading to
//     return and then releases the Lease (empty holder), so a successor
//     need not wait for it to expire.
package leaderelection
