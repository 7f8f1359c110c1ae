package core

import (
	"context"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

// nodeStrategy gives Nodes their semantics. A kubelet registers its node
// with status, so create keeps it; afterwards status is written only
// through /status. spec.podCIDR(s) and spec.providerID may be set once,
// by the controller that assigns them, and never changed.
type nodeStrategy struct{ registry.BaseStrategy }

var _ registry.Strategy = nodeStrategy{}

func (nodeStrategy) New() runtime.Object     { return &corev1.Node{} }
func (nodeStrategy) NewList() runtime.Object { return &corev1.NodeList{} }

// Default sets allocatable to capacity when the kubelet reports only
// capacity, and reconciles spec.podCIDR with spec.podCIDRs as upstream's
// version conversion does: podCIDRs is the truth, podCIDR its first
// element, and a lone podCIDR from an old client becomes podCIDRs.
func (nodeStrategy) Default(obj runtime.Object) {
	n := obj.(*corev1.Node)
	if st := &n.Status; st.Allocatable == nil && st.Capacity != nil {
		st.Allocatable = st.Capacity.DeepCopy()
	}
	switch {
	case len(n.Spec.PodCIDRs) > 0:
		n.Spec.PodCIDR = n.Spec.PodCIDRs[0]
	case n.Spec.PodCIDR != "":
		n.Spec.PodCIDRs = []string{n.Spec.PodCIDR}
	}
}

func (nodeStrategy) PrepareForUpdate(_ context.Context, obj, old runtime.Object, sub string) {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	if sub == "status" {
		n.Spec = o.Spec
		return
	}
	n.Status = o.Status
}

func (nodeStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateNode(obj.(*corev1.Node))
}

func (nodeStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	n, o := obj.(*corev1.Node), old.(*corev1.Node)
	errs := validateNode(n)
	sp := field.NewPath("spec")
	if len(o.Spec.PodCIDRs) > 0 && !slices.Equal(n.Spec.PodCIDRs, o.Spec.PodCIDRs) {
		errs = append(errs, field.Forbidden(sp.Child("podCIDRs"), `node updates may not change podCIDR except from "" to valid`))
	}
	// Kubelets report each address once; upstream checks it on update.
	seen := map[corev1.NodeAddress]bool{}
	for i, a := range n.Status.Addresses {
		if seen[a] {
			errs = append(errs, field.Duplicate(field.NewPath("status", "addresses").Index(i), a))
		}
		seen[a] = true
	}
	if o.Spec.ProviderID != "" && n.Spec.ProviderID != o.Spec.ProviderID {
		errs = append(errs, field.Forbidden(sp.Child("providerID"), `node updates may not change providerID except from "" to valid`))
	}
	return errs
}

func (nodeStrategy) SelectableFields(obj runtime.Object) fields.Set {
	return fields.Set{"spec.unschedulable": strconv.FormatBool(obj.(*corev1.Node).Spec.Unschedulable)}
}

func validateNode(n *corev1.Node) field.ErrorList {
	var errs field.ErrorList
	sp := field.NewPath("spec")
	errs = append(errs, validateNodeTaints(n.Spec.Taints, sp.Child("taints"))...)
	cp := sp.Child("podCIDRs")
	for i, c := range n.Spec.PodCIDRs {
		if _, err := netip.ParsePrefix(c); err != nil {
			errs = append(errs, field.Invalid(cp.Index(i), c, "must be valid CIDR"))
		}
	}
	if len(n.Spec.PodCIDRs) > 1 {
		if len(n.Spec.PodCIDRs) > 2 || !isDualStack(n.Spec.PodCIDRs) {
			errs = append(errs, field.Invalid(cp, n.Spec.PodCIDRs, "may specify no more than one CIDR for each IP family"))
		}
		dup := map[string]bool{}
		for i, c := range n.Spec.PodCIDRs {
			if dup[c] {
				errs = append(errs, field.Duplicate(cp.Index(i), c))
			}
			dup[c] = true
		}
	}

	st := field.NewPath("status")
	// Upstream checks only the quantities: kubelets and device plugins
	// report resources of any name (attachable-volumes-*, vendor/gpu).
	for _, name := range sortedResourceNames(n.Status.Capacity) {
		errs = append(errs, validateResourceQuantity(name, n.Status.Capacity[name], st.Child("capacity", string(name)))...)
	}
	for _, name := range sortedResourceNames(n.Status.Allocatable) {
		errs = append(errs, validateResourceQuantity(name, n.Status.Allocatable[name], st.Child("allocatable", string(name)))...)
	}
	return errs
}

// isDualStack: the CIDRs hold at least one of each IP family.
func isDualStack(cidrs []string) bool {
	v4, v6 := false, false
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			v4 = v4 || p.Addr().Is4()
			v6 = v6 || !p.Addr().Is4()
		}
	}
	return v4 && v6
}

var nodeTaintEffects = []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}

// validateNodeTaints: keys are qualified names, values label values, the
// effect one of the three, and no two taints share key and effect.
func validateNodeTaints(taints []corev1.Taint, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.TaintEffect]map[string]bool{}
	for i, t := range taints {
		tp := p.Index(i)
		errs = append(errs, metav1validation.ValidateLabelName(t.Key, tp.Child("key"))...)
		for _, msg := range validation.IsValidLabelValue(t.Value) {
			errs = append(errs, field.Invalid(tp.Child("value"), t.Value, msg))
		}
		switch t.Effect {
		case "":
			errs = append(errs, field.Required(tp.Child("effect"), ""))
		case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			errs = append(errs, field.NotSupported(tp.Child("effect"), t.Effect, nodeTaintEffects))
		}
		if seen[t.Effect][t.Key] {
			d := field.Duplicate(tp, t)
			d.Detail = "taints must be unique by key and effect pair"
			errs = append(errs, d)
			continue
		}
		if seen[t.Effect] == nil {
			seen[t.Effect] = map[string]bool{}
		}
		seen[t.Effect][t.Key] = true
	}
	return errs
}
