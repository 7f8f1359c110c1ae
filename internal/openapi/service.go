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
	// defs resolves definition names. It holds only the extra definitions;
	// built-in ones are built from the generated code when a document or a
	// kind's schemas are built, and dropped once encoded.
	defs *definitions
	// index maps each kind to the definition naming it in ExtensionGVK.
	index map[schema.GroupVersionKind]string
	// groupVersions are the per group-version documents, by key ("api/v1").
	groupVersions map[string]*gvDoc
	// v3 holds every v3 document by key: group-versions, groups ("api",
	// "apis", "apis/apps") and "version".
	v3 map[string]lazyDocument
	// v3Index and v2 are built on first use, as is each document.
	v3Index  lazyDocument
	v2       lazyDocument
	v3config *common.OpenAPIV3Config
}

// lazyDocument builds and encodes a document once, on first call.
type lazyDocument func() (*document, error)

// gvDoc is a group-version's v3 document and what it was built from, so an
// Update whose change lies elsewhere can reuse it. Its routes are not kept
// (they are ~10 KiB a group-version): building a document builds them again.
type gvDoc struct {
	gv        schema.GroupVersion
	resources []Resource
	// builtinOnly is true when every definition the document reaches is a
	// built-in one, which never changes.
	builtinOnly bool
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

// Definition returns the definition being served under name, built anew,
// references in OpenAPI v3 form ("#/components/schemas/NAME"), a kind
// carrying ExtensionGVK. The caller owns the top-level extension map; the
// rest may be shared and must not be modified.
func (s *Service) Definition(name string) (common.OpenAPIDefinition, bool) {
	return s.snap.Load().defs.get(name, true)
}

// KindSchemas returns the definitions of kind gvk in every version defined
// (server-side apply converts managed fields recorded through one version
// of a kind to another) and every definition they refer to, directly or
// not, as the OpenAPI v3 component schemas they are published as (v2-only
// extensions dropped, references with siblings wrapped in allOf), keyed by
// canonical name: the input
// k8s.io/apimachinery/pkg/util/managedfields.NewTypeConverter expects, for
// that one kind. The result is built on each call and owned by the caller.
func (s *Service) KindSchemas(gvk schema.GroupVersionKind) (map[string]*spec.Schema, error) {
	snap := s.snap.Load()
	if _, ok := snap.index[gvk]; !ok {
		return nil, fmt.Errorf("%w: no definition has %s %v", ErrInvalidResource, ExtensionGVK, gvk)
	}
	var names []string
	for other, name := range snap.index {
		if other.GroupKind() == gvk.GroupKind() {
			names = append(names, name)
		}
	}
	defs, err := snap.defs.closure(names, true)
	if err != nil {
		return nil, err
	}
	cfg := *snap.v3config
	cfg.Definitions = defs
	return builder3.BuildOpenAPIDefinitionsForResources(&cfg, slices.Sorted(maps.Keys(defs))...)
}

var (
	refV2Func = refFunc(refV2)
	refV3Func = refFunc(refV3)
)

func refFunc(prefix string) common.ReferenceCallback {
	return func(name string) spec.Ref { return spec.MustCreateRef(prefix + common.EscapeJsonPointer(name)) }
}

// build makes the next snapshot, reusing prev's documents where it can. It
// checks every resource can be described but builds no document: each is
// built on first use.
func build(prev *snapshot, resources []Resource, extra []common.GetOpenAPIDefinitions) (*snapshot, error) {
	defs, err := newDefinitions(extra)
	if err != nil {
		return nil, err
	}
	index := builtinIndex()
	if len(defs.extraV3) > 0 {
		if index, err = indexGVKs(defs.extraV3, index); err != nil {
			return nil, err
		}
	}
	rb := newRouteBuilder(index, defs)

	byGV := map[schema.GroupVersion][]Resource{}
	for _, r := range resources {
		byGV[r.GVK.GroupVersion()] = append(byGV[r.GVK.GroupVersion()], r)
	}
	next := &snapshot{
		defs:          defs,
		index:         index,
		groupVersions: make(map[string]*gvDoc, len(byGV)),
		v3:            make(map[string]lazyDocument, len(byGV)+8),
		v3config: &common.OpenAPIV3Config{
			Info:                           info,
			GetDefinitionName:              func(name string) (string, spec.Extensions) { return name, nil },
			GetOperationIDAndTagsFromRoute: operationIDAndTags,
			CommonResponses:                map[int]*spec3.Response{http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}},
		},
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
		builtinOnly, err := defs.check(routeModels(c))
		if err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", key, err)
		}
		gvd := &gvDoc{gv: gv, resources: slices.Clone(rs), builtinOnly: builtinOnly}
		gvd.doc = lazyV3(key, func() (*container, error) {
			return newRouteBuilder(index, defs).groupVersionContainer(gvd.gv, gvd.resources)
		}, next.v3config, defs)
		next.groupVersions[key] = gvd
		next.v3[key] = gvd.doc
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
		next.v3[key] = lazyV3(key, func() (*container, error) { return c, nil }, next.v3config, defs)
	}

	next.v3Index = sync.OnceValues(func() (*document, error) { return indexDocument(next.v3) })

	next.v2 = sync.OnceValues(func() (*document, error) {
		rb := newRouteBuilder(index, defs)
		containers := make([]*container, 0, len(next.groupVersions)+len(discovery))
		for _, gvd := range next.groupVersions {
			c, err := rb.groupVersionContainer(gvd.gv, gvd.resources)
			if err != nil {
				return nil, err
			}
			containers = append(containers, c)
		}
		for _, c := range discovery {
			containers = append(containers, c)
		}
		return buildV2(containers, defs)
	})
	return next, nil
}

