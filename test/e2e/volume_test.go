package e2e

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Persistent volumes on `skiff up`: the built-in local-path StorageClass
// (WaitForFirstConsumer: a claim waits for a pod, the scheduler picks the
// node, the provisioner makes a volume there, the binder binds it), and
// static volumes bound by size, class and selector and kept by Retain.
func TestVolumes(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, "--nodes", "2")

	if got := s.MustKubectl("get", "storageclass"); !strings.Contains(got, "local-path (default)") ||
		!strings.Contains(got, "rancher.io/local-path") || !strings.Contains(got, "WaitForFirstConsumer") {
		t.Errorf("kubectl get storageclass:\n%s", got)
	}

	// Static first: it needs no node, and the nodes get Ready meanwhile.
	t.Run("static", func(t *testing.T) { testStaticVolumes(t, s) })
	t.Run("local-path", func(t *testing.T) { testLocalPath(t, s) })
	t.Run("static-wait-for-first-consumer", func(t *testing.T) { testStaticLocal(t, s) })
}

func getClaim(t *testing.T, s *Skiff, name string) corev1.PersistentVolumeClaim {
	t.Helper()
	var c corev1.PersistentVolumeClaim
	getJSON(t, s, &c, "pvc", name)
	return c
}

func getVolume(t *testing.T, s *Skiff, name string) corev1.PersistentVolume {
	t.Helper()
	var v corev1.PersistentVolume
	getJSON(t, s, &v, "pv", name)
	return v
}

// eventReasons lists the reasons of the Events about the named object.
func eventReasons(t *testing.T, s *Skiff, name string) string {
	t.Helper()
	return s.MustKubectl("get", "events", "--field-selector", "involvedObject.name="+name, "-o", "jsonpath={.items[*].reason}")
}

