// Package ttlafterfinished is the ttl-after-finished controller: a Job
// with spec.ttlSecondsAfterFinished is deleted, with background
// propagation (its pods go with it through the garbage collector), that
// many seconds after it finished, as kube-controller-manager's
// ttl-after-finished controller does.
//
// A Job finished when its Complete or Failed condition became True; that
// condition's lastTransitionTime plus the TTL is when it expires (Expiry,
// pure and table-tested). The controller requeues each finished Job for
// the instant it expires, never polls, and before deleting re-reads the
// Job from the API server: the TTL may have been changed or removed since
// the cache saw it, and the delete is conditional on the resourceVersion
// it checked, so a Job updated in between is looked at again instead.
package ttlafterfinished
