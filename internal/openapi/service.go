package openapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/handler"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const (
	refV2 = "#/definitions/"
	refV3 = "#/components/schemas/"
)

var info = &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}}

// Service builds and serves the OpenAPI documents of a set of resources.
// Its documents are immutable snapshots; Update swaps in a new one
// atomically, so a request sees either the old or the new documents, never
// a mix. A Service is safe for concurrent use; make one with New.
type Service struct {
	// mu serializes Update so snapshots are stored in call order.
	mu   sync.Mutex
	snap atomic.Pointer[snapshot]
}

// snapshot is one immutable generation of documents.
type snapshot struct {
	// defsV2 and defsV3 are all definitions being served, references
	// rendered for OpenAPI v2 and v3. Shared, never modified.
	defsV2, defsV3 map[string]common.OpenAPIDefinition
	// groupVersions are the per group-version documents, by key ("api/v1").
	groupVersions map[string]*gvDoc
	// v3 holds every v3 document by key: group-versions, groups ("api",
	// "apis", "apis/apps") and "version".
	v3 map[string]lazyDocument
	// v3Index, v2 and schemas are built on first use, as is each document.
	v3Index lazyDocument
	v2      lazyDocument
	schemas func() (map[string]*spec.Schema, error)
}

// lazyDocument builds and encodes a document once, on first call.
type lazyDocument func() (*document, error)

// gvDoc is a group-version's v3 document and what it was built from, so an
// Update whose change lies elsewhere can reuse it.
type gvDoc struct {
	resources []Resource
	// builtinOnly is true when every definition the document reaches is a
	// built-in one, which never changes.
	builtinOnly bool
	routes      *container
	doc         lazyDocument
}

// New builds the documents for resources. Definitions are the built-in ones
// (BuiltinDefinitions) plus those extra returns, e.g. custom resources'
// schemas; a name defined twice is an error.
func New(resources []Resource, extra ...common.GetOpenAPIDefinitions) (*Service, error) {
	s := &Service{}
	if err := s.Update(resources, extra...); err != nil {
		return nil, err
	}
	return s, nil
}

// Update replaces the resources and extra definitions the documents are built
// from. It rebuilds only the group-version documents whose resources or
// non-built-in schemas may have changed. On error the served documents stay
// as they were.
func (s *Service) Update(resources []Resource, extra ...common.GetOpenAPIDefinitions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next, err := build(s.snap.Load(), resources, extra)
	if err != nil {
		return err
	}
	s.snap.Store(next)
	return nil
}

// Definitions returns every definition being served, keyed by canonical
// name, references in OpenAPI v3 form ("#/components/schemas/NAME"), kinds
// carrying ExtensionGVK. The map is shared: callers must not modify it.
func (s *Service) Definitions() map[string]common.OpenAPIDefinition {
	return s.snap.Load().defsV3
}

// Schemas returns every definition as the OpenAPI v3 component schema it is
// published as (v2-only extensions dropped, references with siblings wrapped
// in allOf), keyed by canonical name: the input
// k8s.io/apimachinery/pkg/util/managedfields.NewTypeConverter expects. The
// map is shared and computed once per generation: callers must not modify it.
func (s *Service) Schemas() (map[string]*spec.Schema, error) {
	return s.snap.Load().schemas()
}

var (
	builtinV2 = sync.OnceValue(func() map[string]common.OpenAPIDefinition {
		return BuiltinDefinitions(refFunc(refV2))
	})
	builtinV3 = sync.OnceValue(func() map[string]common.OpenAPIDefinition {
		return BuiltinDefinitions(refFunc(refV3))
	})
	builtinIndex = sync.OnceValues(func() (map[schema.GroupVersionKind]string, error) {
		return indexGVKs(builtinV3(), nil)
	})
)

func refFunc(prefix string) common.ReferenceCallback {
	return func(name string) spec.Ref { return spec.MustCreateRef(prefix + common.EscapeJsonPointer(name)) }
}

