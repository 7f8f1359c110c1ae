package printers

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func ptr[T any](v T) *T { return &v }

// om is the metadata of an object named name, created age ago.
func om(name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(age)}
}

// cells prints obj with the built-in printer of its kind.
func cells(t *testing.T, obj runtime.Object) []any {
	t.Helper()
	gvk, ok := itemKind(obj)
	if !ok {
		t.Fatalf("no kind for %T", obj)
	}
	row, err := ForKind(gvk).Row(obj, now)
	if err != nil {
		t.Fatalf("Row(%T): %v", obj, err)
	}
	return row.Cells
}

type cellCase struct {
	name string
	obj  runtime.Object
	want []any
}

func runCells(t *testing.T, cases []cellCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cells(t, tc.obj); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("cells\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

var container = corev1.Container{Name: "app", Image: "nginx:1.27"}

func TestIssue3Kinds(t *testing.T) {
	runCells(t, []cellCase{
		{"namespace", &corev1.Namespace{ObjectMeta: om("kube-system", 51*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			[]any{"kube-system", "Active", "2d3h"}},
		{"terminating namespace", &corev1.Namespace{ObjectMeta: om("old", 5*time.Second), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
			[]any{"old", "Terminating", "5s"}},
		{"configmap counts data and binaryData", &corev1.ConfigMap{ObjectMeta: om("cfg", 3*time.Minute), Data: map[string]string{"a": "1", "b": "2"}, BinaryData: map[string][]byte{"c": {1}}},
			[]any{"cfg", int64(3), "3m"}},
		{"empty configmap", &corev1.ConfigMap{ObjectMeta: om("empty", time.Second)},
			[]any{"empty", int64(0), "1s"}},
		{"secret", &corev1.Secret{ObjectMeta: om("tls", time.Hour), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
			[]any{"tls", "kubernetes.io/tls", int64(2), "60m"}},
		{"secret with stringData", &corev1.Secret{ObjectMeta: om("s", time.Hour), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"a": nil}, StringData: map[string]string{"a": "", "b": ""}},
			[]any{"s", "Opaque", int64(2), "60m"}},
		{"serviceaccount", &corev1.ServiceAccount{ObjectMeta: om("default", 400*24*time.Hour)},
			[]any{"default", int64(0), "400d"}},
		{"serviceaccount with secrets", &corev1.ServiceAccount{ObjectMeta: om("builder", time.Hour), Secrets: []corev1.ObjectReference{{Name: "a"}, {Name: "b"}}},
			[]any{"builder", int64(2), "60m"}},
		{"lease", &coordinationv1.Lease{ObjectMeta: om("kube-scheduler", 10*time.Minute), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1_7c1e")}},
			[]any{"kube-scheduler", "node-1_7c1e", "10m"}},
		{"lease without holder", &coordinationv1.Lease{ObjectMeta: om("free", 10*time.Minute)},
			[]any{"free", "", "10m"}},
	})
}

func TestEvents(t *testing.T) {
	pod := corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", FieldPath: "spec.containers{app}"}
	runCells(t, []cellCase{
		{"core event", &corev1.Event{
			ObjectMeta: om("web-0.17a", time.Hour), InvolvedObject: pod, Reason: "BackOff", Message: "Back-off restarting failed container\n",
			Source: corev1.EventSource{Component: "kubelet", Host: "node-1"}, FirstTimestamp: ago(time.Hour), LastTimestamp: ago(5 * time.Minute),
			Count: 12, Type: corev1.EventTypeWarning,
		}, []any{"5m", "Warning", "BackOff", "pod/web-0", "spec.containers{app}", "kubelet, node-1", "Back-off restarting failed container", "60m", int64(12), "web-0.17a"}},
		{"event without timestamps uses eventTime and count 1", &corev1.Event{
			ObjectMeta: om("e", time.Minute), InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "node-1"}, Reason: "Starting",
			EventTime: metav1.NewMicroTime(now.Add(-90 * time.Second)), ReportingController: "kubelet", ReportingInstance: "node-1", Type: corev1.EventTypeNormal,
		}, []any{"90s", "Normal", "Starting", "node/node-1", "", "kubelet, node-1", "", "90s", int64(1), "e"}},
		{"event series", &corev1.Event{
			ObjectMeta: om("s", time.Hour), InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Name: "web"}, Reason: "ScalingReplicaSet",
			EventTime: metav1.NewMicroTime(now.Add(-time.Hour)), Series: &corev1.EventSeries{Count: 4, LastObservedTime: metav1.NewMicroTime(now.Add(-30 * time.Second))},
			ReportingController: "deployment-controller", Type: corev1.EventTypeNormal,
		}, []any{"30s", "Normal", "ScalingReplicaSet", "deployment/web", "", "deployment-controller", "", "60m", int64(4), "s"}},
		{"event without object name", &corev1.Event{ObjectMeta: om("n", time.Hour), InvolvedObject: corev1.ObjectReference{Kind: "Cluster"}, FirstTimestamp: ago(time.Hour)},
			[]any{"60m", "", "", "cluster", "", "", "", "60m", int64(1), "n"}},
		{"events.k8s.io event", &eventsv1.Event{
			ObjectMeta: om("web-0.17b", time.Hour), Regarding: pod, Reason: "Pulled", Note: "Successfully pulled image",
			EventTime: metav1.NewMicroTime(now.Add(-2 * time.Hour)), ReportingController: "kubelet", ReportingInstance: "node-2",
			Type: corev1.EventTypeNormal, Series: &eventsv1.EventSeries{Count: 3, LastObservedTime: metav1.NewMicroTime(now.Add(-time.Minute))},
		}, []any{"60s", "Normal", "Pulled", "pod/web-0", "spec.containers{app}", "kubelet, node-2", "Successfully pulled image", "120m", int64(3), "web-0.17b"}},
		{"events.k8s.io event with deprecated fields", &eventsv1.Event{
			ObjectMeta: om("old", time.Hour), Regarding: pod, Reason: "Killing", DeprecatedSource: corev1.EventSource{Component: "kubelet"},
			DeprecatedFirstTimestamp: ago(3 * time.Hour), DeprecatedLastTimestamp: ago(time.Hour), DeprecatedCount: 2, Type: corev1.EventTypeNormal,
		}, []any{"60m", "Normal", "Killing", "pod/web-0", "spec.containers{app}", "kubelet", "", "3h", int64(2), "old"}},
	})
}

func TestService(t *testing.T) {
	runCells(t, []cellCase{
		{"cluster ip", &corev1.Service{ObjectMeta: om("kubernetes", 30*24*time.Hour), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.1", ClusterIPs: []string{"10.96.0.1"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}},
		}}, []any{"kubernetes", "ClusterIP", "10.96.0.1", "<none>", "443/TCP", "30d", "<none>"}},
		{"headless with selector, defaults", &corev1.Service{ObjectMeta: om("db", time.Hour), Spec: corev1.ServiceSpec{
			ClusterIP: "None", Selector: map[string]string{"app": "db", "tier": "backend"},
			Ports: []corev1.ServicePort{{Port: 5432}, {Port: 9187, Protocol: corev1.ProtocolUDP}},
		}}, []any{"db", "ClusterIP", "None", "<none>", "5432/TCP,9187/UDP", "60m", "app=db,tier=backend"}},
		{"node port with external ips", &corev1.Service{ObjectMeta: om("np", time.Hour), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeNodePort, ClusterIPs: []string{"10.0.0.5", "fd00::5"}, ExternalIPs: []string{"1.2.3.4", "5.6.7.8"},
			Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080, Protocol: corev1.ProtocolTCP}},
		}}, []any{"np", "NodePort", "10.0.0.5", "1.2.3.4,5.6.7.8", "80:30080/TCP", "60m", "<none>"}},
		{"pending load balancer", &corev1.Service{ObjectMeta: om("lb", time.Hour), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.6"},
		}}, []any{"lb", "LoadBalancer", "10.0.0.6", "<pending>", "<none>", "60m", "<none>"}},
		{"load balancer, long addresses are not cut", &corev1.Service{ObjectMeta: om("lb", time.Hour), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.6"}, ExternalIPs: []string{"9.9.9.9"},
		}, Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{
			{Hostname: "a1b2c3.elb.us-east-1.amazonaws.com"}, {IP: "203.0.113.7"}, {IP: "203.0.113.7"},
		}}}}, []any{"lb", "LoadBalancer", "10.0.0.6", "203.0.113.7,a1b2c3.elb.us-east-1.amazonaws.com,9.9.9.9", "<none>", "60m", "<none>"}},
		{"external name", &corev1.Service{ObjectMeta: om("ext", time.Hour), Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeExternalName, ExternalName: "example.com",
		}}, []any{"ext", "ExternalName", "<none>", "example.com", "<none>", "60m", "<none>"}},
	})
}

