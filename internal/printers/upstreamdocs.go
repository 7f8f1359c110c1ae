package printers

// Column descriptions upstream takes from the SwaggerDoc of beta types
// (extensions/v1beta1, apps/v1beta1, batch/v1beta1, rbac/v1beta1), copied
// here word for word (TestUpstreamDocs checks): importing those packages
// would link every type of theirs into the skiff binary, ~1 MiB of code
// and tables that is resident memory in every process, for a few strings.
const (
	docDeploymentUpdatedReplicas   = "Total number of non-terminating pods targeted by this deployment that have the desired template spec."
	docDeploymentAvailableReplicas = "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment."
	docDeploymentSelector          = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment."
	docReplicaSetSpecReplicas      = "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
	docReplicaSetStatusReplicas    = "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset"
	docReplicaSetReadyReplicas     = "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition."
	docReplicaSetSelector          = "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
	docDaemonSetDesired            = "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
	docDaemonSetCurrent            = "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/"
	docDaemonSetReady              = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."
	docDaemonSetUpdated            = "The total number of nodes that are running updated daemon pod"
	docDaemonSetAvailable          = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)"
	docDaemonSetSelector           = "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors"
	docControllerRevisionRevision  = "revision indicates the revision of the state represented by Data."
	docCronJobSchedule             = "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron."
	docCronJobTimeZone             = "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones"
	docCronJobSuspend              = "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false."
	docCronJobActive               = "A list of pointers to currently running jobs."
	docCronJobLastScheduleTime     = "Information when was the last time the job was successfully scheduled."
	docRoleBindingRoleRef          = "roleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."
	docClusterRoleBindingRoleRef   = "roleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error."
)
