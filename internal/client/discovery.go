package client

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// getJSON decodes the JSON document at path, e.g. a discovery document.
func (c *Core) getJSON(ctx context.Context, path string, into any) error {
	raw, err := c.rest.Get().AbsPath(path).SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// NamespacedResources lists every namespaced resource the server serves
// that supports all of verbs, once per group-resource, in the group's
// preferred version when it is served there (as client-go's
// ServerPreferredNamespacedResources does). A group whose discovery fails
// is left out and reported in the error; the others are still returned.
func (c *Core) NamespacedResources(ctx context.Context, verbs ...string) ([]schema.GroupVersionResource, error) {
	var versions metav1.APIVersions
	if err := c.getJSON(ctx, "/api", &versions); err != nil {
		return nil, err
	}
	var groups metav1.APIGroupList
	if err := c.getJSON(ctx, "/apis", &groups); err != nil {
		return nil, err
	}
	// Core is the group "" with the versions /api lists.
	core := metav1.APIGroup{}
	for _, v := range versions.Versions {
		core.Versions = append(core.Versions, metav1.GroupVersionForDiscovery{GroupVersion: v, Version: v})
	}
	if len(core.Versions) > 0 {
		core.PreferredVersion = core.Versions[0]
	}
	var out []schema.GroupVersionResource
	var failed []string
	for _, g := range append([]metav1.APIGroup{core}, groups.Groups...) {
		rs, err := c.groupResources(ctx, g, verbs)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", g.Name, err))
		}
		out = append(out, rs...)
	}
	if len(failed) > 0 {
		return out, fmt.Errorf("unable to retrieve the complete list of server APIs: %v", failed)
	}
	return out, nil
}

// groupResources are the namespaced resources of one group that support
// verbs, the preferred version first.
func (c *Core) groupResources(ctx context.Context, g metav1.APIGroup, verbs []string) ([]schema.GroupVersionResource, error) {
	ordered := []metav1.GroupVersionForDiscovery{g.PreferredVersion}
	for _, v := range g.Versions {
		if v.GroupVersion != g.PreferredVersion.GroupVersion {
			ordered = append(ordered, v)
		}
	}
	seen := map[string]bool{}
	var out []schema.GroupVersionResource
	for _, v := range ordered {
		if v.GroupVersion == "" {
			continue
		}
		gv, err := schema.ParseGroupVersion(v.GroupVersion)
		if err != nil {
			return out, err
		}
		prefix := "/apis/"
		if gv.Group == "" {
			prefix = "/api/"
		}
		var list metav1.APIResourceList
		if err := c.getJSON(ctx, prefix+v.GroupVersion, &list); err != nil {
			return out, err
		}
		for _, r := range list.APIResources {
			if !namespacedWith(r, verbs) || seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			out = append(out, gv.WithResource(r.Name))
		}
	}
	return out, nil
}

// namespacedWith: a namespaced resource (not a subresource) that supports
// every one of verbs.
func namespacedWith(r metav1.APIResource, verbs []string) bool {
	if !r.Namespaced || strings.Contains(r.Name, "/") {
		return false
	}
	for _, v := range verbs {
		if !slices.Contains(r.Verbs, v) {
			return false
		}
	}
	return true
}
