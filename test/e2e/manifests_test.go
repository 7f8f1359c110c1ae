package e2e

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// The manifest corpus (testdata/manifests) is what users apply: valid/ holds
// realistic manifests of every served kind, golden/ what skiff stores for
// each (normalized), invalid/ manifests skiff must reject, each headed by the
// errors it must report:
//
//	# expect: spec.template.metadata.labels: Invalid value
//	# base: base/deploy-web.yaml   (optional: apply this first; the case is an update)
//
// Every "# expect:" line must appear in kubectl's stderr. Regenerate the
// goldens with `go test ./test/e2e -run TestManifestCorpus -update` and review
// them as a diff against the Kubernetes API reference.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ instead of comparing with them")

const (
	manifestDir     = "testdata/manifests"
	corpusNamespace = "corpus" // valid/ manifests refer to it (RBAC subjects, event objects)
	invalidNS       = "invalid"
)

// apiOnly are the flags of a skiff that stores what it is given and
// nothing more: no nodes, no scheduler, and of the controllers only those
// admission depends on (default service accounts), so that the API's own
// semantics (defaults, goldens, no-op writes) are what the tests see.
var apiOnly = []string{"--nodes", "0", "--disable-scheduler", "--controllers", "namespace,serviceaccount"}

func TestManifestCorpus(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, apiOnly...)
	s.MustKubectl("create", "namespace", corpusNamespace)
	s.MustKubectl("create", "namespace", invalidNS)

	valid := manifestFiles(t, filepath.Join(manifestDir, "valid"))
	if len(valid) < 60 {
		t.Errorf("valid corpus has %d manifests, want at least 60", len(valid))
	}
	// Accounts first, as Helm's install order has them: the ServiceAccount
	// admission plugin refuses a pod whose account does not exist yet.
	s.MustKubectl("apply", "-n", corpusNamespace, "-f", filepath.Join(manifestDir, "valid", "sa-with-pull-secrets.yaml"))
	// One kubectl run for the whole directory; a manifest it could not apply
	// is reported here and shows up as NotFound in its subtest.
	if _, stderr, err := s.Kubectl("apply", "-n", corpusNamespace, "-f", filepath.Join(manifestDir, "valid")); err != nil {
		t.Errorf("kubectl apply -f valid/: %v\n%s", err, stderr)
	}

	t.Run("valid", func(t *testing.T) {
		for _, path := range valid {
			t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
				t.Parallel()
				checkGolden(t, s, path)
			})
		}
	})

	t.Run("defaults", func(t *testing.T) { checkUpstreamDefaults(t, s) })

	invalid := manifestFiles(t, filepath.Join(manifestDir, "invalid"))
	if len(invalid) < 60 {
		t.Errorf("invalid corpus has %d manifests, want at least 60", len(invalid))
	}
	t.Run("invalid", func(t *testing.T) {
		for _, path := range invalid {
			t.Run(strings.TrimSuffix(filepath.Base(path), ".yaml"), func(t *testing.T) {
				t.Parallel()
				checkRejected(t, s, path)
			})
		}
	})
}

