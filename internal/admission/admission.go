package admission

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Operation is the kind of write under admission.
type Operation string

const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
)

// Attributes describe one write under admission.
type Attributes struct {
	Operation Operation
	Resource  schema.GroupResource
	// Subresource is "" for the main resource, or e.g. "status".
	Subresource string
	Namespace   string
	// Object is the object to be stored; plugins may change it.
	Object runtime.Object
	// OldObject is the stored object an update replaces; nil on create.
	OldObject runtime.Object
	DryRun    bool
}

// Is reports whether the write is to the main resource gr.
func (a *Attributes) Is(gr schema.GroupResource) bool {
	return a.Resource == gr && a.Subresource == ""
}

// Forbidden is the refusal of a's write for reason err.
func (a *Attributes) Forbidden(err error) error {
	name := ""
	if m, merr := meta.Accessor(a.Object); merr == nil {
		name = m.GetName()
		if name == "" {
			name = m.GetGenerateName()
		}
	}
	return apierrors.NewForbidden(a.Resource, name, err)
}

// Forbiddenf is Forbidden with a formatted reason.
func (a *Attributes) Forbiddenf(format string, args ...any) error {
	return a.Forbidden(fmt.Errorf(format, args...))
}

// Reader gives plugins the objects they decide on. Returned objects are
// shared with the server's caches: plugins must not modify them.
type Reader interface {
	// Get reads one object; a missing one is a NotFound API error.
	Get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error)
	// List returns the objects of gvr in namespace ns ("" for all or for
	// cluster-scoped resources).
	List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]runtime.Object, error)
	// Served reports whether a resource of group-resource gr is served,
	// and its served version's GVR (for count/<resource> quotas).
	Served(gr schema.GroupResource) (schema.GroupVersionResource, bool)
}

// Mutator is a plugin that may change the object it admits.
type Mutator interface {
	Admit(ctx context.Context, a *Attributes) error
}

// Validator is a plugin that may refuse a write it sees last.
type Validator interface {
	Validate(ctx context.Context, a *Attributes) error
}

// Chain runs plugins in order. Each plugin is a Mutator, a Validator, or
// both.
type Chain []any

// Admit runs every Mutator of the chain, stopping at the first refusal.
func (c Chain) Admit(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if m, ok := p.(Mutator); ok {
			if err := m.Admit(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Validate runs every Validator of the chain, stopping at the first
// refusal.
func (c Chain) Validate(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if v, ok := p.(Validator); ok {
			if err := v.Validate(ctx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Default is the chain kube-apiserver enables by default, in its order.
func Default(r Reader) Chain {
	return Chain{
		LimitRanger{r},
		ServiceAccount{r},
		TaintNodesByCondition{},
		Priority{r},
		DefaultTolerationSeconds{},
		DefaultStorageClass{r},
		StorageObjectInUseProtection{},
		RuntimeClass{r},
		DefaultIngressClass{r},
		ResourceQuota{r},
	}
}

var (
	podsResource      = schema.GroupResource{Resource: "pods"}
	pvcsResource      = schema.GroupResource{Resource: "persistentvolumeclaims"}
	pvsResource       = schema.GroupResource{Resource: "persistentvolumes"}
	nodesResource     = schema.GroupResource{Resource: "nodes"}
	ingressesResource = schema.GroupResource{Group: "networking.k8s.io", Resource: "ingresses"}
	pcsResource       = schema.GroupResource{Group: "scheduling.k8s.io", Resource: "priorityclasses"}

	serviceAccountsGVR = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	priorityClassesGVR = schema.GroupVersionResource{Group: "scheduling.k8s.io", Version: "v1", Resource: "priorityclasses"}
	storageClassesGVR  = schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}
	ingressClassesGVR  = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingressclasses"}
	runtimeClassesGVR  = schema.GroupVersionResource{Group: "node.k8s.io", Version: "v1", Resource: "runtimeclasses"}
	limitRangesGVR     = schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}
	quotasGVR          = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	podsGVR            = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	servicesGVR        = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	pvcsGVR            = schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}
)
