package controller

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CheckOwner decides, from a live read of an owner (fresh, err), whether
// the owner the cache showed (cached, of kind kind) may still adopt: nil
// when it is the same object (by UID) and not being deleted, as upstream's
// controllers recheck before adopting orphans. A failed read is returned
// as is.
func CheckOwner(kind string, cached, fresh metav1.Object, err error) error {
	if err != nil {
		return err
	}
	if fresh.GetUID() != cached.GetUID() {
		return fmt.Errorf("original %s %s/%s is gone: got uid %s, wanted %s",
			kind, cached.GetNamespace(), cached.GetName(), fresh.GetUID(), cached.GetUID())
	}
	if ts := fresh.GetDeletionTimestamp(); ts != nil {
		return fmt.Errorf("%s %s/%s has just been deleted at %v", kind, cached.GetNamespace(), cached.GetName(), ts)
	}
	return nil
}