// checkGolden reads back every object of the manifest at path and compares
// the normalized objects with golden/<name>.json.
func checkGolden(t *testing.T, s *Skiff, path string) {
	objs := getObjects(t, s, corpusNamespace, path)
	if objs == nil {
		return
	}
	var golden any = objs
	if len(objs) == 1 {
		golden = objs[0]
	}
	got, err := json.MarshalIndent(golden, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	goldenPath := filepath.Join(manifestDir, "golden", strings.TrimSuffix(filepath.Base(path), ".yaml")+".json")
	if *update {
		if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("stored objects differ from %s (run with -update and review the diff):\n%s", goldenPath, lineDiff(string(want), string(got)))
	}
}

// getObjects runs `kubectl get -f path -o json` and returns the normalized
// objects in manifest order; it reports an error and returns nil when kubectl
// fails.
func getObjects(t *testing.T, s *Skiff, ns, path string) []map[string]any {
	t.Helper()
	stdout, stderr, err := s.Kubectl("get", "-n", ns, "-f", path, "-o", "json", "--show-managed-fields")
	if err != nil {
		t.Errorf("kubectl get -f %s: %v\n%s", path, err, stderr)
		return nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(stdout), &obj); err != nil {
		t.Fatalf("kubectl get -f %s printed no JSON object: %v\n%s", path, err, stdout)
	}
	var objs []map[string]any
	if obj["kind"] == "List" {
		items, _ := obj["items"].([]any)
		for _, it := range items {
			m, _ := it.(map[string]any)
			objs = append(objs, m)
		}
	} else {
		objs = []map[string]any{obj}
	}
	for i := range objs {
		objs[i] = normalize(objs[i])
	}
	return objs
}

var generatedTokenVolume = regexp.MustCompile(`kube-api-access-[a-z0-9]{5}`)

// normalize replaces what differs between runs: identity, versions,
// timestamps, the namespace, generated names and anything derived from the
// uid. The last-applied annotation is kubectl's copy of the input, not
// something the server decided, so it is dropped.
func normalize(obj map[string]any) map[string]any {
	meta, _ := obj["metadata"].(map[string]any)
	uid, _ := meta["uid"].(string)
	for _, k := range []string{"uid", "resourceVersion", "creationTimestamp"} {
		if _, ok := meta[k]; ok {
			meta[k] = "<" + k + ">"
		}
	}
	if _, ok := meta["namespace"]; ok {
		meta["namespace"] = "<namespace>"
	}
	if ann, ok := meta["annotations"].(map[string]any); ok {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		if len(ann) == 0 {
			delete(meta, "annotations")
		}
	}
	if mfs, ok := meta["managedFields"].([]any); ok {
		for _, mf := range mfs {
			if m, ok := mf.(map[string]any); ok {
				if _, ok := m["time"]; ok {
					m["time"] = "<time>"
				}
			}
		}
	}
	if obj["kind"] == "Service" {
		normalizeAllocations(obj)
	}
	if status, ok := obj["status"].(map[string]any); ok {
		if _, ok := status["lastPhaseTransitionTime"]; ok {
			status["lastPhaseTransitionTime"] = "<time>"
		}
	}
	if obj["type"] == "kubernetes.io/service-account-token" {
		if data, ok := obj["data"].(map[string]any); ok {
			for k := range data {
				data[k] = "<" + k + ">"
			}
		}
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				v[k] = walk(e)
			}
		case []any:
			for i, e := range v {
				v[i] = walk(e)
			}
		case string:
			if uid != "" {
				v = strings.ReplaceAll(v, uid, "<uid>")
			}
			return generatedTokenVolume.ReplaceAllString(v, "kube-api-access-<generated>")
		}
		return v
	}
	return walk(obj).(map[string]any)
}

