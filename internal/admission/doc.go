// Package admission holds the built-in admission plugins that shape what
// is stored, as the plugins kube-apiserver enables by default do:
// LimitRanger, ServiceAccount, TaintNodesByCondition, Priority,
// DefaultTolerationSeconds, DefaultStorageClass,
// StorageObjectInUseProtection, RuntimeClass, DefaultIngressClass and
// ResourceQuota. (NamespaceLifecycle is the API server's own create check.)
//
// A write is admitted in two phases, as upstream: every mutating plugin's
// Admit runs, in Chain order, after the object is defaulted and before it
// is validated; every validating plugin's Validate runs after the kind's
// own validation, just before the object is stored. Plugins change only
// Attributes.Object, never OldObject or anything they read through the
// Reader, whose objects are shared with the server's caches.
//
// A refusal is a Forbidden Status naming the object, as upstream's
// admission errors are: `pods "web" is forbidden: <reason>`.
package admission
