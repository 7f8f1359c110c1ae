// Package autoscaling holds the strategy of autoscaling/v2
// HorizontalPodAutoscaler: its defaults (one minimum replica, an 80% CPU
// target, the scale-up and scale-down behavior upstream fills in), its
// validation with field paths, and the "status" subresource.
//
// As upstream, an HPA has no metadata.generation of its own: the
// autoscaler reacts to every write.
//
// autoscaling/v1 (V1Resources) is served on the same objects through
// registry.StoredAs, converted as upstream converts it (ToV1, ToV2).
package autoscaling
