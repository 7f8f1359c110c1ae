package admission

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	resourcehelper "k8s.io/component-helpers/resource"
)

// ResourceQuota refuses a write that would take a namespace's usage past
// one of its ResourceQuotas' hard limits, and a pod that does not declare
// the cpu or memory a quota bounds.
//
// Usage is counted from the server's caches at admission time: there is
// no quota controller keeping status.used yet. Two creates admitted at
// the same moment in one namespace can therefore both pass where upstream
// (which serializes through the quota's status) would refuse the second.
type ResourceQuota struct{ Reader Reader }

// computeResources are the ones every pod container must declare when a
// quota bounds them (upstream's backward-compatible rule).
var computeResources = sets.New[corev1.ResourceName](
	corev1.ResourceCPU, corev1.ResourceMemory,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory,
)

func (p ResourceQuota) Validate(ctx context.Context, a *Attributes) error {
	// Quotas bound their own namespace: cluster-scoped writes are not
	// theirs (and listing quotas in "" would find every namespace's).
	if a.Subresource != "" || a.Namespace == "" {
		return nil
	}
	objs, err := p.Reader.List(ctx, quotasGVR, a.Namespace)
	if err != nil || len(objs) == 0 {
		return err
	}
	delta := usage(a.Resource, a.Object, a.Operation == Create)
	if a.OldObject != nil {
		subtract(delta, usage(a.Resource, a.OldObject, false))
	}
	quotas := make([]*corev1.ResourceQuota, len(objs))
	for i, o := range objs {
		quotas[i] = o.(*corev1.ResourceQuota)
	}
	slices.SortFunc(quotas, func(a, b *corev1.ResourceQuota) int { return strings.Compare(a.Name, b.Name) })
	for _, q := range quotas {
		if !quotaMatches(q, a.Resource, a.Object) {
			continue
		}
		if pod, ok := a.Object.(*corev1.Pod); ok && a.Operation == Create {
			if err := requireCompute(q, pod); err != nil {
				return a.Forbiddenf("failed quota: %s: %w", q.Name, err)
			}
		}
		var bounded []corev1.ResourceName
		for name := range q.Spec.Hard {
			if d, ok := delta[name]; ok && d.Sign() > 0 {
				bounded = append(bounded, name)
			}
		}
		if len(bounded) == 0 {
			continue
		}
		slices.Sort(bounded)
		used, err := p.used(ctx, q, a, bounded)
		if err != nil {
			return err
		}
		var over []corev1.ResourceName
		for _, name := range bounded {
			total := used[name].DeepCopy()
			total.Add(delta[name])
			if total.Cmp(q.Spec.Hard[name]) > 0 {
				over = append(over, name)
			}
		}
		if len(over) > 0 {
			return a.Forbiddenf("exceeded quota: %s, requested: %s, used: %s, limited: %s",
				q.Name, pretty(delta, over), pretty(used, over), pretty(q.Spec.Hard, over))
		}
	}
	return nil
}

// used is what the objects now in the namespace use of names, counting
// only those q's scopes match. An update's old object is among them, as
// it is in upstream's status.used: the delta is what the update adds.
func (p ResourceQuota) used(ctx context.Context, q *corev1.ResourceQuota, a *Attributes, names []corev1.ResourceName) (corev1.ResourceList, error) {
	used := corev1.ResourceList{}
	listed := map[schema.GroupResource]bool{}
	for _, name := range names {
		gr, ok := p.countedResource(a.Resource, name)
		if !ok || listed[gr] {
			continue
		}
		listed[gr] = true
		gvr, ok := p.Reader.Served(gr)
		if !ok {
			continue
		}
		objs, err := p.Reader.List(ctx, gvr, a.Namespace)
		if err != nil {
			return nil, fmt.Errorf("counting %s for quota %s: %w", gr, q.Name, err)
		}
		for _, o := range objs {
			if !quotaMatches(q, gr, o) {
				continue
			}
			add(used, usage(gr, o, true))
		}
	}
	for _, name := range names {
		if _, ok := used[name]; !ok {
			used[name] = resource.MustParse("0")
		}
	}
	return used, nil
}

