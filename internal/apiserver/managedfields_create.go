package apiserver

import (
	"reflect"
	"time"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/typed"

	"skiff.dev/skiff/internal/registry"
)

// createTracker computes the managed fields of a create (POST, or PUT of
// an object that does not exist; not apply) without apimachinery's generic
// chain, whose result it reproduces byte for byte in the cases it accepts.
//
// For such a create the chain (managedfields/internal, v0.37.2) reduces to
// one step: the live object is the kind's empty object and there are no
// managers yet, so
//
//   - versionCheck, lastAppliedUpdater and lastAppliedManager pass updates
//     through (they act on apply only; a last-applied annotation changes
//     nothing here);
//   - skipNonApplied tracks: the empty live object has no UID and the
//     track-on-create probability is 1;
//   - capManagers has one manager, below the cap of 10;
//   - structuredMerge's updater, with no other manager, sets the manager's
//     fields to Compare(live, new).Modified ∪ Added (Removed only shrinks
//     the empty previous set; there is no reset-fields filter);
//   - stripMeta removes the metadata fields of createStripSet, and drops
//     the manager if nothing is left (then managedFields is nil);
//   - managedFieldsUpdater stamps the entry with time.Now().UTC();
//   - buildManagerInfo names the entry: the manager ("unknown" if empty),
//     operation Update, the resource's apiVersion, the subresource; the
//     name goes through JSON and back, an identity for valid UTF-8.
//
// Compare against the empty object, not the new object's ToFieldSet: they
// differ (a map the empty object lacks is listed with its "." entry, a
// field the empty object has with the same value, e.g. a Pod's "status":
// {} or a template's null creationTimestamp, is not listed at all).
//
// Whatever the fast path cannot vouch for goes to the chain: objects that
// bring managed fields, kinds whose objects need a conversion (or are
// unstructured), managers that are not valid UTF-8, and every error
// (conversion to a typed value, schema validation, Compare), so that a
// failure is logged and leaves managedFields as the chain leaves it.
//
// TestCreateTracking* compare the two, byte for byte, on every manifest of
// test/e2e and on generated objects: they guard the reasoning above across
// apimachinery upgrades.
type createTracker struct {
	tc          managedfields.TypeConverter
	objType     reflect.Type // the Go type of the kind's objects
	apiVersion  string
	subresource string
	// live is the typed value of the kind's empty object, as the chain
	// computes it for every create; read-only, shared by all creates.
	live *typed.TypedValue
}

// createStripSet is the set stripMetaManager removes from every manager's
// fields (managedfields/internal/stripmeta.go).
var createStripSet = fieldpath.NewSet(
	fieldpath.MakePathOrDie("apiVersion"),
	fieldpath.MakePathOrDie("kind"),
	fieldpath.MakePathOrDie("metadata"),
	fieldpath.MakePathOrDie("metadata", "name"),
	fieldpath.MakePathOrDie("metadata", "namespace"),
	fieldpath.MakePathOrDie("metadata", "creationTimestamp"),
	fieldpath.MakePathOrDie("metadata", "selfLink"),
	fieldpath.MakePathOrDie("metadata", "uid"),
	fieldpath.MakePathOrDie("metadata", "clusterName"),
	fieldpath.MakePathOrDie("metadata", "generation"),
	fieldpath.MakePathOrDie("metadata", "managedFields"),
	fieldpath.MakePathOrDie("metadata", "resourceVersion"),
)

// newCreateTracker is the create tracker of res (or its subresource) with
// type converter tc, or nil when creates of res must take the chain.
func newCreateTracker(res *registry.Resource, tc managedfields.TypeConverter, subresource string) *createTracker {
	gvk := res.GVK()
	gv := gvk.GroupVersion()
	empty := res.Strategy.New()
	if _, ok := empty.(runtime.Unstructured); ok || !utf8.ValidString(subresource) {
		return nil
	}
	// The chain converts the objects to gv first: for a type registered
	// as gvk that is a deep copy with the same content; anything else is
	// a real conversion.
	kinds, unversioned, err := Scheme.ObjectKinds(empty)
	if err != nil || unversioned {
		return nil
	}
	if k, ok := gv.KindForGroupVersionKinds(kinds); !ok || k != gvk {
		return nil
	}
	empty.GetObjectKind().SetGroupVersionKind(gvk)
	versioned, err := Scheme.ConvertToVersion(empty, gv)
	if err != nil {
		return nil
	}
	live, err := tc.ObjectToTyped(versioned, typed.AllowDuplicates)
	if err != nil {
		return nil
	}
	return &createTracker{
		tc:          tc,
		objType:     reflect.TypeOf(empty),
		apiVersion:  gv.String(),
		subresource: subresource,
		live:        live,
	}
}

// track sets obj's managedFields to what the generic chain would for its
// create by manager at now, and reports whether it did; false leaves obj
// as it was. obj has its kind set.
func (t *createTracker) track(obj runtime.Object, manager string, now time.Time) bool {
	if t == nil || reflect.TypeOf(obj) != t.objType {
		return false
	}
	m, err := meta.Accessor(obj)
	if err != nil || len(m.GetManagedFields()) != 0 {
		return false
	}
	if manager == "" {
		manager = "unknown"
	}
	if !utf8.ValidString(manager) {
		return false
	}
	tv, err := t.tc.ObjectToTyped(obj, typed.AllowDuplicates)
	if err != nil {
		return false
	}
	cmp, err := t.live.Compare(tv)
	if err != nil {
		return false
	}
	set := cmp.Modified.Union(cmp.Added).Difference(createStripSet)
	if set.Empty() {
		m.SetManagedFields(nil)
		return true
	}
	raw, err := set.ToJSON()
	if err != nil {
		return false
	}
	m.SetManagedFields([]metav1.ManagedFieldsEntry{{
		Manager:     manager,
		Operation:   metav1.ManagedFieldsOperationUpdate,
		APIVersion:  t.apiVersion,
		Time:        &metav1.Time{Time: now.UTC()},
		FieldsType:  "FieldsV1",
		FieldsV1:    &metav1.FieldsV1{Raw: raw},
		Subresource: t.subresource,
	}})
	return true
}
