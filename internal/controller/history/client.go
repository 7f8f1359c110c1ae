package history

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
)

// Client is what this package needs of a namespace's ControllerRevisions
// client (client.Group.ControllerRevisions satisfies it).
type Client interface {
	Create(ctx context.Context, r *appsv1.ControllerRevision, opts metav1.CreateOptions) (*appsv1.ControllerRevision, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*appsv1.ControllerRevision, error)
	Update(ctx context.Context, r *appsv1.ControllerRevision, opts metav1.UpdateOptions) (*appsv1.ControllerRevision, error)
	Patch(ctx context.Context, name string, pt types.PatchType, data []byte, opts metav1.PatchOptions, subresources ...string) (*appsv1.ControllerRevision, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// maxCollisions bounds Create's retries: each one is a name taken by
// different Data, which FNV-32 makes rare; a long run means something
// else is squatting the names.
const maxCollisions = 100

// Create creates revision (built by New), renaming it with a higher
// *collisionCount while its name is taken by a revision with other Data.
// A revision already there with the same Data is returned instead.
// *collisionCount is left at the count the returned name was hashed with.
func Create(ctx context.Context, c Client, revision *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, fmt.Errorf("history: nil collisionCount")
	}
	ref := metav1.GetControllerOfNoCopy(revision)
	if ref == nil {
		return nil, fmt.Errorf("history: revision %s has no controller", revision.Name)
	}
	r := revision.DeepCopy()
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
	for range maxCollisions {
		hash := Hash(r.Data.Raw, collisionCount)
		r.Name = Name(ref.Name, hash)
		r.Labels[HashLabel] = hash
		created, err := c.Create(ctx, r, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return created, err
		}
		there, err := c.Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if Equal(there, r) {
			return there, nil
		}
		*collisionCount++
	}
	return nil, fmt.Errorf("history: %d name collisions creating a revision of %s", maxCollisions, ref.Name)
}

// SetRevision gives revision the Revision number n (a rollback to an
// older template makes its revision the newest), retrying on conflict.
func SetRevision(ctx context.Context, c Client, revision *appsv1.ControllerRevision, n int64) (*appsv1.ControllerRevision, error) {
	r := revision
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		if r.Revision == n {
			return nil
		}
		clone := r.DeepCopy()
		clone.Revision = n
		updated, err := c.Update(ctx, clone, metav1.UpdateOptions{})
		if err == nil {
			r = updated
			return nil
		}
		if apierrors.IsConflict(err) {
			if fresh, gerr := c.Get(ctx, r.Name, metav1.GetOptions{}); gerr == nil {
				r = fresh
			}
		}
		return err
	})
	return r, err
}

// Adopt makes parent (of kind gvk) the controller of the orphan revision.
func Adopt(ctx context.Context, c Client, parent metav1.Object, gvk schema.GroupVersionKind, revision *appsv1.ControllerRevision) (*appsv1.ControllerRevision, error) {
	if ref := metav1.GetControllerOfNoCopy(revision); ref != nil {
		return nil, fmt.Errorf("history: revision %s is controlled by %s %s", revision.Name, ref.Kind, ref.Name)
	}
	return c.Patch(ctx, revision.Name, types.StrategicMergePatchType, adoptPatch(parent, gvk, revision.UID), metav1.PatchOptions{})
}

// Release removes parent's reference from revision. A revision gone, or
// no longer parent's (the UID guard fails as Invalid), is not an error.
func Release(ctx context.Context, c Client, parent metav1.Object, revision *appsv1.ControllerRevision) error {
	_, err := c.Patch(ctx, revision.Name, types.StrategicMergePatchType, releasePatch(parent, revision.UID), metav1.PatchOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsInvalid(err) {
		return nil
	}
	return err
}

// Delete deletes revision, guarded by its UID; gone already is success.
func Delete(ctx context.Context, c Client, revision *appsv1.ControllerRevision) error {
	err := c.Delete(ctx, revision.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &revision.UID}})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}
