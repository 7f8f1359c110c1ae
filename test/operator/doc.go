// Package operator is a real Kubernetes operator, built the way operator
// authors build them with sigs.k8s.io/controller-runtime, that the e2e tests
// run against skiff. It is seed 004's promise made executable: once the
// Widget CustomResourceDefinition is declared, an ordinary controller can use
// the API server as its substrate.
//
// The WidgetReconciler is level-triggered and idempotent. For every Widget
// (group yourco.io, version v1) it
//   - adds the finalizer Finalizer while the Widget lives;
//   - creates or updates the ConfigMap ConfigMapName(widget) in the Widget's
//     namespace holding spec.name and spec.size, with a controller
//     ownerReference to the Widget;
//   - records what it observed in status: state "Ready", observedGeneration
//     and a Ready condition carrying the same observedGeneration;
//   - when the Widget is being deleted, deletes the ConfigMap itself (the
//     "external" clean-up), records the clean-up (Cleanups) and removes its
//     finalizer so the deletion completes.
//
// The Widget Go types are hand-written, DeepCopy methods included, as a user
// without code generators would write them. This package lives in the test
// tree only: the skiff binary never links it (internal/layering).
package operator
