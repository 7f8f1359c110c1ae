package quota

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Reader gives the objects usage is counted from. Returned objects are
// shared: callers must not modify them.
type Reader interface {
	// List returns the objects of gvr in namespace ns.
	List(ctx context.Context, gvr schema.GroupVersionResource, ns string) ([]runtime.Object, error)
	// Served reports whether group-resource gr is served, and the GVR
	// to list it by.
	Served(gr schema.GroupResource) (schema.GroupVersionResource, bool)
}

var (
	// Pods, PVCs and Services are the resources whose objects have usage
	// beyond their count.
	Pods     = schema.GroupResource{Resource: "pods"}
	PVCs     = schema.GroupResource{Resource: "persistentvolumeclaims"}
	Services = schema.GroupResource{Resource: "services"}
)

// CountedResource is the resource whose objects make up the usage of
// resource name name: "pods" and compute resources are pods',
// "count/widgets.example.com" is widgets.example.com's.
func CountedResource(name corev1.ResourceName) schema.GroupResource {
	if s, ok := strings.CutPrefix(string(name), "count/"); ok {
		res, group, _ := strings.Cut(s, ".")
		return schema.GroupResource{Group: group, Resource: res}
	}
	switch name {
	case corev1.ResourcePods:
		return Pods
	case corev1.ResourceServices, corev1.ResourceServicesLoadBalancers, corev1.ResourceServicesNodePorts:
		return Services
	case corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage:
		return PVCs
	case corev1.ResourceConfigMaps, corev1.ResourceSecrets, corev1.ResourceReplicationControllers, corev1.ResourceQuotas:
		return schema.GroupResource{Resource: string(name)}
	}
	if strings.HasSuffix(string(name), corev1.ResourceRequestsStorage.String()) || strings.HasSuffix(string(name), "/persistentvolumeclaims") {
		return PVCs
	}
	// Compute resources (cpu, requests.memory, hugepages, extended ones).
	return Pods
}

// Resources are the resources whose objects make up the usage of names,
// each once, in names' order.
func Resources(names []corev1.ResourceName) []schema.GroupResource {
	var out []schema.GroupResource
	for _, n := range names {
		if gr := CountedResource(n); !slices.Contains(out, gr) {
			out = append(out, gr)
		}
	}
	return out
}

// Used is what the objects now in namespace ns use of names, counting
// only those q's scopes select, at time now. Every name has an entry,
// zero when nothing uses it or its resource is not served.
func Used(ctx context.Context, r Reader, q *corev1.ResourceQuota, ns string, names []corev1.ResourceName, now time.Time) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	for _, gr := range Resources(names) {
		gvr, ok := r.Served(gr)
		if !ok {
			continue
		}
		objs, err := r.List(ctx, gvr, ns)
		if err != nil {
			return nil, fmt.Errorf("counting %s for quota %s: %w", gr, q.Name, err)
		}
		for _, o := range objs {
			if Matches(q, gr, o) {
				Add(used, Usage(gr, o, true, now))
			}
		}
	}
	out := make(corev1.ResourceList, len(names))
	for _, name := range names {
		if u, ok := used[name]; ok {
			out[name] = u
		} else {
			out[name] = *resource.NewQuantity(0, resource.DecimalSI)
		}
	}
	return out, nil
}

// Usage is what obj of resource gr counts against quotas at time now;
// created adds its count ("pods", "count/pods", ...), which an update
// does not change.
func Usage(gr schema.GroupResource, obj runtime.Object, created bool, now time.Time) corev1.ResourceList {
	u := corev1.ResourceList{}
	one := resource.MustParse("1")
	if created {
		count := "count/" + gr.Resource
		if gr.Group != "" {
			count += "." + gr.Group
		}
		u[corev1.ResourceName(count)] = one
		if pod, ok := obj.(*corev1.Pod); ok && !Charged(pod, now) {
			// Still stored, so still an object to count; but a pod
			// that has finished uses no pod slot and no compute.
			return u
		}
		if gr.Group == "" {
			switch gr.Resource {
			case "pods", "services", "configmaps", "secrets", "replicationcontrollers", "resourcequotas", "persistentvolumeclaims":
				u[corev1.ResourceName(gr.Resource)] = one
			}
		}
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		if Charged(o, now) {
			podUsage(u, o)
		}
	case *corev1.Service:
		// Not only on create: a service turned into a load balancer
		// counts as one more.
		if o.Spec.Type == corev1.ServiceTypeLoadBalancer {
			u[corev1.ResourceServicesLoadBalancers] = one
		}
		if o.Spec.Type == corev1.ServiceTypeNodePort || o.Spec.Type == corev1.ServiceTypeLoadBalancer {
			ports := len(o.Spec.Ports)
			if o.Spec.Type == corev1.ServiceTypeLoadBalancer && o.Spec.AllocateLoadBalancerNodePorts != nil && !*o.Spec.AllocateLoadBalancerNodePorts {
				// Only the node ports asked for explicitly are taken.
				ports = 0
				for _, p := range o.Spec.Ports {
					if p.NodePort != 0 {
						ports++
					}
				}
			}
			u[corev1.ResourceServicesNodePorts] = *resource.NewQuantity(int64(ports), resource.DecimalSI)
		}
	case *corev1.PersistentVolumeClaim:
		storage, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]
		class := ""
		if o.Spec.StorageClassName != nil {
			class = *o.Spec.StorageClassName
		}
		if ok {
			u[corev1.ResourceRequestsStorage] = storage.DeepCopy()
			if class != "" {
				u[corev1.ResourceName(class+".storageclass.storage.k8s.io/requests.storage")] = storage.DeepCopy()
			}
		}
		if created && class != "" {
			u[corev1.ResourceName(class+".storageclass.storage.k8s.io/persistentvolumeclaims")] = one
		}
	}
	return u
}

