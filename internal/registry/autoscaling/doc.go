// Package autoscaling holds the strategy of autoscaling/v2
// HorizontalPodAutoscaler: its defaults (one minimum replica, an 80% CPU
// target, the scale-up and scale-down behavior upstream fills in), its
// validation with field paths, and the "status" subresource.
//
// As upstream, an HPA has no metadata.generation of its own: the
// autoscaler reacts to every write.
//
// autoscaling/v1, the second served version, is not here: it needs
// conversion to v2 through registry.StoredAs.
package autoscaling
