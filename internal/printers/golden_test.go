package printers

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is the metadata of a fixture object with resourceVersion rv.
func fixture(namespace, name string, age time.Duration, rv int) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: namespace, UID: types.UID(fmt.Sprintf("6f1c0e9a-5b7d-4c2e-9f3a-%012d", rv)),
		ResourceVersion: strconv.Itoa(rv), CreationTimestamp: ago(age),
	}
}

// goldenLists are the lists whose tables the golden files hold, by file
// name: the kinds of issue 3 and the workload kinds that come next.
func goldenLists() map[string]runtime.Object {
	return map[string]runtime.Object{
		"namespaces": &corev1.NamespaceList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Namespace{
			{ObjectMeta: fixture("", "default", 40*24*time.Hour, 11), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			{ObjectMeta: fixture("", "kube-system", 40*24*time.Hour, 12), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			{ObjectMeta: fixture("", "scratch", 90*time.Second, 118), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
		}},
		"configmaps": &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.ConfigMap{
			{ObjectMeta: fixture("default", "app-config", 3*time.Hour+20*time.Minute, 101), Data: map[string]string{"LOG_LEVEL": "debug", "PORT": "8080"}, BinaryData: map[string][]byte{"logo.png": {0x89, 'P', 'N', 'G'}}},
			{ObjectMeta: fixture("default", "kube-root-ca.crt", 40*24*time.Hour, 13), Data: map[string]string{"ca.crt": "-----BEGIN CERTIFICATE-----"}},
			{ObjectMeta: fixture("default", "empty", 5*time.Second, 119)},
		}},
		"secrets": &corev1.SecretList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Secret{
			{ObjectMeta: fixture("default", "db-password", 26*time.Hour, 55), Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("hunter2")}},
			{ObjectMeta: fixture("default", "registry", 9*24*time.Hour, 31), Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte("{}")}},
			{ObjectMeta: fixture("default", "web-tls", 400*24*time.Hour, 7), Type: corev1.SecretTypeTLS, Data: map[string][]byte{"tls.crt": nil, "tls.key": nil}},
		}},
		"serviceaccounts": &corev1.ServiceAccountList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.ServiceAccount{
			{ObjectMeta: fixture("default", "default", 40*24*time.Hour, 14)},
			{ObjectMeta: fixture("default", "builder", 7*time.Minute, 112), Secrets: []corev1.ObjectReference{{Name: "builder-token"}}},
		}},
		"events": &corev1.EventList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Event{
			{
				ObjectMeta:     fixture("default", "web-0.1837c3a1f2", 20*time.Minute, 115),
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", FieldPath: "spec.containers{app}"},
				Reason:         "BackOff", Message: "Back-off restarting failed container app in pod web-0_default", Type: corev1.EventTypeWarning,
				Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
				FirstTimestamp: ago(20 * time.Minute), LastTimestamp: ago(15 * time.Second), Count: 17,
			},
			{
				ObjectMeta:     fixture("default", "web.1837c39e01", 21*time.Minute, 104),
				InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: "default", Name: "web"},
				Reason:         "ScalingReplicaSet", Message: "Scaled up replica set web-7d4b9c to 3 from 0", Type: corev1.EventTypeNormal,
				EventTime: metav1.NewMicroTime(now.Add(-21 * time.Minute)), ReportingController: "deployment-controller", Action: "Scale",
			},
		}},
		"events.events.k8s.io": &eventsv1.EventList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []eventsv1.Event{
			{
				ObjectMeta: fixture("default", "web-0.1837c3a0aa", 22*time.Minute, 103),
				Regarding:  corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0"},
				Reason:     "Scheduled", Note: "Successfully assigned default/web-0 to node-1", Type: corev1.EventTypeNormal,
				EventTime: metav1.NewMicroTime(now.Add(-22 * time.Minute)), ReportingController: "default-scheduler", ReportingInstance: "default-scheduler-cp-1", Action: "Binding",
			},
			{
				ObjectMeta: fixture("default", "web-0.1837c3a1f3", 20*time.Minute, 116),
				Regarding:  corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web-0", FieldPath: "spec.containers{app}"},
				Reason:     "Pulling", Note: "Pulling image \"nginx:1.27\"", Type: corev1.EventTypeNormal,
				EventTime: metav1.NewMicroTime(now.Add(-20 * time.Minute)), ReportingController: "kubelet", ReportingInstance: "node-1", Action: "Pulling",
				Series: &eventsv1.EventSeries{Count: 5, LastObservedTime: metav1.NewMicroTime(now.Add(-2 * time.Minute))},
			},
		}},
		"leases": &coordinationv1.LeaseList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []coordinationv1.Lease{
			{ObjectMeta: fixture("kube-system", "kube-controller-manager", 40*24*time.Hour, 117), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("cp-1_3f9a6c1e-5d2b-4e8f-9a7c-1b2d3e4f5a6b")}},
			{ObjectMeta: fixture("kube-system", "released", 3*time.Hour, 90)},
		}},
		"pods": &corev1.PodList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Pod{
			{ObjectMeta: fixture("default", "web-0", 22*time.Minute, 116), Spec: corev1.PodSpec{NodeName: "node-1", Containers: containers("app")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.244.1.7"}},
					ContainerStatuses: []corev1.ContainerStatus{lastTerminated(waiting("app", "CrashLoopBackOff", 17), 15*time.Second)}}},
			{ObjectMeta: fixture("default", "web-1", 22*time.Minute, 108), Spec: corev1.PodSpec{NodeName: "node-2", Containers: containers("app")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIPs: []corev1.PodIP{{IP: "10.244.2.4"}},
					Conditions:        []corev1.PodCondition{cond(corev1.PodReady, corev1.ConditionTrue)},
					ContainerStatuses: []corev1.ContainerStatus{running("app", true, 0)}}},
			{ObjectMeta: fixture("default", "migrate-x7k2p", 2*time.Hour, 60), Spec: corev1.PodSpec{NodeName: "node-2", InitContainers: containers("wait-db"), Containers: containers("migrate")},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIPs: []corev1.PodIP{{IP: "10.244.2.3"}},
					InitContainerStatuses: []corev1.ContainerStatus{terminated("wait-db", "Completed", 0, 0)},
					ContainerStatuses:     []corev1.ContainerStatus{terminated("migrate", "Completed", 0, 0)}}},
		}},
		"deployments": &appsv1.DeploymentList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []appsv1.Deployment{
			{ObjectMeta: fixture("default", "web", 22*time.Minute, 117), Spec: appsv1.DeploymentSpec{Replicas: ptr[int32](3),
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}, {Name: "metrics", Image: "prom/statsd-exporter:v0.26"}}}}},
				Status: appsv1.DeploymentStatus{Replicas: 3, UpdatedReplicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}},
		}},
		"services": &corev1.ServiceList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Service{
			{ObjectMeta: fixture("default", "kubernetes", 40*24*time.Hour, 15), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: []string{"10.96.0.1"},
				Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}}}},
			{ObjectMeta: fixture("default", "web", 22*time.Minute, 105), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.96.12.40"},
				Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80, NodePort: 31380, Protocol: corev1.ProtocolTCP}}},
				Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "203.0.113.10"}}}}},
		}},
		"nodes": &corev1.NodeList{ListMeta: metav1.ListMeta{ResourceVersion: "120"}, Items: []corev1.Node{
			{ObjectMeta: metav1.ObjectMeta{Name: "cp-1", UID: "n1", ResourceVersion: "114", CreationTimestamp: ago(40 * 24 * time.Hour), Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
					Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.10"}},
					NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.43+deb13-amd64", ContainerRuntimeVersion: "containerd://2.1.4"}}},
			{ObjectMeta: metav1.ObjectMeta{Name: "node-1", UID: "n2", ResourceVersion: "113", CreationTimestamp: ago(40 * 24 * time.Hour)},
				Spec: corev1.NodeSpec{Unschedulable: true},
				Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown}},
					Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.168.1.11"}, {Type: corev1.NodeExternalIP, Address: "203.0.113.11"}},
					NodeInfo:  corev1.NodeSystemInfo{KubeletVersion: "v1.37.2", OSImage: "Debian GNU/Linux 13 (trixie)", KernelVersion: "6.12.43+deb13-amd64", ContainerRuntimeVersion: "containerd://2.1.4"}}},
		}},
	}
}

// tableJSON is the body the API server sends for list: its Table, with
// rows[].object the default PartialObjectMetadata.
func tableJSON(t *testing.T, list runtime.Object) []byte {
	t.Helper()
	tbl, err := Table(list, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(tbl, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestGolden compares the Table JSON of each list with testdata/<name>.json;
// `go test ./internal/printers -update` rewrites them (review the diff).
func TestGolden(t *testing.T) {
	lists := goldenLists()
	for name, list := range clusterGoldenLists() {
		lists[name] = list
	}
	for name, list := range lists {
		t.Run(name, func(t *testing.T) {
			got := tableJSON(t, list)
			path := filepath.Join("testdata", name+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/printers -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file; if the change is intended, run go test ./internal/printers -update and review the diff\ngot:\n%s", path, got)
			}
		})
	}
}
