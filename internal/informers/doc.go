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
// once and then waits for the caller's context.
//
// Cached objects are shared: a reader must deep-copy an object before it
// changes it. Objects are held without their managed fields (no
// controller reads them; an update that leaves them out keeps the stored
// ones), and pods also without kubectl's last-applied annotation (their
// writers use the status subresource, which keeps the stored annotations).
//
// Every informer is indexed by namespace (cache.NamespaceIndex) and by
// controller (ControllerUIDIndex).
package informers