// upstreamDefaults are what Kubernetes stores for corpus manifests, checked
// field by field so that a wrong default cannot hide in a regenerated golden.
// file is a valid/ manifest, index the object in it, path a dotted field path
// with [i] list indices, want the JSON of the expected value.
var upstreamDefaults = []struct {
	file       string
	index      int
	path, want string
}{
	// Deployment (SetDefaults_Deployment, SetDefaults_PodSpec, SetDefaults_Container).
	{"deploy-web-frontend", 0, "spec.strategy", `{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"},"type":"RollingUpdate"}`},
	{"deploy-web-frontend", 0, "spec.revisionHistoryLimit", `10`},
	{"deploy-web-frontend", 0, "spec.progressDeadlineSeconds", `600`},
	{"deploy-web-frontend", 0, "spec.template.spec.restartPolicy", `"Always"`},
	{"deploy-web-frontend", 0, "spec.template.spec.dnsPolicy", `"ClusterFirst"`},
	{"deploy-web-frontend", 0, "spec.template.spec.schedulerName", `"default-scheduler"`},
	{"deploy-web-frontend", 0, "spec.template.spec.terminationGracePeriodSeconds", `30`},
	{"deploy-web-frontend", 0, "spec.template.spec.securityContext", `{}`},
	{"deploy-web-frontend", 0, "spec.template.spec.containers[0].terminationMessagePath", `"/dev/termination-log"`},
	{"deploy-web-frontend", 0, "spec.template.spec.containers[0].terminationMessagePolicy", `"File"`},
	{"deploy-web-frontend", 0, "spec.template.spec.containers[0].imagePullPolicy", `"IfNotPresent"`},
	{"deploy-web-frontend", 0, "spec.template.spec.containers[0].ports[0].protocol", `"TCP"`},
	{"deploy-web-frontend", 0, "spec.template.spec.containers[0].livenessProbe", `{"failureThreshold":3,"httpGet":{"path":"/healthz","port":3000,"scheme":"HTTP"},"initialDelaySeconds":10,"periodSeconds":10,"successThreshold":1,"timeoutSeconds":1}`},
	{"deploy-web-frontend", 0, "spec.template.spec.volumes[0].configMap.defaultMode", `420`},
	{"deploy-latest-image", 0, "spec.template.spec.containers[0].imagePullPolicy", `"Always"`},
	{"pod-static-debug", 0, "spec.containers[0].imagePullPolicy", `"Always"`}, // untagged image
	{"deploy-volume-default-emptydir", 0, "spec.template.spec.volumes[0]", `{"emptyDir":{},"name":"cache"}`},
	// gRPC probes: GRPCAction.service is `+default=""`.
	{"deploy-api-rolling", 0, "spec.template.spec.containers[0].readinessProbe.grpc", `{"port":9000,"service":""}`},
	{"ds-log-agent", 0, "spec.updateStrategy", `{"rollingUpdate":{"maxSurge":0,"maxUnavailable":1},"type":"RollingUpdate"}`},
	{"ds-log-agent", 0, "spec.revisionHistoryLimit", `10`},
	{"ds-log-agent", 0, "spec.template.spec.volumes[0].hostPath.type", `""`},
	{"rs-standalone", 0, "spec.template.spec.containers[0].ports[0].protocol", `"TCP"`},
	// Job and CronJob (SetDefaults_Job, SetDefaults_CronJob).
	{"job-simple", 0, "spec.backoffLimit", `6`},
	{"job-simple", 0, "spec.completions", `1`},
	{"job-simple", 0, "spec.parallelism", `1`},
	{"job-simple", 0, "spec.completionMode", `"NonIndexed"`},
	{"job-simple", 0, "spec.suspend", `false`},
	{"job-simple", 0, "spec.podReplacementPolicy", `"TerminatingOrFailed"`},
	{"job-simple", 0, "spec.selector", `{"matchLabels":{"batch.kubernetes.io/controller-uid":"<uid>"}}`},
	{"job-indexed", 0, "spec.backoffLimit", `2147483647`}, // backoffLimitPerIndex set
	{"job-pod-failure-policy", 0, "spec.podReplacementPolicy", `"Failed"`},
	{"job-pod-failure-policy", 0, "spec.podFailurePolicy.rules[1].onPodConditions[0].status", `"True"`},
	{"cronjob-defaults", 0, "spec.concurrencyPolicy", `"Allow"`},
	{"cronjob-defaults", 0, "spec.successfulJobsHistoryLimit", `3`},
	{"cronjob-defaults", 0, "spec.failedJobsHistoryLimit", `1`},
	{"cronjob-defaults", 0, "spec.suspend", `false`},
	// Others.
	{"hpa-defaults", 0, "spec.minReplicas", `1`},
	{"hpa-defaults", 0, "spec.metrics", `[{"resource":{"name":"cpu","target":{"averageUtilization":80,"type":"Utilization"}},"type":"Resource"}]`},
	{"hpa-custom-behavior", 0, "spec.behavior.scaleDown.selectPolicy", `"Max"`},
	{"hpa-custom-behavior", 0, "spec.behavior.scaleUp.stabilizationWindowSeconds", `0`},
	{"netpol-allow-from-namespace", 0, "spec.policyTypes", `["Ingress"]`},
	{"netpol-allow-from-namespace", 0, "spec.ingress[0].ports[1].protocol", `"TCP"`},
	{"pc-business-critical", 0, "preemptionPolicy", `"PreemptLowerPriority"`},
	{"storageclass-defaults", 0, "reclaimPolicy", `"Delete"`},
	{"storageclass-defaults", 0, "volumeBindingMode", `"Immediate"`},
	{"csidriver-defaults", 0, "spec.attachRequired", `true`},
	{"csidriver-defaults", 0, "spec.fsGroupPolicy", `"ReadWriteOnceWithFSType"`},
	{"secret-opaque", 0, "data.username", `"c2hvcA=="`}, // stringData merged into data
	{"namespace-team", 0, "spec.finalizers", `["kubernetes"]`},
	{"namespace-team", 0, "metadata.labels[kubernetes.io/metadata.name]", `"corpus-team-payments"`},
	{"pod-burstable-guaranteed", 1, "spec.containers[0].resources.requests", `{"cpu":"200m","memory":"128Mi"}`},
	{"pod-burstable-guaranteed", 1, "status.qosClass", `"Guaranteed"`},
	{"pod-burstable-guaranteed", 0, "spec.enableServiceLinks", `true`},
	// Admission plugins upstream enables by default. ServiceAccount: the
	// default account (in both spellings), the projected token volume, or
	// with automounting off only the account's image pull secrets.
	{"pod-static-debug", 0, "spec.serviceAccountName", `"default"`},
	{"pod-static-debug", 0, "spec.serviceAccount", `"default"`},
	{"pod-static-debug", 0, "spec.containers[0].volumeMounts[0].mountPath", `"/var/run/secrets/kubernetes.io/serviceaccount"`},
	{"pod-static-debug", 0, "spec.volumes[0].projected.defaultMode", `420`},
	{"pod-static-debug", 0, "spec.volumes[0].projected.sources[0].serviceAccountToken", `{"expirationSeconds":3607,"path":"token"}`},
	{"pod-static-debug", 0, "spec.volumes[0].projected.sources[1].configMap.name", `"kube-root-ca.crt"`},
	{"pod-projected-volumes", 0, "spec.imagePullSecrets", `[{"name":"registry-pull"}]`},
	// Priority and DefaultTolerationSeconds.
	{"pod-static-debug", 0, "spec.priority", `0`},
	{"pod-static-debug", 0, "spec.preemptionPolicy", `"PreemptLowerPriority"`},
	{"pod-init-sidecar", 0, "spec.priority", `100000`},
	{"pod-static-debug", 0, "spec.tolerations", `[{"effect":"NoExecute","key":"node.kubernetes.io/not-ready","operator":"Exists","tolerationSeconds":300},{"effect":"NoExecute","key":"node.kubernetes.io/unreachable","operator":"Exists","tolerationSeconds":300}]`},
	// StorageObjectInUseProtection and TaintNodesByCondition.
	{"pvc-data", 0, "metadata.finalizers", `["kubernetes.io/pvc-protection"]`},
	{"pv-local", 0, "metadata.finalizers", `["kubernetes.io/pv-protection"]`},
	{"node-worker", 0, "spec.taints[1]", `{"effect":"NoSchedule","key":"node.kubernetes.io/not-ready"}`},
	// Volume, Service and webhook defaults.
	{"pv-local", 0, "spec.persistentVolumeReclaimPolicy", `"Retain"`},
	{"pv-local", 0, "spec.volumeMode", `"Filesystem"`},
	{"pvc-data", 0, "spec.volumeMode", `"Filesystem"`},
	{"pvc-data", 0, "status.phase", `"Pending"`},
	{"svc-web-clusterip", 0, "spec.type", `"ClusterIP"`},
	{"svc-web-clusterip", 0, "spec.sessionAffinity", `"None"`},
	{"svc-web-clusterip", 0, "spec.ipFamilies", `["IPv4"]`},
	{"svc-web-clusterip", 0, "spec.ipFamilyPolicy", `"SingleStack"`},
	{"svc-web-clusterip", 0, "spec.internalTrafficPolicy", `"Cluster"`},
	{"svc-web-clusterip", 0, "spec.ports[0].protocol", `"TCP"`},
	{"svc-loadbalancer-local", 0, "spec.allocateLoadBalancerNodePorts", `true`},
	{"svc-nodeport", 0, "spec.externalTrafficPolicy", `"Cluster"`},
	{"webhook-mutating", 0, "webhooks[0].matchPolicy", `"Equivalent"`},
	{"webhook-mutating", 0, "webhooks[0].namespaceSelector", `{}`},
	{"webhook-mutating", 0, "webhooks[0].reinvocationPolicy", `"Never"`},
	{"webhook-mutating", 0, "webhooks[0].timeoutSeconds", `10`},
	// kubectl apply (client-side) records its field manager.
	{"cm-app-config", 0, "metadata.managedFields[0].manager", `"kubectl-client-side-apply"`},
	{"cm-app-config", 0, "metadata.managedFields[0].operation", `"Update"`},
}

