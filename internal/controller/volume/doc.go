// Package volume runs kube-controller-manager's persistent volume loops
// on the process's shared informers (volumes, claims, storage classes
// and, for pvc-protection, pods):
//
//   - persistentvolume-binder binds claims to volumes and reclaims
//     released volumes, by the pure rules of package binder;
//   - local-path-provisioner makes node-local volumes for claims of
//     "rancher.io/local-path" classes and deletes them when released, by
//     package localpath;
//   - pvc-protection removes kubernetes.io/pvc-protection from a claim
//     being deleted once no scheduled, unfinished pod uses it;
//   - pv-protection removes kubernetes.io/pv-protection from a volume
//     being deleted once it is not Bound.
//
// (The finalizers are added by the StorageObjectInUseProtection admission
// plugin.) Each loop is level-triggered: its key names a claim or a
// volume, and its sync re-reads the informers and writes only what
// differs. Writes use the resourceVersion read, so a stale cache ends in
// a conflict and a retry, never in a lost update. A volume is released
// only after the API server confirms its claim is gone.
package volume