// countedResource is the resource whose objects make up the usage of
// name, for a write of resource gr.
func (ResourceQuota) countedResource(gr schema.GroupResource, name corev1.ResourceName) (schema.GroupResource, bool) {
	if s, ok := strings.CutPrefix(string(name), "count/"); ok {
		res, group, _ := strings.Cut(s, ".")
		return schema.GroupResource{Group: group, Resource: res}, true
	}
	switch name {
	case corev1.ResourcePods:
		return podsResource, true
	case corev1.ResourceServices, corev1.ResourceServicesLoadBalancers, corev1.ResourceServicesNodePorts:
		return schema.GroupResource{Resource: "services"}, true
	case corev1.ResourcePersistentVolumeClaims, corev1.ResourceRequestsStorage:
		return pvcsResource, true
	case corev1.ResourceConfigMaps, corev1.ResourceSecrets, corev1.ResourceReplicationControllers, corev1.ResourceQuotas:
		return schema.GroupResource{Resource: string(name)}, true
	}
	if strings.HasSuffix(string(name), corev1.ResourceRequestsStorage.String()) || strings.HasSuffix(string(name), "/persistentvolumeclaims") {
		return pvcsResource, true
	}
	// Compute resources (cpu, requests.memory, hugepages, extended ones).
	return podsResource, true
}

// usage is what obj of resource gr counts against quotas; created adds
// its count ("pods", "count/pods", ...), which an update does not change.
func usage(gr schema.GroupResource, obj runtime.Object, created bool) corev1.ResourceList {
	u := corev1.ResourceList{}
	one := resource.MustParse("1")
	if created {
		count := "count/" + gr.Resource
		if gr.Group != "" {
			count += "." + gr.Group
		}
		u[corev1.ResourceName(count)] = one
		if terminal(obj) {
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
		if !terminal(o) {
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

// terminal: a pod that has finished.
func terminal(obj runtime.Object) bool {
	pod, ok := obj.(*corev1.Pod)
	return ok && (pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed)
}

// requireCompute: every container of pod must declare the compute
// resources q bounds.
func requireCompute(q *corev1.ResourceQuota, pod *corev1.Pod) error {
	required := sets.New[corev1.ResourceName]()
	for name := range q.Spec.Hard {
		if computeResources.Has(name) {
			required.Insert(name)
		}
	}
	if required.Len() == 0 {
		return nil
	}
	missing := map[corev1.ResourceName]sets.Set[string]{}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			has := sets.New[corev1.ResourceName]()
			for name := range c.Resources.Requests {
				has.Insert(name, corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(name)))
			}
			for name := range c.Resources.Limits {
				has.Insert(corev1.ResourceName("limits." + string(name)))
			}
			for _, name := range sets.List(required.Difference(has)) {
				if missing[name] == nil {
					missing[name] = sets.New[string]()
				}
				missing[name].Insert(c.Name)
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var parts []string
	for name, cs := range missing {
		parts = append(parts, fmt.Sprintf("%s for: %s", name, strings.Join(sets.List(cs), ",")))
	}
	sort.Strings(parts)
	return fmt.Errorf("must specify %s", strings.Join(parts, "; "))
}

// quotaMatches: a quota with scopes counts only pods, and only those its
// scopes (and scope selector) select.
func quotaMatches(q *corev1.ResourceQuota, gr schema.GroupResource, obj runtime.Object) bool {
	scoped := len(q.Spec.Scopes) > 0 || q.Spec.ScopeSelector != nil && len(q.Spec.ScopeSelector.MatchExpressions) > 0
	if !scoped {
		return true
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok || gr != podsResource {
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

func add(dst, src corev1.ResourceList) {
	for k, v := range src {
		q := dst[k].DeepCopy()
		q.Add(v)
		dst[k] = q
	}
}

func subtract(dst, src corev1.ResourceList) {
	for k, v := range src {
		q := dst[k].DeepCopy()
		q.Sub(v)
		dst[k] = q
	}
}

// pretty prints names of l as upstream's quota errors do: "a=1,b=2".
func pretty(l corev1.ResourceList, names []corev1.ResourceName) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		q := l[n]
		parts = append(parts, fmt.Sprintf("%s=%s", n, q.String()))
	}
	return strings.Join(parts, ",")
}
