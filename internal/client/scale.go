package client

import (
	"context"
	"fmt"
	"strings"
	"sync"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
)

// APIResources lists what group-version gv serves, subresources
// included ("deployments/scale").
func (c *Core) APIResources(ctx context.Context, gv schema.GroupVersion) ([]metav1.APIResource, error) {
	path := "/apis/" + gv.String()
	if gv.Group == "" {
		path = "/api/" + gv.Version
	}
	var list metav1.APIResourceList
	if err := c.getJSON(ctx, path, &list); err != nil {
		return nil, err
	}
	return list.APIResources, nil
}

// PreferredVersion is the version of group the server prefers ("v1" for
// the core group).
func (c *Core) PreferredVersion(ctx context.Context, group string) (string, error) {
	if group == "" {
		return "v1", nil
	}
	var g metav1.APIGroup
	if err := c.getJSON(ctx, "/apis/"+group, &g); err != nil {
		return "", err
	}
	return g.PreferredVersion.Version, nil
}

// ErrNotScalable: the kind has no scale subresource.
var ErrNotScalable = fmt.Errorf("client: no scale subresource")

// Scales reads and writes the autoscaling/v1 scale subresource of any
// scalable kind, built-in or custom, found by its apiVersion and kind as
// an ownerReference or a scaleTargetRef names it.
type Scales struct {
	core *Core
	cfg  *rest.Config

	mu sync.Mutex
	// resources maps a kind to its scalable resource; a kind without
	// one maps to "". Discovered once per kind: a CRD that gains a scale
	// subresource later is seen after a restart.
	resources map[schema.GroupVersionKind]string
	clients   map[schema.GroupVersion]*rest.RESTClient
}

// NewScales returns a scale client over cfg.
func NewScales(cfg *rest.Config) (*Scales, error) {
	core, err := NewCore(cfg)
	if err != nil {
		return nil, err
	}
	return &Scales{core: core, cfg: cfg, resources: map[schema.GroupVersionKind]string{}, clients: map[schema.GroupVersion]*rest.RESTClient{}}, nil
}

// builtinScalable are the kinds whose resource is known without asking.
var builtinScalable = map[schema.GroupVersionKind]string{
	{Group: "apps", Version: "v1", Kind: "Deployment"}:  "deployments",
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}:  "replicasets",
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: "statefulsets",
	{Version: "v1", Kind: "ReplicationController"}:      "replicationcontrollers",
}

// resource is gvk's resource with a scale subresource and a client of its
// group-version.
func (s *Scales) resource(ctx context.Context, gvk schema.GroupVersionKind) (string, *rest.RESTClient, error) {
	s.mu.Lock()
	res, known := s.resources[gvk]
	s.mu.Unlock()
	if !known {
		res = builtinScalable[gvk]
		if res == "" {
			list, err := s.core.APIResources(ctx, gvk.GroupVersion())
			if err != nil {
				return "", nil, err
			}
			res = scalableResource(list, gvk.Kind)
		}
		s.mu.Lock()
		s.resources[gvk] = res
		s.mu.Unlock()
	}
	if res == "" {
		return "", nil, fmt.Errorf("%w: %s", ErrNotScalable, gvk)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rc := s.clients[gvk.GroupVersion()]
	if rc == nil {
		apiPath := "/apis"
		if gvk.Group == "" {
			apiPath = "/api"
		}
		var err error
		if rc, err = restFor(s.cfg, apiPath, gvk.GroupVersion()); err != nil {
			return "", nil, err
		}
		s.clients[gvk.GroupVersion()] = rc
	}
	return res, rc, nil
}

// scalableResource is the resource of kind in list that has a scale
// subresource, or "".
func scalableResource(list []metav1.APIResource, kind string) string {
	var res string
	for _, r := range list {
		if r.Kind == kind && !strings.Contains(r.Name, "/") {
			res = r.Name
		}
	}
	for _, r := range list {
		if res != "" && r.Name == res+"/scale" {
			return res
		}
	}
	return ""
}

// Get reads the scale of the object apiVersion/kind ns/name.
func (s *Scales) Get(ctx context.Context, apiVersion, kind, ns, name string) (*autoscalingv1.Scale, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	res, rc, err := s.resource(ctx, gv.WithKind(kind))
	if err != nil {
		return nil, err
	}
	out := &autoscalingv1.Scale{}
	err = rc.Get().Namespace(ns).Resource(res).Name(name).SubResource("scale").Do(ctx).Into(out)
	return out, err
}

// Update writes scale (its resourceVersion a precondition when set) to
// the object apiVersion/kind it belongs to.
func (s *Scales) Update(ctx context.Context, apiVersion, kind string, scale *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return nil, err
	}
	res, rc, err := s.resource(ctx, gv.WithKind(kind))
	if err != nil {
		return nil, err
	}
	out := &autoscalingv1.Scale{}
	err = rc.Put().Namespace(scale.Namespace).Resource(res).Name(scale.Name).SubResource("scale").Body(scale).Do(ctx).Into(out)
	return out, err
}