func TestEndpoints(t *testing.T) {
	addrs := func(ips ...string) []corev1.EndpointAddress {
		var a []corev1.EndpointAddress
		for _, ip := range ips {
			a = append(a, corev1.EndpointAddress{IP: ip})
		}
		return a
	}
	runCells(t, []cellCase{
		{"none", &corev1.Endpoints{ObjectMeta: om("e", time.Hour)}, []any{"e", "<none>", "60m"}},
		{"ports", &corev1.Endpoints{ObjectMeta: om("e", time.Hour), Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("10.0.0.1", "fd00::1"), Ports: []corev1.EndpointPort{{Port: 80}},
		}}}, []any{"e", "10.0.0.1:80,[fd00::1]:80", "60m"}},
		{"headless without ports", &corev1.Endpoints{ObjectMeta: om("e", time.Hour), Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("10.0.0.1"),
		}}}, []any{"e", "10.0.0.1", "60m"}},
		{"more", &corev1.Endpoints{ObjectMeta: om("e", time.Hour), Subsets: []corev1.EndpointSubset{{
			Addresses: addrs("10.0.0.1", "10.0.0.2", "10.0.0.3"), Ports: []corev1.EndpointPort{{Port: 80}, {Port: 443}},
		}}}, []any{"e", "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...", "60m"}},
	})
}

