package openapi

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"
)

// This file describes skiff's REST surface as kube-openapi routes, the input
// of its v2 and v3 spec builders. Paths, operation ids, actions, parameters
// and media types follow what kube-apiserver publishes, so generated clients
// and kubectl see the same document shape.

var (
	mediaObject = []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
	mediaList   = append(mediaObject[:len(mediaObject):len(mediaObject)],
		"application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
	mediaPatch = []string{
		"application/json-patch+json",
		"application/merge-patch+json",
		"application/strategic-merge-patch+json",
		"application/apply-patch+yaml",
	}
	mediaAny = []string{"*/*"}
	// noCustom are the media types custom resources are not served in:
	// they have no protobuf encoding and no strategic merge patch. kubectl
	// reads a PATCH operation's consumes to decide whether it may send a
	// strategic merge patch.
	noCustom = map[string]bool{
		"application/vnd.kubernetes.protobuf":              true,
		"application/vnd.kubernetes.protobuf;stream=watch": true,
		"application/strategic-merge-patch+json":           true,
	}
	mediaLog = []string{"text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
)

// modelName names a definition; the builders resolve request and response
// samples to definitions through util.GetCanonicalTypeName, which honours
// this interface. A name the builders know as a primitive ("string") yields
// an inline schema.
type modelName string

func (m modelName) OpenAPIModelName() string { return string(m) }

// param is a non-body or body parameter of a route.
type param struct {
	name, description string
	kind              common.ParameterKind
	dataType          string
	required          bool
}

var _ common.Parameter = param{}

func (p param) Name() string                 { return p.name }
func (p param) Description() string          { return p.description }
func (p param) Required() bool               { return p.required }
func (p param) Kind() common.ParameterKind   { return p.kind }
func (p param) DataType() string             { return p.dataType }
func (p param) AllowMultiple() bool          { return false }
func (p param) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("%q", p.name)), nil }

type response struct {
	code    int
	message string
	model   modelName
}

var _ common.StatusCodeResponse = response{}

func (r response) Code() int          { return r.code }
func (r response) Message() string    { return r.message }
func (r response) Model() interface{} { return r.model }

// route is one operation: a method on a path.
type route struct {
	method, path string
	operationID  string
	tags         []string
	description  string
	// action is x-kubernetes-action; "" for operations not on a resource.
	action    string
	gvk       schema.GroupVersionKind
	params    []common.Parameter
	consumes  []string
	produces  []string
	body      modelName // "" when the operation takes no body
	responses []common.StatusCodeResponse
}

var _ common.Route = (*route)(nil)

func (r *route) Method() string                 { return r.method }
func (r *route) Path() string                   { return r.path }
func (r *route) OperationName() string          { return r.operationID }
func (r *route) Parameters() []common.Parameter { return r.params }
func (r *route) Description() string            { return r.description }
func (r *route) Consumes() []string             { return r.consumes }
func (r *route) Produces() []string             { return r.produces }
func (r *route) ResponsePayloadSample() interface{} {
	return nil
}
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

func (r *route) RequestPayloadSample() interface{} {
	if r.body == "" {
		return nil
	}
	return r.body
}

func (r *route) Metadata() map[string]interface{} {
	if r.action == "" {
		return nil
	}
	return map[string]interface{}{
		"x-kubernetes-action": r.action,
		ExtensionGVK: map[string]interface{}{
			"group": r.gvk.Group, "version": r.gvk.Version, "kind": r.gvk.Kind,
		},
	}
}

// operationIDAndTags is the builders' GetOperationIDAndTagsFromRoute.
func operationIDAndTags(r common.Route) (string, []string, error) {
	rt, ok := r.(*route)
	if !ok {
		return "", nil, fmt.Errorf("openapi: unexpected route type %T", r)
	}
	return rt.operationID, rt.tags, nil
}

// container is one group-version's (or one discovery document's) routes.
type container struct {
	root   string
	routes []common.Route
}

var _ common.RouteContainer = (*container)(nil)

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }

// queryParam is a query parameter whose description is the doc of the field
// of the same name in an options definition (ListOptions, PatchOptions, ...),
// as kube-apiserver derives them.
type queryParam struct {
	name, dataType, from string
}

