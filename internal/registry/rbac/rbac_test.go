package rbac_test

import (
	"context"
	"fmt"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/internal/registry"
	"skiff.dev/skiff/internal/registry/rbac"
	. "skiff.dev/skiff/internal/registry/registrytest"
)

func resource(t *testing.T, kind string) *registry.Resource {
	return Resource(t, rbac.Resources(), kind)
}

func TestResources(t *testing.T) {
	tests := []struct {
		kind, resource string
		namespaced     bool
		obj, list      runtime.Object
	}{
		{"Role", "roles", true, &rbacv1.Role{}, &rbacv1.RoleList{}},
		{"ClusterRole", "clusterroles", false, &rbacv1.ClusterRole{}, &rbacv1.ClusterRoleList{}},
		{"RoleBinding", "rolebindings", true, &rbacv1.RoleBinding{}, &rbacv1.RoleBindingList{}},
		{"ClusterRoleBinding", "clusterrolebindings", false, &rbacv1.ClusterRoleBinding{}, &rbacv1.ClusterRoleBindingList{}},
	}
	if n := len(rbac.Resources()); n != len(tests) {
		t.Errorf("%d resources, want %d", n, len(tests))
	}
	for _, tt := range tests {
		r := resource(t, tt.kind)
		if r.GVR != rbacv1.SchemeGroupVersion.WithResource(tt.resource) || r.ListKind != tt.kind+"List" || r.Namespaced != tt.namespaced ||
			len(r.ShortNames) != 0 || len(r.Subresources) != 0 {
			t.Errorf("%s: resource = %+v", tt.kind, r)
		}
		if typeName(r.Strategy.New()) != typeName(tt.obj) {
			t.Errorf("%s: New() = %T", tt.kind, r.Strategy.New())
		}
		if typeName(r.Strategy.NewList()) != typeName(tt.list) {
			t.Errorf("%s: NewList() = %T", tt.kind, r.Strategy.NewList())
		}
	}
}

func typeName(o runtime.Object) string { return fmt.Sprintf("%T", o) }

func TestValidateName(t *testing.T) {
	s := resource(t, "ClusterRole").Strategy
	for name, ok := range map[string]bool{
		"system:controller:node-controller": true,
		"Admin_Role":                        true,
		"a/b":                               false,
		"a%b":                               false,
		"..":                                false,
	} {
		if errs := s.ValidateName(name, false); (len(errs) == 0) != ok {
			t.Errorf("ValidateName(%q) = %q, want ok=%v", name, errs, ok)
		}
	}
}

var ctx = context.Background()

func TestRoleRules(t *testing.T) {
	podsRule := rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get"}}
	healthz := rbacv1.PolicyRule{NonResourceURLs: []string{"/healthz"}, Verbs: []string{"get"}}
	tests := []struct {
		name    string
		rule    rbacv1.PolicyRule
		role    []FieldErr // as a namespaced Role
		cluster []FieldErr // as a ClusterRole
	}{
		{name: "resources", rule: podsRule},
		{name: "resource names", rule: rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments"}, ResourceNames: []string{"web"}, Verbs: []string{"*"}}},
		{name: "no verbs", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}},
			role: []FieldErr{Required("rules[0].verbs")}, cluster: []FieldErr{Required("rules[0].verbs")}},
		{name: "no api groups", rule: rbacv1.PolicyRule{Resources: []string{"pods"}, Verbs: []string{"get"}},
			role: []FieldErr{Required("rules[0].apiGroups")}, cluster: []FieldErr{Required("rules[0].apiGroups")}},
		{name: "no resources", rule: rbacv1.PolicyRule{APIGroups: []string{""}, Verbs: []string{"get"}},
			role: []FieldErr{Required("rules[0].resources")}, cluster: []FieldErr{Required("rules[0].resources")}},
		{name: "empty", rule: rbacv1.PolicyRule{},
			role:    []FieldErr{Required("rules[0].verbs"), Required("rules[0].apiGroups"), Required("rules[0].resources")},
			cluster: []FieldErr{Required("rules[0].verbs"), Required("rules[0].apiGroups"), Required("rules[0].resources")}},
		{name: "non-resource URLs", rule: healthz, role: []FieldErr{Invalid("rules[0].nonResourceURLs")}},
		{name: "non-resource URLs and resources",
			rule: rbacv1.PolicyRule{NonResourceURLs: []string{"/metrics"}, Resources: []string{"pods"}, Verbs: []string{"get"}},
			role: []FieldErr{Invalid("rules[0].nonResourceURLs"), Invalid("rules[0].nonResourceURLs")}, cluster: []FieldErr{Invalid("rules[0].nonResourceURLs")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}, Rules: []rbacv1.PolicyRule{tt.rule}}
			s := resource(t, "Role").Strategy
			CheckErrors(t, s.Validate(ctx, role), tt.role...)
			CheckErrors(t, s.ValidateUpdate(ctx, role, role.DeepCopy()), tt.role...)
			cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "r"}, Rules: []rbacv1.PolicyRule{tt.rule}}
			cs := resource(t, "ClusterRole").Strategy
			CheckErrors(t, cs.Validate(ctx, cr), tt.cluster...)
			CheckErrors(t, cs.ValidateUpdate(ctx, cr, cr.DeepCopy()), tt.cluster...)
		})
	}
}

