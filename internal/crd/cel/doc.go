// Package cel evaluates the x-kubernetes-validations rules of a
// CustomResourceDefinition's structural schema with github.com/google/cel-go,
// as kube-apiserver does (its implementation lives in apiextensions-apiserver
// and k8s.io/apiserver, which skiff may not import). Doc in progress.
package cel