var (
	pretty = param{
		name:        "pretty",
		description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
		kind:        common.QueryParameterKind,
		dataType:    "string",
	}
	namespaceParam = param{
		name:        "namespace",
		description: "object name and auth scope, such as for teams and projects",
		kind:        common.PathParameterKind,
		dataType:    "string",
		required:    true,
	}

	listQuery = []queryParam{
		{"allowWatchBookmarks", "boolean", defListOptions},
		{"continue", "string", defListOptions},
		{"fieldSelector", "string", defListOptions},
		{"labelSelector", "string", defListOptions},
		{"limit", "integer", defListOptions},
		{"resourceVersion", "string", defListOptions},
		{"resourceVersionMatch", "string", defListOptions},
		{"sendInitialEvents", "boolean", defListOptions},
		{"timeoutSeconds", "integer", defListOptions},
		{"watch", "boolean", defListOptions},
	}
	createQuery = []queryParam{
		{"dryRun", "string", defCreateOptions},
		{"fieldManager", "string", defCreateOptions},
		{"fieldValidation", "string", defCreateOptions},
	}
	updateQuery = []queryParam{
		{"dryRun", "string", defUpdateOptions},
		{"fieldManager", "string", defUpdateOptions},
		{"fieldValidation", "string", defUpdateOptions},
	}
	patchQuery = []queryParam{
		{"dryRun", "string", defPatchOptions},
		{"fieldManager", "string", defPatchOptions},
		{"fieldValidation", "string", defPatchOptions},
		{"force", "boolean", defPatchOptions},
	}
	deleteQuery = []queryParam{
		{"dryRun", "string", defDeleteOptions},
		{"gracePeriodSeconds", "integer", defDeleteOptions},
		{"ignoreStoreReadErrorWithClusterBreakingPotential", "boolean", defDeleteOptions},
		{"orphanDependents", "boolean", defDeleteOptions},
		{"propagationPolicy", "string", defDeleteOptions},
	}
	deleteCollectionQuery = append(deleteQuery[:len(deleteQuery):len(deleteQuery)],
		queryParam{"continue", "string", defListOptions},
		queryParam{"fieldSelector", "string", defListOptions},
		queryParam{"labelSelector", "string", defListOptions},
		queryParam{"limit", "integer", defListOptions},
		queryParam{"resourceVersion", "string", defListOptions},
		queryParam{"resourceVersionMatch", "string", defListOptions},
		queryParam{"sendInitialEvents", "boolean", defListOptions},
		queryParam{"timeoutSeconds", "integer", defListOptions},
	)
	logQuery = []queryParam{
		{"container", "string", defPodLogOptions},
		{"follow", "boolean", defPodLogOptions},
		{"insecureSkipTLSVerifyBackend", "boolean", defPodLogOptions},
		{"limitBytes", "integer", defPodLogOptions},
		{"previous", "boolean", defPodLogOptions},
		{"sinceSeconds", "integer", defPodLogOptions},
		{"stream", "string", defPodLogOptions},
		{"tailLines", "integer", defPodLogOptions},
		{"timestamps", "boolean", defPodLogOptions},
	}
)

// subresourceShape says how a subresource appears in the documents.
type subresourceShape struct {
	// kind is the subresource's kind; nil means the parent's kind.
	kind *schema.GroupVersionKind
	// model overrides the response definition (log streams a string).
	model modelName
	// ops lists the operations: get, put, patch, post.
	ops []string
}

var (
	scaleKind    = schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
	evictionKind = schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}
	bindingKind  = schema.GroupVersionKind{Version: "v1", Kind: "Binding"}
	tokenKind    = schema.GroupVersionKind{Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest"}

	subresourceShapes = map[string]subresourceShape{
		"status":              {ops: []string{"get", "put", "patch"}},
		"ephemeralcontainers": {ops: []string{"get", "put", "patch"}},
		"resize":              {ops: []string{"get", "put", "patch"}},
		"approval":            {ops: []string{"get", "put", "patch"}},
		"scale":               {kind: &scaleKind, ops: []string{"get", "put", "patch"}},
		"finalize":            {ops: []string{"put"}},
		"eviction":            {kind: &evictionKind, ops: []string{"post"}},
		"binding":             {kind: &bindingKind, ops: []string{"post"}},
		"token":               {kind: &tokenKind, ops: []string{"post"}},
		"log":                 {model: "string", ops: []string{"get"}},
	}
)

// routeBuilder turns Resources into routes. It resolves kinds to definition
// names and parameter descriptions through the definitions being served.
type routeBuilder struct {
	// byGVK maps a kind to the definition naming it in ExtensionGVK.
	byGVK map[schema.GroupVersionKind]string
	// doc returns the description of property prop of definition def.
	doc func(def, prop string) string
}

func (b *routeBuilder) query(qs []queryParam) []common.Parameter {
	out := make([]common.Parameter, 0, len(qs)+1)
	out = append(out, pretty)
	for _, q := range qs {
		out = append(out, param{
			name:        q.name,
			description: b.doc(q.from, q.name),
			kind:        common.QueryParameterKind,
			dataType:    q.dataType,
		})
	}
	return out
}