func TestClusterRoleAggregation(t *testing.T) {
	sel := func(labels map[string]string) metav1.LabelSelector { return metav1.LabelSelector{MatchLabels: labels} }
	tests := []struct {
		name string
		rule *rbacv1.AggregationRule
		want []FieldErr
	}{
		{name: "none"},
		{name: "selector", rule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel(map[string]string{"rbac.example.com/aggregate-to-view": "true"})}}},
		{name: "no selectors", rule: &rbacv1.AggregationRule{}, want: []FieldErr{Required("aggregationRule.clusterRoleSelectors")}},
		{name: "invalid label", rule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel(nil), sel(map[string]string{"-bad": "true"})}},
			want: []FieldErr{Invalid("aggregationRule.clusterRoleSelectors[1].matchLabels")}},
		{name: "invalid operator", rule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "a", Operator: "Near"}}}}},
			want: []FieldErr{Invalid("aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator")}},
	}
	s := resource(t, "ClusterRole").Strategy
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view"}, AggregationRule: tt.rule}
			CheckErrors(t, s.Validate(ctx, cr), tt.want...)
		})
	}
}

// TestClusterRoleUpdateKeepsInvalidLabelValues: a selector label value
// stored before it became invalid does not block later updates.
func TestClusterRoleUpdateKeepsInvalidLabelValues(t *testing.T) {
	s := resource(t, "ClusterRole").Strategy
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view"}, AggregationRule: &rbacv1.AggregationRule{
		ClusterRoleSelectors: []metav1.LabelSelector{{MatchExpressions: []metav1.LabelSelectorRequirement{
			{Key: "a", Operator: metav1.LabelSelectorOpIn, Values: []string{"not valid!"}}}}}}}
	CheckErrors(t, s.Validate(ctx, cr), Invalid("aggregationRule.clusterRoleSelectors[0].matchExpressions[0].values[0]"))
	CheckErrors(t, s.ValidateUpdate(ctx, cr, cr.DeepCopy()))
}

func TestBindingDefaults(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: "User", Name: "jane"},
		{Kind: "Group", Name: "devs"},
		{Kind: "ServiceAccount", Name: "ctl", Namespace: "ops"},
		{Kind: "User", Name: "x", APIGroup: "other.example.com"},
	}
	want := []string{rbacv1.GroupName, rbacv1.GroupName, "", "other.example.com"}
	check := func(t *testing.T, ref rbacv1.RoleRef, got []rbacv1.Subject) {
		if ref.APIGroup != rbacv1.GroupName {
			t.Errorf("roleRef.apiGroup = %q", ref.APIGroup)
		}
		for i := range got {
			if got[i].APIGroup != want[i] {
				t.Errorf("subjects[%d].apiGroup = %q, want %q", i, got[i].APIGroup, want[i])
			}
		}
	}
	rb := &rbacv1.RoleBinding{RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "r"}, Subjects: append([]rbacv1.Subject(nil), subjects...)}
	resource(t, "RoleBinding").Strategy.Default(rb)
	check(t, rb.RoleRef, rb.Subjects)
	crb := &rbacv1.ClusterRoleBinding{RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "r"}, Subjects: append([]rbacv1.Subject(nil), subjects...)}
	resource(t, "ClusterRoleBinding").Strategy.Default(crb)
	check(t, crb.RoleRef, crb.Subjects)
}

