// Package printers turns API objects into server-side tables: the
// meta.k8s.io/v1 Table a client gets when it sends
// `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, which is what
// `kubectl get` and `kubectl get -o wide` render.
//
// The columns, their names, types and priorities, and the text of every cell
// match what kube-apiserver returns for the same object, so kubectl output
// against skiff reads the same as against a real cluster.
//
// # Printers
//
// A Printer knows one kind: its column definitions and how to compute the
// cells of one object at a given time (AGE and similar cells are durations
// up to now, formatted like kubectl's duration.HumanDuration). ForKind finds
// the built-in printer for a GroupVersionKind and falls back to
// DefaultPrinter (columns Name and Created At, as upstream's default table
// convertor). A Registry layers printers registered at run time, such as
// those JSONPathPrinter builds from a CustomResourceDefinition's
// additionalPrinterColumns, over the built-in ones.
//
// Like upstream, a printer always computes the wide cells: the server sends
// every column, priority 0 (shown by `kubectl get`) and priority 1 (added by
// `-o wide`), and the client hides what it does not show.
//
// Printers assume objects as the API server stores them, that is defaulted;
// where a defaulted field is unset anyway (spec.replicas, a Service's type, a
// port's protocol) the cell shows the API default, as a real server would.
//
// # Tables
//
// Table accepts one object or a list (a typed list such as
// *corev1.ConfigMapList, or an *unstructured.UnstructuredList) and builds the
// Table: columnDefinitions unless Options.NoHeaders, one row per object, and
// the list's resourceVersion, continue and remainingItemCount. The Table
// carries apiVersion meta.k8s.io/v1 and kind Table; a server answering a
// meta.k8s.io/v1beta1 request rewrites both (and those of the rows'
// PartialObjectMetadata).
//
// rows[].object follows Options.IncludeObject exactly as kube-apiserver does
// for the includeObject query parameter: Metadata (the default) puts a
// meta.k8s.io/v1 PartialObjectMetadata there, Object the object itself
// (carrying its apiVersion and kind), None nothing.
//
// On a watch, kube-apiserver sends columnDefinitions with the first event only
// and omits them (as if noHeaders were set) on every later event of the same
// stream; callers do the same by setting NoHeaders after the first event.
//
// # Ownership
//
// The returned Table shares memory with the object it was built from (row
// objects and PartialObjectMetadata point into it): the caller must not
// modify the object until it is done with the Table. Table never modifies its
// input. Printers and Registry are safe for concurrent use.
package printers