func (b *routeBuilder) model(gvk schema.GroupVersionKind) (modelName, error) {
	name, ok := b.byGVK[gvk]
	if !ok {
		return "", fmt.Errorf("%w: no definition has %s %v", ErrInvalidResource, ExtensionGVK, gvk)
	}
	return modelName(name), nil
}

func nameParam(kind string) param {
	return param{
		name:        "name",
		description: "name of the " + kind,
		kind:        common.PathParameterKind,
		dataType:    "string",
		required:    true,
	}
}

func bodyParam(required bool) param {
	return param{name: "body", kind: common.BodyParameterKind, dataType: "body", required: required}
}

// with returns extra followed by ps in a new slice.
func with(ps []common.Parameter, extra ...common.Parameter) []common.Parameter {
	out := make([]common.Parameter, 0, len(extra)+len(ps))
	return append(append(out, extra...), ps...)
}

func ok(m modelName) []common.StatusCodeResponse {
	return []common.StatusCodeResponse{response{http.StatusOK, "OK", m}}
}

func okCreated(m modelName) []common.StatusCodeResponse {
	return []common.StatusCodeResponse{response{http.StatusOK, "OK", m}, response{http.StatusCreated, "Created", m}}
}

func okCreatedAccepted(m modelName) []common.StatusCodeResponse {
	return append(okCreated(m), response{http.StatusAccepted, "Accepted", m})
}

func okAccepted(m modelName) []common.StatusCodeResponse {
	return []common.StatusCodeResponse{response{http.StatusOK, "OK", m}, response{http.StatusAccepted, "Accepted", m}}
}

