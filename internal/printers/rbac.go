package printers

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Role and ClusterRole have no printer of their own: upstream shows them
// with its default table convertor (NAME, CREATED AT).

var roleBindingPrinter = newTyped(
	bindingColumns(docRoleBindingRoleRef, "roleBinding"),
	func(b *rbacv1.RoleBinding, now time.Time) []any {
		return bindingCells(b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp, now)
	})

var clusterRoleBindingPrinter = newTyped(
	bindingColumns(docClusterRoleBindingRoleRef, "clusterRoleBinding"),
	func(b *rbacv1.ClusterRoleBinding, now time.Time) []any {
		return bindingCells(b.Name, b.RoleRef, b.Subjects, b.CreationTimestamp, now)
	})

func bindingColumns(roleRefDoc, kind string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		column("Role", typeString, roleRefDoc),
		ageColumn(),
		wide("Users", typeString, "Users in the "+kind),
		wide("Groups", typeString, "Groups in the "+kind),
		wide("ServiceAccounts", typeString, "ServiceAccounts in the "+kind),
	}
}

// bindingCells shows the role as "Kind/name" and, wide, the subjects by
// kind; service accounts as "namespace/name".
func bindingCells(name string, ref rbacv1.RoleRef, subjects []rbacv1.Subject, created metav1.Time, now time.Time) []any {
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.ServiceAccountKind:
			sas = append(sas, s.Namespace+"/"+s.Name)
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		}
	}
	return []any{
		name, ref.Kind + "/" + ref.Name, Age(created, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", "),
	}
}
