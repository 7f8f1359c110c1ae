package namespace

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
)

// The controller talks to the server through k8s.io/client-go/rest with a
// codec that knows only core/v1, not through k8s.io/client-go/kubernetes:
// that clientset (and the informers and discovery client built on it)
// links the typed clients, listers, informers and apply configurations of
// every API group Kubernetes has, tens of MiB of code and data that would
// sit in the memory of every skiff process.

// codecs decode and encode the core/v1 kinds this client handles.
var codecs = func() serializer.CodecFactory {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		panic(fmt.Sprintf("namespace: registering core/v1: %v", err))
	}
	return serializer.NewCodecFactory(scheme)
}()

// client is the slice of the API the controller uses: namespaces and the
// discovery documents.
type client struct {
	core rest.Interface
}

func newClient(cfg *rest.Config) (*client, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.NegotiatedSerializer = codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, err
	}
	return &client{core: rc}, nil
}

func (c *client) listNamespaces(ctx context.Context, opts metav1.ListOptions) (*corev1.NamespaceList, error) {
	out := &corev1.NamespaceList{}
	err := c.core.Get().Resource("namespaces").VersionedParams(&opts, metav1.ParameterCodec).Do(ctx).Into(out)
	return out, err
}

func (c *client) watchNamespaces(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return c.core.Get().Resource("namespaces").VersionedParams(&opts, metav1.ParameterCodec).Watch(ctx)
}

func (c *client) getNamespace(ctx context.Context, name string) (*corev1.Namespace, error) {
	out := &corev1.Namespace{}
	err := c.core.Get().Resource("namespaces").Name(name).Do(ctx).Into(out)
	return out, err
}

// putNamespace replaces the namespace's status or, through "finalize", its
// spec.finalizers.
func (c *client) putNamespace(ctx context.Context, ns *corev1.Namespace, subresource string) error {
	return c.core.Put().Resource("namespaces").Name(ns.Name).SubResource(subresource).Body(ns).Do(ctx).Error()
}

// getJSON decodes the JSON document at path, e.g. a discovery document.
func (c *client) getJSON(ctx context.Context, path string, into any) error {
	raw, err := c.core.Get().AbsPath(path).SetHeader("Accept", "application/json").Do(ctx).Raw()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("decoding %s: %w", path, err)
	}
	return nil
}

// namespacedResources lists every namespaced resource the server serves
// that can be listed and deleted, once per group-resource, in the group's
// preferred version when it is served there (as client-go's
// ServerPreferredNamespacedResources does). A group whose discovery fails
// is left out and reported in the error; the others are still returned.
func (c *client) namespacedResources(ctx context.Context) ([]schema.GroupVersionResource, error) {
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
		rs, err := c.groupResources(ctx, g)
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

// groupResources are the deletable namespaced resources of one group, the
// preferred version first.
func (c *client) groupResources(ctx context.Context, g metav1.APIGroup) ([]schema.GroupVersionResource, error) {
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
			if !deletableContent(r) || seen[r.Name] {
				continue
			}
			seen[r.Name] = true
			out = append(out, gv.WithResource(r.Name))
		}
	}
	return out, nil
}

// deletableContent: a namespaced resource (not a subresource) that can be
// listed and deleted.
func deletableContent(r metav1.APIResource) bool {
	return r.Namespaced && !strings.Contains(r.Name, "/") && slices.Contains(r.Verbs, "list") && slices.Contains(r.Verbs, "delete")
}
