// Package resourcequota is the resourcequota controller: it keeps every
// ResourceQuota's status.hard equal to spec.hard and status.used equal
// to what the objects of its namespace use of each bounded resource, as
// package quota counts it (the same code admission enforces quotas with).
//
// Usage is recalculated in full for a quota when it changes, when an
// object it counts is created or deleted or changes its usage (a pod
// finishing, a service becoming a load balancer), and every resync
// period. The objects are read from informers ("monitors") started only
// for the resources some quota bounds: typed and trimmed for pods,
// services and claims, metadata-only for those counted by number alone
// (configmaps, secrets, count/<resource>.<group>, custom resources
// included). A monitor no quota needs any more is stopped at the next
// resync, so a cluster without quotas pays for one informer of quotas.
//
// Left out from upstream: a pod being deleted keeps counting until it is
// gone (upstream stops counting it once its grace period has passed).
package resourcequota
