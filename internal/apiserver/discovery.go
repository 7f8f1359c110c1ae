package apiserver

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"skiff.dev/skiff/internal/registry"
)

var standardVerbs = metav1.Verbs{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}

const aggregatedMediaType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func (s *Server) serveVersion(w http.ResponseWriter, r *http.Request) {
	v := version.Info{
		Major:        "1",
		Minor:        "37",
		GitVersion:   s.version.GitVersion,
		GitCommit:    s.version.GitCommit,
		GitTreeState: "clean",
		GoVersion:    runtime.Version(),
		Compiler:     runtime.Compiler,
		Platform:     runtime.GOOS + "/" + runtime.GOARCH,
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	writeJSONAs(w, code, v, "application/json")
}

func writeJSONAs(w http.ResponseWriter, code int, v any, contentType string) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	w.Write(data)
}

// wantsAggregated reports whether the Accept header puts aggregated
// discovery before plain JSON.
func wantsAggregated(accept string) bool {
	for _, clause := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(clause))
		if err != nil {
			continue
		}
		if mt == "application/json" && params["as"] == "APIGroupDiscoveryList" && params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" {
			return true
		}
		if mt == "application/json" || mt == "*/*" {
			return false
		}
	}
	return false
}

// serveDiscovery answers /api, /apis, /api/v1, /apis/<g> and /apis/<g>/<v>.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, info RequestInfo) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	parts := splitPath(r.URL.Path)
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case len(parts) == 1 && parts[0] == "api":
		if wantsAggregated(r.Header.Get("Accept")) {
			writeJSONAs(w, http.StatusOK, s.aggregatedLocked(true), aggregatedMediaType)
			return true
		}
		writeJSON(w, http.StatusOK, &metav1.APIVersions{
			TypeMeta:                   metav1.TypeMeta{Kind: "APIVersions"},
			Versions:                   s.versions[""],
			ServerAddressByClientCIDRs: serverAddresses(r),
		})
		return true
	case len(parts) == 1 && parts[0] == "apis":
		if wantsAggregated(r.Header.Get("Accept")) {
			writeJSONAs(w, http.StatusOK, s.aggregatedLocked(false), aggregatedMediaType)
			return true
		}
		list := &metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
		for _, g := range s.groups {
			if g != "" {
				list.Groups = append(list.Groups, s.groupLocked(g))
			}
		}
		writeJSON(w, http.StatusOK, list)
		return true
	case len(parts) == 2 && parts[0] == "apis":
		if _, ok := s.versions[parts[1]]; !ok || parts[1] == "" {
			return false
		}
		g := s.groupLocked(parts[1])
		g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		writeJSON(w, http.StatusOK, &g)
		return true
	case (len(parts) == 2 && parts[0] == "api") || (len(parts) == 3 && parts[0] == "apis"):
		if !contains(s.versions[info.APIGroup], info.APIVersion) {
			return false
		}
		writeJSON(w, http.StatusOK, s.resourceListLocked(info.APIGroup, info.APIVersion))
		return true
	}
	return false
}

func serverAddresses(r *http.Request) []metav1.ServerAddressByClientCIDR {
	host := r.Host
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "443")
	}
	return []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: host}}
}

func (s *Server) groupLocked(g string) metav1.APIGroup {
	group := metav1.APIGroup{Name: g}
	for _, v := range s.versions[g] {
		group.Versions = append(group.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
	}
	if len(group.Versions) > 0 {
		group.PreferredVersion = group.Versions[0]
	}
	return group
}

// resourcesLocked lists the resources of a group-version in name order.
func (s *Server) resourcesLocked(g, v string) []*registry.Resource {
	var out []*registry.Resource
	for gvr, sv := range s.resources {
		if gvr.Group == g && gvr.Version == v {
			out = append(out, sv.res)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GVR.Resource < out[j].GVR.Resource })
	return out
}

func (s *Server) resourceListLocked(g, v string) *metav1.APIResourceList {
	gv := v
	if g != "" {
		gv = g + "/" + v
	}
	list := &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv, APIResources: []metav1.APIResource{}}
	for _, res := range s.resourcesLocked(g, v) {
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name:               res.GVR.Resource,
			SingularName:       res.SingularName,
			Namespaced:         res.Namespaced,
			Kind:               res.Kind,
			Verbs:              standardVerbs,
			ShortNames:         res.ShortNames,
			Categories:         res.Categories,
			StorageVersionHash: storageVersionHash(res),
		})
		for _, sub := range res.Subresources {
			list.APIResources = append(list.APIResources, subresourceDiscovery(res, sub))
		}
	}
	return list
}

func subresourceDiscovery(res *registry.Resource, sub string) metav1.APIResource {
	r := metav1.APIResource{Name: res.GVR.Resource + "/" + sub, Namespaced: res.Namespaced, Kind: res.Kind, Verbs: metav1.Verbs{"get", "patch", "update"}}
	switch sub {
	case "scale":
		r.Group, r.Version, r.Kind = "autoscaling", "v1", "Scale"
	case "finalize":
		r.Verbs = metav1.Verbs{"update"}
	case "binding":
		r.Kind, r.Verbs = "Binding", metav1.Verbs{"create"}
	case "eviction":
		r.Group, r.Version, r.Kind, r.Verbs = "policy", "v1", "Eviction", metav1.Verbs{"create"}
	}
	return r
}

// aggregatedLocked builds aggregated discovery for the core group (core) or
// for every other group.
func (s *Server) aggregatedLocked(core bool) *apidiscoveryv2.APIGroupDiscoveryList {
	list := &apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	for _, g := range s.groups {
		if (g == "") != core {
			continue
		}
		group := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g}}
		for _, v := range s.versions[g] {
			ver := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, res := range s.resourcesLocked(g, v) {
				scope := apidiscoveryv2.ScopeCluster
				if res.Namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				rd := apidiscoveryv2.APIResourceDiscovery{
					Resource:         res.GVR.Resource,
					ResponseKind:     &metav1.GroupVersionKind{Group: g, Version: v, Kind: res.Kind},
					Scope:            scope,
					SingularResource: res.SingularName,
					Verbs:            standardVerbs,
					ShortNames:       res.ShortNames,
					Categories:       res.Categories,
				}
				for _, sub := range res.Subresources {
					d := subresourceDiscovery(res, sub)
					kind := &metav1.GroupVersionKind{Group: d.Group, Version: d.Version, Kind: d.Kind}
					if d.Group == "" && d.Version == "" { // the parent's group-version
						kind.Group, kind.Version = g, v
					}
					rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
						Subresource: sub, ResponseKind: kind, Verbs: d.Verbs,
					})
				}
				ver.Resources = append(ver.Resources, rd)
			}
			group.Versions = append(group.Versions, ver)
		}
		list.Items = append(list.Items, group)
	}
	if list.Items == nil {
		list.Items = []apidiscoveryv2.APIGroupDiscovery{}
	}
	return list
}

// storageVersionHash is upstream's opaque name of the version a resource's
// objects are stored in: the first 8 bytes of the SHA-256 of
// "group/version/kind", base64. Clients (the storage version migrator)
// compare it to notice a storage version change.
func storageVersionHash(res *registry.Resource) string {
	gvk := res.GVK()
	if res.StoredAs != nil {
		gvk = res.StoredAs.Resource.GVK()
	}
	sum := sha256.Sum256([]byte(gvk.Group + "/" + gvk.Version + "/" + gvk.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}
