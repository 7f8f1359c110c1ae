package e2e

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The built-in admission plugins and the service account controller, seen
// from kubectl: what a user's objects look like once stored, and how a
// refusal reads.

// applyStdin runs `kubectl apply -f -` with manifest on stdin and fails the
// test if kubectl does.
func applyStdin(t *testing.T, s *Skiff, manifest string, args ...string) string {
	t.Helper()
	stdout, stderr, err := s.kubectl(kubectlRun{stdin: manifest}, append([]string{"apply", "-f", "-"}, args...)...)
	if err != nil {
		t.Fatalf("kubectl apply %v: %v\nstdout:\n%s\nstderr:\n%s\nmanifest:\n%s", args, err, stdout, stderr, manifest)
	}
	return stdout
}

func getPod(t *testing.T, s *Skiff, ns, name string) corev1.Pod {
	t.Helper()
	var pod corev1.Pod
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "pod", name, "-n", ns, "-o", "json")), &pod); err != nil {
		t.Fatal(err)
	}
	return pod
}

// TestAdmissionPodDefaults: a pod created by `kubectl run` right after its
// namespace gets the default account (which the controller makes as the
// namespace appears; admission waits for it), its token volume, the
// default NoExecute tolerations and priority 0.
func TestAdmissionPodDefaults(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "namespace", "fresh")
	s.MustKubectl("run", "web", "-n", "fresh", "--image=nginx:1.27")

	pod := getPod(t, s, "fresh", "web")
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("serviceAccountName %q serviceAccount %q, want default", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	if len(pod.Spec.Volumes) != 1 || !strings.HasPrefix(pod.Spec.Volumes[0].Name, "kube-api-access-") || len(pod.Spec.Volumes[0].Name) != len("kube-api-access-")+5 {
		t.Fatalf("volumes = %+v, want one kube-api-access-xxxxx", pod.Spec.Volumes)
	}
	vol := pod.Spec.Volumes[0]
	if p := vol.Projected; p == nil || len(p.Sources) != 3 || p.DefaultMode == nil || *p.DefaultMode != 0o644 ||
		p.Sources[0].ServiceAccountToken == nil || p.Sources[0].ServiceAccountToken.Path != "token" ||
		p.Sources[0].ServiceAccountToken.ExpirationSeconds == nil || *p.Sources[0].ServiceAccountToken.ExpirationSeconds != 3607 ||
		p.Sources[1].ConfigMap == nil || p.Sources[1].ConfigMap.Name != "kube-root-ca.crt" ||
		p.Sources[2].DownwardAPI == nil || len(p.Sources[2].DownwardAPI.Items) != 1 ||
		p.Sources[2].DownwardAPI.Items[0].FieldRef == nil || p.Sources[2].DownwardAPI.Items[0].FieldRef.FieldPath != "metadata.namespace" {
		b, _ := json.Marshal(vol)
		t.Errorf("token volume = %s", b)
	}
	if m := pod.Spec.Containers[0].VolumeMounts; len(m) != 1 || m[0].Name != vol.Name || !m[0].ReadOnly ||
		m[0].MountPath != "/var/run/secrets/kubernetes.io/serviceaccount" {
		t.Errorf("mounts = %+v", m)
	}
	var tolerations []string
	for _, tol := range pod.Spec.Tolerations {
		secs := int64(-1)
		if tol.TolerationSeconds != nil {
			secs = *tol.TolerationSeconds
		}
		tolerations = append(tolerations, string(tol.Key)+"/"+string(tol.Operator)+"/"+string(tol.Effect)+"/"+strconv.FormatInt(secs, 10))
	}
	if got, want := strings.Join(tolerations, " "), "node.kubernetes.io/not-ready/Exists/NoExecute/300 node.kubernetes.io/unreachable/Exists/NoExecute/300"; got != want {
		t.Errorf("tolerations = %s, want %s", got, want)
	}
	if pod.Spec.Priority == nil || *pod.Spec.Priority != 0 || pod.Spec.PreemptionPolicy == nil || *pod.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("priority %v preemptionPolicy %v, want 0 and PreemptLowerPriority", pod.Spec.Priority, pod.Spec.PreemptionPolicy)
	}

	// The account it names exists, and so does the CA its volume projects.
	s.MustKubectl("get", "serviceaccount", "default", "-n", "fresh")
	if ca := s.MustKubectl("get", "configmap", "kube-root-ca.crt", "-n", "fresh", "-o", `jsonpath={.data.ca\.crt}`); !strings.Contains(ca, "BEGIN CERTIFICATE") {
		t.Errorf("kube-root-ca.crt holds %q, want a PEM certificate", ca)
	}

	// A named account that does not exist is refused.
	_, stderr, err := s.Kubectl("run", "ghost", "-n", "fresh", "--image=nginx:1.27", "--overrides", `{"spec":{"serviceAccountName":"nobody"}}`)
	if err == nil || !strings.Contains(stderr, `pods "ghost" is forbidden: error looking up service account fresh/nobody`) {
		t.Errorf("a pod of a missing account: err %v, stderr %s", err, stderr)
	}
	// automountServiceAccountToken: false on the pod leaves the token out.
	s.MustKubectl("run", "quiet", "-n", "fresh", "--image=nginx:1.27", "--overrides", `{"spec":{"automountServiceAccountToken":false}}`)
	if quiet := getPod(t, s, "fresh", "quiet"); len(quiet.Spec.Volumes) != 0 || len(quiet.Spec.Containers[0].VolumeMounts) != 0 {
		t.Errorf("automount false: volumes %+v mounts %+v", quiet.Spec.Volumes, quiet.Spec.Containers[0].VolumeMounts)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestAdmissionServiceAccountControllerRestores: the default account and
// the root CA ConfigMap come back when deleted, and the ConfigMap's data
// when changed.
func TestAdmissionServiceAccountControllerRestores(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cs := s.ClientSet()
	ctx := context.Background()
	s.MustKubectl("create", "namespace", "team")

	uidOf := func(kind, name string) func() (types.UID, error) {
		return func() (types.UID, error) {
			var m metav1.Object
			var err error
			switch kind {
			case "sa":
				var sa *corev1.ServiceAccount
				sa, err = cs.CoreV1().ServiceAccounts("team").Get(ctx, name, metav1.GetOptions{})
				m = sa
			default:
				var cm *corev1.ConfigMap
				cm, err = cs.CoreV1().ConfigMaps("team").Get(ctx, name, metav1.GetOptions{})
				m = cm
			}
			if err != nil {
				return "", err
			}
			return m.GetUID(), nil
		}
	}
	waitExists := func(what string, get func() (types.UID, error), not types.UID) types.UID {
		t.Helper()
		var uid types.UID
		eventually(t, what, func() (bool, string) {
			u, err := get()
			if err != nil {
				return false, err.Error()
			}
			if u == not {
				return false, "still the deleted object " + string(u)
			}
			uid = u
			return true, ""
		})
		return uid
	}

	saUID := waitExists("default ServiceAccount created", uidOf("sa", "default"), "")
	cmUID := waitExists("kube-root-ca.crt created", uidOf("cm", "kube-root-ca.crt"), "")

	s.MustKubectl("delete", "serviceaccount", "default", "-n", "team")
	waitExists("default ServiceAccount re-created", uidOf("sa", "default"), saUID)
	s.MustKubectl("delete", "configmap", "kube-root-ca.crt", "-n", "team")
	waitExists("kube-root-ca.crt re-created", uidOf("cm", "kube-root-ca.crt"), cmUID)

	// Changed data is put back.
	s.MustKubectl("patch", "configmap", "kube-root-ca.crt", "-n", "team", "--type=merge", "-p", `{"data":{"ca.crt":"tampered","extra":"x"}}`)
	eventually(t, "kube-root-ca.crt data restored", func() (bool, string) {
		cm, err := cs.CoreV1().ConfigMaps("team").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		if len(cm.Data) != 1 || !strings.Contains(cm.Data["ca.crt"], "BEGIN CERTIFICATE") {
			return false, jsonString(cm.Data)
		}
		return true, ""
	})

	// A pod created just after the account was deleted is admitted: the
	// account is back by then, or admission waits for it.
	s.MustKubectl("delete", "serviceaccount", "default", "-n", "team")
	s.MustKubectl("run", "web", "-n", "team", "--image=nginx:1.27")
	if pod := getPod(t, s, "team", "web"); pod.Spec.ServiceAccountName != "default" {
		t.Errorf("serviceAccountName = %q", pod.Spec.ServiceAccountName)
	}
}

const limitRangeManifest = `apiVersion: v1
kind: LimitRange
metadata:
  name: limits
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 256Mi
    defaultRequest:
      cpu: 100m
      memory: 128Mi
    max:
      cpu: "1"
`

// TestAdmissionLimitRange: defaults from a LimitRange, and a pod over its
// max refused with upstream's message and not stored.
func TestAdmissionLimitRange(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, limitRangeManifest)

	s.MustKubectl("run", "web", "--image=nginx:1.27")
	pod := getPod(t, s, "default", "web")
	res := pod.Spec.Containers[0].Resources
	if got := jsonString(res); got != `{"limits":{"cpu":"500m","memory":"256Mi"},"requests":{"cpu":"100m","memory":"128Mi"}}` {
		t.Errorf("resources = %s", got)
	}
	if got, want := pod.Annotations["kubernetes.io/limit-ranger"], "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web"; got != want {
		t.Errorf("annotation = %q, want %q", got, want)
	}

	_, stderr, err := s.Kubectl("run", "big", "--image=nginx:1.27", "--overrides", `{"spec":{"containers":[{"name":"big","image":"nginx:1.27","resources":{"limits":{"cpu":"2"}}}]}}`)
	if err == nil || !strings.Contains(stderr, `pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2`) {
		t.Errorf("a pod over the max: err %v, stderr %s", err, stderr)
	}
	if _, stderr, err := s.Kubectl("get", "pod", "big"); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("the refused pod was stored: err %v, stderr %s", err, stderr)
	}
}

