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
// As upstream, a pod still there past the end of its deletion grace
// period (its node lost) counts only as an object; the quota is looked at
// again when that time comes, since no event marks it.
package resourcequota