func TestBindingValidate(t *testing.T) {
	ref := func(kind string) rbacv1.RoleRef {
		return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: kind, Name: "view"}
	}
	user := rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane"}
	sa := rbacv1.Subject{Kind: "ServiceAccount", Name: "ctl", Namespace: "ops"}
	saNoNS := rbacv1.Subject{Kind: "ServiceAccount", Name: "ctl"}
	tests := []struct {
		name     string
		ref      rbacv1.RoleRef
		subjects []rbacv1.Subject
		rb, crb  []FieldErr // errors as a RoleBinding, as a ClusterRoleBinding
	}{
		{name: "cluster role", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{user, sa}},
		{name: "role", ref: ref("Role"), subjects: []rbacv1.Subject{user}, crb: []FieldErr{NotSupported("roleRef.kind")}},
		{name: "other kind", ref: ref("Pod"), rb: []FieldErr{NotSupported("roleRef.kind")}, crb: []FieldErr{NotSupported("roleRef.kind")}},
		{name: "other group", ref: rbacv1.RoleRef{APIGroup: "example.com", Kind: "ClusterRole", Name: "a"},
			rb: []FieldErr{NotSupported("roleRef.apiGroup")}, crb: []FieldErr{NotSupported("roleRef.apiGroup")}},
		{name: "no role name", ref: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole"},
			rb: []FieldErr{Required("roleRef.name")}, crb: []FieldErr{Required("roleRef.name")}},
		{name: "bad role name", ref: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "a/b"},
			rb: []FieldErr{Invalid("roleRef.name")}, crb: []FieldErr{Invalid("roleRef.name")}},
		{name: "service account without namespace", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{user, saNoNS},
			crb: []FieldErr{Required("subjects[1].namespace")}},
		{name: "service account with group", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "ServiceAccount", APIGroup: rbacv1.GroupName, Name: "a", Namespace: "b"}},
			rb: []FieldErr{NotSupported("subjects[0].apiGroup")}, crb: []FieldErr{NotSupported("subjects[0].apiGroup")}},
		{name: "service account bad name", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "A_b", Namespace: "b"}},
			rb: []FieldErr{Invalid("subjects[0].name")}, crb: []FieldErr{Invalid("subjects[0].name")}},
		{name: "user with core group", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "User", Name: "a"}},
			rb: []FieldErr{NotSupported("subjects[0].apiGroup")}, crb: []FieldErr{NotSupported("subjects[0].apiGroup")}},
		{name: "group with other group", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "x.io", Name: "a"}},
			rb: []FieldErr{NotSupported("subjects[0].apiGroup")}, crb: []FieldErr{NotSupported("subjects[0].apiGroup")}},
		{name: "user with any name", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "system:serviceaccount:a:b"}}},
		{name: "no subject name", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: rbacv1.GroupName}},
			rb: []FieldErr{Required("subjects[0].name")}, crb: []FieldErr{Required("subjects[0].name")}},
		{name: "other subject kind", ref: ref("ClusterRole"), subjects: []rbacv1.Subject{{Kind: "Robot", Name: "a"}},
			rb: []FieldErr{NotSupported("subjects[0].kind")}, crb: []FieldErr{NotSupported("subjects[0].kind")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, RoleRef: tt.ref, Subjects: tt.subjects}
			s := resource(t, "RoleBinding").Strategy
			CheckErrors(t, s.Validate(ctx, rb), tt.rb...)
			CheckErrors(t, s.ValidateUpdate(ctx, rb, rb.DeepCopy()), tt.rb...)
			crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: tt.ref, Subjects: tt.subjects}
			cs := resource(t, "ClusterRoleBinding").Strategy
			CheckErrors(t, cs.Validate(ctx, crb), tt.crb...)
			CheckErrors(t, cs.ValidateUpdate(ctx, crb, crb.DeepCopy()), tt.crb...)
		})
	}
}

func TestRoleRefImmutable(t *testing.T) {
	ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"}
	changed := ref
	changed.Name = "edit"
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, RoleRef: changed}
	old := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b", Namespace: "ns"}, RoleRef: ref}
	CheckErrors(t, resource(t, "RoleBinding").Strategy.ValidateUpdate(ctx, rb, old), Invalid("roleRef"))
	crb := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: changed}
	oldc := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "b"}, RoleRef: ref}
	CheckErrors(t, resource(t, "ClusterRoleBinding").Strategy.ValidateUpdate(ctx, crb, oldc), Invalid("roleRef"))
	// Subjects may change.
	rb2 := old.DeepCopy()
	rb2.Subjects = []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "jane"}}
	CheckErrors(t, resource(t, "RoleBinding").Strategy.ValidateUpdate(ctx, rb2, old))
}

// TestNoGeneration: RBAC objects carry no generation and no status.
func TestNoGeneration(t *testing.T) {
	r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "r", Namespace: "ns"}}
	s := resource(t, "Role").Strategy
	s.PrepareForCreate(ctx, r)
	if r.Generation != 0 {
		t.Errorf("generation = %d", r.Generation)
	}
}
