package apiserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"

	"k8s.io/kube-openapi/pkg/common"

	"skiff.dev/skiff/internal/admission"
	"skiff.dev/skiff/internal/auth"
	"skiff.dev/skiff/internal/openapi"
	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/storage"
)

// Server is the Kubernetes API over a set of registered resources. It is an
// http.Handler; authentication and TLS wrap it from outside.
type Server struct {
	storage storage.Store

	mu        sync.RWMutex
	resources map[schema.GroupVersionResource]*served
	// groups in the order discovery lists them; core ("") first.
	groups []string
	// preferred version of each group
	versions map[string][]string

	// protectedNamespaces cannot be deleted.
	protectedNamespaces map[string]bool
	version             VersionInfo
	authorizer          auth.Authorizer
	admission           admission.Chain
	fieldManagers       fieldManagers

	metrics       *metrics
	readOnlySlots chan struct{} // capacity: read-only requests in flight at most
	mutatingSlots chan struct{} // capacity: mutating requests in flight at most

	runCtx context.Context // set by Run; caches of later registrations start with it
	caches sync.WaitGroup  // running watch caches

	openapiMu sync.Mutex // serializes PublishOpenAPI
	openapi   *openapi.Service
	// openapiExtra are custom resources' definitions, by CRD name.
	openapiExtra map[string]common.GetOpenAPIDefinitions
	// shutdown is closed when the server stops: watches end.
	shutdown     chan struct{}
	shutdownOnce sync.Once
}

type served struct {
	res   *registry.Resource
	store *registry.Store
	stop  context.CancelFunc // stops the store's watch cache; nil before Run
}

// VersionInfo is what /version reports.
type VersionInfo struct {
	GitVersion string
	GitCommit  string
}

// New returns a server on s with no resources.
func New(s storage.Store, v VersionInfo) *Server {
	srv := &Server{
		storage:             s,
		resources:           make(map[schema.GroupVersionResource]*served),
		versions:            make(map[string][]string),
		protectedNamespaces: map[string]bool{"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true},
		version:             v,
		authorizer:          auth.AlwaysAllow,
		shutdown:            make(chan struct{}),
		metrics:             newMetrics(),
		readOnlySlots:       make(chan struct{}, DefaultMaxReadOnlyInflight),
		mutatingSlots:       make(chan struct{}, DefaultMaxMutatingInflight),
	}
	srv.fieldManagers.convertCustom = srv.convertCustom
	srv.metrics.registry.MustRegister(cacheCollector{srv})
	return srv
}

// SetAuthorizer sets the authorization stage of the request path (allow
// all by default). Call before serving.
func (s *Server) SetAuthorizer(a auth.Authorizer) { s.authorizer = a }

// authorize runs the authorization stage: 403 Forbidden unless allowed.
func (s *Server) authorize(r *http.Request, info RequestInfo) error {
	user, _ := auth.UserFrom(r.Context())
	a := auth.Attributes{
		User: user, Verb: info.Verb, ResourceRequest: info.IsResourceRequest,
		APIGroup: info.APIGroup, APIVersion: info.APIVersion, Resource: info.Resource,
		Subresource: info.Subresource, Namespace: info.Namespace, Name: info.Name, Path: r.URL.Path,
	}
	d, reason, err := s.authorizer.Authorize(r.Context(), a)
	if d == auth.Allow {
		return nil
	}
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	name := "system:anonymous"
	if user != nil {
		name = user.Name
	}
	msg := fmt.Sprintf("User %q cannot %s path %q", name, info.Verb, r.URL.Path)
	if info.IsResourceRequest {
		resource := info.Resource
		if info.Subresource != "" {
			resource += "/" + info.Subresource
		}
		msg = fmt.Sprintf("User %q cannot %s resource %q in API group %q", name, info.Verb, resource, info.APIGroup)
		if info.Namespace != "" {
			msg += fmt.Sprintf(" in the namespace %q", info.Namespace)
		}
	}
	if reason != "" {
		msg += ": " + reason
	}
	return apierrors.NewForbidden(schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name, errors.New(msg))
}

// SetInflightLimits changes how many read-only and mutating requests may
// be served at once; more get 429 with Retry-After. Call before serving.
func (s *Server) SetInflightLimits(readOnly, mutating int) {
	s.readOnlySlots = make(chan struct{}, readOnly)
	s.mutatingSlots = make(chan struct{}, mutating)
}

// Shutdown ends running watches; in-flight requests finish on their own.
func (s *Server) Shutdown() { s.shutdownOnce.Do(func() { close(s.shutdown) }) }

// Register serves r. Its watch cache starts with Run, or at once when the
// server is already running.
func (s *Server) Register(r *registry.Resource) (*registry.Store, error) {
	st, err := registry.NewStore(r, s.storage)
	if err != nil {
		return nil, err
	}
	if err := addStoredAsConversions(r); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.resources[r.GVR]; old != nil && old.stop != nil {
		old.stop()
	}
	sv := &served{res: r, store: st}
	if s.runCtx != nil {
		s.startCacheLocked(sv)
	}
	g, v := r.GVR.Group, r.GVR.Version
	if _, ok := s.versions[g]; !ok {
		s.groups = append(s.groups, g)
		sort.SliceStable(s.groups, func(i, j int) bool { return s.groups[i] == "" && s.groups[j] != "" })
	}
	if !contains(s.versions[g], v) {
		s.versions[g] = append(s.versions[g], v)
		// The preferred version is the most stable and newest, as
		// upstream orders versions: v2 > v1 > v1beta2 > v1beta1 > v1alpha1.
		sort.SliceStable(s.versions[g], func(i, j int) bool {
			return version.CompareKubeAwareVersionStrings(s.versions[g][i], s.versions[g][j]) > 0
		})
	}
	s.resources[r.GVR] = sv
	return st, nil
}

// unregisterLinger is how long a resource's watch cache outlives its
// unregistration, so that watches already open receive the events the
// cache still holds (a deleted CRD's last DELETED events) before they end.
const unregisterLinger = 5 * time.Second

// Unregister stops serving gvr: new requests get 404 at once, open watches
// end after unregisterLinger. Its objects stay in storage.
func (s *Server) Unregister(gvr schema.GroupVersionResource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, ok := s.resources[gvr]
	if !ok {
		return
	}
	if sv.stop != nil {
		time.AfterFunc(unregisterLinger, sv.stop)
	}
	delete(s.resources, gvr)
	g, v := gvr.Group, gvr.Version
	for other := range s.resources {
		if other.Group == g && other.Version == v {
			return
		}
	}
	s.versions[g] = slices.DeleteFunc(s.versions[g], func(x string) bool { return x == v })
	if len(s.versions[g]) == 0 {
		delete(s.versions, g)
		s.groups = slices.DeleteFunc(s.groups, func(x string) bool { return x == g })
	}
}

// Served lists every served resource.
func (s *Server) Served() []*registry.Resource {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*registry.Resource, 0, len(s.resources))
	for _, sv := range s.resources {
		out = append(out, sv.res)
	}
	return out
}

