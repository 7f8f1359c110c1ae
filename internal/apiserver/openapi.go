package apiserver

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/managedfields"

	"skiff.dev/skiff/internal/openapi"
)

// PublishOpenAPI (re)builds the OpenAPI documents from the registered
// resources and gives server-side apply their schemas. Call it after
// registering resources; it is cheap to call again.
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
	schemas, err := s.openapi.Schemas()
	if err != nil {
		return err
	}
	tc, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		return fmt.Errorf("apiserver: server-side apply schemas: %w", err)
	}
	s.fieldManagers.setTypeConverter(tc)
	return nil
}
