// Package disruption is the disruption controller: it keeps every
// PodDisruptionBudget's status (currentHealthy, desiredHealthy,
// expectedPods, disruptionsAllowed, observedGeneration and the
// DisruptionAllowed condition) true to the pods its selector matches, so
// that the eviction subresource (internal/apiserver/eviction.go) can
// allow or refuse a disruption from the budget alone.
//
// The decision is a pure function (Compute) of the budget, its pods, the
// number of pods their controllers expect and the time. The expected
// number is read only when the budget needs it (maxUnavailable, or a
// percentage minAvailable): the sum of the scale of the pods' distinct
// controllers, through their scale subresource (a ReplicaSet a
// Deployment controls counts as its Deployment, as upstream), so custom
// resources with a scale subresource work too. When it cannot be known
// (a controller without scale, a failing read) the budget allows no
// disruption and its condition says why (reason SyncFailed).
//
// status.disruptedPods holds the pods the eviction subresource let go and
// that are not gone yet: they do not count as healthy until they are
// deleted or two minutes have passed, when they leave the map and the
// budget is looked at again.
//
// Not done here, as upstream does: clearing a stale DisruptionTarget
// condition from pods that were not deleted after all.
package disruption
