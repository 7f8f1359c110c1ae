// Package apps holds the strategies of the apps/v1 workload kinds:
// Deployment, ReplicaSet, StatefulSet, DaemonSet and ControllerRevision.
//
// Each strategy defaults and validates like Kubernetes' apps/v1 (pod
// templates through package podspec), keeps status behind the "status"
// subresource, and tracks spec changes in metadata.generation: 1 on create,
// bumped by every write that changes the spec. Validation errors carry the
// field path a client sees in the API's Status.
//
// The scale subresource is not served here: it is generic server plumbing
// over spec.replicas and status.selector.
package apps