// TestAdmissionResourceQuota: a count quota and a compute quota.
func TestAdmissionResourceQuota(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "namespace", "counted")
	s.MustKubectl("create", "quota", "pods", "-n", "counted", "--hard=pods=1")
	s.MustKubectl("run", "first", "-n", "counted", "--image=nginx:1.27")
	_, stderr, err := s.Kubectl("run", "second", "-n", "counted", "--image=nginx:1.27")
	if err == nil || !strings.Contains(stderr, `pods "second" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1`) {
		t.Errorf("a second pod under pods=1: err %v, stderr %s", err, stderr)
	}
	// Updating the pod that is there is not a second pod.
	s.MustKubectl("label", "pod", "first", "-n", "counted", "tier=web")
	// Deleting it makes room.
	s.MustKubectl("delete", "pod", "first", "-n", "counted", "--wait=false")
	eventually(t, "room for a pod after the delete", func() (bool, string) {
		_, stderr, err := s.Kubectl("run", "second", "-n", "counted", "--image=nginx:1.27")
		return err == nil, stderr
	})

	s.MustKubectl("create", "namespace", "compute")
	s.MustKubectl("create", "quota", "cpu", "-n", "compute", "--hard=requests.cpu=1,limits.cpu=2")
	_, stderr, err = s.Kubectl("run", "bare", "-n", "compute", "--image=nginx:1.27")
	if err == nil || !strings.Contains(stderr, `pods "bare" is forbidden: failed quota: cpu: must specify limits.cpu for: bare; requests.cpu for: bare`) {
		t.Errorf("a pod without requests under a cpu quota: err %v, stderr %s", err, stderr)
	}
	withCPU := func(cpu string) string {
		return `{"spec":{"containers":[{"name":"c","image":"nginx:1.27","resources":{"requests":{"cpu":"` + cpu + `"},"limits":{"cpu":"` + cpu + `"}}}]}}`
	}
	s.MustKubectl("run", "small", "-n", "compute", "--image=nginx:1.27", "--overrides", withCPU("600m"))
	_, stderr, err = s.Kubectl("run", "large", "-n", "compute", "--image=nginx:1.27", "--overrides", withCPU("500m"))
	if err == nil || !strings.Contains(stderr, `pods "large" is forbidden: exceeded quota: cpu, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1`) {
		t.Errorf("a pod over requests.cpu: err %v, stderr %s", err, stderr)
	}
}