func TestNode(t *testing.T) {
	ready := func(s corev1.ConditionStatus) []corev1.NodeCondition {
		return []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}, {Type: corev1.NodeReady, Status: s}}
	}
	runCells(t, []cellCase{
		{"ready control plane", &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "cp-1", CreationTimestamp: ago(90 * 24 * time.Hour), Labels: map[string]string{
				"node-role.kubernetes.io/control-plane": "", "node-role.kubernetes.io/etcd": "true", "kubernetes.io/role": "master", "kubernetes.io/os": "linux",
			}},
			Status: corev1.NodeStatus{
				Conditions: ready(corev1.ConditionTrue),
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "cp-1"}, {Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
				NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.0", ContainerRuntimeVersion: "containerd://2.1.0"},
			},
		}, []any{"cp-1", "Ready", "control-plane,etcd,master", "90d", "v1.37.2", "192.168.1.10", "<none>", "Debian GNU/Linux 13 (trixie)", "6.12.0", "containerd://2.1.0"}},
		{"not ready, cordoned, no info", &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: "w-1", CreationTimestamp: ago(time.Hour)},
			Spec:       corev1.NodeSpec{Unschedulable: true},
			Status:     corev1.NodeStatus{Conditions: ready(corev1.ConditionUnknown), Addresses: []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "203.0.113.9"}}},
		}, []any{"w-1", "NotReady,SchedulingDisabled", "<none>", "60m", "", "<none>", "203.0.113.9", "<unknown>", "<unknown>", "<unknown>"}},
		{"no ready condition", &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "new", CreationTimestamp: ago(time.Second)}},
			[]any{"new", "Unknown", "<none>", "1s", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"}},
	})
}

