// Package layering holds no code: its test keeps skiff's layers apart. It
// fails when any package imports the upstream servers skiff replaces, when
// a lower layer imports a higher one, or when the skiff binary links a
// package that would make it needlessly large (client-go's all-groups
// clientset, informers or scheme; OpenAPI definitions as code).
package layering
