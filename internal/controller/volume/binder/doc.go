// Package binder decides how PersistentVolumeClaims and PersistentVolumes
// are bound, as kube-controller-manager's persistentvolume-binder does. It
// is pure: each function takes the objects observed (a claim, the volumes,
// the claim's StorageClass, the selected node) and returns what to write;
// it performs no I/O and never modifies its arguments. The controller in
// internal/controller/volume applies the results.
//
// Binding rules (upstream's):
//   - A claim matches a volume that is Available (or pre-bound to the
//     claim), of the same storage class, with at least the requested
//     capacity, every requested access mode, the same volumeMode and labels
//     matching the claim's selector; the smallest such volume wins. A
//     volume pre-bound to the claim (spec.claimRef naming it) is chosen
//     first, and a volume pre-bound to another claim never.
//   - A claim naming a volume (spec.volumeName) binds only to that volume.
//   - Binding writes the volume first (claimRef, phase Bound, annotation
//     pv.kubernetes.io/bound-by-controller when the controller chose it),
//     then the claim (spec.volumeName, pv.kubernetes.io/bind-completed,
//     status phase Bound with the volume's capacity and access modes).
//   - A claim of a WaitForFirstConsumer class is not bound until the
//     scheduler picks a node for a pod using it (annotation
//     volume.kubernetes.io/selected-node). skiff's scheduler leaves static
//     volumes to the binder: with a selected node, the claim binds to a
//     matching volume whose nodeAffinity admits that node, or else its
//     class's provisioner is asked for one.
//   - A claim with a class and no matching volume is handed to the class's
//     provisioner (annotations volume.kubernetes.io/storage-provisioner and
//     its beta twin, Event ExternalProvisioning).
//   - A volume whose claim is gone is Released and reclaimed by its policy:
//     Retain keeps it (and its claimRef); Delete deletes it, by the
//     provisioner that made it (annotation pv.kubernetes.io/provisioned-by)
//     when that provisioner is built in, else it turns Failed.
package binder
