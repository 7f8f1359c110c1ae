package printers

import (
	"testing"

	appsv1beta1 "k8s.io/api/apps/v1beta1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
)

// TestUpstreamDocs: the copied column descriptions are upstream's.
func TestUpstreamDocs(t *testing.T) {
	for _, c := range []struct{ name, got, want string }{
		{"docDeploymentUpdatedReplicas", docDeploymentUpdatedReplicas, extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]},
		{"docDeploymentAvailableReplicas", docDeploymentAvailableReplicas, extensionsv1beta1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]},
		{"docDeploymentSelector", docDeploymentSelector, extensionsv1beta1.DeploymentSpec{}.SwaggerDoc()["selector"]},
		{"docReplicaSetSpecReplicas", docReplicaSetSpecReplicas, extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["replicas"]},
		{"docReplicaSetStatusReplicas", docReplicaSetStatusReplicas, extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["replicas"]},
		{"docReplicaSetReadyReplicas", docReplicaSetReadyReplicas, extensionsv1beta1.ReplicaSetStatus{}.SwaggerDoc()["readyReplicas"]},
		{"docReplicaSetSelector", docReplicaSetSelector, extensionsv1beta1.ReplicaSetSpec{}.SwaggerDoc()["selector"]},
		{"docDaemonSetDesired", docDaemonSetDesired, extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]},
		{"docDaemonSetCurrent", docDaemonSetCurrent, extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]},
		{"docDaemonSetReady", docDaemonSetReady, extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]},
		{"docDaemonSetUpdated", docDaemonSetUpdated, extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]},
		{"docDaemonSetAvailable", docDaemonSetAvailable, extensionsv1beta1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]},
		{"docDaemonSetSelector", docDaemonSetSelector, extensionsv1beta1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
		{"docControllerRevisionRevision", docControllerRevisionRevision, appsv1beta1.ControllerRevision{}.SwaggerDoc()["revision"]},
		{"docCronJobSchedule", docCronJobSchedule, batchv1beta1.CronJobSpec{}.SwaggerDoc()["schedule"]},
		{"docCronJobTimeZone", docCronJobTimeZone, batchv1beta1.CronJobSpec{}.SwaggerDoc()["timeZone"]},
		{"docCronJobSuspend", docCronJobSuspend, batchv1beta1.CronJobSpec{}.SwaggerDoc()["suspend"]},
		{"docCronJobActive", docCronJobActive, batchv1beta1.CronJobStatus{}.SwaggerDoc()["active"]},
		{"docCronJobLastScheduleTime", docCronJobLastScheduleTime, batchv1beta1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]},
		{"docRoleBindingRoleRef", docRoleBindingRoleRef, rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]},
		{"docClusterRoleBindingRoleRef", docClusterRoleBindingRoleRef, rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"]},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, upstream says %q", c.name, c.got, c.want)
		}
	}
}
