// Package crd serves custom resources: it turns each
// apiextensions.k8s.io/v1 CustomResourceDefinition into served resources
// (one registry.Resource per served version, with a schema-driven
// strategy), keeps the CRD's status conditions, and cleans up when a CRD
// is deleted.
//
// Contract:
//   - Controller.Run watches CRDs in-process through the CRD store and is
//     level-triggered: each CRD's served resources, OpenAPI definitions and
//     status are recomputed from the CRD alone. A CRD whose names conflict
//     with another CRD's or a built-in resource's is not served and
//     reports NamesAccepted=False; otherwise NamesAccepted and Established
//     turn True once its resources are registered.
//   - Custom resources are unstructured.Unstructured objects. Every served
//     version shares the storage of the storage version: objects are
//     converted (strategy None: apiVersion only; Webhook: a ConversionReview
//     to the CRD's HTTPS webhook) on the way in and out, then pruned and
//     defaulted with the target version's structural schema, on create,
//     update and read.
//   - A deleted CRD stops accepting creates; its objects are deleted, then
//     the cleanup finalizer is removed, and once the CRD is gone its
//     resources are no longer served.
package crd