func newRouteBuilder(index map[schema.GroupVersionKind]string, defs *definitions) *routeBuilder {
	return &routeBuilder{byGVK: index, doc: propertyDoc(defs)}
}

// routeModels are the definitions c's routes take or return.
func routeModels(c *container) []string {
	var out []string
	for _, cr := range c.routes {
		rt := cr.(*route)
		if rt.body != "" {
			out = append(out, string(rt.body))
		}
		for _, resp := range rt.responses {
			out = append(out, string(resp.(response).model))
		}
	}
	return out
}

// lazyV3 builds and encodes the v3 document of routes' container on first
// use.
func lazyV3(key string, routes func() (*container, error), config *common.OpenAPIV3Config, defs *definitions) lazyDocument {
	return sync.OnceValues(func() (*document, error) {
		c, err := routes()
		if err != nil {
			return nil, fmt.Errorf("openapi: building %s: %w", key, err)
		}
		doc, err := buildV3(c, config, defs)
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

// buildV3 builds and encodes one v3 document from the definitions its
// routes reach, built for it and dropped with the document's object tree.
func buildV3(c *container, config *common.OpenAPIV3Config, defs *definitions) (*document, error) {
	reached, err := defs.closure(routeModels(c), true)
	if err != nil {
		return nil, err
	}
	cfg := *config
	cfg.Definitions = reached
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
func buildV2(containers []*container, defs *definitions) (*document, error) {
	var models []string
	rcs := make([]common.RouteContainer, len(containers))
	for i, c := range containers {
		models = append(models, routeModels(c)...)
		rcs[i] = c
	}
	reached, err := defs.closure(models, false)
	if err != nil {
		return nil, fmt.Errorf("openapi: building v2: %w", err)
	}
	sw, err := builder.BuildOpenAPISpecFromRoutes(rcs, &common.Config{
		ProtocolList:                   []string{"https"},
		Info:                           info,
		GetDefinitions:                 func(common.ReferenceCallback) map[string]common.OpenAPIDefinition { return reached },
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

// definitions resolves the definition names of one snapshot. Built-in
// definitions are built from the generated code on each lookup, so they
// cost memory only while a document or a kind's schemas are being built;
// extra ones (custom resources) are built once, at Update, in both forms.
type definitions struct {
	// extraV2 and extraV3 are the extra definitions, references rendered
	// for OpenAPI v2 and v3. Shared, never modified.
	extraV2, extraV3 map[string]common.OpenAPIDefinition
}

// newDefinitions builds the extra definitions; a name defined twice, or
// also a built-in one, is an error.
func newDefinitions(extra []common.GetOpenAPIDefinitions) (*definitions, error) {
	d := &definitions{}
	var err error
	if d.extraV2, err = mergeExtra(extra, refV2Func); err != nil {
		return nil, err
	}
	if d.extraV3, err = mergeExtra(extra, refV3Func); err != nil {
		return nil, err
	}
	return d, nil
}

func mergeExtra(extra []common.GetOpenAPIDefinitions, ref common.ReferenceCallback) (map[string]common.OpenAPIDefinition, error) {
	if len(extra) == 0 {
		return nil, nil
	}
	out := map[string]common.OpenAPIDefinition{}
	for _, get := range extra {
		for name, def := range get(ref) {
			if _, dup := out[name]; dup || isBuiltin(name) {
				return nil, fmt.Errorf("openapi: definition %q defined twice", name)
			}
			out[name] = def
		}
	}
	return out, nil
}

// get returns definition name, references in v3 or v2 form. Its top-level
// extension map, the only part kube-openapi's builders write to, is the
// caller's.
func (d *definitions) get(name string, v3 bool) (common.OpenAPIDefinition, bool) {
	return d.getFrom(nil, name, v3)
}

// getFrom is get with the built-in definitions from t; nil: builtins().
func (d *definitions) getFrom(t *builtinTable, name string, v3 bool) (common.OpenAPIDefinition, bool) {
	extra, prefix := d.extraV2, refV2
	if v3 {
		extra, prefix = d.extraV3, refV3
	}
	if def, ok := extra[name]; ok {
		def.Schema.Extensions = maps.Clone(def.Schema.Extensions)
		return def, true
	}
	if !isBuiltin(name) {
		return common.OpenAPIDefinition{}, false
	}
	if t == nil {
		t = builtins()
	}
	return builtinDefinition(t, name, prefix)
}

// closure returns the definitions named and every definition they refer
// to, directly or through others; a name without a definition is an error.
func (d *definitions) closure(names []string, v3 bool) (map[string]common.OpenAPIDefinition, error) {
	t := builtins()
	out := map[string]common.OpenAPIDefinition{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if _, seen := out[name]; seen {
			return nil
		}
		if typ, _ := common.OpenAPITypeFormat(name); typ != "" {
			return nil // a primitive such as "string"
		}
		def, ok := d.getFrom(t, name, v3)
		if !ok {
			return fmt.Errorf("%w: no definition %q (used by %s)", ErrInvalidResource, name, from)
		}
		out[name] = def
		for _, dep := range def.Dependencies {
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range names {
		if err := visit(name, "a route"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// check fails when a name, or a definition an extra one refers to, has no
// definition, without building any built-in definition: those refer only
// to each other (TestDefinitionsCanonical). builtinOnly reports whether
// only built-in definitions are reached.
func (d *definitions) check(names []string) (builtinOnly bool, err error) {
	builtinOnly = true
	seen := map[string]bool{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		if t, _ := common.OpenAPITypeFormat(name); t != "" || isBuiltin(name) {
			return nil
		}
		def, ok := d.extraV3[name]
		if !ok {
			return fmt.Errorf("%w: no definition %q (used by %s)", ErrInvalidResource, name, from)
		}
		builtinOnly = false
		for _, dep := range def.Dependencies {
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, name := range names {
		if err := visit(name, "a route"); err != nil {
			return false, err
		}
	}
	return builtinOnly, nil
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

// propertyDoc returns a lookup of property descriptions in defs. It keeps
// the few definitions it is asked about (the option kinds) while it lives.
func propertyDoc(defs *definitions) func(def, prop string) string {
	seen := map[string]common.OpenAPIDefinition{}
	return func(def, prop string) string {
		d, ok := seen[def]
		if !ok {
			if d, ok = defs.get(def, true); !ok {
				return ""
			}
			seen[def] = d
		}
		return d.Schema.Properties[prop].Description
	}
}