// resourceRoutes returns the operations of one resource, paths rooted at
// root ("/api/v1", "/apis/apps/v1").
func (b *routeBuilder) resourceRoutes(root string, r Resource) ([]common.Route, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	gvk := r.GVK
	kind, err := b.model(gvk)
	if err != nil {
		return nil, err
	}
	var list modelName
	if r.has("list") {
		if list, err = b.model(gvk.GroupVersion().WithKind(r.listKind())); err != nil {
			return nil, err
		}
	}
	prefix := operationPrefix(gvk.GroupVersion())
	tags := []string{operationTag(gvk.GroupVersion())}
	scoped := gvk.Kind
	collection := root + "/" + r.Resource
	watchCollection := root + "/watch/" + r.Resource
	var scope []common.Parameter
	if r.Namespaced {
		scoped = "Namespaced" + gvk.Kind
		collection = root + "/namespaces/{namespace}/" + r.Resource
		watchCollection = root + "/watch/namespaces/{namespace}/" + r.Resource
		scope = []common.Parameter{namespaceParam}
	}
	item := collection + "/{name}"
	itemParams := append([]common.Parameter{nameParam(gvk.Kind)}, scope...)

	var out []common.Route
	add := func(rt route) {
		rt.tags = tags
		if rt.gvk.Kind == "" {
			rt.gvk = gvk
		}
		if rt.consumes == nil {
			rt.consumes = mediaAny
		}
		if rt.produces == nil {
			rt.produces = mediaObject
		}
		if r.CustomResource {
			rt.consumes, rt.produces = customMedia(rt.consumes), customMedia(rt.produces)
		}
		out = append(out, &rt)
	}
	if r.has("list") {
		add(route{
			method: http.MethodGet, path: collection, action: "list",
			operationID: "list" + prefix + scoped,
			description: "list or watch objects of kind " + gvk.Kind,
			params:      with(b.query(listQuery), scope...),
			produces:    mediaList,
			responses:   ok(list),
		})
		if r.Namespaced {
			add(route{
				method: http.MethodGet, path: root + "/" + r.Resource, action: "list",
				operationID: "list" + prefix + gvk.Kind + "ForAllNamespaces",
				description: "list or watch objects of kind " + gvk.Kind,
				params:      b.query(listQuery),
				produces:    mediaList,
				responses:   ok(list),
			})
		}
	}
	if r.has("watch") {
		watchEvent := modelName(defWatchEvent)
		add(route{
			method: http.MethodGet, path: watchCollection, action: "watchlist",
			operationID: "watch" + prefix + scoped + "List",
			description: "watch individual changes to a list of " + gvk.Kind + ". deprecated: use the 'watch' parameter with a list operation instead.",
			params:      with(b.query(listQuery), scope...),
			produces:    mediaList,
			responses:   ok(watchEvent),
		})
		add(route{
			method: http.MethodGet, path: watchCollection + "/{name}", action: "watch",
			operationID: "watch" + prefix + scoped,
			description: "watch changes to an object of kind " + gvk.Kind + ". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.",
			params:      with(b.query(listQuery), itemParams...),
			produces:    mediaList,
			responses:   ok(watchEvent),
		})
		if r.Namespaced {
			add(route{
				method: http.MethodGet, path: root + "/watch/" + r.Resource, action: "watchlist",
				operationID: "watch" + prefix + gvk.Kind + "ListForAllNamespaces",
				description: "watch individual changes to a list of " + gvk.Kind + ". deprecated: use the 'watch' parameter with a list operation instead.",
				params:      b.query(listQuery),
				produces:    mediaList,
				responses:   ok(watchEvent),
			})
		}
	}
	if r.has("create") {
		add(route{
			method: http.MethodPost, path: collection, action: "post",
			operationID: "create" + prefix + scoped,
			description: "create " + article(gvk.Kind),
			params:      with(b.query(createQuery), append(scope, bodyParam(true))...),
			body:        kind,
			responses:   okCreatedAccepted(kind),
		})
	}
	if r.has("deletecollection") {
		add(route{
			method: http.MethodDelete, path: collection, action: "deletecollection",
			operationID: "delete" + prefix + "Collection" + scoped,
			description: "delete collection of " + gvk.Kind,
			params:      with(b.query(deleteCollectionQuery), append(scope, bodyParam(false))...),
			body:        defDeleteOptions,
			responses:   ok(defStatus),
		})
	}
	if r.has("get") {
		add(route{
			method: http.MethodGet, path: item, action: "get",
			operationID: "read" + prefix + scoped,
			description: "read the specified " + gvk.Kind,
			params:      with(b.query(nil), itemParams...),
			responses:   ok(kind),
		})
	}
	if r.has("update") {
		add(route{
			method: http.MethodPut, path: item, action: "put",
			operationID: "replace" + prefix + scoped,
			description: "replace the specified " + gvk.Kind,
			params:      with(b.query(updateQuery), append(itemParams, bodyParam(true))...),
			body:        kind,
			responses:   okCreated(kind),
		})
	}
	if r.has("patch") {
		add(route{
			method: http.MethodPatch, path: item, action: "patch",
			operationID: "patch" + prefix + scoped,
			description: "partially update the specified " + gvk.Kind,
			params:      with(b.query(patchQuery), append(itemParams, bodyParam(true))...),
			consumes:    mediaPatch,
			body:        defPatch,
			responses:   okCreated(kind),
		})
	}
	if r.has("delete") {
		add(route{
			method: http.MethodDelete, path: item, action: "delete",
			operationID: "delete" + prefix + scoped,
			description: "delete " + article(gvk.Kind),
			params:      with(b.query(deleteQuery), append(itemParams, bodyParam(false))...),
			body:        defDeleteOptions,
			responses:   okAccepted(defStatus),
		})
	}

	for _, sub := range r.Subresources {
		shape, known := subresourceShapes[sub]
		if !known {
			continue
		}
		subGVK, subModel := gvk, kind
		if shape.kind != nil {
			subGVK = *shape.kind
			if subModel, err = b.model(subGVK); err != nil {
				return nil, err
			}
		}
		respModel := subModel
		if shape.model != "" {
			respModel = shape.model
		}
		path := item + "/" + sub
		opSuffix := scoped + title(sub)
		subParams := append([]common.Parameter{nameParam(subGVK.Kind)}, scope...)
		for _, op := range shape.ops {
			switch op {
			case "get":
				rt := route{
					method: http.MethodGet, path: path, action: "get", gvk: subGVK,
					operationID: "read" + prefix + opSuffix,
					description: "read " + sub + " of the specified " + gvk.Kind,
					params:      with(b.query(nil), subParams...),
					responses:   ok(respModel),
				}
				if sub == "log" {
					rt.params = with(b.query(logQuery), subParams...)
					rt.produces = mediaLog
				}
				add(rt)
			case "put":
				add(route{
					method: http.MethodPut, path: path, action: "put", gvk: subGVK,
					operationID: "replace" + prefix + opSuffix,
					description: "replace " + sub + " of the specified " + gvk.Kind,
					params:      with(b.query(updateQuery), append(subParams, bodyParam(true))...),
					body:        subModel,
					responses:   okCreated(respModel),
				})
			case "patch":
				add(route{
					method: http.MethodPatch, path: path, action: "patch", gvk: subGVK,
					operationID: "patch" + prefix + opSuffix,
					description: "partially update " + sub + " of the specified " + gvk.Kind,
					params:      with(b.query(patchQuery), append(subParams, bodyParam(true))...),
					consumes:    mediaPatch,
					body:        defPatch,
					responses:   okCreated(respModel),
				})
			case "post":
				add(route{
					method: http.MethodPost, path: path, action: "post", gvk: subGVK,
					operationID: "create" + prefix + opSuffix,
					description: "create " + sub + " of " + article(gvk.Kind),
					params:      with(b.query(createQuery), append(subParams, bodyParam(true))...),
					body:        subModel,
					responses:   okCreatedAccepted(respModel),
				})
			}
		}
	}
	return out, nil
}

