package garbagecollector

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// identity names one observed object and says how to reach it.
type identity struct {
	Resource   schema.GroupVersionResource
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	UID        types.UID
}

// node is what the graph knows of one observed object.
type node struct {
	identity
	owners []metav1.OwnerReference
	// deleting: deletionTimestamp is set.
	deleting bool
	// deletingDependents: being deleted with the foregroundDeletion
	// finalizer, waiting for its blocking dependents.
	deletingDependents bool
	// orphaning: being deleted with the orphan finalizer.
	orphaning bool
}

// nodeFor builds the node of an observed object's metadata.
func nodeFor(id identity, m metav1.Object) node {
	deleting := m.GetDeletionTimestamp() != nil
	fins := m.GetFinalizers()
	return node{
		identity:           id,
		owners:             slices.Clone(m.GetOwnerReferences()),
		deleting:           deleting,
		deletingDependents: deleting && slices.Contains(fins, metav1.FinalizerDeleteDependents),
		orphaning:          deleting && slices.Contains(fins, metav1.FinalizerOrphanDependents),
	}
}

// dependent is a dependent of some owner, with its reference to it.
type dependent struct {
	node
	ref metav1.OwnerReference
}

// blocking: the dependent holds up its owner's foreground deletion.
func (d dependent) blocking() bool {
	return d.ref.BlockOwnerDeletion != nil && *d.ref.BlockOwnerDeletion
}

// graph is the ownership graph: observed objects by UID, and for every
// UID named as an owner (observed or not) the UIDs of its dependents.
// It does no I/O and takes no locks; its owner serializes calls.
//
// Every mutation returns the UIDs that need a look, the level-triggered
// worker's queue keys: it never decides anything itself.
type graph struct {
	nodes      map[types.UID]*node
	dependents map[types.UID]map[types.UID]struct{}
}

func newGraph() *graph {
	return &graph{nodes: map[types.UID]*node{}, dependents: map[types.UID]map[types.UID]struct{}{}}
}

// get returns a copy of the node of uid.
func (g *graph) get(uid types.UID) (node, bool) {
	n, ok := g.nodes[uid]
	if !ok {
		return node{}, false
	}
	return *n, true
}

