// Package history is the ControllerRevision machinery the StatefulSet and
// DaemonSet controllers share: a controller snapshots its pod template as
// a ControllerRevision, names pods after the revision they were made
// from, and rolls back by finding an equal revision again.
//
// Contract, as upstream's controller history:
//   - A revision's Data is TemplatePatch(template): a strategic merge patch
//     {"spec":{"template":{..., "$patch":"replace"}}} that kubectl's
//     `rollout undo` applies to the parent unchanged.
//   - Hash is FNV-32 of Data (then the decimal collision count, when given),
//     printed in decimal and passed through rand.SafeEncodeString; a
//     revision is named <parent>-<hash> (the parent's name cut to 223
//     bytes) and labelled HashLabel=<hash>.
//   - Create retries with collisionCount+1 while the name is taken by a
//     revision with different Data; a revision with the same Data is
//     returned as created. The caller stores the count in its status.
//   - Sort orders by Revision, then creation time, then name; Next is the
//     highest Revision + 1 (1 for none).
//   - Truncate picks, oldest first, the revisions beyond the limit that
//     no live pod and neither the current nor the update revision uses.
//
// Pure functions never modify their arguments; the functions that talk
// to the API server take a Client (a typed ControllerRevisions client)
// and return what the server answered.
package history
