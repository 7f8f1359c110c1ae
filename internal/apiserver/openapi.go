package apiserver

import (
	"errors"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

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
		})
	}
	s.mu.RUnlock()

	s.openapiMu.Lock()
	defer s.openapiMu.Unlock()
	if s.openapi == nil {
		svc, err := openapi.New(resources)
		if err != nil {
			return err
		}
		s.openapi = svc
	} else if err := s.openapi.Update(resources); err != nil {
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
		return managedfields.NewTypeConverter(schemas, false)
	})
	return nil
}