func TestWorkloads(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{container, {Name: "sidecar", Image: "envoy:1.30"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	runCells(t, []cellCase{
		{"deployment", &appsv1.Deployment{ObjectMeta: om("web", 5*time.Hour), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](3), Selector: sel, Template: tmpl},
			Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
			[]any{"web", "2/3", int64(3), int64(2), "5h", "app,sidecar", "nginx:1.27,envoy:1.30", "app=web"}},
		{"deployment, default replicas, expression selector", &appsv1.Deployment{ObjectMeta: om("api", time.Minute), Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"a", "b"}}}},
		}}, []any{"api", "0/1", int64(0), int64(0), "60s", "", "", "tier in (a,b)"}},
		{"replicaset", &appsv1.ReplicaSet{ObjectMeta: om("web-5d8f", 5*time.Hour), Spec: appsv1.ReplicaSetSpec{Replicas: ptr[int32](3), Selector: sel, Template: tmpl},
			Status: appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 1}},
			[]any{"web-5d8f", int64(3), int64(3), int64(1), "5h", "app,sidecar", "nginx:1.27,envoy:1.30", "app=web"}},
		{"statefulset", &appsv1.StatefulSet{ObjectMeta: om("db", 3*24*time.Hour), Spec: appsv1.StatefulSetSpec{Replicas: ptr[int32](2), Template: tmpl},
			Status: appsv1.StatefulSetStatus{ReadyReplicas: 2}},
			[]any{"db", "2/2", "3d", "app,sidecar", "nginx:1.27,envoy:1.30"}},
		{"daemonset", &appsv1.DaemonSet{ObjectMeta: om("agent", time.Hour), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: corev1.PodTemplateSpec{
			Spec: corev1.PodSpec{Containers: []corev1.Container{container}, NodeSelector: map[string]string{"kubernetes.io/os": "linux"}},
		}}, Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}},
			[]any{"agent", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "60m", "app", "nginx:1.27", "app=web"}},
		{"controller revision", &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "db-7b9", CreationTimestamp: ago(time.Hour), OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: ptr(true)},
		}}, Revision: 2}, []any{"db-7b9", "statefulset.apps/db", int64(2), "60m"}},
		{"replication controller", &corev1.ReplicationController{ObjectMeta: om("rc", time.Hour), Spec: corev1.ReplicationControllerSpec{
			Replicas: ptr[int32](2), Selector: map[string]string{"app": "rc"}, Template: &tmpl,
		}, Status: corev1.ReplicationControllerStatus{Replicas: 2, ReadyReplicas: 2}},
			[]any{"rc", int64(2), int64(2), int64(2), "60m", "app,sidecar", "nginx:1.27,envoy:1.30", "app=rc"}},
	})
}

func TestJobs(t *testing.T) {
	tmpl := corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "pi", Image: "perl:5.34"}}}}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "abc"}}
	cond := func(t batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue}}
	}
	start, done := ago(10*time.Minute), ago(7*time.Minute+30*time.Second)
	runCells(t, []cellCase{
		{"complete", &batchv1.Job{ObjectMeta: om("pi", 10*time.Minute), Spec: batchv1.JobSpec{Completions: ptr[int32](1), Selector: sel, Template: tmpl},
			Status: batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &done, Conditions: cond(batchv1.JobComplete)}},
			[]any{"pi", "Complete", "1/1", "2m30s", "10m", "pi", "perl:5.34", "batch.kubernetes.io/controller-uid=abc"}},
		{"running, parallel", &batchv1.Job{ObjectMeta: om("work", 10*time.Minute), Spec: batchv1.JobSpec{Parallelism: ptr[int32](4), Template: tmpl},
			Status: batchv1.JobStatus{Succeeded: 2, StartTime: &start}},
			[]any{"work", "Running", "2/1 of 4", "10m", "10m", "pi", "perl:5.34", "<none>"}},
		{"not started", &batchv1.Job{ObjectMeta: om("new", time.Second), Spec: batchv1.JobSpec{Template: tmpl}},
			[]any{"new", "Running", "0/1", "", "1s", "pi", "perl:5.34", "<none>"}},
		{"failed", &batchv1.Job{ObjectMeta: om("bad", time.Hour), Spec: batchv1.JobSpec{Completions: ptr[int32](3), Template: tmpl}, Status: batchv1.JobStatus{Conditions: cond(batchv1.JobFailed)}},
			[]any{"bad", "Failed", "0/3", "", "60m", "pi", "perl:5.34", "<none>"}},
		{"suspended", &batchv1.Job{ObjectMeta: om("s", time.Hour), Spec: batchv1.JobSpec{Template: tmpl}, Status: batchv1.JobStatus{Conditions: cond(batchv1.JobSuspended)}},
			[]any{"s", "Suspended", "0/1", "", "60m", "pi", "perl:5.34", "<none>"}},
		{"failure target", &batchv1.Job{ObjectMeta: om("f", time.Hour), Spec: batchv1.JobSpec{Template: tmpl}, Status: batchv1.JobStatus{Conditions: cond(batchv1.JobFailureTarget)}},
			[]any{"f", "FailureTarget", "0/1", "", "60m", "pi", "perl:5.34", "<none>"}},
		{"terminating", &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "t", CreationTimestamp: ago(time.Hour), DeletionTimestamp: ptr(ago(time.Second))}, Spec: batchv1.JobSpec{Template: tmpl}},
			[]any{"t", "Terminating", "0/1", "", "60m", "pi", "perl:5.34", "<none>"}},
		{"cronjob", &batchv1.CronJob{ObjectMeta: om("nightly", 40*24*time.Hour), Spec: batchv1.CronJobSpec{
			Schedule: "0 3 * * *", TimeZone: ptr("Europe/Berlin"), Suspend: ptr(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}},
		}, Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "nightly-1"}}, LastScheduleTime: ptr(ago(9 * time.Hour))}},
			[]any{"nightly", "0 3 * * *", "Europe/Berlin", "False", int64(1), "9h", "40d", "pi", "perl:5.34", "<none>"}},
		{"cronjob never scheduled", &batchv1.CronJob{ObjectMeta: om("c", time.Hour), Spec: batchv1.CronJobSpec{Schedule: "@hourly"}},
			[]any{"c", "@hourly", "<none>", "<unset>", int64(0), "<none>", "60m", "", "", "<none>"}},
	})
}

