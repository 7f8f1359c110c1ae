package garbagecollector

import (
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

var configmaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// cm is a ConfigMap node in namespace ns owned through refs.
func cm(ns, name string, refs ...metav1.OwnerReference) node {
	return node{identity: identity{Resource: configmaps, APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: name, UID: types.UID(name)}, owners: refs}
}

// ownedBy references the ConfigMap named (and UID'd) name.
func ownedBy(name string, block bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: name, UID: types.UID(name), BlockOwnerDeletion: new(block)}
}

func deletingWith(n node, finalizer string) node {
	m := &metav1.ObjectMeta{Finalizers: []string{finalizer}, OwnerReferences: n.owners, DeletionTimestamp: &metav1.Time{Time: time.Unix(1, 0)}}
	return nodeFor(n.identity, m)
}

// step is one graph mutation and the keys it must return.
type step struct {
	observe *node
	remove  types.UID
	want    []types.UID
}

func obs(n node, want ...types.UID) step { return step{observe: &n, want: want} }
func rm(uid types.UID, want ...types.UID) step {
	return step{remove: uid, want: want}
}

func TestGraphQueues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"owner first: a matching reference needs no look; the owner's deletion queues the dependent", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "dep", ownedBy("owner", false))),
			rm("owner", "dep"),
		}},
		{"dependent first: an unseen owner is checked live", []step{
			obs(cm("ns", "dep", ownedBy("owner", false)), "dep"),
			obs(cm("ns", "owner")),
			rm("owner", "dep"),
		}},
		{"an owner seen in another namespace: its dependent is looked at (it dangles)", []step{
			obs(cm("a", "dep", ownedBy("owner", false)), "dep"),
			obs(cm("b", "owner"), "dep"),
		}},
		{"a reference added later to a present owner needs no look", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "dep")),
			obs(cm("ns", "dep", ownedBy("owner", false))),
		}},
		{"a reference to an owner in another namespace is looked at", []step{
			obs(cm("b", "owner")),
			obs(cm("a", "dep", ownedBy("owner", false)), "dep"),
		}},
		{"foreground deletion starting queues the owner and all its dependents", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "d1", ownedBy("owner", true))),
			obs(cm("ns", "d2", ownedBy("owner", false))),
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerDeleteDependents), "owner", "d1", "d2"),
			// Seen again, nothing new starts.
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerDeleteDependents)),
			// A blocking dependent gone: the owner may finish.
			rm("d1", "owner"),
			rm("d2", "owner"),
		}},
		{"a dependent unblocking its reference frees its foreground owner", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "dep", ownedBy("owner", true))),
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerDeleteDependents), "owner", "dep"),
			obs(cm("ns", "dep", ownedBy("owner", false)), "owner"),
		}},
		{"a dependent dropping a blocking reference frees the owner", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "dep", ownedBy("owner", true))),
			obs(cm("ns", "dep"), "owner"),
		}},
		{"a new dependent of an owner waiting in foreground is looked at", []step{
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerDeleteDependents), "owner"),
			obs(cm("ns", "dep", ownedBy("owner", true)), "dep"),
		}},
		{"orphan deletion starting queues the owner only", []step{
			obs(cm("ns", "owner")),
			obs(cm("ns", "dep", ownedBy("owner", true))),
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerOrphanDependents), "owner"),
			obs(deletingWith(cm("ns", "owner"), metav1.FinalizerOrphanDependents)),
		}},
		{"removing an unknown object does nothing", []step{
			rm("nobody"),
		}},
		{"a chain: each deletion queues the next level", []step{
			obs(cm("ns", "a")),
			obs(cm("ns", "b", ownedBy("a", false))),
			obs(cm("ns", "c", ownedBy("b", false))),
			rm("a", "b"),
			rm("b", "c"),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGraph()
			for i, s := range tc.steps {
				var got []types.UID
				if s.observe != nil {
					got = g.observe(*s.observe)
				} else {
					got = g.remove(s.remove)
				}
				if len(got) == 0 && len(s.want) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, s.want) {
					t.Fatalf("step %d: queued %v, want %v", i, got, s.want)
				}
			}
		})
	}
}

