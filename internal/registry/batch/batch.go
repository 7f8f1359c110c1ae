package batch

import (
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/internal/registry"
)

// Resources are the batch/v1 resources.
func Resources() []*registry.Resource {
	return []*registry.Resource{
		{GVR: batchv1.SchemeGroupVersion.WithResource("jobs"), Kind: "Job", ListKind: "JobList", SingularName: "job",
			Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status"}, Strategy: jobStrategy{}},
		{GVR: batchv1.SchemeGroupVersion.WithResource("cronjobs"), Kind: "CronJob", ListKind: "CronJobList", SingularName: "cronjob",
			ShortNames: []string{"cj"}, Categories: []string{"all"}, Namespaced: true, Subresources: []string{"status"},
			Strategy: cronJobStrategy{}},
	}
}

func isStatus(subresource string) bool { return subresource == "status" }

func bumpGeneration(obj, old metav1.Object, changed bool) {
	if changed {
		obj.SetGeneration(old.GetGeneration() + 1)
	}
}

func ptr[T any](v T) *T { return &v }