// build makes the next snapshot, reusing prev's documents where it can.
func build(prev *snapshot, resources []Resource, extra []common.GetOpenAPIDefinitions) (*snapshot, error) {
	defsV2, err := mergeDefinitions(builtinV2(), extra, refV2)
	if err != nil {
		return nil, err
	}
	defsV3, err := mergeDefinitions(builtinV3(), extra, refV3)
	if err != nil {
		return nil, err
	}
	index, err := builtinIndex()
	if err != nil {
		return nil, err
	}
	if len(extra) > 0 {
		extraOnly := make(map[string]common.OpenAPIDefinition, len(defsV3)-len(builtinV3()))
		for name, def := range defsV3 {
			if _, builtin := builtinV3()[name]; !builtin {
				extraOnly[name] = def
			}
		}
		if index, err = indexGVKs(extraOnly, index); err != nil {
			return nil, err
		}
	}
	rb := &routeBuilder{byGVK: index, doc: propertyDoc(defsV3)}

	byGV := map[schema.GroupVersion][]Resource{}
	for _, r := range resources {
		byGV[r.GVK.GroupVersion()] = append(byGV[r.GVK.GroupVersion()], r)
	}
	next := &snapshot{
		defsV2:        defsV2,
		defsV3:        defsV3,
		groupVersions: make(map[string]*gvDoc, len(byGV)),
		v3:            make(map[string]lazyDocument, len(byGV)+8),
	}
	v3config := &common.OpenAPIV3Config{
		Info:                           info,
		Definitions:                    defsV3,
		GetDefinitionName:              func(name string) (string, spec.Extensions) { return name, nil },
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses:                map[int]*spec3.Response{http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}},
	}
	groups := map[string]bool{}
	for gv, rs := range byGV {
		groups[gv.Group] = true
		key := groupVersionKey(gv)
		if old, ok := prev.groupVersion(key); ok && old.builtinOnly && reflect.DeepEqual(old.resources, rs) {
			next.groupVersions[key] = old
			next.v3[key] = old.doc
			continue
		}
		c, err := rb.groupVersionContainer(gv, rs)
		if err != nil {
			return nil, err
		}
		reached, err := reachable(c, defsV3)
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", key, err)
		}
		builtinOnly := true
		for name := range reached {
			if _, ok := builtinV3()[name]; !ok {
				builtinOnly = false
				break
			}
		}
		doc := lazyV3(key, c, v3config)
		next.groupVersions[key] = &gvDoc{resources: slices.Clone(rs), builtinOnly: builtinOnly, routes: c, doc: doc}
		next.v3[key] = doc
	}

	// Discovery documents: /api/, /apis/, /apis/G/ and /version/. They
	// depend only on built-in definitions.
	discovery := map[string]*container{
		"apis":    {root: apisRoute.path, routes: []common.Route{apisRoute}},
		"version": {root: versionRoute.path, routes: []common.Route{versionRoute}},
	}
	for group := range groups {
		rt := groupRoute(group)
		discovery[groupKey(group)] = &container{root: rt.path, routes: []common.Route{rt}}
	}
	for key, c := range discovery {
		if old, ok := prev.document(key); ok {
			next.v3[key] = old
			continue
		}
		next.v3[key] = lazyV3(key, c, v3config)
	}

	next.v3Index = sync.OnceValues(func() (*document, error) { return indexDocument(next.v3) })

	containers := make([]common.RouteContainer, 0, len(next.groupVersions)+len(discovery))
	for _, gv := range next.groupVersions {
		containers = append(containers, gv.routes)
	}
	for _, c := range discovery {
		containers = append(containers, c)
	}
	next.v2 = sync.OnceValues(func() (*document, error) { return buildV2(containers, defsV2) })
	next.schemas = sync.OnceValues(func() (map[string]*spec.Schema, error) {
		names := slices.Sorted(maps.Keys(defsV3))
		cfg := *v3config
		cfg.Definitions = cloneExtensions(defsV3)
		return builder3.BuildOpenAPIDefinitionsForResources(&cfg, names...)
	})
	return next, nil
}

// reachable returns the definitions the routes of c refer to, directly or
// through other definitions, failing on one that is not in defs.
func reachable(c *container, defs map[string]common.OpenAPIDefinition) (map[string]bool, error) {
	seen := map[string]bool{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if seen[name] {
			return nil
		}
		if t, _ := common.OpenAPITypeFormat(name); t != "" {
			return nil // a primitive such as "string"
		}
		def, ok := defs[name]
		if !ok {
			return fmt.Errorf("%w: no definition %q (used by %s)", ErrInvalidResource, name, from)
		}
		seen[name] = true
		for _, dep := range def.Dependencies {
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, cr := range c.routes {
		rt := cr.(*route)
		if rt.body != "" {
			if err := visit(string(rt.body), rt.operationID); err != nil {
				return nil, err
			}
		}
		for _, resp := range rt.responses {
			if err := visit(string(resp.(response).model), rt.operationID); err != nil {
				return nil, err
			}
		}
	}
	return seen, nil
}

// lazyV3 builds and encodes c's v3 document on first use.
func lazyV3(key string, c *container, config *common.OpenAPIV3Config) lazyDocument {
	return sync.OnceValues(func() (*document, error) {
		doc, err := buildV3(c, config)
		if err != nil {
			return nil, fmt.Errorf("openapi: building %s: %w", key, err)
		}
		return doc, nil
	})
}

func (s *snapshot) groupVersion(key string) (*gvDoc, bool) {
	if s == nil {
		return nil, false
	}
	d, ok := s.groupVersions[key]
	return d, ok
}

func (s *snapshot) document(key string) (lazyDocument, bool) {
	if s == nil {
		return nil, false
	}
	d, ok := s.v3[key]
	return d, ok
}

// groupVersionContainer holds the routes of a group-version's resources plus
// its APIResourceList endpoint.
func (b *routeBuilder) groupVersionContainer(gv schema.GroupVersion, rs []Resource) (*container, error) {
	root := "/" + groupVersionKey(gv)
	c := &container{root: root, routes: []common.Route{groupVersionRoute(gv)}}
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Resource] {
			return nil, fmt.Errorf("%w: %s served twice in %s", ErrInvalidResource, r.Resource, gv)
		}
		seen[r.Resource] = true
		routes, err := b.resourceRoutes(root, r)
		if err != nil {
			return nil, err
		}
		c.routes = append(c.routes, routes...)
	}
	return c, nil
}

