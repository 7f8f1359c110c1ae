package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/rand"
)

// HashLabel carries a revision's hash on the revision itself.
const HashLabel = "controller.kubernetes.io/hash"

// maxPrefix keeps <prefix>-<hash> within a 253-byte object name.
const maxPrefix = 223

// TemplatePatch is the Data of a revision of template: a patch that
// replaces the parent's spec.template with it.
func TemplatePatch(template *corev1.PodTemplateSpec) ([]byte, error) {
	b, err := json.Marshal(template)
	if err != nil {
		return nil, err
	}
	// Through a map, as upstream does, so keys come out sorted and the
	// hash of an unchanged template is the same across versions of us.
	var t map[string]any
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	t["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": t}})
}

// Hash is the hash of data, with collisionCount mixed in when not nil.
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// Name is the name of parent's revision with hash.
func Name(parent, hash string) string {
	if len(parent) > maxPrefix {
		parent = parent[:maxPrefix]
	}
	return parent + "-" + hash
}

// New is a revision of parent (of kind gvk) holding data, labelled like
// the template (so the parent's selector finds it), controlled by parent,
// named by Hash(data, collisionCount).
func New(parent metav1.Object, gvk schema.GroupVersionKind, templateLabels map[string]string, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	hash := Hash(data, collisionCount)
	l := make(map[string]string, len(templateLabels)+1)
	maps.Copy(l, templateLabels)
	l[HashLabel] = hash
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            Name(parent.GetName(), hash),
			Namespace:       parent.GetNamespace(),
			Labels:          l,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(parent, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
}

// Compare orders revisions by Revision, then creation time, then name.
func Compare(a, b *appsv1.ControllerRevision) int {
	if a.Revision != b.Revision {
		if a.Revision < b.Revision {
			return -1
		}
		return 1
	}
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		if a.CreationTimestamp.Before(&b.CreationTimestamp) {
			return -1
		}
		return 1
	}
	switch {
	case a.Name < b.Name:
		return -1
	case a.Name > b.Name:
		return 1
	}
	return 0
}

// Sort sorts revisions in place, oldest first (see Compare).
func Sort(revisions []*appsv1.ControllerRevision) { slices.SortStableFunc(revisions, Compare) }

// Next is the Revision number a new revision gets: one more than the
// highest of revisions, 1 when there is none.
func Next(revisions []*appsv1.ControllerRevision) int64 {
	var n int64
	for _, r := range revisions {
		n = max(n, r.Revision)
	}
	return n + 1
}

// Equal: a and b hold the same Data. (Upstream also compares hash labels
// when they parse as integers, which safe-encoded hashes never do.)
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// FindEqual returns the revisions equal to needle, in their order.
func FindEqual(revisions []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var eq []*appsv1.ControllerRevision
	for _, r := range revisions {
		if Equal(r, needle) {
			eq = append(eq, r)
		}
	}
	return eq
}

// Claim splits the revisions of parent's namespace by ownership: owned are
// those parent controls whose labels match selector, adopt the orphans
// that match, release those parent controls that no longer match.
// Revisions controlled by another object are left out. An owner being
// deleted neither adopts nor releases.
func Claim(revisions []*appsv1.ControllerRevision, parent metav1.Object, selector labels.Selector) (owned, adopt, release []*appsv1.ControllerRevision) {
	for _, r := range revisions {
		match := selector.Matches(labels.Set(r.Labels))
		ref := metav1.GetControllerOfNoCopy(r)
		switch {
		case ref != nil && ref.UID != parent.GetUID():
		case ref != nil && match:
			owned = append(owned, r)
		case ref != nil && parent.GetDeletionTimestamp() == nil:
			release = append(release, r)
		case match && r.DeletionTimestamp == nil && parent.GetDeletionTimestamp() == nil:
			adopt = append(adopt, r)
		}
	}
	return owned, adopt, release
}

// Truncate returns the revisions to delete so that at most limit remain
// besides the live ones: those named in live (the current and update
// revisions, and every revision a pod's controller-revision-hash label
// names). revisions must be sorted (Sort); the oldest go first.
func Truncate(revisions []*appsv1.ControllerRevision, live map[string]bool, limit int) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range revisions {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	if len(old) <= max(limit, 0) {
		return nil
	}
	return old[:len(old)-max(limit, 0)]
}

// adoptPatch adds a controller reference to parent, guarded by the
// revision's UID so a revision re-created under the same name is not
// adopted by mistake.
func adoptPatch(parent metav1.Object, gvk schema.GroupVersionKind, uid types.UID) []byte {
	return fmt.Appendf(nil, `{"metadata":{"ownerReferences":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q,"controller":true,"blockOwnerDeletion":true}],"uid":%q}}`,
		gvk.GroupVersion().String(), gvk.Kind, parent.GetName(), parent.GetUID(), uid)
}

// releasePatch removes parent's reference, guarded by the revision's UID.
func releasePatch(parent metav1.Object, uid types.UID) []byte {
	return fmt.Appendf(nil, `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":%q}],"uid":%q}}`, parent.GetUID(), uid)
}
