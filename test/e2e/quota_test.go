package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// The resourcequota controller: status.hard mirrors spec.hard, and
// status.used follows what the namespace holds (object counts, compute,
// node ports, custom resources by count, scopes), recounted as objects
// come, change and go.

func quotaStatus(t *testing.T, s *Skiff, name string) corev1.ResourceQuotaStatus {
	t.Helper()
	var q corev1.ResourceQuota
	getJSON(t, s, &q, "resourcequota", name, "-n", "quota")
	return q.Status
}

// usedIs compares status.used with want ("name=quantity" pairs).
func usedIs(st corev1.ResourceQuotaStatus, want ...string) (bool, string) {
	for _, w := range want {
		name, qty, _ := strings.Cut(w, "=")
		got, ok := st.Used[corev1.ResourceName(name)]
		if !ok || got.String() != qty {
			return false, fmt.Sprintf("used %v, want %s", st.Used, strings.Join(want, ","))
		}
	}
	return true, ""
}

func TestResourceQuotaStatus(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyCRD(t, s, "widgets.yaml", "widgets.yourco.io")
	// Its own namespace: default holds the kubernetes Service.
	s.MustKubectl("create", "namespace", "quota")
	applyStdin(t, s, `apiVersion: v1
kind: ResourceQuota
metadata: {name: objects}
spec:
  hard:
    pods: "10"
    count/pods: "10"
    services: "5"
    services.nodeports: "5"
    count/deployments.apps: "3"
    count/widgets.yourco.io: "3"
    persistentvolumeclaims: "3"
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute}
spec:
  hard: {requests.cpu: "2", limits.memory: 1Gi}
  scopes: [NotBestEffort]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: besteffort}
spec:
  hard: {pods: "5"}
  scopes: [BestEffort]
`, "-n", "quota")
	eventually(t, "quota status mirrors hard with zero usage", func() (bool, string) {
		st := quotaStatus(t, s, "objects")
		if len(st.Hard) != 7 || st.Hard.Name("pods", "").String() != "10" {
			return false, fmt.Sprintf("hard %v", st.Hard)
		}
		if ok, msg := usedIs(quotaStatus(t, s, "compute"), "requests.cpu=0", "limits.memory=0"); !ok {
			return false, "compute: " + msg
		}
		return usedIs(st, "pods=0", "services=0", "count/deployments.apps=0", "count/widgets.yourco.io=0")
	})

	applyStdin(t, s, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: registry.example/web:1
        resources:
          requests: {cpu: 250m}
          limits: {memory: 128Mi}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80}
  - {name: https, port: 443}
---
apiVersion: v1
kind: Pod
metadata:
  name: once
  annotations: {skiff.dev/simulate-duration: "0s"}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 0
  containers:
  - {name: app, image: registry.example/batch:1}
`, "-n", "quota")
	s.MustKubectl("apply", "-n", "quota", "-f", crdFile("widget-a.yaml"))
	// The finished pod is still an object (count/pods) but uses no pod
	// slot; the best-effort quota counts only it while it runs.
	eventually(t, "usage counts the deployment's pods, the service's node ports and the widget", func() (bool, string) {
		if p := getPod(t, s, "quota", "once"); p.Status.Phase != corev1.PodSucceeded {
			return false, "pod once is " + string(p.Status.Phase)
		}
		if ok, msg := usedIs(quotaStatus(t, s, "compute"), "requests.cpu=500m", "limits.memory=256Mi"); !ok {
			return false, "compute: " + msg
		}
		return usedIs(quotaStatus(t, s, "objects"), "pods=2", "count/pods=3",
			"services=1", "services.nodeports=2", "count/deployments.apps=1", "count/widgets.yourco.io=1", "persistentvolumeclaims=0")
	})
	eventually(t, "best-effort quota counts no running pod", func() (bool, string) {
		return usedIs(quotaStatus(t, s, "besteffort"), "pods=0")
	})

	s.MustKubectl("-n", "quota", "scale", "deployment", "web", "--replicas=3")
	s.MustKubectl("-n", "quota", "run", "idle", "--image=registry.example/idle:1")
	eventually(t, "usage follows a scale-up and a best-effort pod", func() (bool, string) {
		if ok, msg := usedIs(quotaStatus(t, s, "besteffort"), "pods=1"); !ok {
			return false, "besteffort: " + msg
		}
		if ok, msg := usedIs(quotaStatus(t, s, "compute"), "requests.cpu=750m"); !ok {
			return false, "compute: " + msg
		}
		return usedIs(quotaStatus(t, s, "objects"), "pods=4")
	})

	s.MustKubectl("-n", "quota", "delete", "deployment", "web")
	s.MustKubectl("-n", "quota", "delete", "service", "web")
	s.MustKubectl("-n", "quota", "delete", "widget", "a")
	eventually(t, "usage drops as objects go", func() (bool, string) {
		if ok, msg := usedIs(quotaStatus(t, s, "compute"), "requests.cpu=0"); !ok {
			return false, "compute: " + msg
		}
		return usedIs(quotaStatus(t, s, "objects"), "pods=1", "count/pods=2", "services=0",
			"services.nodeports=0", "count/deployments.apps=0", "count/widgets.yourco.io=0")
	})

	// A raised limit shows in status.hard.
	s.MustKubectl("-n", "quota", "patch", "resourcequota", "besteffort", "--type=merge", "-p", `{"spec":{"hard":{"pods":"7"}}}`)
	eventually(t, "status.hard follows spec.hard", func() (bool, string) {
		st := quotaStatus(t, s, "besteffort")
		n, _ := strconv.Atoi(st.Hard.Pods().String())
		return n == 7, fmt.Sprintf("hard %v", st.Hard)
	})
}