// buildV3 builds and encodes one v3 document. The builder deletes v2-only
// extensions from the definitions it copies, so it gets its own copies of
// the extension maps: the shared definitions stay untouched.
func buildV3(c *container, config *common.OpenAPIV3Config) (*document, error) {
	cfg := *config
	cfg.Definitions = cloneExtensions(config.Definitions)
	doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{c}, &cfg)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return newDocument(data, toV3Proto), nil
}

// buildV2 builds and encodes the swagger 2.0 document of every route.
// Defaults are pruned as kube-apiserver does: v2 clients do not apply them.
func buildV2(containers []common.RouteContainer, defs map[string]common.OpenAPIDefinition) (*document, error) {
	sw, err := builder.BuildOpenAPISpecFromRoutes(containers, &common.Config{
		ProtocolList:                   []string{"https"},
		Info:                           info,
		GetDefinitions:                 func(common.ReferenceCallback) map[string]common.OpenAPIDefinition { return defs },
		GetDefinitionName:              func(name string) (string, spec.Extensions) { return name, nil },
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses:                map[int]spec.Response{http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("openapi: building v2: %w", err)
	}
	sw.Definitions = handler.PruneDefaults(sw.Definitions)
	data, err := sw.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding v2: %w", err)
	}
	return newDocument(data, toV2Proto), nil
}

// indexDocument renders /openapi/v3: each document's URL with its hash,
// which means building every document.
func indexDocument(docs map[string]lazyDocument) (*document, error) {
	type entry struct {
		ServerRelativeURL string `json:"serverRelativeURL"`
	}
	paths := make(map[string]entry, len(docs))
	for key, lazy := range docs {
		d, err := lazy()
		if err != nil {
			return nil, err
		}
		paths[key] = entry{ServerRelativeURL: "/openapi/v3/" + key + "?" + url.Values{"hash": {d.etag}}.Encode()}
	}
	data, err := json.Marshal(struct {
		Paths map[string]entry `json:"paths"`
	}{paths})
	if err != nil {
		return nil, err
	}
	return newDocument(data, nil), nil
}

// mergeDefinitions returns base plus what every getter in extra returns with
// references under prefix. base is not modified.
func mergeDefinitions(base map[string]common.OpenAPIDefinition, extra []common.GetOpenAPIDefinitions, prefix string) (map[string]common.OpenAPIDefinition, error) {
	if len(extra) == 0 {
		return base, nil
	}
	out := maps.Clone(base)
	for _, get := range extra {
		for name, def := range get(refFunc(prefix)) {
			if _, dup := out[name]; dup {
				return nil, fmt.Errorf("openapi: definition %q defined twice", name)
			}
			out[name] = def
		}
	}
	return out, nil
}

// cloneExtensions copies defs and the top-level extension map of each schema,
// the only part of a definition kube-openapi's v3 builder writes to.
func cloneExtensions(defs map[string]common.OpenAPIDefinition) map[string]common.OpenAPIDefinition {
	out := make(map[string]common.OpenAPIDefinition, len(defs))
	for name, def := range defs {
		def.Schema.Extensions = maps.Clone(def.Schema.Extensions)
		out[name] = def
	}
	return out
}

// indexGVKs adds to into (a copy of it) every kind the definitions declare in
// ExtensionGVK. A kind declared by two definitions is an error.
func indexGVKs(defs map[string]common.OpenAPIDefinition, into map[schema.GroupVersionKind]string) (map[schema.GroupVersionKind]string, error) {
	out := maps.Clone(into)
	if out == nil {
		out = map[schema.GroupVersionKind]string{}
	}
	names := slices.Sorted(maps.Keys(defs))
	for _, name := range names {
		gvks, err := gvksOf(defs[name].Schema.Extensions)
		if err != nil {
			return nil, fmt.Errorf("openapi: definition %q: %w", name, err)
		}
		for _, gvk := range gvks {
			if other, dup := out[gvk]; dup && other != name {
				return nil, fmt.Errorf("openapi: %v is declared by definitions %q and %q", gvk, other, name)
			}
			out[gvk] = name
		}
	}
	return out, nil
}

// propertyDoc returns a lookup of property descriptions in defs.
func propertyDoc(defs map[string]common.OpenAPIDefinition) func(def, prop string) string {
	return func(def, prop string) string {
		d, ok := defs[def]
		if !ok {
			return ""
		}
		return d.Schema.Properties[prop].Description
	}
}
