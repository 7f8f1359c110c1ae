// Package informers holds a skiff process's shared informers: one watch,
// one decode of every event and one cache per kind, however many
// controllers, the scheduler and the in-process node agents read it, as
// kube-controller-manager's SharedInformerFactory gives its controllers.
// Ten thousand pods held once instead of once per controller is hundreds
// of MiB, and every pod event decoded once instead of seven times was a
// tenth of a busy server's CPU.
//
// Informers run on the factory's context, not on the context of whoever
// asked first: a controller that stops (its lease lost) leaves the cache
// warm for the others and for its successor. The informers returned let
// controller.Loop "run" them: RunWithContext starts the shared informer
// once and then waits for the caller's context. A component that runs in
// terms (while it holds a Lease) takes its informers from a Scope, whose
// Release removes the term's event handlers.
//
// In the API server's process the factory lists and watches its kinds
// through the server's watch cache (Local): the informers then hold the
// cache's own objects rather than a decoded copy of every pod, and the
// events cost no encoding, TLS or decoding.
//
// Cached objects are shared: a reader must deep-copy an object before it
// changes it. In the API server's process they are shared with the watch
// cache, whose objects every list and watch of the kind encodes: an
// object changed in place would be served changed. Over the network,
// objects are held without their managed fields (no controller reads
// them; an update that leaves them out keeps the stored ones), and pods
// also without kubectl's last-applied annotation (their writers use the
// status subresource, which keeps the stored annotations); in process
// they keep them, as dropping them would take a copy and save nothing.
//
// Every informer is indexed by namespace (cache.NamespaceIndex) and by
// controller (ControllerUIDIndex).
package informers
