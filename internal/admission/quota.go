package admission

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"

	rquota "skiff.dev/skiff/internal/quota"
)

// ResourceQuota refuses a write that would take a namespace's usage past
// one of its ResourceQuotas' hard limits, and a pod that does not declare
// the cpu or memory a quota bounds.
//
// Usage is counted from the server's caches at admission time, by the
// same code (package quota) the resourcequota controller writes
// status.used with. Two creates admitted at the same moment in one
// namespace can therefore both pass where upstream (which serializes
// through the quota's status) would refuse the second.
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
	now := time.Now()
	delta := rquota.Usage(a.Resource, a.Object, a.Operation == Create, now)
	if a.OldObject != nil {
		rquota.Subtract(delta, rquota.Usage(a.Resource, a.OldObject, false, now))
	}
	quotas := make([]*corev1.ResourceQuota, len(objs))
	for i, o := range objs {
		quotas[i] = o.(*corev1.ResourceQuota)
	}
	slices.SortFunc(quotas, func(a, b *corev1.ResourceQuota) int { return strings.Compare(a.Name, b.Name) })
	for _, q := range quotas {
		if !rquota.Matches(q, a.Resource, a.Object) {
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
		// An update's old object is among those counted, as it is in
		// status.used: the delta is what the update adds.
		used, err := rquota.Used(ctx, p.Reader, q, a.Namespace, bounded, now)
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

// pretty prints names of l as upstream's quota errors do: "a=1,b=2".
func pretty(l corev1.ResourceList, names []corev1.ResourceName) string {
	parts := make([]string, 0, len(names))
	for _, n := range names {
		q := l[n]
		parts = append(parts, fmt.Sprintf("%s=%s", n, q.String()))
	}
	return strings.Join(parts, ",")
}
