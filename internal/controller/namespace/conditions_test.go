package namespace

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The deletion conditions say what holds a namespace back, in upstream's
// reasons and messages.
func TestConditions(t *testing.T) {
	type want struct {
		status  corev1.ConditionStatus
		reason  string
		message string
	}
	for _, tc := range []struct {
		name       string
		discovery  error
		deleteErrs []error
		remaining  map[string]int
		finalizers map[string]int
		want       map[corev1.NamespaceConditionType]want
	}{{
		name: "all gone",
		want: map[corev1.NamespaceConditionType]want{
			corev1.NamespaceDeletionDiscoveryFailure: {corev1.ConditionFalse, "ResourcesDiscovered", ""},
			corev1.NamespaceDeletionContentFailure:   {corev1.ConditionFalse, "ContentDeleted", ""},
			corev1.NamespaceContentRemaining:         {corev1.ConditionFalse, "ContentRemoved", ""},
			corev1.NamespaceFinalizersRemaining:      {corev1.ConditionFalse, "ContentHasNoFinalizers", ""},
		},
	}, {
		name:       "content held by finalizers",
		remaining:  map[string]int{"widgets.yourco.io": 2, "configmaps": 1},
		finalizers: map[string]int{"yourco.io/hold": 2, "example.com/keep": 1},
		want: map[corev1.NamespaceConditionType]want{
			corev1.NamespaceContentRemaining: {corev1.ConditionTrue, "SomeResourcesRemain",
				"Some resources are remaining: configmaps has 1 resource instances, widgets.yourco.io has 2 resource instances"},
			corev1.NamespaceFinalizersRemaining: {corev1.ConditionTrue, "SomeFinalizersRemain",
				"Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances, yourco.io/hold in 2 resource instances"},
		},
	}, {
		name:       "failures",
		discovery:  errors.New("discovery failed for metrics.k8s.io/v1beta1"),
		deleteErrs: []error{errors.New("delete pods: boom")},
		want: map[corev1.NamespaceConditionType]want{
			corev1.NamespaceDeletionDiscoveryFailure: {corev1.ConditionTrue, "DiscoveryFailed", "discovery failed for metrics.k8s.io/v1beta1"},
			corev1.NamespaceDeletionContentFailure:   {corev1.ConditionTrue, "ContentDeletionFailed", "delete pods: boom"},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[corev1.NamespaceConditionType]want{}
			for _, c := range conditions(tc.discovery, tc.deleteErrs, tc.remaining, tc.finalizers) {
				got[c.Type] = want{c.Status, c.Reason, c.Message}
			}
			for typ, w := range tc.want {
				if got[typ] != w {
					t.Errorf("%s = %+v, want %+v", typ, got[typ], w)
				}
			}
		})
	}
}