// groupVersionRoute is GET /api/v1/ or /apis/G/V/: the APIResourceList.
func groupVersionRoute(gv schema.GroupVersion) *route {
	return &route{
		method: http.MethodGet, path: "/" + groupVersionKey(gv) + "/",
		operationID: "get" + operationPrefix(gv) + "APIResources",
		tags:        []string{operationTag(gv)},
		description: "get available resources",
		consumes:    mediaObject, produces: mediaObject,
		responses: ok(defResourceList),
	}
}

// groupRoute is GET /api/ (APIVersions) or /apis/G/ (APIGroup).
func groupRoute(group string) *route {
	if group == "" {
		return &route{
			method: http.MethodGet, path: "/api/",
			operationID: "getCoreAPIVersions", tags: []string{"core"},
			description: "get available API versions",
			consumes:    mediaObject, produces: mediaObject,
			responses: ok(defAPIVersions),
		}
	}
	name := toValidOperationID(strings.TrimSuffix(group, ".k8s.io"), true)
	return &route{
		method: http.MethodGet, path: "/apis/" + group + "/",
		operationID: "get" + name + "APIGroup",
		tags:        []string{toValidOperationID(strings.TrimSuffix(group, ".k8s.io"), false)},
		description: "get information of a group",
		consumes:    mediaObject, produces: mediaObject,
		responses: ok(defAPIGroup),
	}
}

var (
	apisRoute = &route{
		method: http.MethodGet, path: "/apis/",
		operationID: "getAPIVersions", tags: []string{"apis"},
		description: "get available API versions",
		consumes:    mediaObject, produces: mediaObject,
		responses: ok(defAPIGroupList),
	}
	versionRoute = &route{
		method: http.MethodGet, path: "/version/",
		operationID: "getCodeVersion", tags: []string{"version"},
		description: "get the version information for this server",
		consumes:    []string{"application/json"}, produces: []string{"application/json"},
		responses: ok(defVersionInfo),
	}
)

// operationPrefix is the group-version part of operation ids: "CoreV1",
// "AppsV1", "RbacAuthorizationV1", "StableExampleComV1".
func operationPrefix(gv schema.GroupVersion) string {
	group := "core"
	if gv.Group != "" {
		group = strings.TrimSuffix(gv.Group, ".k8s.io")
	}
	return toValidOperationID(group, true) + toValidOperationID(gv.Version, true)
}

// operationTag is the tag of a group-version's operations: "core_v1",
// "rbacAuthorization_v1".
func operationTag(gv schema.GroupVersion) string {
	group := "core"
	if gv.Group != "" {
		group = strings.TrimSuffix(gv.Group, ".k8s.io")
	}
	return toValidOperationID(group, false) + "_" + toValidOperationID(gv.Version, false)
}

// toValidOperationID drops characters that cannot appear in an identifier
// and capitalizes the letter after each dropped one (and the first letter
// when capitalizeFirst): "rbac.authorization" → "RbacAuthorization".
func toValidOperationID(s string, capitalizeFirst bool) string {
	var buf bytes.Buffer
	capitalize := capitalizeFirst
	for i, r := range s {
		if unicode.IsLetter(r) || r == '_' || (i != 0 && unicode.IsDigit(r)) {
			if capitalize {
				buf.WriteRune(unicode.ToUpper(r))
				capitalize = false
			} else {
				buf.WriteRune(r)
			}
		} else {
			capitalize = true
		}
	}
	return buf.String()
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// article prefixes a kind with "a" or "an", as upstream's descriptions do.
func article(kind string) string {
	if kind != "" && strings.ContainsRune("AEIOU", rune(kind[0])) {
		return "an " + kind
	}
	return "a " + kind
}

// customMedia is media without what custom resources are not served in.
func customMedia(media []string) []string {
	out := make([]string, 0, len(media))
	for _, m := range media {
		if !noCustom[m] {
			out = append(out, m)
		}
	}
	return out
}
