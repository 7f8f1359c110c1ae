// Package batch holds the strategies of the batch/v1 kinds, Job and
// CronJob: their defaults as Kubernetes applies them, their validation with
// field paths, what may change on update, and the "status" subresource.
//
// A Job's selector is generated at create from its uid (unless
// spec.manualSelector), and the matching labels are put on its pod
// template, so that a Job only ever adopts its own pods. Both kinds track
// spec changes in metadata.generation.
package batch
