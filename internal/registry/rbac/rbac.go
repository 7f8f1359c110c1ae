// Package rbac holds the strategies of rbac.authorization.k8s.io/v1: Role,
// ClusterRole, RoleBinding and ClusterRoleBinding. It checks the shape of
// rules and bindings; whether the writer may grant what a role holds
// (escalation prevention) is the authorizer's business, not this package's.
package rbac

import (
	"context"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"skiff.dev/skiff/internal/registry"
)

func gvr(resource string) schema.GroupVersionResource {
	return rbacv1.SchemeGroupVersion.WithResource(resource)
}

// Resources are the rbac.authorization.k8s.io/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: gvr("roles"), Kind: "Role", ListKind: "RoleList", SingularName: "role",
			Namespaced: true, Strategy: roleStrategy{}},
		{GVR: gvr("clusterroles"), Kind: "ClusterRole", ListKind: "ClusterRoleList", SingularName: "clusterrole",
			Strategy: clusterRoleStrategy{}},
		{GVR: gvr("rolebindings"), Kind: "RoleBinding", ListKind: "RoleBindingList", SingularName: "rolebinding",
			Namespaced: true, Strategy: roleBindingStrategy{}},
		{GVR: gvr("clusterrolebindings"), Kind: "ClusterRoleBinding", ListKind: "ClusterRoleBindingList", SingularName: "clusterrolebinding",
			Strategy: clusterRoleBindingStrategy{}},
	}
}

// rbacStrategy gives the RBAC kinds their names: any path segment, so
// "system:controller:foo" is a valid role name.
type rbacStrategy struct{ registry.BaseStrategy }

func (rbacStrategy) ValidateName(name string, prefix bool) []string {
	return path.ValidatePathSegmentName(name, prefix)
}

// ---- Role ----

type roleStrategy struct{ rbacStrategy }

func (roleStrategy) New() runtime.Object     { return &rbacv1.Role{} }
func (roleStrategy) NewList() runtime.Object { return &rbacv1.RoleList{} }

func (roleStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateRules(obj.(*rbacv1.Role).Rules, true)
}

func (s roleStrategy) ValidateUpdate(ctx context.Context, obj, _ runtime.Object) field.ErrorList {
	return s.Validate(ctx, obj)
}

// ---- ClusterRole ----

type clusterRoleStrategy struct{ rbacStrategy }

func (clusterRoleStrategy) New() runtime.Object     { return &rbacv1.ClusterRole{} }
func (clusterRoleStrategy) NewList() runtime.Object { return &rbacv1.ClusterRoleList{} }

func (clusterRoleStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	return validateClusterRole(obj.(*rbacv1.ClusterRole), false)
}

// ValidateUpdate tolerates selector label values that were valid when the
// role was stored, as upstream does, so old objects stay updatable.
func (clusterRoleStrategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	allowInvalid := false
	if ar := old.(*rbacv1.ClusterRole).AggregationRule; ar != nil {
		for i := range ar.ClusterRoleSelectors {
			if metav1validation.LabelSelectorHasInvalidLabelValue(&ar.ClusterRoleSelectors[i]) {
				allowInvalid = true
			}
		}
	}
	return validateClusterRole(obj.(*rbacv1.ClusterRole), allowInvalid)
}

