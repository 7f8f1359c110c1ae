package registry

import (
	"context"

	"skiff.dev/skiff/internal/printers"
	"skiff.dev/skiff/internal/storage"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource describes one served resource: its names as discovery publishes
// them and the strategy that gives its kind its semantics.
type Resource struct {
	GVR          schema.GroupVersionResource
	Kind         string
	ListKind     string
	SingularName string
	ShortNames   []string
	Categories   []string
	Namespaced   bool
	// Subresources served besides the main resource, e.g. "status".
	Subresources []string
	Strategy     Strategy
	// Printer renders the resource's Table; nil picks the printer of its
	// kind (printers.ForKind). Custom resources set it from their
	// additionalPrinterColumns.
	Printer printers.Printer
	// Scale, when set, serves the "scale" subresource (autoscaling/v1
	// Scale) over the object's replica count.
	Scale *Scale
	// StoredAs, when set, keeps the objects in another resource's storage,
	// so that two API versions of one kind see the same objects.
	StoredAs *StoredAs
	// Warning, when set, is sent as a Warning header with every response
	// about the resource: a deprecated custom resource version's warning.
	Warning string
}

// Scale reads and writes the replica count of a scalable kind.
type Scale struct {
	// Replicas is spec.replicas; SetReplicas changes it.
	Replicas    func(obj runtime.Object) int32
	SetReplicas func(obj runtime.Object, replicas int32)
	// StatusReplicas is status.replicas, and Selector the label selector
	// of the pods counted, in its string form ("" when there is none).
	StatusReplicas func(obj runtime.Object) int32
	Selector       func(obj runtime.Object) string
}

// StoredAs says how a resource's objects are kept as another resource's.
type StoredAs struct {
	Resource    *Resource
	ToStorage   func(runtime.Object) (runtime.Object, error)
	FromStorage func(runtime.Object) (runtime.Object, error)
}

// GVK is the resource's kind in its group-version.
func (r *Resource) GVK() schema.GroupVersionKind { return r.GVR.GroupVersion().WithKind(r.Kind) }

// HasSubresource reports whether sub is served for r.
func (r *Resource) HasSubresource(sub string) bool {
	for _, s := range r.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}

// Strategy is the plug-in point of a kind: everything the generic store
// needs to know about it. Built-in kinds implement it with typed Go code;
// custom resources with a schema-driven implementation. Methods must not
// keep references to the objects they are given.
type Strategy interface {
	// New returns an empty object of the kind; NewList an empty list.
	New() runtime.Object
	NewList() runtime.Object
	// ValidateName checks a name (or generateName prefix) of this kind.
	ValidateName(name string, prefix bool) []string
	// Default fills in defaulted fields, as Kubernetes' defaulters do.
	Default(obj runtime.Object)
	// PrepareForCreate clears what a client may not set on create, such as
	// status behind a status subresource, and sets metadata.generation to 1
	// for kinds that track spec changes.
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate carries over what a client may not change with this
	// write (status on the main resource, spec on /status) and bumps
	// metadata.generation when the spec changed.
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object, subresource string)
	// Validate checks a new object; ValidateUpdate a changed one, including
	// immutable fields. Metadata is validated by the generic store.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	// SelectableFields returns the fields a field selector may use, beyond
	// metadata.name and metadata.namespace which the store adds.
	SelectableFields(obj runtime.Object) fields.Set
}

// CreateGate is implemented by strategies that may refuse every create for
// a while, such as a custom resource whose definition is being deleted.
type CreateGate interface {
	// AllowCreate returns the error a create gets, or nil.
	AllowCreate() error
}

// ConditionalUpdateStrategy is implemented by kinds whose updates (PUT)
// must name the resourceVersion they replace, as custom resources must;
// built-in kinds allow unconditional updates.
type ConditionalUpdateStrategy interface {
	RequiresResourceVersion() bool
}

// UnknownFieldsReporter is implemented by strategies whose kind has no Go
// type to decode into (custom resources): the decoder cannot see unknown
// fields, so the strategy drops them right after decoding, as upstream's
// decoder does, and names them for fieldValidation.
type UnknownFieldsReporter interface {
	// PruneUnknownFields removes obj's undeclared fields in place and
	// returns their paths ("spec.foo").
	PruneUnknownFields(obj runtime.Object) []string
}

// DeletionStrategy is implemented by kinds whose deletion waits on more
// than metadata.finalizers, such as Namespace's spec.finalizers.
type DeletionStrategy interface {
	// PrepareForDeletion is called when deletion begins.
	PrepareForDeletion(obj runtime.Object)
	// PendingFinalizers reports whether obj still waits on finalizers of
	// the kind's own.
	PendingFinalizers(obj runtime.Object) bool
}

// WriteHooks is implemented by strategies whose objects hold something
// outside their own key, such as a Service's cluster IPs and node ports.
// Such holdings are reserved as keys of their own in the same storage, so
// that API servers sharing one store never hand out one thing twice. The
// store calls the hooks around its storage writes, never on a dry run.
type WriteHooks interface {
	// BeforeWrite runs after validation and admission, just before obj is
	// written; old is nil on create. It reserves what obj needs that old
	// does not hold, may record the reservations in obj, and returns the
	// transaction the store ends: Commit once the write succeeded, Revert
	// when it failed. An error fails the write and leaves nothing reserved.
	BeforeWrite(ctx context.Context, s storage.Store, obj, old runtime.Object) (WriteTxn, error)
	// AfterDelete runs once obj has been removed from storage, to release
	// what it held.
	AfterDelete(ctx context.Context, s storage.Store, obj runtime.Object)
}

// WriteTxn ends what WriteHooks.BeforeWrite began. The store calls exactly
// one of its methods, with a context that is not cancelled with the
// request, so that a client hanging up cannot leak a reservation.
type WriteTxn interface {
	// Commit: the write succeeded; release what old held and obj does not.
	Commit(ctx context.Context)
	// Revert: the write failed; release what BeforeWrite reserved.
	Revert(ctx context.Context)
}

// GracefulDeleteStrategy is implemented by kinds whose objects get time to
// go away (Pods: their containers are stopped first). A delete with a
// grace period only marks the object (deletionTimestamp in the future);
// a later delete with grace 0 removes it.
type GracefulDeleteStrategy interface {
	// GracePeriod is the grace period of deleting obj, in seconds, given
	// the request's gracePeriodSeconds (nil when unset); 0 deletes now.
	GracePeriod(obj runtime.Object, requested *int64) int64
}

// BaseStrategy gives a kind without special rules the default behaviour:
// names are DNS subdomains, nothing is defaulted, every write is valid, and
// there is no generation. Embed it and override what the kind needs.
type BaseStrategy struct{}

func (BaseStrategy) ValidateName(name string, prefix bool) []string {
	return apivalidation.NameIsDNSSubdomain(name, prefix)
}
func (BaseStrategy) Default(runtime.Object)                                                   {}
func (BaseStrategy) PrepareForCreate(context.Context, runtime.Object)                         {}
func (BaseStrategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object, string) {}
func (BaseStrategy) Validate(context.Context, runtime.Object) field.ErrorList                 { return nil }
func (BaseStrategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}
func (BaseStrategy) SelectableFields(runtime.Object) fields.Set { return nil }

// Attrs are what label and field selectors match against.
type Attrs struct {
	Labels labels.Set
	Fields fields.Set
}
