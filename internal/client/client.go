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

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
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
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, coordinationv1.AddToScheme, policyv1.AddToScheme,
		schedulingv1.AddToScheme, storagev1.AddToScheme, discoveryv1.AddToScheme, batchv1.AddToScheme,
		autoscalingv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(Scheme); err != nil {
			panic(fmt.Sprintf("client: registering scheme: %v", err))
		}
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

func (c *Core) Pods(ns string) *gentype.ClientWithList[*corev1.Pod, *corev1.PodList] {
	return gentype.NewClientWithList[*corev1.Pod, *corev1.PodList]("pods", c.rest, ParameterCodec, ns,
		func() *corev1.Pod { return &corev1.Pod{} }, func() *corev1.PodList { return &corev1.PodList{} })
}

func (c *Core) Nodes() *gentype.ClientWithList[*corev1.Node, *corev1.NodeList] {
	return gentype.NewClientWithList[*corev1.Node, *corev1.NodeList]("nodes", c.rest, ParameterCodec, "",
		func() *corev1.Node { return &corev1.Node{} }, func() *corev1.NodeList { return &corev1.NodeList{} })
}

func (c *Core) Events(ns string) *gentype.ClientWithList[*corev1.Event, *corev1.EventList] {
	return gentype.NewClientWithList[*corev1.Event, *corev1.EventList]("events", c.rest, ParameterCodec, ns,
		func() *corev1.Event { return &corev1.Event{} }, func() *corev1.EventList { return &corev1.EventList{} })
}

func (c *Core) Services(ns string) *gentype.ClientWithList[*corev1.Service, *corev1.ServiceList] {
	return gentype.NewClientWithList[*corev1.Service, *corev1.ServiceList]("services", c.rest, ParameterCodec, ns,
		func() *corev1.Service { return &corev1.Service{} }, func() *corev1.ServiceList { return &corev1.ServiceList{} })
}

func (c *Core) PersistentVolumes() *gentype.ClientWithList[*corev1.PersistentVolume, *corev1.PersistentVolumeList] {
	return gentype.NewClientWithList[*corev1.PersistentVolume, *corev1.PersistentVolumeList]("persistentvolumes", c.rest, ParameterCodec, "",
		func() *corev1.PersistentVolume { return &corev1.PersistentVolume{} }, func() *corev1.PersistentVolumeList { return &corev1.PersistentVolumeList{} })
}

func (c *Core) PersistentVolumeClaims(ns string) *gentype.ClientWithList[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList] {
	return gentype.NewClientWithList[*corev1.PersistentVolumeClaim, *corev1.PersistentVolumeClaimList]("persistentvolumeclaims", c.rest, ParameterCodec, ns,
		func() *corev1.PersistentVolumeClaim { return &corev1.PersistentVolumeClaim{} }, func() *corev1.PersistentVolumeClaimList { return &corev1.PersistentVolumeClaimList{} })
}

// Bind binds a pod to a node through its binding subresource, as the
// scheduler does.
func (c *Core) Bind(ctx context.Context, b *corev1.Binding, opts metav1.CreateOptions) error {
	return c.rest.Post().Namespace(b.Namespace).Resource("pods").Name(b.Name).SubResource("binding").
		VersionedParams(&opts, ParameterCodec).Body(b).Do(ctx).Error()
}

// UpdatePodStatus writes a pod's status subresource, as the node agent and
// the scheduler (PodScheduled condition) do.
func (c *Core) UpdatePodStatus(ctx context.Context, pod *corev1.Pod, opts metav1.UpdateOptions) (*corev1.Pod, error) {
	return c.Pods(pod.Namespace).UpdateStatus(ctx, pod, opts)
}

// Group is a client of one API group-version outside core/v1: its typed
// accessors are below, by group.
type Group struct{ rest rest.Interface }

// NewGroup returns a client of gv (registered in Scheme) over cfg.
func NewGroup(cfg *rest.Config, gv schema.GroupVersion) (*Group, error) {
	rc, err := restFor(cfg, "/apis", gv)
	if err != nil {
		return nil, err
	}
	return &Group{rest: rc}, nil
}

// REST is the underlying REST client.
func (g *Group) REST() rest.Interface { return g.rest }