// dependentsOf returns the observed dependents of owner, each with its
// reference to owner, ordered by UID.
func (g *graph) dependentsOf(owner types.UID) []dependent {
	var out []dependent
	for uid := range g.dependents[owner] {
		n, ok := g.nodes[uid]
		if !ok {
			continue
		}
		for _, r := range n.owners {
			if r.UID == owner {
				out = append(out, dependent{node: *n, ref: r})
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b dependent) int { return compareUID(a.UID, b.UID) })
	return out
}

// ownedBySolid: every owner the object names is observed, matches its
// reference and is not waiting for its dependents in foreground. Such an
// object needs no live check: were an owner gone, its deletion event
// would queue the object again.
func (g *graph) ownedBySolid(uid types.UID) bool {
	n, ok := g.nodes[uid]
	if !ok || n.deleting || len(n.owners) == 0 {
		return false
	}
	for _, r := range n.owners {
		o, ok := g.nodes[r.UID]
		if !ok || !o.matches(r, n.Namespace) || o.deletingDependents {
			return false
		}
	}
	return true
}

// ofResource returns the UIDs of the observed objects of resource.
func (g *graph) ofResource(r schema.GroupVersionResource) []types.UID {
	var out []types.UID
	for uid, n := range g.nodes {
		if n.Resource == r {
			out = append(out, uid)
		}
	}
	slices.SortFunc(out, compareUID)
	return out
}

// observe records an object as added or updated and returns the UIDs to
// look at.
func (g *graph) observe(n node) []types.UID {
	var out keys
	prev, existed := g.nodes[n.UID]
	var prevOwners []metav1.OwnerReference
	if existed {
		prevOwners = prev.owners
	}
	added, removed, changed := diffRefs(prevOwners, n.owners)
	stored := n
	g.nodes[n.UID] = &stored
	for _, r := range removed {
		g.unlink(r.UID, n.UID)
	}
	for _, r := range added {
		g.link(r.UID, n.UID)
	}
	// An owner waiting in foreground for this dependent may be free now.
	for _, r := range removed {
		if isBlocking(r) {
			out.add(r.UID)
		}
	}
	for _, c := range changed {
		if isBlocking(c[0]) && !isBlocking(c[1]) {
			out.add(c[1].UID)
		}
	}
	// A new reference needs a check unless it names an observed, matching
	// owner that is not being deleted in foreground.
	for _, r := range added {
		o, ok := g.nodes[r.UID]
		if !ok || !o.matches(r, n.Namespace) || o.deletingDependents {
			out.add(n.UID)
		}
	}
	// Deletion starting with the orphan or foreground finalizer.
	if n.orphaning && (!existed || !prev.orphaning) {
		out.add(n.UID)
	}
	if n.deletingDependents && (!existed || !prev.deletingDependents) {
		out.add(n.UID)
		for _, uid := range g.dependentUIDs(n.UID) {
			out.add(uid)
		}
	}
	// First sight of an owner: dependents that named it with other
	// coordinates (another namespace, kind or name) reference something
	// else, which is absent; they need a check.
	if !existed {
		for _, d := range g.dependentsOf(n.UID) {
			if !n.matches(d.ref, d.Namespace) {
				out.add(d.UID)
			}
		}
	}
	return out
}

// remove records an object as gone and returns the UIDs to look at: its
// dependents, and its owners waiting in foreground for it.
func (g *graph) remove(uid types.UID) []types.UID {
	n, ok := g.nodes[uid]
	if !ok {
		return nil
	}
	var out keys
	delete(g.nodes, uid)
	for _, r := range n.owners {
		g.unlink(r.UID, uid)
		if o, ok := g.nodes[r.UID]; ok && o.deletingDependents {
			out.add(r.UID)
		}
	}
	for _, d := range g.dependentUIDs(uid) {
		out.add(d)
	}
	return out
}

// dependentUIDs are the UIDs of the objects naming owner, sorted so the
// queue order (and the tests) do not depend on map order.
func (g *graph) dependentUIDs(owner types.UID) []types.UID {
	out := make([]types.UID, 0, len(g.dependents[owner]))
	for uid := range g.dependents[owner] {
		out = append(out, uid)
	}
	slices.SortFunc(out, compareUID)
	return out
}

func (g *graph) link(owner, dep types.UID) {
	s := g.dependents[owner]
	if s == nil {
		s = map[types.UID]struct{}{}
		g.dependents[owner] = s
	}
	s[dep] = struct{}{}
}

func (g *graph) unlink(owner, dep types.UID) {
	s := g.dependents[owner]
	delete(s, dep)
	if len(s) == 0 {
		delete(g.dependents, owner)
	}
}

// matches: ref, held by a dependent in namespace ns, names n. As
// upstream, the version of apiVersion does not matter, and a namespaced
// owner must be in the dependent's namespace.
func (n *node) matches(ref metav1.OwnerReference, ns string) bool {
	if n.Namespace != "" && n.Namespace != ns {
		return false
	}
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return false
	}
	return ref.UID == n.UID && ref.Name == n.Name && ref.Kind == n.Kind && gv.Group == n.Resource.Group
}

func isBlocking(r metav1.OwnerReference) bool {
	return r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion
}

// diffRefs compares owner references by UID: added, removed, and changed
// pairs (old, new).
func diffRefs(old, cur []metav1.OwnerReference) (added, removed []metav1.OwnerReference, changed [][2]metav1.OwnerReference) {
	byUID := make(map[types.UID]metav1.OwnerReference, len(old))
	for _, r := range old {
		byUID[r.UID] = r
	}
	for _, r := range cur {
		o, ok := byUID[r.UID]
		if !ok {
			added = append(added, r)
			continue
		}
		delete(byUID, r.UID)
		if !equalRef(o, r) {
			changed = append(changed, [2]metav1.OwnerReference{o, r})
		}
	}
	for _, r := range old {
		if _, ok := byUID[r.UID]; ok {
			removed = append(removed, r)
		}
	}
	return added, removed, changed
}

func equalRef(a, b metav1.OwnerReference) bool {
	eq := func(x, y *bool) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.APIVersion == b.APIVersion && a.Kind == b.Kind && a.Name == b.Name && a.UID == b.UID &&
		eq(a.Controller, b.Controller) && eq(a.BlockOwnerDeletion, b.BlockOwnerDeletion)
}

// keys is an ordered set of UIDs.
type keys []types.UID

func (k *keys) add(uid types.UID) {
	if !slices.Contains(*k, uid) {
		*k = append(*k, uid)
	}
}

func compareUID(a, b types.UID) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