func validateClusterRole(r *rbacv1.ClusterRole, allowInvalidLabelValue bool) field.ErrorList {
	errs := validateRules(r.Rules, false)
	if r.AggregationRule != nil {
		p := field.NewPath("aggregationRule", "clusterRoleSelectors")
		if len(r.AggregationRule.ClusterRoleSelectors) == 0 {
			errs = append(errs, field.Required(p, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
		}
		opts := metav1validation.LabelSelectorValidationOptions{AllowInvalidLabelValueInSelector: allowInvalidLabelValue}
		for i := range r.AggregationRule.ClusterRoleSelectors {
			errs = append(errs, metav1validation.ValidateLabelSelector(&r.AggregationRule.ClusterRoleSelectors[i], opts, p.Index(i))...)
		}
	}
	return errs
}

// validateRules checks that each rule names verbs and either resources
// (with their API groups) or, in cluster roles only, non-resource URLs.
func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	for i, r := range rules {
		p := field.NewPath("rules").Index(i)
		if len(r.Verbs) == 0 {
			errs = append(errs, field.Required(p.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(r.NonResourceURLs) > 0 {
			if namespaced {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
			}
			if len(r.APIGroups) > 0 || len(r.Resources) > 0 || len(r.ResourceNames) > 0 {
				errs = append(errs, field.Invalid(p.Child("nonResourceURLs"), r.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(r.APIGroups) == 0 {
			errs = append(errs, field.Required(p.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(r.Resources) == 0 {
			errs = append(errs, field.Required(p.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

// ---- RoleBinding and ClusterRoleBinding ----

type roleBindingStrategy struct{ rbacStrategy }

func (roleBindingStrategy) New() runtime.Object     { return &rbacv1.RoleBinding{} }
func (roleBindingStrategy) NewList() runtime.Object { return &rbacv1.RoleBindingList{} }

func (roleBindingStrategy) Default(obj runtime.Object) {
	b := obj.(*rbacv1.RoleBinding)
	defaultBinding(&b.RoleRef, b.Subjects)
}

func (roleBindingStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	b := obj.(*rbacv1.RoleBinding)
	return validateBinding(b.RoleRef, b.Subjects, true)
}

func (s roleBindingStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := s.Validate(ctx, obj)
	return append(errs, validateRoleRefUpdate(obj.(*rbacv1.RoleBinding).RoleRef, old.(*rbacv1.RoleBinding).RoleRef)...)
}

type clusterRoleBindingStrategy struct{ rbacStrategy }

func (clusterRoleBindingStrategy) New() runtime.Object     { return &rbacv1.ClusterRoleBinding{} }
func (clusterRoleBindingStrategy) NewList() runtime.Object { return &rbacv1.ClusterRoleBindingList{} }

func (clusterRoleBindingStrategy) Default(obj runtime.Object) {
	b := obj.(*rbacv1.ClusterRoleBinding)
	defaultBinding(&b.RoleRef, b.Subjects)
}

func (clusterRoleBindingStrategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	b := obj.(*rbacv1.ClusterRoleBinding)
	return validateBinding(b.RoleRef, b.Subjects, false)
}

func (s clusterRoleBindingStrategy) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	errs := s.Validate(ctx, obj)
	return append(errs, validateRoleRefUpdate(obj.(*rbacv1.ClusterRoleBinding).RoleRef, old.(*rbacv1.ClusterRoleBinding).RoleRef)...)
}

// defaultBinding fills in the API groups clients usually leave out: the
// RBAC group for the role and for User and Group subjects, the core group
// for ServiceAccounts.
func defaultBinding(ref *rbacv1.RoleRef, subjects []rbacv1.Subject) {
	if ref.APIGroup == "" {
		ref.APIGroup = rbacv1.GroupName
	}
	for i := range subjects {
		s := &subjects[i]
		if s.APIGroup != "" {
			continue
		}
		switch s.Kind {
		case rbacv1.UserKind, rbacv1.GroupKind:
			s.APIGroup = rbacv1.GroupName
		}
	}
}

// validateBinding checks the role a binding refers to and its subjects.
// Only a RoleBinding (namespaced) may refer to a Role; a ServiceAccount
// subject of a ClusterRoleBinding must say its namespace.
func validateBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	var errs field.ErrorList
	p := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(p.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		errs = append(errs, field.NotSupported(p.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		for _, msg := range path.ValidatePathSegmentName(ref.Name, false) {
			errs = append(errs, field.Invalid(p.Child("name"), ref.Name, msg))
		}
	}
	for i, s := range subjects {
		errs = append(errs, validateSubject(s, namespaced, field.NewPath("subjects").Index(i))...)
	}
	return errs
}

func validateSubject(s rbacv1.Subject, namespaced bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	}
	switch s.Kind {
	case rbacv1.ServiceAccountKind:
		if s.Name != "" {
			for _, msg := range apivalidation.NameIsDNSSubdomain(s.Name, false) {
				errs = append(errs, field.Invalid(p.Child("name"), s.Name, msg))
			}
		}
		if s.APIGroup != "" {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{""}))
		}
		if !namespaced && s.Namespace == "" {
			errs = append(errs, field.Required(p.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		if s.APIGroup != rbacv1.GroupName {
			errs = append(errs, field.NotSupported(p.Child("apiGroup"), s.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("kind"), s.Kind, []string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return errs
}

// validateRoleRefUpdate: a binding's role cannot change; clients delete
// and recreate the binding instead, so that granting a different role is
// always a fresh, fully authorized write.
func validateRoleRefUpdate(ref, old rbacv1.RoleRef) field.ErrorList {
	if !apiequality.Semantic.DeepEqual(ref, old) {
		return field.ErrorList{field.Invalid(field.NewPath("roleRef"), ref, "cannot change roleRef")}
	}
	return nil
}
