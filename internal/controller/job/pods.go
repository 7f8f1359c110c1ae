package job

import (
	"fmt"
	"slices"
	"strconv"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// jobIndexEnv is the variable upstream gives every container of an
// Indexed Job's pod.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

// NewPod is the pod to create for job: its template, controlled by the
// Job, named after it, with the job-tracking finalizer. index >= 0 (Indexed mode) goes into the completion
// index annotation and label, the name, the hostname and every
// container's JOB_COMPLETION_INDEX.
func NewPod(job *batchv1.Job, index int) *corev1.Pod {
	t := job.Spec.Template.DeepCopy()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: job.Namespace, GenerateName: job.Name + "-",
			Labels: t.Labels, Annotations: t.Annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(job, batchv1.SchemeGroupVersion.WithKind("Job"))},
			// Held until the pod's end is counted in the Job's status.
			Finalizers: append(slices.Clip(t.Finalizers), batchv1.JobTrackingFinalizer),
		},
		Spec: t.Spec,
	}
	if index < 0 {
		return p
	}
	s := strconv.Itoa(index)
	p.GenerateName = fmt.Sprintf("%s-%d-", job.Name, index)
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[batchv1.JobCompletionIndexAnnotation] = s
	p.Labels[batchv1.JobCompletionIndexAnnotation] = s
	if p.Spec.Hostname == "" {
		p.Spec.Hostname = fmt.Sprintf("%s-%d", job.Name, index)
	}
	env := corev1.EnvVar{Name: jobIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.annotations['%s']", batchv1.JobCompletionIndexAnnotation)}}}
	for _, cs := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range cs {
			if !hasEnv(cs[i].Env, jobIndexEnv) {
				cs[i].Env = append(cs[i].Env, env)
			}
		}
	}
	return p
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}