// Run starts the watch caches of every registered resource and keeps
// them running until ctx ends; it returns once they have all stopped.
func (s *Server) Run(ctx context.Context) {
	s.mu.Lock()
	s.runCtx = ctx
	for _, sv := range s.resources {
		s.startCacheLocked(sv)
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.caches.Wait()
}

func (s *Server) startCacheLocked(sv *served) {
	ctx, stop := context.WithCancel(s.runCtx)
	sv.stop = stop
	st := sv.store
	s.caches.Go(func() {
		if err := st.Run(ctx); err != nil && ctx.Err() == nil {
			slog.Error("watch cache stopped", "resource", st.Resource.GVR.String(), "err", err)
		}
	})
}

// WaitReady blocks until every registered resource's cache has loaded.
func (s *Server) WaitReady(ctx context.Context) error {
	s.mu.RLock()
	stores := make([]*registry.Store, 0, len(s.resources))
	for _, sv := range s.resources {
		stores = append(stores, sv.store)
	}
	s.mu.RUnlock()
	for _, st := range stores {
		if err := st.WaitReady(ctx); err != nil {
			return err
		}
	}
	return nil
}

// ready reports whether every watch cache has loaded: /readyz.
func (s *Server) ready() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sv := range s.resources {
		if !sv.store.Ready() {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Store returns the store of a registered resource.
func (s *Server) Store(gvr schema.GroupVersionResource) (*registry.Store, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sv, ok := s.resources[gvr]
	if !ok {
		return nil, false
	}
	return sv.store, true
}

func (s *Server) lookup(gvr schema.GroupVersionResource) (*served, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sv, ok := s.resources[gvr]
	return sv, ok
}

// ServeHTTP routes a request: health and version, discovery, or a resource.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p := strings.TrimSuffix(r.URL.Path, "/"); {
	case p == "/healthz" || p == "/livez" || p == "/readyz" || strings.HasPrefix(p, "/healthz/") || strings.HasPrefix(p, "/livez/") || strings.HasPrefix(p, "/readyz/"):
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if strings.HasPrefix(p, "/readyz") && !s.ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, "[-]watch caches not loaded\nreadyz check failed")
			return
		}
		fmt.Fprint(w, "ok")
		return
	case p == "/version":
		s.serveVersion(w, r)
		return
	case p == "/metrics":
		s.serveMetrics(w, r)
		return
	case strings.HasPrefix(r.URL.Path, "/debug/pprof"):
		servePprof(w, r)
		return
	case p == "/openapi/v2" || p == "/openapi/v3" || strings.HasPrefix(p, "/openapi/v3/"):
		s.openapiMu.Lock()
		svc := s.openapi
		s.openapiMu.Unlock()
		if svc != nil {
			svc.ServeHTTP(w, r)
			return
		}
	}
	info := ParseRequestInfo(r)
	if err := s.authorize(r, info); err != nil {
		writeError(w, r, err)
		return
	}
	if !info.IsResourceRequest {
		if s.serveDiscovery(w, r, info) {
			return
		}
		writeError(w, r, apierrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "the server could not find the requested resource", 0, false))
		return
	}
	sv, ok := s.lookup(schema.GroupVersionResource{Group: info.APIGroup, Version: info.APIVersion, Resource: info.Resource})
	if !ok {
		writeError(w, r, apierrors.NewGenericServerResponse(http.StatusNotFound, info.Verb, schema.GroupResource{Group: info.APIGroup, Resource: info.Resource}, info.Name, "the server could not find the requested resource", 0, false))
		return
	}
	h := &resourceHandler{s: s, res: sv.res, store: sv.store, info: info}
	serve := h.serve
	if sv.res.GVR == podsGVR && info.Subresource == "eviction" && info.Namespace != "" {
		serve = func(w http.ResponseWriter, r *http.Request) {
			if err := h.serveEviction(w, r); err != nil {
				writeError(w, r, err)
			}
		}
	}
	s.instrument(w, r, info, serve)
}