func TestStorage(t *testing.T) {
	fs := corev1.PersistentVolumeFilesystem
	q := resource.MustParse("10Gi")
	runCells(t, []cellCase{
		{"bound pv", &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-1", CreationTimestamp: ago(time.Hour)}, Spec: corev1.PersistentVolumeSpec{
			Capacity: corev1.ResourceList{corev1.ResourceStorage: q}, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany, corev1.ReadWriteOnce, corev1.ReadWriteOnce},
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain, ClaimRef: &corev1.ObjectReference{Namespace: "default", Name: "data"},
			StorageClassName: "standard", VolumeMode: &fs,
		}, Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeBound}},
			[]any{"pv-1", "10Gi", "RWO,RWX", "Retain", "Bound", "default/data", "standard", "<unset>", "", "60m", "Filesystem"}},
		{"terminating pv, beta class annotation", &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pv-2", CreationTimestamp: ago(time.Hour), DeletionTimestamp: ptr(ago(0)),
			Annotations: map[string]string{corev1.BetaStorageClassAnnotation: "old"}}, Spec: corev1.PersistentVolumeSpec{StorageClassName: "new"},
			Status: corev1.PersistentVolumeStatus{Phase: corev1.VolumeReleased, Reason: "Why"}},
			[]any{"pv-2", "0", "", "", "Terminating", "", "old", "<unset>", "Why", "60m", "<unset>"}},
		{"bound pvc", &corev1.PersistentVolumeClaim{ObjectMeta: om("data", time.Hour), Spec: corev1.PersistentVolumeClaimSpec{
			VolumeName: "pv-1", StorageClassName: ptr("standard"), VolumeMode: &fs, VolumeAttributesClassName: ptr("gold"),
		}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound, AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOncePod},
			Capacity: corev1.ResourceList{corev1.ResourceStorage: q}}},
			[]any{"data", "Bound", "pv-1", "10Gi", "RWOP", "standard", "gold", "60m", "Filesystem"}},
		{"pending pvc", &corev1.PersistentVolumeClaim{ObjectMeta: om("wait", time.Minute), Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending}},
			[]any{"wait", "Pending", "", "", "", "", "<unset>", "60s", "<unset>"}},
		{"default storage class", &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard", CreationTimestamp: ago(time.Hour),
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}}, Provisioner: "rancher.io/local-path",
			VolumeBindingMode: ptr(storagev1.VolumeBindingWaitForFirstConsumer), AllowVolumeExpansion: ptr(true)},
			[]any{"standard (default)", "rancher.io/local-path", "Delete", "WaitForFirstConsumer", true, "60m"}},
		{"storage class", &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast", CreationTimestamp: ago(time.Hour)}, Provisioner: "csi.example.com",
			ReclaimPolicy: ptr(corev1.PersistentVolumeReclaimRetain)},
			[]any{"fast", "csi.example.com", "Retain", "Immediate", false, "60m"}},
	})
}