// Leases is coordination.k8s.io/v1 Leases; g must be of that group-version.
func (g *Group) Leases(ns string) *gentype.ClientWithList[*coordinationv1.Lease, *coordinationv1.LeaseList] {
	return gentype.NewClientWithList[*coordinationv1.Lease, *coordinationv1.LeaseList]("leases", g.rest, ParameterCodec, ns,
		func() *coordinationv1.Lease { return &coordinationv1.Lease{} }, func() *coordinationv1.LeaseList { return &coordinationv1.LeaseList{} })
}

// PodDisruptionBudgets is policy/v1 PodDisruptionBudgets.
func (g *Group) PodDisruptionBudgets(ns string) *gentype.ClientWithList[*policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudgetList] {
	return gentype.NewClientWithList[*policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudgetList]("poddisruptionbudgets", g.rest, ParameterCodec, ns,
		func() *policyv1.PodDisruptionBudget { return &policyv1.PodDisruptionBudget{} }, func() *policyv1.PodDisruptionBudgetList { return &policyv1.PodDisruptionBudgetList{} })
}

// PriorityClasses is scheduling.k8s.io/v1 PriorityClasses.
func (g *Group) PriorityClasses() *gentype.ClientWithList[*schedulingv1.PriorityClass, *schedulingv1.PriorityClassList] {
	return gentype.NewClientWithList[*schedulingv1.PriorityClass, *schedulingv1.PriorityClassList]("priorityclasses", g.rest, ParameterCodec, "",
		func() *schedulingv1.PriorityClass { return &schedulingv1.PriorityClass{} }, func() *schedulingv1.PriorityClassList { return &schedulingv1.PriorityClassList{} })
}

// StorageClasses is storage.k8s.io/v1 StorageClasses.
func (g *Group) StorageClasses() *gentype.ClientWithList[*storagev1.StorageClass, *storagev1.StorageClassList] {
	return gentype.NewClientWithList[*storagev1.StorageClass, *storagev1.StorageClassList]("storageclasses", g.rest, ParameterCodec, "",
		func() *storagev1.StorageClass { return &storagev1.StorageClass{} }, func() *storagev1.StorageClassList { return &storagev1.StorageClassList{} })
}

// Deployments is apps/v1 Deployments.
func (g *Group) Deployments(ns string) *gentype.ClientWithList[*appsv1.Deployment, *appsv1.DeploymentList] {
	return gentype.NewClientWithList[*appsv1.Deployment, *appsv1.DeploymentList]("deployments", g.rest, ParameterCodec, ns,
		func() *appsv1.Deployment { return &appsv1.Deployment{} }, func() *appsv1.DeploymentList { return &appsv1.DeploymentList{} })
}

// ReplicaSets is apps/v1 ReplicaSets.
func (g *Group) ReplicaSets(ns string) *gentype.ClientWithList[*appsv1.ReplicaSet, *appsv1.ReplicaSetList] {
	return gentype.NewClientWithList[*appsv1.ReplicaSet, *appsv1.ReplicaSetList]("replicasets", g.rest, ParameterCodec, ns,
		func() *appsv1.ReplicaSet { return &appsv1.ReplicaSet{} }, func() *appsv1.ReplicaSetList { return &appsv1.ReplicaSetList{} })
}

// ControllerRevisions is apps/v1 ControllerRevisions.
func (g *Group) ControllerRevisions(ns string) *gentype.ClientWithList[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList] {
	return gentype.NewClientWithList[*appsv1.ControllerRevision, *appsv1.ControllerRevisionList]("controllerrevisions", g.rest, ParameterCodec, ns,
		func() *appsv1.ControllerRevision { return &appsv1.ControllerRevision{} }, func() *appsv1.ControllerRevisionList { return &appsv1.ControllerRevisionList{} })
}

// DaemonSets is apps/v1 DaemonSets.
func (g *Group) DaemonSets(ns string) *gentype.ClientWithList[*appsv1.DaemonSet, *appsv1.DaemonSetList] {
	return gentype.NewClientWithList[*appsv1.DaemonSet, *appsv1.DaemonSetList]("daemonsets", g.rest, ParameterCodec, ns,
		func() *appsv1.DaemonSet { return &appsv1.DaemonSet{} }, func() *appsv1.DaemonSetList { return &appsv1.DaemonSetList{} })
}