// listObjects lists a resource's objects that match opts.
func (s *Server) listObjects(ctx context.Context, res *registry.Resource, st *registry.Store, ns string, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	l, err := s.listCached(ctx, res, st, ns, opts)
	if err != nil {
		return nil, err
	}
	return l.List()
}

// listCached lists a resource's objects that match opts, also in
// cacheable form.
func (s *Server) listCached(ctx context.Context, res *registry.Resource, st *registry.Store, ns string, opts *metainternalversion.ListOptions) (*registry.CachedList, error) {
	if err := checkFieldSelector(res, opts.FieldSelector); err != nil {
		return nil, err
	}
	return st.ListCached(ctx, ns, registry.ListOptions{
		Labels:               opts.LabelSelector,
		Fields:               opts.FieldSelector,
		ResourceVersion:      opts.ResourceVersion,
		ResourceVersionMatch: opts.ResourceVersionMatch,
		Limit:                opts.Limit,
		Continue:             opts.Continue,
	})
}

// checkFieldSelector rejects field selectors on fields the kind does not
// index, as Kubernetes does: 400 "field label not supported".
func checkFieldSelector(res *registry.Resource, sel fields.Selector) error {
	if sel == nil || sel.Empty() {
		return nil
	}
	supported := registry.ObjectAttrs(res, res.Strategy.New()).Fields
	for _, req := range sel.Requirements() {
		if _, ok := supported[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// admitNamespace is the NamespaceLifecycle admission step for creates: the
// namespace must exist and not be terminating.
func (s *Server) admitNamespace(ctx context.Context, ns string) error {
	st, ok := s.Store(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	if !ok {
		return nil
	}
	// Read-only: the namespace is only looked at, so the cache's shared
	// object does, without the copy Get makes on every create.
	obj, err := st.GetShared(ctx, "", ns)
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "namespaces"}, ns)
	}
	if err != nil {
		return err
	}
	m, _ := meta.Accessor(obj)
	if m.GetDeletionTimestamp() != nil {
		return apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, ns,
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	}
	return nil
}

// admitDelete refuses to delete the namespaces the system needs.
func (s *Server) admitDelete(_ context.Context, res *registry.Resource, _, name string) error {
	if res.GVR.Group == "" && res.GVR.Resource == "namespaces" && s.protectedNamespaces[name] {
		return apierrors.NewForbidden(res.GVR.GroupResource(), name, fmt.Errorf("this namespace may not be deleted"))
	}
	return nil
}

// returnsDeletedObject: most kinds answer a completed delete with a
// Status; these answer with the object, as upstream does.
func (s *Server) returnsDeletedObject(res *registry.Resource) bool {
	switch res.GVR.Resource {
	case "namespaces", "pods", "services", "persistentvolumes", "persistentvolumeclaims", "customresourcedefinitions":
		return true
	}
	return false
}

var (
	_ = labels.Everything
	_ = metav1.Now
)