func checkUpstreamDefaults(t *testing.T, s *Skiff) {
	objects := map[string][]map[string]any{}
	for _, d := range upstreamDefaults {
		objs, ok := objects[d.file]
		if !ok {
			objs = getObjects(t, s, corpusNamespace, filepath.Join(manifestDir, "valid", d.file+".yaml"))
			objects[d.file] = objs
		}
		if d.index >= len(objs) {
			continue // getObjects reported it
		}
		got, ok := fieldAt(objs[d.index], d.path)
		gotJSON, _ := json.Marshal(got)
		var want any
		if err := json.Unmarshal([]byte(d.want), &want); err != nil {
			t.Fatalf("%s %s: bad want %s: %v", d.file, d.path, d.want, err)
		}
		wantJSON, _ := json.Marshal(want)
		if !ok {
			t.Errorf("%s[%d] %s: not set, want %s", d.file, d.index, d.path, wantJSON)
		} else if !bytes.Equal(gotJSON, wantJSON) {
			t.Errorf("%s[%d] %s = %s, want %s", d.file, d.index, d.path, gotJSON, wantJSON)
		}
	}
}

// fieldAt follows a path like "spec.containers[0].ports" or
// "metadata.labels[app]" through decoded JSON.
func fieldAt(v any, path string) (any, bool) {
	for _, part := range splitPath(path) {
		name, rest, _ := strings.Cut(part, "[")
		if name != "" {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[name]; !ok {
				return nil, false
			}
		}
		for rest != "" {
			key, after, _ := strings.Cut(rest, "]")
			rest = strings.TrimPrefix(after, "[")
			switch c := v.(type) {
			case []any:
				var i int
				if _, err := fmt.Sscanf(key, "%d", &i); err != nil || i < 0 || i >= len(c) {
					return nil, false
				}
				v = c[i]
			case map[string]any:
				var ok bool
				if v, ok = c[key]; !ok {
					return nil, false
				}
			default:
				return nil, false
			}
		}
	}
	return v, true
}

