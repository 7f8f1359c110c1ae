package garbagecollector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// errUnknownKind: an owner reference names a kind discovery did not
// report (yet: a new CRD's kinds appear on the next discovery).
var errUnknownKind = errors.New("garbagecollector: unknown owner kind")

// ignored resources are never watched, as upstream's default: events are
// many, short-lived and never own anything.
var ignored = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// resourceInfo is one served resource.
type resourceInfo struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
}

// catalog is one discovery of the server: every kind in every served
// version (to resolve owner references, whatever version they name), and
// the resources to watch, in their group's preferred version.
type catalog struct {
	byKind map[schema.GroupVersionKind]resourceInfo
	// watch: resources that support list, watch and delete.
	watch map[schema.GroupVersionResource]resourceInfo
	// failed groups could not be discovered; their resources are kept as
	// they were rather than dropped.
	failed map[string]bool
}

// lookup resolves an owner reference's apiVersion and kind. A version
// the server does not serve falls back to another version of the group,
// since an owner is the same object in every version.
func (c *catalog) lookup(apiVersion, kind string) (resourceInfo, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return resourceInfo{}, fmt.Errorf("%w: %s", errUnknownKind, err)
	}
	if ri, ok := c.byKind[gv.WithKind(kind)]; ok {
		return ri, nil
	}
	var found []resourceInfo
	for gvk, ri := range c.byKind {
		if gvk.Group == gv.Group && gvk.Kind == kind {
			found = append(found, ri)
		}
	}
	if len(found) == 0 {
		return resourceInfo{}, fmt.Errorf("%w: %s, Kind=%s", errUnknownKind, apiVersion, kind)
	}
	slices.SortFunc(found, func(a, b resourceInfo) int { return strings.Compare(a.GVR.Version, b.GVR.Version) })
	return found[0], nil
}

// discover reads the server's discovery documents. A group that fails is
// recorded in failed and reported in the error; the rest is returned.
func discover(ctx context.Context, rc rest.Interface) (*catalog, error) {
	var versions metav1.APIVersions
	if err := getJSON(ctx, rc, "/api", &versions); err != nil {
		return nil, err
	}
	var groups metav1.APIGroupList
	if err := getJSON(ctx, rc, "/apis", &groups); err != nil {
		return nil, err
	}
	core := metav1.APIGroup{}
	for _, v := range versions.Versions {
		core.Versions = append(core.Versions, metav1.GroupVersionForDiscovery{GroupVersion: v, Version: v})
	}
	if len(core.Versions) > 0 {
		core.PreferredVersion = core.Versions[0]
	}
	c := &catalog{byKind: map[schema.GroupVersionKind]resourceInfo{}, watch: map[schema.GroupVersionResource]resourceInfo{}, failed: map[string]bool{}}
	var errs []error
	for _, g := range append([]metav1.APIGroup{core}, groups.Groups...) {
		if err := c.addGroup(ctx, rc, g); err != nil {
			c.failed[g.Name] = true
			errs = append(errs, fmt.Errorf("group %q: %w", g.Name, err))
		}
	}
	return c, errors.Join(errs...)
}

func (c *catalog) addGroup(ctx context.Context, rc rest.Interface, g metav1.APIGroup) error {
	watched := map[string]bool{}
	// The preferred version first, so it is the one watched.
	ordered := slices.Clone(g.Versions)
	slices.SortStableFunc(ordered, func(a, b metav1.GroupVersionForDiscovery) int {
		pa, pb := a.GroupVersion == g.PreferredVersion.GroupVersion, b.GroupVersion == g.PreferredVersion.GroupVersion
		switch {
		case pa && !pb:
			return -1
		case pb && !pa:
			return 1
		}
		return 0
	})
	for _, v := range ordered {
		gv, err := schema.ParseGroupVersion(v.GroupVersion)
		if err != nil {
			return err
		}
		path := "/apis/" + v.GroupVersion
		if gv.Group == "" {
			path = "/api/" + v.GroupVersion
		}
		var list metav1.APIResourceList
		if err := getJSON(ctx, rc, path, &list); err != nil {
			return err
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue // a subresource
			}
			ri := resourceInfo{GVR: gv.WithResource(r.Name), Kind: r.Kind, Namespaced: r.Namespaced}
			if _, ok := c.byKind[gv.WithKind(r.Kind)]; !ok {
				c.byKind[gv.WithKind(r.Kind)] = ri
			}
			if watched[r.Name] || ignored[ri.GVR.GroupResource()] || !hasVerbs(r.Verbs, "list", "watch", "delete") {
				continue
			}
			watched[r.Name] = true
			c.watch[ri.GVR] = ri
		}
	}
	return nil
}

func hasVerbs(have metav1.Verbs, want ...string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func getJSON(ctx context.Context, rc rest.Interface, path string, into any) error {
	raw, err := rc.Get().AbsPath(path).SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}
