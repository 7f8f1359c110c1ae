package crd

import (
	"fmt"
	"strconv"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	crdcel "skiff.dev/skiff/internal/crd/cel"
	crdschema "skiff.dev/skiff/internal/crd/schema"
	"skiff.dev/skiff/internal/registry"
)

// served is what one CRD generation serves: a resource per served
// version.
type served struct {
	resources []*registry.Resource
	storage   *registry.Resource // the storage version's resource, served or not
}

// build turns crd into its served resources. conv converts objects
// between the CRD's versions; terminating reports whether the CRD is being
// deleted, which refuses creates.
func build(crd *apiextensionsv1.CustomResourceDefinition, conv converter, terminating func() bool) (*served, error) {
	spec := &crd.Spec
	names := crd.Status.AcceptedNames
	out := &served{}
	resources := map[string]*registry.Resource{}
	var storageVersion string
	for i := range spec.Versions {
		v := &spec.Versions[i]
		if v.Storage {
			storageVersion = v.Name
		}
		if !v.Served && !v.Storage {
			continue
		}
		gvk := schema.GroupVersionKind{Group: spec.Group, Version: v.Name, Kind: names.Kind}
		st := &strategy{gvk: gvk, namespaced: spec.Scope == apiextensionsv1.NamespaceScoped, terminating: terminating}
		if v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
			s, err := crdschema.New(v.Schema.OpenAPIV3Schema)
			if err != nil {
				return nil, fmt.Errorf("crd %s version %s: %w", crd.Name, v.Name, err)
			}
			st.schema = s
			// Stored CRDs passed the estimated-cost checks when written;
			// serving skips them, as kube-apiserver does.
			rules, errs := crdcel.CompileStored(s)
			if len(errs) > 0 {
				return nil, fmt.Errorf("crd %s version %s: %v", crd.Name, v.Name, errs.ToAggregate())
			}
			st.rules = rules
		}
		r := &registry.Resource{
			GVR:          gvk.GroupVersion().WithResource(names.Plural),
			Kind:         names.Kind,
			ListKind:     names.ListKind,
			SingularName: names.Singular,
			ShortNames:   names.ShortNames,
			Categories:   names.Categories,
			Namespaced:   st.namespaced,
			Strategy:     st,
			Printer:      newPrinter(v.AdditionalPrinterColumns),
		}
		if v.Deprecated {
			r.Warning = fmt.Sprintf("%s/%s %s is deprecated", spec.Group, v.Name, names.Kind)
			if v.DeprecationWarning != nil {
				r.Warning = *v.DeprecationWarning
			}
		}
		if sub := v.Subresources; sub != nil {
			if sub.Status != nil {
				st.status = true
				r.Subresources = append(r.Subresources, "status")
			}
			if sub.Scale != nil {
				r.Subresources = append(r.Subresources, "scale")
				r.Scale = scaleOf(sub.Scale)
			}
		}
		resources[v.Name] = r
		if v.Served {
			out.resources = append(out.resources, r)
		}
	}
	out.storage = resources[storageVersion]
	if out.storage == nil {
		return nil, fmt.Errorf("crd %s has no storage version", crd.Name)
	}
	// Every version, the storage one included, is kept as the storage
	// version's objects: stored objects may be of any version listed in
	// status.storedVersions, so reads convert too.
	for version, r := range resources {
		st := r.Strategy.(*strategy)
		r.StoredAs = &registry.StoredAs{
			Resource: out.storage,
			ToStorage: func(obj runtime.Object) (runtime.Object, error) {
				return conv.convert(obj.(*unstructured.Unstructured), storageVersion)
			},
			FromStorage: func(obj runtime.Object) (runtime.Object, error) {
				u, err := conv.convert(obj.(*unstructured.Unstructured), version)
				if err != nil {
					return nil, err
				}
				st.Default(u)
				return u, nil
			},
		}
	}
	return out, nil
}

// scaleOf reads and writes replicas at the CRD's scale paths.
func scaleOf(sc *apiextensionsv1.CustomResourceSubresourceScale) *registry.Scale {
	spec, status := fieldPath(sc.SpecReplicasPath), fieldPath(sc.StatusReplicasPath)
	var selector []string
	if sc.LabelSelectorPath != nil {
		selector = fieldPath(*sc.LabelSelectorPath)
	}
	intAt := func(obj runtime.Object, path []string) int32 {
		v, found, _ := unstructured.NestedFieldNoCopy(obj.(*unstructured.Unstructured).Object, path...)
		if !found {
			return 0
		}
		switch n := v.(type) {
		case int64:
			return int32(n)
		case float64:
			return int32(n)
		case string:
			i, _ := strconv.Atoi(n)
			return int32(i)
		}
		return 0
	}
	return &registry.Scale{
		Replicas: func(obj runtime.Object) int32 { return intAt(obj, spec) },
		SetReplicas: func(obj runtime.Object, n int32) {
			_ = unstructured.SetNestedField(obj.(*unstructured.Unstructured).Object, int64(n), spec...)
		},
		StatusReplicas: func(obj runtime.Object) int32 { return intAt(obj, status) },
		Selector: func(obj runtime.Object) string {
			if selector == nil {
				return ""
			}
			s, _, _ := unstructured.NestedString(obj.(*unstructured.Unstructured).Object, selector...)
			return s
		},
	}
}