func TestGraphDependents(t *testing.T) {
	g := newGraph()
	g.observe(cm("ns", "owner"))
	g.observe(cm("ns", "b", ownedBy("owner", true)))
	g.observe(cm("ns", "a", ownedBy("owner", false), ownedBy("other", true)))
	deps := g.dependentsOf("owner")
	if len(deps) != 2 || deps[0].UID != "a" || deps[1].UID != "b" || deps[0].blocking() || !deps[1].blocking() {
		t.Fatalf("dependents of owner = %+v, want a (not blocking), b (blocking)", deps)
	}
	// Dropping a reference drops the edge; the other owner keeps its own.
	g.observe(cm("ns", "a", ownedBy("other", true)))
	if deps := g.dependentsOf("owner"); len(deps) != 1 || deps[0].UID != "b" {
		t.Fatalf("after a dropped its reference: %+v", deps)
	}
	if deps := g.dependentsOf("other"); len(deps) != 1 || deps[0].UID != "a" || !deps[0].blocking() {
		t.Fatalf("dependents of other = %+v", deps)
	}
	// An owner's removal keeps the edges of its dependents: they still
	// name it, and are looked at through them.
	g.remove("owner")
	if deps := g.dependentsOf("owner"); len(deps) != 1 {
		t.Fatalf("after the owner went: %+v", deps)
	}
	g.remove("b")
	if _, ok := g.dependents["owner"]; ok {
		t.Fatal("an owner with no dependents left keeps an edge set")
	}
	if g.ownedBySolid("a") {
		t.Error("a, owned by an unobserved object, needs no live check")
	}
	g.observe(cm("ns", "other"))
	if !g.ownedBySolid("a") {
		t.Error("a, owned by observed other, needs a live check")
	}
	g.observe(deletingWith(cm("ns", "other"), metav1.FinalizerDeleteDependents))
	if g.ownedBySolid("a") {
		t.Error("a needs no look though its owner waits for it in foreground")
	}
	if got := g.ofResource(configmaps); !reflect.DeepEqual(got, []types.UID{"a", "other"}) {
		t.Fatalf("ofResource = %v", got)
	}
}

func TestNodeMatches(t *testing.T) {
	owner := cm("ns", "owner")
	cluster := node{identity: identity{Resource: schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}, Kind: "Widget", Name: "w", UID: "w"}}
	for _, tc := range []struct {
		name string
		n    node
		ref  metav1.OwnerReference
		ns   string
		want bool
	}{
		{"same coordinates", owner, ownedBy("owner", false), "ns", true},
		{"another namespace", owner, ownedBy("owner", false), "other", false},
		{"another name", owner, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "x", UID: "owner"}, "ns", false},
		{"another kind", owner, metav1.OwnerReference{APIVersion: "v1", Kind: "Secret", Name: "owner", UID: "owner"}, "ns", false},
		{"a cluster-scoped owner from any namespace", cluster, metav1.OwnerReference{APIVersion: "example.com/v1", Kind: "Widget", Name: "w", UID: "w"}, "ns", true},
		{"another version of the group still matches", cluster, metav1.OwnerReference{APIVersion: "example.com/v2", Kind: "Widget", Name: "w", UID: "w"}, "", true},
		{"another group does not", cluster, metav1.OwnerReference{APIVersion: "other.com/v1", Kind: "Widget", Name: "w", UID: "w"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.n.matches(tc.ref, tc.ns); got != tc.want {
				t.Errorf("matches = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCatalogLookup(t *testing.T) {
	widgets := resourceInfo{GVR: schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "widgets"}, Kind: "Widget", Namespaced: true}
	c := &catalog{byKind: map[schema.GroupVersionKind]resourceInfo{
		{Group: "example.com", Version: "v1", Kind: "Widget"}: widgets,
	}}
	if ri, err := c.lookup("example.com/v1", "Widget"); err != nil || ri != widgets {
		t.Errorf("exact: %v, %v", ri, err)
	}
	if ri, err := c.lookup("example.com/v1beta1", "Widget"); err != nil || ri != widgets {
		t.Errorf("another version: %v, %v", ri, err)
	}
	if _, err := c.lookup("example.com/v1", "Gadget"); err == nil {
		t.Error("an unknown kind resolved")
	}
}

func TestAbsentCache(t *testing.T) {
	a := newAbsentCache(2)
	k := func(uid string) absentKey { return absentKey{Name: "o", UID: types.UID(uid)} }
	a.add(k("1"))
	a.add(k("2"))
	a.add(k("2"))
	if !a.has(k("1")) || !a.has(k("2")) || a.has(k("3")) {
		t.Fatal("membership wrong before eviction")
	}
	a.add(k("3"))
	if a.has(k("1")) || !a.has(k("2")) || !a.has(k("3")) {
		t.Fatal("the oldest entry is not the one forgotten")
	}
}
