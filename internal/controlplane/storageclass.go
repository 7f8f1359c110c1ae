package controlplane

import (
	"context"
	"fmt"

	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"skiff.dev/skiff/internal/apiserver"
	"skiff.dev/skiff/internal/controller/volume/localpath"
	"skiff.dev/skiff/internal/registry"
)

// bootstrapDefaultStorageClass creates the local-path StorageClass, the
// cluster's default, when the built-in provisioner that serves it runs,
// as k3s ships its local-path class. An existing class of that name is
// left as it is (a user may have changed it); one deleted comes back on
// the next start unless the provisioner is disabled
// (--controllers=*,-local-path-provisioner).
func bootstrapDefaultStorageClass(ctx context.Context, api *apiserver.Server, on map[string]bool) error {
	if !on[localPathProvisioner] {
		return nil
	}
	st, ok := api.Store(storagev1.SchemeGroupVersion.WithResource("storageclasses"))
	if !ok {
		return nil
	}
	if _, err := st.Create(ctx, "", localpath.DefaultClass(), registry.WriteOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("bootstrap storage class %s: %w", localpath.ClassName, err)
	}
	return nil
}

// localPathProvisioner is the --controllers name of the built-in
// provisioner; kube-controller-manager has none.
const localPathProvisioner = "local-path-provisioner"
