package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ownerState is what a live lookup found for one owner reference.
type ownerState int

const (
	// ownerSolid: the owner exists (same UID) and is not waiting for its
	// dependents in foreground.
	ownerSolid ownerState = iota
	// ownerAbsent: not found, or found with another UID (dangling).
	ownerAbsent
	// ownerWaiting: the owner exists, is being deleted, and holds the
	// foregroundDeletion finalizer.
	ownerWaiting
	// ownerInvalid: a cluster-scoped dependent names a namespaced kind; the
	// reference cannot be resolved.
	ownerInvalid
)

func (s ownerState) String() string {
	return [...]string{"solid", "absent", "waiting", "invalid"}[s]
}

// classifiedRef is an owner reference with what was found for it.
type classifiedRef struct {
	Ref   metav1.OwnerReference
	State ownerState
}

// actionKind is what one pass does to an object.
type actionKind int

const (
	actNone actionKind = iota
	// actDelete deletes the object with Policy (after unblocking its own
	// references when Unblock is set).
	actDelete
	// actRemoveRefs removes the owner references with the UIDs in Refs.
	actRemoveRefs
	// actOrphan removes the object's reference from each of Dependents,
	// then the orphan finalizer.
	actOrphan
	// actRemoveFinalizer removes the foregroundDeletion finalizer: no
	// blocking dependent is left.
	actRemoveFinalizer
	// actWait: blocking dependents are left; each of Dependents gets a
	// look (to be deleted), and the object waits for their deletion.
	actWait
	// actInvalid: a reference cannot be resolved; report it, do nothing.
	actInvalid
)

// plan is one pass's decision.
type plan struct {
	Kind       actionKind
	Policy     metav1.DeletionPropagation
	Unblock    bool
	Refs       []types.UID
	Dependents []types.UID
}

// planDeleting decides for an object being deleted (deletionTimestamp set)
// from its finalizers and its observed dependents. Without a propagation
// finalizer there is nothing to do: the object is on its way out.
func planDeleting(finalizers []string, deps []dependent) plan {
	if slices.Contains(finalizers, metav1.FinalizerOrphanDependents) {
		return plan{Kind: actOrphan, Dependents: uids(deps, func(dependent) bool { return true })}
	}
	if !slices.Contains(finalizers, metav1.FinalizerDeleteDependents) {
		return plan{Kind: actNone}
	}
	if !slices.ContainsFunc(deps, dependent.blocking) {
		return plan{Kind: actRemoveFinalizer}
	}
	// A dependent that is itself waiting for its dependents is left alone:
	// its own pass drives it.
	return plan{Kind: actWait, Dependents: uids(deps, func(d dependent) bool { return d.blocking() && !d.deletingDependents })}
}

// planOwned decides for a live object (no deletionTimestamp) with owner
// references, classified by live lookups, its finalizers (a propagation
// policy it was given earlier) and its observed dependents.
func planOwned(refs []classifiedRef, finalizers []string, deps []dependent) plan {
	if len(refs) == 0 {
		return plan{Kind: actNone}
	}
	var solid, absent, waiting []types.UID
	for _, r := range refs {
		switch r.State {
		case ownerInvalid:
			// Upstream gives up on the object: its ownership cannot be
			// decided, so it is never collected.
			return plan{Kind: actInvalid}
		case ownerSolid:
			solid = append(solid, r.Ref.UID)
		case ownerAbsent:
			absent = append(absent, r.Ref.UID)
		case ownerWaiting:
			waiting = append(waiting, r.Ref.UID)
		}
	}
	switch {
	case len(solid) > 0:
		// It stays; references to absent owners go, and so do those to
		// owners waiting in foreground, or they would wait forever.
		if len(absent) == 0 && len(waiting) == 0 {
			return plan{Kind: actNone}
		}
		return plan{Kind: actRemoveRefs, Refs: append(absent, waiting...)}
	case len(waiting) > 0 && len(deps) > 0:
		// An owner waits for it and it has dependents of its own: delete
		// it in foreground, so its owner waits for the whole subtree. A
		// dependent also waiting in foreground may be waiting for it (a
		// cycle); upstream breaks that by unblocking its own references.
		return plan{Kind: actDelete, Policy: metav1.DeletePropagationForeground,
			Unblock: slices.ContainsFunc(deps, func(d dependent) bool { return d.deletingDependents })}
	default:
		policy := metav1.DeletePropagationBackground
		switch {
		case slices.Contains(finalizers, metav1.FinalizerOrphanDependents):
			policy = metav1.DeletePropagationOrphan
		case slices.Contains(finalizers, metav1.FinalizerDeleteDependents):
			policy = metav1.DeletePropagationForeground
		}
		return plan{Kind: actDelete, Policy: policy}
	}
}

func uids(deps []dependent, keep func(dependent) bool) []types.UID {
	var out []types.UID
	for _, d := range deps {
		if keep(d) {
			out = append(out, d.UID)
		}
	}
	return out
}
