// Package layering holds no code: its test keeps skiff's layers apart. It
// fails when any package imports the upstream servers skiff replaces, or
// when a lower layer imports a higher one.
package layering