// splitPath splits at dots outside brackets: "a.b[x.y].c" → a, b[x.y], c.
func splitPath(path string) []string {
	var parts []string
	depth, start := 0, 0
	for i, r := range path {
		switch {
		case r == '[':
			depth++
		case r == ']':
			depth--
		case r == '.' && depth == 0:
			parts = append(parts, path[start:i])
			start = i + 1
		}
	}
	return append(parts, path[start:])
}

// invalidCase is the header of an invalid/ manifest.
type invalidCase struct {
	expect []string // substrings kubectl's stderr must contain
	base   string   // manifest applied first; empty for a create
}

func parseInvalidCase(t *testing.T, path string) invalidCase {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c invalidCase
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "# expect:"); ok {
			c.expect = append(c.expect, strings.TrimSpace(v))
		}
		if v, ok := strings.CutPrefix(line, "# base:"); ok {
			c.base = filepath.Join(filepath.Dir(path), strings.TrimSpace(v))
		}
	}
	if len(c.expect) == 0 {
		t.Fatalf("%s has no '# expect:' line", path)
	}
	return c
}

// checkRejected applies an invalid manifest and asserts kubectl fails with
// the expected errors and that nothing was stored (or, for an update, that
// the stored object is unchanged).
func checkRejected(t *testing.T, s *Skiff, path string) {
	c := parseInvalidCase(t, path)
	var before []map[string]any
	var rvBefore string
	if c.base != "" {
		mustKubectl(t, s, "apply", "-n", invalidNS, "-f", c.base)
		if before = getObjects(t, s, invalidNS, c.base); before == nil {
			return
		}
		rvBefore = resourceVersions(t, s, invalidNS, c.base)
	}

	stdout, stderr, err := s.Kubectl("apply", "-n", invalidNS, "-f", path)
	if err == nil {
		t.Errorf("kubectl apply -f %s succeeded, want it rejected with %q\nstdout:\n%s", path, c.expect, stdout)
	} else {
		if exitCode(err) <= 0 {
			t.Errorf("kubectl apply -f %s: %v, want a non-zero exit", path, err)
		}
		for _, want := range c.expect {
			if !strings.Contains(stderr, want) {
				t.Errorf("kubectl apply -f %s: stderr does not name %q:\n%s", path, want, stderr)
			}
		}
	}

	if c.base != "" {
		after := getObjects(t, s, invalidNS, c.base)
		if after == nil {
			return
		}
		b1, _ := json.MarshalIndent(before, "", "  ")
		b2, _ := json.MarshalIndent(after, "", "  ")
		if !bytes.Equal(b1, b2) {
			t.Errorf("the rejected update changed the stored object:\n%s", lineDiff(string(b1), string(b2)))
		}
		if rvAfter := resourceVersions(t, s, invalidNS, c.base); rvAfter != rvBefore {
			t.Errorf("a rejected update wrote: resourceVersions %s → %s", rvBefore, rvAfter)
		}
		return
	}
	stdout, stderr, err = s.Kubectl("get", "-n", invalidNS, "-f", path, "-o", "name")
	if err == nil || !strings.Contains(stderr, "NotFound") {
		t.Errorf("kubectl get -f %s after a rejected create: err=%v, want NotFound\nstdout:\n%s\nstderr:\n%s", path, err, stdout, stderr)
	}
}