// TestAdmissionPriorityClass: a global default class is given to new pods;
// a second global default is refused.
func TestAdmissionPriorityClass(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	applyStdin(t, s, `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: standard
value: 1000
globalDefault: true
`)
	s.MustKubectl("run", "web", "--image=nginx:1.27")
	pod := getPod(t, s, "default", "web")
	if pod.Spec.PriorityClassName != "standard" || pod.Spec.Priority == nil || *pod.Spec.Priority != 1000 {
		t.Errorf("priorityClassName %q priority %v, want standard 1000", pod.Spec.PriorityClassName, pod.Spec.Priority)
	}
	_, stderr, err := s.kubectl(kubectlRun{stdin: `apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata:
  name: another
value: 5
globalDefault: true
`}, "apply", "-f", "-")
	if err == nil || !strings.Contains(stderr, `PriorityClass standard is already marked as default. Only one default can exist`) {
		t.Errorf("a second global default: err %v, stderr %s", err, stderr)
	}
	_, stderr, err = s.Kubectl("run", "odd", "--image=nginx:1.27", "--overrides", `{"spec":{"priorityClassName":"missing"}}`)
	if err == nil || !strings.Contains(stderr, `pods "odd" is forbidden: no PriorityClass with name missing was found`) {
		t.Errorf("an unknown class: err %v, stderr %s", err, stderr)
	}
}