func TestNetworkingAndPolicy(t *testing.T) {
	runCells(t, []cellCase{
		{"ingress", &networkingv1.Ingress{ObjectMeta: om("web", time.Hour), Spec: networkingv1.IngressSpec{
			IngressClassName: ptr("nginx"), TLS: []networkingv1.IngressTLS{{Hosts: []string{"a.example.com"}}},
			Rules: []networkingv1.IngressRule{{Host: "a.example.com"}, {}, {Host: "b.example.com"}, {Host: "c.example.com"}, {Host: "d.example.com"}},
		}, Status: networkingv1.IngressStatus{LoadBalancer: networkingv1.IngressLoadBalancerStatus{Ingress: []networkingv1.IngressLoadBalancerIngress{{IP: "203.0.113.1"}, {Hostname: "lb.example.com"}}}}},
			[]any{"web", "nginx", "a.example.com,b.example.com,c.example.com + 2 more...", "203.0.113.1,lb.example.com", "80, 443", "60m"}},
		{"ingress without hosts", &networkingv1.Ingress{ObjectMeta: om("any", time.Hour)},
			[]any{"any", "<none>", "*", "", "80", "60m"}},
		{"ingress class", &networkingv1.IngressClass{ObjectMeta: metav1.ObjectMeta{Name: "nginx", CreationTimestamp: ago(time.Hour)}, Spec: networkingv1.IngressClassSpec{
			Controller: "k8s.io/ingress-nginx", Parameters: &networkingv1.IngressClassParametersReference{APIGroup: ptr("k8s.example.com"), Kind: "IngressParameters", Name: "p"},
		}}, []any{"nginx", "k8s.io/ingress-nginx", "IngressParameters.k8s.example.com/p", "60m"}},
		{"network policy", &networkingv1.NetworkPolicy{ObjectMeta: om("deny", time.Hour)},
			[]any{"deny", "<none>", "60m"}},
		{"endpoint slice", &discoveryv1.EndpointSlice{ObjectMeta: om("web-abc", time.Hour), AddressType: discoveryv1.AddressTypeIPv4,
			Ports:     []discoveryv1.EndpointPort{{Port: ptr[int32](80)}, {Name: ptr("metrics")}, {}},
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1", "10.0.0.2"}}, {Addresses: []string{"10.0.0.3", "10.0.0.4"}}}},
			[]any{"web-abc", "IPv4", "80,metrics,*", "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...", "60m"}},
		{"empty endpoint slice", &discoveryv1.EndpointSlice{ObjectMeta: om("e", time.Hour), AddressType: discoveryv1.AddressTypeIPv6},
			[]any{"e", "IPv6", "<unset>", "<unset>", "60m"}},
		{"pdb", &policyv1.PodDisruptionBudget{ObjectMeta: om("web", time.Hour), Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr(intstr.FromString("50%"))},
			Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}},
			[]any{"web", "50%", "N/A", int64(1), "60m"}},
		{"priority class", &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "system-cluster-critical", CreationTimestamp: ago(time.Hour)},
			Value: 2000000000, PreemptionPolicy: ptr(corev1.PreemptLowerPriority)},
			[]any{"system-cluster-critical", int64(2000000000), false, "60m", "PreemptLowerPriority"}},
	})
}

func TestRBAC(t *testing.T) {
	subjects := []rbacv1.Subject{
		{Kind: rbacv1.UserKind, Name: "alice"}, {Kind: rbacv1.UserKind, Name: "bob"}, {Kind: rbacv1.GroupKind, Name: "devs"},
		{Kind: rbacv1.ServiceAccountKind, Namespace: "ci", Name: "builder"},
	}
	runCells(t, []cellCase{
		{"role binding", &rbacv1.RoleBinding{ObjectMeta: om("edit", time.Hour), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "edit"}, Subjects: subjects},
			[]any{"edit", "ClusterRole/edit", "60m", "alice, bob", "devs", "ci/builder"}},
		{"cluster role binding", &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "admin", CreationTimestamp: ago(time.Hour)}, RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "cluster-admin"}},
			[]any{"admin", "ClusterRole/cluster-admin", "60m", "", "", ""}},
		{"role uses the default printer", &rbacv1.Role{ObjectMeta: om("reader", time.Hour)},
			[]any{"reader", "2026-03-01T11:00:00Z"}},
	})
}

