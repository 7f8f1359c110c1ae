package garbagecollector

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func ref(uid string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "owner-" + uid, UID: types.UID(uid), BlockOwnerDeletion: new(block)}
}

func dep(uid string, owner string, block, deletingDependents bool) dependent {
	r := ref(owner, block)
	return dependent{node: node{identity: identity{UID: types.UID(uid)}, owners: []metav1.OwnerReference{r}, deletingDependents: deletingDependents}, ref: r}
}

func TestPlanDeleting(t *testing.T) {
	orphan := []string{metav1.FinalizerOrphanDependents}
	foreground := []string{metav1.FinalizerDeleteDependents}
	for _, tc := range []struct {
		name       string
		finalizers []string
		deps       []dependent
		want       plan
	}{
		{"no propagation finalizer: nothing", []string{"example.com/x"}, []dependent{dep("d1", "o", true, false)}, plan{Kind: actNone}},
		{"orphan: every dependent, blocking or not", orphan,
			[]dependent{dep("d1", "o", true, false), dep("d2", "o", false, false)},
			plan{Kind: actOrphan, Dependents: []types.UID{"d1", "d2"}}},
		{"orphan without dependents still removes the finalizer", orphan, nil, plan{Kind: actOrphan}},
		{"orphan wins over foreground", []string{metav1.FinalizerDeleteDependents, metav1.FinalizerOrphanDependents},
			[]dependent{dep("d1", "o", true, false)}, plan{Kind: actOrphan, Dependents: []types.UID{"d1"}}},
		{"foreground, no dependents: finalizer goes", foreground, nil, plan{Kind: actRemoveFinalizer}},
		{"foreground, only non-blocking dependents: finalizer goes", foreground,
			[]dependent{dep("d1", "o", false, false)}, plan{Kind: actRemoveFinalizer}},
		{"foreground waits for blocking dependents and pushes them", foreground,
			[]dependent{dep("d1", "o", true, false), dep("d2", "o", false, false), dep("d3", "o", true, false)},
			plan{Kind: actWait, Dependents: []types.UID{"d1", "d3"}}},
		{"foreground waits for a dependent that waits for its own", foreground,
			[]dependent{dep("d1", "o", true, true)}, plan{Kind: actWait}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := planDeleting(tc.finalizers, tc.deps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPlanOwned(t *testing.T) {
	c := func(uid string, s ownerState) classifiedRef { return classifiedRef{Ref: ref(uid, false), State: s} }
	oneDep := []dependent{dep("d1", "x", true, false)}
	for _, tc := range []struct {
		name       string
		refs       []classifiedRef
		finalizers []string
		deps       []dependent
		want       plan
	}{
		{"no owners: never collected", nil, nil, nil, plan{Kind: actNone}},
		{"a solid owner keeps it", []classifiedRef{c("a", ownerSolid)}, nil, nil, plan{Kind: actNone}},
		{"all owners absent: background delete", []classifiedRef{c("a", ownerAbsent), c("b", ownerAbsent)}, nil, nil,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationBackground}},
		{"one solid, one dangling: the dangling reference goes", []classifiedRef{c("a", ownerSolid), c("b", ownerAbsent)}, nil, nil,
			plan{Kind: actRemoveRefs, Refs: []types.UID{"b"}}},
		{"one solid, one waiting in foreground: that reference goes", []classifiedRef{c("a", ownerWaiting), c("b", ownerSolid)}, nil, nil,
			plan{Kind: actRemoveRefs, Refs: []types.UID{"a"}}},
		{"owner waiting, no dependents of its own: plain delete", []classifiedRef{c("a", ownerWaiting)}, nil, nil,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationBackground}},
		{"owner waiting, has dependents: foreground delete", []classifiedRef{c("a", ownerWaiting)}, nil, oneDep,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationForeground}},
		{"owner waiting, a dependent waiting too (cycle): unblock first", []classifiedRef{c("a", ownerWaiting)}, nil,
			[]dependent{dep("d1", "x", true, true)},
			plan{Kind: actDelete, Policy: metav1.DeletePropagationForeground, Unblock: true}},
		{"absent and waiting owners: delete", []classifiedRef{c("a", ownerAbsent), c("b", ownerWaiting)}, nil, nil,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationBackground}},
		{"an orphan finalizer it already has is honoured", []classifiedRef{c("a", ownerAbsent)}, []string{metav1.FinalizerOrphanDependents}, oneDep,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationOrphan}},
		{"a foreground finalizer it already has is honoured", []classifiedRef{c("a", ownerAbsent)}, []string{metav1.FinalizerDeleteDependents}, nil,
			plan{Kind: actDelete, Policy: metav1.DeletePropagationForeground}},
		{"an unresolvable reference: never collected, even with others absent", []classifiedRef{c("a", ownerAbsent), c("b", ownerInvalid)}, nil, nil,
			plan{Kind: actInvalid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := planOwned(tc.refs, tc.finalizers, tc.deps); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("plan = %+v, want %+v", got, tc.want)
			}
		})
	}
}