// TestAdmissionDefaultClasses: default StorageClass and IngressClass, the
// claim protection finalizer and the new node's not-ready taint.
func TestAdmissionDefaultClasses(t *testing.T) {
	t.Parallel()
	// Without the built-in local-path class, the default made here is the
	// only one (created in the same second, local-path would win by name);
	// without the node lifecycle controller, which lifts the not-ready
	// taint of a node with no conditions at once (as upstream's
	// TaintNodesByCondition does), what admission gave the node stays.
	s := startSkiff(t, "--controllers", "*,-local-path-provisioner,-nodelifecycle")
	applyStdin(t, s, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: example.com/csi
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations:
    ingressclass.kubernetes.io/is-default-class: "true"
spec:
  controller: k8s.io/ingress-nginx
`)
	applyStdin(t, s, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: classless
spec:
  storageClassName: ""
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: 80
---
apiVersion: v1
kind: Node
metadata:
  name: worker-1
`)
	if got := s.MustKubectl("get", "pvc", "data", "-o", "jsonpath={.spec.storageClassName}|{.metadata.finalizers}"); got != `standard|["kubernetes.io/pvc-protection"]` {
		t.Errorf("pvc data: class|finalizers = %s", got)
	}
	if got := s.MustKubectl("get", "pvc", "classless", "-o", "jsonpath={.spec.storageClassName}"); got != "" {
		t.Errorf(`pvc with storageClassName "" got class %q`, got)
	}
	if got := s.MustKubectl("get", "ingress", "web", "-o", "jsonpath={.spec.ingressClassName}"); got != "nginx" {
		t.Errorf("ingressClassName = %q, want nginx", got)
	}
	if got := s.MustKubectl("get", "node", "worker-1", "-o", `jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}`); strings.TrimSpace(got) != "node.kubernetes.io/not-ready:NoSchedule" {
		t.Errorf("node taints = %q, want node.kubernetes.io/not-ready:NoSchedule", got)
	}
}
