// Package quota is what a ResourceQuota counts: the usage one object
// contributes to each resource name a quota may bound (Usage), whether a
// quota's scopes select an object (Matches), and the usage of a quota's
// resource names summed over the objects of a namespace (Used).
//
// It is the one piece of code behind both the ResourceQuota admission
// plugin (which adds a write's delta to Used and compares with spec.hard)
// and the resourcequota controller (which writes Used into status.used),
// so that the two never disagree on what an object costs.
//
// The functions are pure: objects come from a Reader (the server's caches
// at admission, the controller's informers) and are never modified.
package quota