// resourceVersions is "Kind/name@resourceVersion ..." for the objects of the
// manifest at path, un-normalized; "" when kubectl fails.
func resourceVersions(t *testing.T, s *Skiff, ns, path string) string {
	t.Helper()
	stdout, stderr, err := s.Kubectl("get", "-n", ns, "-f", path, "-o", "json")
	if err != nil {
		t.Errorf("kubectl get -f %s: %v\n%s", path, err, stderr)
		return ""
	}
	type object struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
		Items []object `json:"items"`
	}
	var o object
	if err := json.Unmarshal([]byte(stdout), &o); err != nil {
		t.Fatalf("kubectl get -f %s printed no JSON object: %v", path, err)
	}
	items := o.Items
	if o.Kind != "List" {
		items = []object{o}
	}
	var parts []string
	for _, it := range items {
		parts = append(parts, it.Kind+"/"+it.Metadata.Name+"@"+it.Metadata.ResourceVersion)
	}
	return strings.Join(parts, " ")
}

// mustKubectl runs kubectl and fails t (not the server's owning test, which
// MustKubectl fails) if it exits non-zero.
func mustKubectl(t *testing.T, s *Skiff, args ...string) string {
	t.Helper()
	stdout, stderr, err := s.Kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return stdout
}

// manifestFiles lists the *.yaml files directly in dir, sorted.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return files
}

