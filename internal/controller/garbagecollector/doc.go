// Package garbagecollector is the garbage collector: it deletes objects
// whose owners (metadata.ownerReferences) are all gone, and carries out the
// foreground and orphan propagation policies the API server records as the
// foregroundDeletion and orphan finalizers.
//
// It watches the metadata of every resource the server serves with list,
// watch and delete (built-in and custom; events excepted, as upstream),
// rediscovering them every 30 s, when a CustomResourceDefinition changes
// and when an owner's kind is unknown, so a new CRD's objects are covered
// within seconds and a deleted one's watch stops (monitors.go). From those
// watches it keeps a graph of who owns whom (graph.go); a change in the
// graph queues the UIDs of the objects that may need work, and a worker
// decides (plan.go, pure) and acts (garbagecollector.go). Work starts once
// every resource has been listed (or after 30 s, so one broken resource
// cannot stop the collector).
//
// Contract, as upstream's:
//   - Background: a dependent is deleted once every owner is absent. Absence
//     is always verified with a live GET: not found, or found with another
//     UID (a dangling reference); owners found absent are remembered (a
//     UID never returns). An owner whose kind was served and no longer is
//     (its CRD deleted, which deletes its objects first) is absent without
//     a lookup: the monitor of its kind may have stopped before it saw the
//     owner go. The graph may only delay a deletion: an object
//     whose owners it has all seen alive is not looked up, since an
//     owner's deletion queues it again.
//   - Foreground: an owner deleted with the foregroundDeletion finalizer
//     keeps it until no dependent that references it with
//     blockOwnerDeletion=true is left; those dependents are deleted with
//     foreground propagation themselves when they have dependents.
//   - Orphan: an owner with the orphan finalizer has its reference removed
//     from every dependent, then the finalizer.
//   - A namespaced dependent's owner is looked up in the dependent's own
//     namespace (or cluster-wide for a cluster-scoped kind): an owner of that
//     UID elsewhere does not count, the reference dangles, and a Warning
//     Event OwnerRefInvalidNamespace is recorded. A cluster-scoped
//     dependent naming a namespaced kind cannot be resolved; it is never
//     collected and gets the same Event.
//
// Deletions carry UID and resourceVersion preconditions, so an object
// changed since it was judged is judged again rather than deleted.
package garbagecollector
