// Package svcalloc hands out what Services hold outside their own object:
// cluster IPs from the service CIDR and node ports from the node-port range.
//
// Every reservation is a key of its own in the state store
// (/registry/skiff/ipallocations/<ip>, /registry/skiff/nodeportallocations/<port>),
// created with storage.Store.Create. The store's create either writes the
// key or fails with ErrKeyExists, so two API servers sharing one store can
// never both get the same address: the loser of a race sees ErrAllocated.
// Nothing is cached in memory; the store is the only truth.
//
// A reservation's value names its owner (namespace, name, uid) so that a
// repair pass can find reservations whose Service is gone. Callers reserve
// before they write the Service and release when that write fails or when
// the Service no longer holds the address; the registry's service strategy
// does this through registry.WriteHooks.
package svcalloc
