// Package client gives skiff's controllers typed access to the API: small
// REST clients, one per group-version they use, built on client-go's rest
// and gentype packages, and list-watches for client-go informers.
//
// It exists instead of k8s.io/client-go/kubernetes because that clientset
// (and the informers and listers generated with it) links the clients of
// every API group Kubernetes has: tens of MiB of code and data resident in
// every skiff process. Only the group-versions registered in Scheme are
// decoded; add one here when a controller needs it.
package client

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/gentype"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// Scheme knows the kinds the controllers handle.
var Scheme = runtime.NewScheme()

// Codecs and ParameterCodec encode bodies and query parameters with Scheme.
var (
	Codecs         serializer.CodecFactory
	ParameterCodec runtime.ParameterCodec
)

func init() {
	if err := corev1.AddToScheme(Scheme); err != nil {
		panic(fmt.Sprintf("client: registering core/v1: %v", err))
	}
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	Codecs = serializer.NewCodecFactory(Scheme)
	ParameterCodec = runtime.NewParameterCodec(Scheme)
}

// Core is a client of the core/v1 API.
type Core struct{ rest rest.Interface }

// NewCore returns a core/v1 client over cfg.
func NewCore(cfg *rest.Config) (*Core, error) {
	rc, err := restFor(cfg, "/api", corev1.SchemeGroupVersion)
	if err != nil {
		return nil, err
	}
	return &Core{rest: rc}, nil
}

func restFor(cfg *rest.Config, apiPath string, gv schema.GroupVersion) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = apiPath
	c.GroupVersion = &gv
	c.NegotiatedSerializer = Codecs.WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(c)
}

// REST is the underlying REST client, for requests the typed clients do
// not cover.
func (c *Core) REST() rest.Interface { return c.rest }

func (c *Core) Namespaces() *gentype.ClientWithList[*corev1.Namespace, *corev1.NamespaceList] {
	return gentype.NewClientWithList[*corev1.Namespace, *corev1.NamespaceList]("namespaces", c.rest, ParameterCodec, "",
		func() *corev1.Namespace { return &corev1.Namespace{} }, func() *corev1.NamespaceList { return &corev1.NamespaceList{} })
}

func (c *Core) ServiceAccounts(ns string) *gentype.ClientWithList[*corev1.ServiceAccount, *corev1.ServiceAccountList] {
	return gentype.NewClientWithList[*corev1.ServiceAccount, *corev1.ServiceAccountList]("serviceaccounts", c.rest, ParameterCodec, ns,
		func() *corev1.ServiceAccount { return &corev1.ServiceAccount{} }, func() *corev1.ServiceAccountList { return &corev1.ServiceAccountList{} })
}

func (c *Core) ConfigMaps(ns string) *gentype.ClientWithList[*corev1.ConfigMap, *corev1.ConfigMapList] {
	return gentype.NewClientWithList[*corev1.ConfigMap, *corev1.ConfigMapList]("configmaps", c.rest, ParameterCodec, ns,
		func() *corev1.ConfigMap { return &corev1.ConfigMap{} }, func() *corev1.ConfigMapList { return &corev1.ConfigMapList{} })
}

// ListerWatcher is what an informer needs of a typed client.
type ListerWatcher[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// ListWatch adapts a typed client for a client-go informer; tweak, when
// not nil, narrows every list and watch (e.g. by a field selector).
func ListWatch[L runtime.Object](c ListerWatcher[L], tweak func(*metav1.ListOptions)) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			if tweak != nil {
				tweak(&opts)
			}
			return c.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			if tweak != nil {
				tweak(&opts)
			}
			return c.Watch(ctx, opts)
		},
	}
}