// StatefulSets is apps/v1 StatefulSets.
func (g *Group) StatefulSets(ns string) *gentype.ClientWithList[*appsv1.StatefulSet, *appsv1.StatefulSetList] {
	return gentype.NewClientWithList[*appsv1.StatefulSet, *appsv1.StatefulSetList]("statefulsets", g.rest, ParameterCodec, ns,
		func() *appsv1.StatefulSet { return &appsv1.StatefulSet{} }, func() *appsv1.StatefulSetList { return &appsv1.StatefulSetList{} })
}

// ReplicationControllers is core/v1 ReplicationControllers.
func (c *Core) ReplicationControllers(ns string) *gentype.ClientWithList[*corev1.ReplicationController, *corev1.ReplicationControllerList] {
	return gentype.NewClientWithList[*corev1.ReplicationController, *corev1.ReplicationControllerList]("replicationcontrollers", c.rest, ParameterCodec, ns,
		func() *corev1.ReplicationController { return &corev1.ReplicationController{} }, func() *corev1.ReplicationControllerList { return &corev1.ReplicationControllerList{} })
}

// Endpoints is core/v1 Endpoints.
func (c *Core) Endpoints(ns string) *gentype.ClientWithList[*corev1.Endpoints, *corev1.EndpointsList] {
	return gentype.NewClientWithList[*corev1.Endpoints, *corev1.EndpointsList]("endpoints", c.rest, ParameterCodec, ns,
		func() *corev1.Endpoints { return &corev1.Endpoints{} }, func() *corev1.EndpointsList { return &corev1.EndpointsList{} })
}

// EndpointSlices is discovery.k8s.io/v1 EndpointSlices.
func (g *Group) EndpointSlices(ns string) *gentype.ClientWithList[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList] {
	return gentype.NewClientWithList[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList]("endpointslices", g.rest, ParameterCodec, ns,
		func() *discoveryv1.EndpointSlice { return &discoveryv1.EndpointSlice{} }, func() *discoveryv1.EndpointSliceList { return &discoveryv1.EndpointSliceList{} })
}

// Jobs is batch/v1 Jobs.
func (g *Group) Jobs(ns string) *gentype.ClientWithList[*batchv1.Job, *batchv1.JobList] {
	return gentype.NewClientWithList[*batchv1.Job, *batchv1.JobList]("jobs", g.rest, ParameterCodec, ns,
		func() *batchv1.Job { return &batchv1.Job{} }, func() *batchv1.JobList { return &batchv1.JobList{} })
}

// CronJobs is batch/v1 CronJobs.
func (g *Group) CronJobs(ns string) *gentype.ClientWithList[*batchv1.CronJob, *batchv1.CronJobList] {
	return gentype.NewClientWithList[*batchv1.CronJob, *batchv1.CronJobList]("cronjobs", g.rest, ParameterCodec, ns,
		func() *batchv1.CronJob { return &batchv1.CronJob{} }, func() *batchv1.CronJobList { return &batchv1.CronJobList{} })
}

// ResourceQuotas is core/v1 ResourceQuotas.
func (c *Core) ResourceQuotas(ns string) *gentype.ClientWithList[*corev1.ResourceQuota, *corev1.ResourceQuotaList] {
	return gentype.NewClientWithList[*corev1.ResourceQuota, *corev1.ResourceQuotaList]("resourcequotas", c.rest, ParameterCodec, ns,
		func() *corev1.ResourceQuota { return &corev1.ResourceQuota{} }, func() *corev1.ResourceQuotaList { return &corev1.ResourceQuotaList{} })
}

// HorizontalPodAutoscalers is autoscaling/v2 HorizontalPodAutoscalers.
func (g *Group) HorizontalPodAutoscalers(ns string) *gentype.ClientWithList[*autoscalingv2.HorizontalPodAutoscaler, *autoscalingv2.HorizontalPodAutoscalerList] {
	return gentype.NewClientWithList[*autoscalingv2.HorizontalPodAutoscaler, *autoscalingv2.HorizontalPodAutoscalerList]("horizontalpodautoscalers", g.rest, ParameterCodec, ns,
		func() *autoscalingv2.HorizontalPodAutoscaler { return &autoscalingv2.HorizontalPodAutoscaler{} }, func() *autoscalingv2.HorizontalPodAutoscalerList { return &autoscalingv2.HorizontalPodAutoscalerList{} })
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