func testLocalPath(t *testing.T, s *Skiff) {
	applyStdin(t, s, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
`)
	// The binder looked at it and decided to wait for a consumer.
	eventually(t, "claim data waits for its first consumer", func() (bool, string) {
		reasons := eventReasons(t, s, "data")
		return strings.Contains(reasons, "WaitForFirstConsumer"), reasons
	})
	c := getClaim(t, s, "data")
	if c.Spec.StorageClassName == nil || *c.Spec.StorageClassName != "local-path" || c.Status.Phase != corev1.ClaimPending || c.Spec.VolumeName != "" {
		t.Fatalf("claim before a pod uses it: class %v, phase %s, volume %q", c.Spec.StorageClassName, c.Status.Phase, c.Spec.VolumeName)
	}
	want := "pvc-" + string(c.UID)
	if _, stderr, err := s.Kubectl("get", "pv", want); err == nil || !strings.Contains(stderr, "NotFound") {
		t.Fatalf("volume %s exists before a pod uses the claim (%v, %s)", want, err, stderr)
	}

	applyStdin(t, s, `apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  terminationGracePeriodSeconds: 0
  tolerations:
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}
  containers:
  - name: app
    image: registry.example/app:1
    volumeMounts:
    - {name: data, mountPath: /data}
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: data
`)
	var pod corev1.Pod
	eventually(t, "pod app running", func() (bool, string) {
		getJSON(t, s, &pod, "pod", "app")
		return pod.Status.Phase == corev1.PodRunning, fmt.Sprintf("%s on %q", pod.Status.Phase, pod.Spec.NodeName)
	})
	node := pod.Spec.NodeName
	c = getClaim(t, s, "data")
	if c.Status.Phase != corev1.ClaimBound || c.Spec.VolumeName != want ||
		c.Annotations["volume.kubernetes.io/selected-node"] != node ||
		c.Annotations["volume.kubernetes.io/storage-provisioner"] != "rancher.io/local-path" ||
		c.Annotations["pv.kubernetes.io/bind-completed"] != "yes" {
		t.Errorf("claim once its pod runs: phase %s, volume %q (want %q), annotations %v", c.Status.Phase, c.Spec.VolumeName, want, c.Annotations)
	}
	if q := c.Status.Capacity[corev1.ResourceStorage]; q.String() != "1Gi" {
		t.Errorf("claim capacity = %s", q.String())
	}
	v := getVolume(t, s, want)
	terms := v.Spec.NodeAffinity.Required.NodeSelectorTerms
	if v.Status.Phase != corev1.VolumeBound || v.Spec.ClaimRef == nil || v.Spec.ClaimRef.UID != c.UID ||
		v.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete || v.Spec.StorageClassName != "local-path" ||
		v.Annotations["pv.kubernetes.io/provisioned-by"] != "rancher.io/local-path" ||
		len(terms) != 1 || len(terms[0].MatchExpressions) != 1 || terms[0].MatchExpressions[0].Values[0] != node ||
		v.Spec.HostPath == nil || v.Spec.HostPath.Path != "/var/lib/skiff/storage/"+want+"_default_data" {
		t.Errorf("provisioned volume: %+v\nstatus %+v", v.Spec, v.Status)
	}
	if reasons := eventReasons(t, s, "data"); !strings.Contains(reasons, "ProvisioningSucceeded") || !strings.Contains(reasons, "ExternalProvisioning") {
		t.Errorf("claim events: %s", reasons)
	}

	// The claim outlives its pod's deletion only until the pod is gone;
	// its volume (reclaimPolicy Delete) goes with it.
	s.MustKubectl("delete", "pod", "app", "--wait=false")
	s.MustKubectl("delete", "pvc", "data", "--timeout=60s")
	eventually(t, "volume "+want+" deleted", func() (bool, string) {
		out, stderr, err := s.Kubectl("get", "pv", want, "-o", "jsonpath={.status.phase}")
		return err != nil && strings.Contains(stderr, "NotFound"), out + stderr
	})
}

func testStaticVolumes(t *testing.T, s *Skiff) {
	var b strings.Builder
	for _, v := range []struct{ name, size, tier string }{
		{"pv-small", "1Gi", "gold"}, {"pv-silver", "2Gi", "silver"}, {"pv-fit", "3Gi", "gold"}, {"pv-big", "10Gi", "gold"},
	} {
		fmt.Fprintf(&b, `apiVersion: v1
kind: PersistentVolume
metadata:
  name: %s
  labels: {tier: %s}
spec:
  capacity: {storage: %s}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath: {path: /tmp/%[1]s}
---
`, v.name, v.tier, v.size)
	}
	applyStdin(t, s, b.String())
	eventually(t, "static volumes available", func() (bool, string) {
		out := s.MustKubectl("get", "pv", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}`)
		return strings.Count(out, "=Available") == 4, out
	})
	applyStdin(t, s, `apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: static
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  selector:
    matchLabels: {tier: gold}
  resources:
    requests:
      storage: 2Gi
`)
	// The smallest gold volume of at least 2Gi.
	eventually(t, "claim static bound", func() (bool, string) {
		c := getClaim(t, s, "static")
		return c.Status.Phase == corev1.ClaimBound, fmt.Sprintf("%s %q", c.Status.Phase, c.Spec.VolumeName)
	})
	c := getClaim(t, s, "static")
	if q := c.Status.Capacity[corev1.ResourceStorage]; c.Spec.VolumeName != "pv-fit" || q.String() != "3Gi" {
		t.Errorf("claim static bound to %q with capacity %s, want pv-fit 3Gi", c.Spec.VolumeName, q.String())
	}
	v := getVolume(t, s, "pv-fit")
	if v.Status.Phase != corev1.VolumeBound || v.Spec.ClaimRef == nil || v.Spec.ClaimRef.UID != c.UID || v.Annotations["pv.kubernetes.io/bound-by-controller"] != "yes" {
		t.Errorf("pv-fit: phase %s, claimRef %+v, annotations %v", v.Status.Phase, v.Spec.ClaimRef, v.Annotations)
	}

	s.MustKubectl("delete", "pvc", "static", "--timeout=60s")
	eventually(t, "pv-fit released", func() (bool, string) {
		v := getVolume(t, s, "pv-fit")
		return v.Status.Phase == corev1.VolumeReleased, string(v.Status.Phase)
	})
	if v := getVolume(t, s, "pv-fit"); v.Spec.ClaimRef == nil || v.Spec.ClaimRef.Name != "static" {
		t.Errorf("a Retained volume keeps its claimRef: %+v", v.Spec.ClaimRef)
	}
	out := s.MustKubectl("get", "pv", "-o", `jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}`)
	if strings.TrimSpace(out) != "pv-big=Available pv-fit=Released pv-silver=Available pv-small=Available" {
		t.Errorf("volumes at the end: %s", out)
	}
}

// A class without a provisioner and a local volume on the second node:
// the scheduler puts the claim's pod where the volume is, and the binder
// binds the claim to it once the node is selected.
func testStaticLocal(t *testing.T, s *Skiff) {
	applyStdin(t, s, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-storage
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-1
spec:
  capacity: {storage: 5Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local-storage
  local: {path: /mnt/disks/ssd1}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [skiff-node-1]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: local
spec:
  storageClassName: local-storage
  accessModes: [ReadWriteOnce]
  resources:
    requests:
      storage: 1Gi
---
apiVersion: v1
kind: Pod
metadata:
  name: db
spec:
  terminationGracePeriodSeconds: 0
  tolerations:
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}
  containers:
  - name: db
    image: registry.example/db:1
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: local
`)
	var pod corev1.Pod
	eventually(t, "pod db running", func() (bool, string) {
		getJSON(t, s, &pod, "pod", "db")
		return pod.Status.Phase == corev1.PodRunning, fmt.Sprintf("%s on %q", pod.Status.Phase, pod.Spec.NodeName)
	})
	c := getClaim(t, s, "local")
	if pod.Spec.NodeName != "skiff-node-1" || c.Status.Phase != corev1.ClaimBound || c.Spec.VolumeName != "local-1" {
		t.Errorf("pod on %q; claim %s bound to %q; want skiff-node-1, Bound, local-1", pod.Spec.NodeName, c.Status.Phase, c.Spec.VolumeName)
	}
}
