// Package localpath is skiff's built-in volume provisioner, the
// counterpart of k3s's local-path-provisioner: a claim of a class whose
// provisioner is "rancher.io/local-path" (k3s's name, so manifests written
// for k3s work unchanged) gets a PersistentVolume that is a directory on
// the node the scheduler picked for the claim's first consumer.
//
// The functions here are pure; the controller in internal/controller/volume
// applies them. Contract:
//   - DefaultClass is the StorageClass `skiff up` creates: "local-path",
//     the default class, WaitForFirstConsumer, reclaimPolicy Delete.
//   - A claim is provisioned once the binder has handed it to this
//     provisioner (annotation volume.kubernetes.io/storage-provisioner) and
//     the scheduler has selected a node (volume.kubernetes.io/selected-node).
//     Its volume is named pvc-<claim UID>, pre-bound to the claim, with the
//     requested capacity and access modes, a hostPath of type
//     DirectoryOrCreate under the class's parameter nodePath (default
//     /var/lib/skiff/storage) and a required nodeAffinity on that node's
//     kubernetes.io/hostname. Only Filesystem volumes with ReadWriteOnce or
//     ReadWriteOncePod access are offered, as k3s.
//   - A volume this provisioner made is deleted once it is Released with
//     reclaimPolicy Delete. The directory is created by the node agent
//     that mounts the hostPath; on simulated nodes it is simulated, and
//     removing it on a real node is left to the node (see the README).
package localpath
