package apiserver

import (
	"errors"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/kube-openapi/pkg/common"

	"skiff.dev/skiff/internal/openapi"
)

// PublishOpenAPI (re)publishes the OpenAPI documents of the registered
// resources and gives server-side apply their schemas. Call it after
// registering resources; it is cheap to call again. Documents are built on
// first request, and a kind's server-side apply schemas on its first write,
// so what is never asked for costs no memory.
func (s *Server) PublishOpenAPI() error {
	s.mu.RLock()
	var resources []openapi.Resource
	for gvr, sv := range s.resources {
		resources = append(resources, openapi.Resource{
			GVK:          sv.res.GVK(),
			Resource:     gvr.Resource,
			Namespaced:   sv.res.Namespaced,
			Verbs:        standardVerbs,
			Subresources: sv.res.Subresources,
			ListKind:     sv.res.ListKind,
			// Custom resources are the kinds without a Go type.
			CustomResource: !s.hasGoType(sv.res),
		})
	}
	s.mu.RUnlock()

	s.openapiMu.Lock()
	defer s.openapiMu.Unlock()
	extra := make([]common.GetOpenAPIDefinitions, 0, len(s.openapiExtra))
	for _, key := range slices.Sorted(maps.Keys(s.openapiExtra)) {
		extra = append(extra, s.openapiExtra[key])
	}
	if s.openapi == nil {
		svc, err := openapi.New(resources, extra...)
		if err != nil {
			return err
		}
		s.openapi = svc
	} else if err := s.openapi.Update(resources, extra...); err != nil {
		return err
	}
	svc := s.openapi
	s.fieldManagers.setTypeConverters(func(gvk schema.GroupVersionKind) (managedfields.TypeConverter, error) {
		schemas, err := svc.KindSchemas(gvk)
		if errors.Is(err, openapi.ErrInvalidResource) {
			// A kind registered after the last publish has no schema yet:
			// deduce its fields from the objects, as before OpenAPI.
			return managedfields.NewDeducedTypeConverter(), nil
		}
		if err != nil {
			return nil, err
		}
		return newTypeConverter(schemas)
	})
	return nil
}

// SetOpenAPIDefinitions sets the extra definitions published under key, a
// CRD's name; nil removes them. PublishOpenAPI publishes the change.
func (s *Server) SetOpenAPIDefinitions(key string, defs common.GetOpenAPIDefinitions) {
	s.openapiMu.Lock()
	defer s.openapiMu.Unlock()
	if defs == nil {
		delete(s.openapiExtra, key)
		return
	}
	if s.openapiExtra == nil {
		s.openapiExtra = map[string]common.GetOpenAPIDefinitions{}
	}
	s.openapiExtra[key] = defs
}