func TestHPA(t *testing.T) {
	target := autoscalingv2.CrossVersionObjectReference{Kind: "Deployment", Name: "web", APIVersion: "apps/v1"}
	q := resource.MustParse
	runCells(t, []cellCase{
		{"v2 cpu and memory", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: om("web", time.Hour), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: target, MinReplicas: ptr[int32](2), MaxReplicas: 10,
			Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceCPU, Target: autoscalingv2.MetricTarget{AverageUtilization: ptr[int32](80)}}},
				{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{Name: corev1.ResourceMemory, Target: autoscalingv2.MetricTarget{AverageValue: ptr(q("1Gi"))}}},
				{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{Target: autoscalingv2.MetricTarget{AverageValue: ptr(q("100"))}}},
			},
		}, Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentReplicas: 3, CurrentMetrics: []autoscalingv2.MetricStatus{
			{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricStatus{Name: corev1.ResourceCPU, Current: autoscalingv2.MetricValueStatus{AverageUtilization: ptr[int32](42)}}},
		}}}, []any{"web", "Deployment/web", "cpu: 42%/80%, memory: <unknown>/1Gi + 1 more...", "2", int64(10), int64(3), "60m"}},
		{"v2 without metrics", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: om("x", time.Hour), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: target, MaxReplicas: 3}},
			[]any{"x", "Deployment/web", "<none>", "<unset>", int64(3), int64(0), "60m"}},
		{"v2 external and object", &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: om("q", time.Hour), Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: target, MaxReplicas: 5, Metrics: []autoscalingv2.MetricSpec{
				{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricSource{Target: autoscalingv2.MetricTarget{Value: ptr(q("30"))}}},
				{Type: autoscalingv2.ObjectMetricSourceType, Object: &autoscalingv2.ObjectMetricSource{Target: autoscalingv2.MetricTarget{AverageValue: ptr(q("2"))}}},
			}}, Status: autoscalingv2.HorizontalPodAutoscalerStatus{CurrentMetrics: []autoscalingv2.MetricStatus{
			{Type: autoscalingv2.ExternalMetricSourceType, External: &autoscalingv2.ExternalMetricStatus{Current: autoscalingv2.MetricValueStatus{Value: ptr(q("12"))}}},
		}}}, []any{"q", "Deployment/web", "12/30, <unknown>/2 (avg)", "<unset>", int64(5), int64(0), "60m"}},
		{"v1 cpu", &autoscalingv1.HorizontalPodAutoscaler{ObjectMeta: om("v1", time.Hour), Spec: autoscalingv1.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv1.CrossVersionObjectReference{Kind: "Deployment", Name: "web"}, MinReplicas: ptr[int32](1), MaxReplicas: 4,
			TargetCPUUtilizationPercentage: ptr[int32](50),
		}, Status: autoscalingv1.HorizontalPodAutoscalerStatus{CurrentReplicas: 1}},
			[]any{"v1", "Deployment/web", "cpu: <unknown>/50%", "1", int64(4), int64(1), "60m"}},
	})
}

func TestOtherCoreKinds(t *testing.T) {
	runCells(t, []cellCase{
		{"pod template", &corev1.PodTemplate{ObjectMeta: om("t", time.Hour), Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"b": "2", "a": "1"}}, Spec: corev1.PodSpec{Containers: []corev1.Container{container}},
		}}, []any{"t", "app", "nginx:1.27", "a=1,b=2"}},
		{"resource quota", &corev1.ResourceQuota{ObjectMeta: om("quota", time.Hour), Status: corev1.ResourceQuotaStatus{
			Hard: corev1.ResourceList{"requests.cpu": resource.MustParse("2"), "pods": resource.MustParse("10"), "limits.memory": resource.MustParse("4Gi"), "limits.cpu": resource.MustParse("4")},
			Used: corev1.ResourceList{"requests.cpu": resource.MustParse("500m"), "pods": resource.MustParse("3")},
		}}, []any{"quota", "pods: 3/10, requests.cpu: 500m/2", "limits.cpu: 0/4, limits.memory: 0/4Gi", "60m"}},
	})
}