// podUsage adds a pod's compute requests and limits (overhead included)
// under every name a quota may bound them by.
func podUsage(u corev1.ResourceList, pod *corev1.Pod) {
	for name, q := range resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{}) {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			u[name] = q.DeepCopy()
		}
		u[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name))] = q.DeepCopy()
	}
	for name, q := range resourcehelper.PodLimits(pod, resourcehelper.PodResourcesOptions{}) {
		switch name {
		case corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage:
			u[corev1.ResourceName("limits."+string(name))] = q.DeepCopy()
		}
	}
}

// Charged: pod uses a pod slot and its compute at time now. A finished
// pod does not, nor, as upstream, one still there past the end of its
// deletion grace period: the pods of a lost node must not keep their
// replacements out.
func Charged(pod *corev1.Pod, now time.Time) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	end, ok := GraceEnd(pod)
	return !ok || !now.After(end)
}

// GraceEnd is when a pod being deleted stops being charged.
func GraceEnd(pod *corev1.Pod) (time.Time, bool) {
	if pod.DeletionTimestamp == nil || pod.DeletionGracePeriodSeconds == nil {
		return time.Time{}, false
	}
	return pod.DeletionTimestamp.Add(time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second), true
}

// Scoped: q has scopes or a scope selector, so it counts only pods.
func Scoped(q *corev1.ResourceQuota) bool {
	return len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil && len(q.Spec.ScopeSelector.MatchExpressions) > 0
}

// Matches: obj of resource gr counts against q. A quota with scopes
// counts only pods, and only those its scopes (and scope selector)
// select.
func Matches(q *corev1.ResourceQuota, gr schema.GroupResource, obj runtime.Object) bool {
	if !Scoped(q) {
		return true
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || gr != Pods {
		return false
	}
	for _, s := range q.Spec.Scopes {
		if !podInScope(pod, corev1.ScopedResourceSelectorRequirement{ScopeName: s, Operator: corev1.ScopeSelectorOpExists}) {
			return false
		}
	}
	if q.Spec.ScopeSelector != nil {
		for _, req := range q.Spec.ScopeSelector.MatchExpressions {
			if !podInScope(pod, req) {
				return false
			}
		}
	}
	return true
}

func podInScope(pod *corev1.Pod, req corev1.ScopedResourceSelectorRequirement) bool {
	switch req.ScopeName {
	case corev1.ResourceQuotaScopeTerminating:
		return pod.Spec.ActiveDeadlineSeconds != nil && *pod.Spec.ActiveDeadlineSeconds >= 0
	case corev1.ResourceQuotaScopeNotTerminating:
		return pod.Spec.ActiveDeadlineSeconds == nil || *pod.Spec.ActiveDeadlineSeconds < 0
	case corev1.ResourceQuotaScopeBestEffort:
		return bestEffort(pod)
	case corev1.ResourceQuotaScopeNotBestEffort:
		return !bestEffort(pod)
	case corev1.ResourceQuotaScopePriorityClass:
		switch req.Operator {
		case corev1.ScopeSelectorOpExists:
			return pod.Spec.PriorityClassName != ""
		case corev1.ScopeSelectorOpDoesNotExist:
			return pod.Spec.PriorityClassName == ""
		case corev1.ScopeSelectorOpIn:
			return slices.Contains(req.Values, pod.Spec.PriorityClassName)
		case corev1.ScopeSelectorOpNotIn:
			return !slices.Contains(req.Values, pod.Spec.PriorityClassName)
		}
	case corev1.ResourceQuotaScopeCrossNamespacePodAffinity:
		return crossNamespaceAffinity(pod)
	}
	return false
}

// bestEffort: no container requests or limits a positive amount of cpu
// or memory (a zero request does not count, as in upstream's QoS class).
func bestEffort(pod *corev1.Pod) bool {
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			for _, l := range []corev1.ResourceList{c.Resources.Requests, c.Resources.Limits} {
				for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
					if q, ok := l[name]; ok && q.Sign() > 0 {
						return false
					}
				}
			}
		}
	}
	return true
}

func crossNamespaceAffinity(pod *corev1.Pod) bool {
	aff := pod.Spec.Affinity
	if aff == nil {
		return false
	}
	var terms []corev1.PodAffinityTerm
	if aff.PodAffinity != nil {
		terms = append(terms, aff.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range aff.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	if aff.PodAntiAffinity != nil {
		terms = append(terms, aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution...)
		for _, w := range aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, w.PodAffinityTerm)
		}
	}
	for _, t := range terms {
		if len(t.Namespaces) > 0 || t.NamespaceSelector != nil {
			return true
		}
	}
	return false
}

// Add adds src into dst.
func Add(dst, src corev1.ResourceList) {
	for k, v := range src {
		q := dst[k].DeepCopy()
		q.Add(v)
		dst[k] = q
	}
}

// Subtract subtracts src from dst.
func Subtract(dst, src corev1.ResourceList) {
	for k, v := range src {
		q := dst[k].DeepCopy()
		q.Sub(v)
		dst[k] = q
	}
}

// Equal: a and b hold the same names with equal amounts.
func Equal(a, b corev1.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || v.Cmp(w) != 0 {
			return false
		}
	}
	return true
}