// lineDiff is a minimal line diff: the first differing region with a few
// lines of context, enough to see what changed in a golden.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	j, k := len(w)-1, len(g)-1
	for j >= i && k >= i && w[j] == g[k] {
		j--
		k--
	}
	var b strings.Builder
	start := max(0, i-3)
	for _, l := range w[start:i] {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	for _, l := range w[i : j+1] {
		fmt.Fprintf(&b, "- %s\n", l)
	}
	for _, l := range g[i : k+1] {
		fmt.Fprintf(&b, "+ %s\n", l)
	}
	return b.String()
}

// TestKubectlExplainEveryKind: kubectl explain works for every resource the
// server lists in discovery (it needs the OpenAPI v3 schema of each). The
// group version is passed with --api-version: kubectl reads the dots of
// "events.events.k8s.io" as a field path.
func TestKubectlExplainEveryKind(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	lines := strings.Split(strings.TrimSpace(s.MustKubectl("api-resources", "--no-headers")), "\n")
	if len(lines) == 0 {
		t.Fatal("kubectl api-resources listed nothing")
	}
	for _, line := range lines {
		// NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
		f := strings.Fields(line)
		if len(f) < 4 {
			t.Fatalf("unexpected api-resources line %q", line)
		}
		name, apiVersion, kind := f[0], f[len(f)-3], f[len(f)-1]
		t.Run(name+"."+apiVersion, func(t *testing.T) {
			stdout := mustKubectl(t, s, "explain", name, "--api-version", apiVersion)
			if !regexp.MustCompile(`(?m)^KIND:\s+` + kind + `$`).MatchString(stdout) {
				t.Errorf("kubectl explain %s --api-version %s printed no KIND: %s:\n%s", name, apiVersion, kind, stdout)
			}
		})
	}
}

// TestServerSideApplyTwiceIsNoop: re-applying an unchanged manifest with
// server-side apply must not write (the resourceVersion stays).
func TestServerSideApplyTwiceIsNoop(t *testing.T) {
	t.Parallel()
	s := startSkiff(t, apiOnly...)
	const ns = "ssa"
	s.MustKubectl("create", "namespace", ns)
	for _, name := range []string{
		// These two hold defaulted fields inside atomic lists and maps,
		// which an apply replaces and defaulting restores.
		"deploy-web-frontend", "netpol-egress-dns-cidr",
		"ds-log-agent", "cronjob-nightly-backup", "job-indexed",
		"rbac-operator", "ingress-tls", "hpa-custom-behavior",
		// Not secret-opaque: a Secret applied with stringData is rewritten
		// on every apply upstream too (kubernetes/kubernetes#96841).
		"secret-tls", "storageclass-fast-ssd",
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(manifestDir, "valid", name+".yaml")
			mustKubectl(t, s, "apply", "--server-side", "-n", ns, "-f", path)
			first := resourceVersions(t, s, ns, path)
			mustKubectl(t, s, "apply", "--server-side", "-n", ns, "-f", path)
			if second := resourceVersions(t, s, ns, path); second != first {
				t.Errorf("second server-side apply wrote: resourceVersions %s → %s", first, second)
			}
		})
	}
}

// normalizeAllocations replaces what a Service is given from a range
// (cluster IPs, node ports), which differs from run to run.
func normalizeAllocations(svc map[string]any) {
	spec, _ := svc["spec"].(map[string]any)
	if ip, ok := spec["clusterIP"].(string); ok && ip != "None" {
		spec["clusterIP"] = "<clusterIP>"
		if ips, ok := spec["clusterIPs"].([]any); ok {
			for i := range ips {
				ips[i] = "<clusterIP>"
			}
		}
	}
	if _, ok := spec["healthCheckNodePort"]; ok {
		spec["healthCheckNodePort"] = "<nodePort>"
	}
	ports, _ := spec["ports"].([]any)
	for _, p := range ports {
		if p, ok := p.(map[string]any); ok {
			if _, ok := p["nodePort"]; ok {
				p["nodePort"] = "<nodePort>"
			}
		}
	}
}
