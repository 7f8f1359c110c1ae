package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// noValidate is passed to kubectl apply and edit until skiff serves
// /openapi/v2 and /openapi/v3: without them kubectl's default
// --validate=strict cannot find a schema and refuses to run. Once OpenAPI
// lands these become the plain commands (TestKubectlOpenAPIValidation checks
// the plain commands already).
const noValidate = "--validate=false"

func TestKubectlCreateFromLiterals(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)

	if out := s.MustKubectl("create", "configmap", "lit", "--from-literal=a=1", "--from-literal=b=two words"); strings.TrimSpace(out) != "configmap/lit created" {
		t.Errorf("create configmap printed %q", out)
	}
	if got := s.MustKubectl("get", "configmap", "lit", "-o", "jsonpath={.data.a}|{.data.b}"); got != "1|two words" {
		t.Errorf("configmap data = %q, want 1|two words", got)
	}

	if out := s.MustKubectl("create", "secret", "generic", "sec", "--from-literal=user=admin", "--from-literal=pass=p@ss w0rd"); strings.TrimSpace(out) != "secret/sec created" {
		t.Errorf("create secret printed %q", out)
	}
	got := s.MustKubectl("get", "secret", "sec", "-o", "jsonpath={.type} {.data.user} {.data.pass}")
	f := strings.Fields(got)
	if len(f) != 3 {
		t.Fatalf("secret type/data = %q", got)
	}
	if f[0] != "Opaque" {
		t.Errorf("secret type = %q, want Opaque", f[0])
	}
	for i, want := range []string{"admin", "p@ss w0rd"} {
		dec, err := base64.StdEncoding.DecodeString(f[i+1])
		if err != nil || string(dec) != want {
			t.Errorf("secret data %d = %q (decoded %q, %v), want base64 of %q", i, f[i+1], dec, err, want)
		}
	}
}

func TestKubectlApply(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
  labels:
    app: demo
    tier: web
data:
  k: v1
  removed: soon
`)
	if out := s.MustKubectl("apply", noValidate, "-f", file); strings.TrimSpace(out) != "configmap/applied created" {
		t.Errorf("first apply printed %q, want configmap/applied created", out)
	}
	if got := s.MustKubectl("get", "cm", "applied", "-o", `jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`); !strings.Contains(got, `"k":"v1"`) {
		t.Errorf("last-applied-configuration annotation = %q, want the applied object", got)
	}

	// A change made outside the file survives the next apply (three-way merge).
	s.MustKubectl("label", "cm", "applied", "outside=kept")

	writeFile(t, dir, "cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: applied
  labels:
    app: demo
data:
  k: v2
  new: "yes"
`)
	if out := s.MustKubectl("apply", noValidate, "-f", file); strings.TrimSpace(out) != "configmap/applied configured" {
		t.Errorf("second apply printed %q, want configmap/applied configured", out)
	}
	var cm corev1.ConfigMap
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "cm", "applied", "-o", "json")), &cm); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"k": "v2", "new": "yes"}; !mapsEqual(cm.Data, want) {
		t.Errorf("data after the changed apply = %v, want %v", cm.Data, want)
	}
	if want := map[string]string{"app": "demo", "outside": "kept"}; !mapsEqual(cm.Labels, want) {
		t.Errorf("labels after the changed apply = %v, want %v (tier removed, outside kept)", cm.Labels, want)
	}

	if out := s.MustKubectl("apply", noValidate, "-f", file); strings.TrimSpace(out) != "configmap/applied unchanged" {
		t.Errorf("third apply printed %q, want configmap/applied unchanged", out)
	}
	if rv := s.MustKubectl("get", "cm", "applied", "-o", "jsonpath={.metadata.resourceVersion}"); rv != cm.ResourceVersion {
		t.Errorf("resourceVersion went %s → %s on an unchanged apply", cm.ResourceVersion, rv)
	}
}

// TestKubectlOpenAPIValidation runs kubectl's default --validate=strict,
// which needs /openapi/v3 (it then sends fieldValidation=Strict).
func TestKubectlOpenAPIValidation(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	dir := t.TempDir()
	good := writeFile(t, dir, "good.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: good\ndata:\n  k: v\n")
	bad := writeFile(t, dir, "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  k: v\nunknownField: x\n")

	if _, stderr, err := s.Kubectl("apply", "-f", good); err != nil {
		t.Errorf("plain kubectl apply of a valid file: %v\n%s", err, stderr)
	}
	for _, verb := range []string{"create", "apply"} {
		_, stderr, err := s.Kubectl(verb, "-f", bad)
		if err == nil || !strings.Contains(stderr, `unknown field "unknownField"`) {
			t.Errorf("kubectl %s -f with an unknown field: err %v, stderr %q; want an error naming unknown field \"unknownField\"", verb, err, stderr)
		}
	}
	expectAbsent(t, s, cmPath+"/bad")
}

func TestKubectlGetOutputFormats(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "out", "--from-literal=a=1", "--from-literal=b=2")
	s.MustKubectl("label", "configmap", "out", "app=demo")

	check := func(format string, cm corev1.ConfigMap) {
		t.Helper()
		if cm.APIVersion != "v1" || cm.Kind != "ConfigMap" {
			t.Errorf("-o %s: apiVersion/kind = %q/%q", format, cm.APIVersion, cm.Kind)
		}
		if cm.Name != "out" || cm.Namespace != "default" || cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() {
			t.Errorf("-o %s: metadata = %+v", format, cm.ObjectMeta)
		}
		if !mapsEqual(cm.Data, map[string]string{"a": "1", "b": "2"}) || cm.Labels["app"] != "demo" {
			t.Errorf("-o %s: data %v labels %v", format, cm.Data, cm.Labels)
		}
	}
	var fromYAML, fromJSON corev1.ConfigMap
	if err := yaml.UnmarshalStrict([]byte(s.MustKubectl("get", "cm", "out", "-o", "yaml")), &fromYAML); err != nil {
		t.Errorf("-o yaml: %v", err)
	}
	check("yaml", fromYAML)
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "cm", "out", "-o", "json")), &fromJSON); err != nil {
		t.Errorf("-o json: %v", err)
	}
	check("json", fromJSON)

	if got := s.MustKubectl("get", "cm", "out", "-o", "jsonpath={.metadata.name}:{.data.a}:{.metadata.labels.app}"); got != "out:1:demo" {
		t.Errorf("-o jsonpath = %q, want out:1:demo", got)
	}
	if got := strings.TrimSpace(s.MustKubectl("get", "cm", "out", "-o", "name")); got != "configmap/out" {
		t.Errorf("-o name = %q", got)
	}
	if got := s.MustKubectl("get", "cm", "out", "-o", "custom-columns=N:.metadata.name,A:.data.a", "--no-headers"); !fieldsAre("out", "1")(got) {
		t.Errorf("-o custom-columns = %q", got)
	}

	wide := strings.Split(strings.TrimSpace(s.MustKubectl("get", "cm", "out", "-o", "wide")), "\n")
	if len(wide) != 2 || !fieldsAre("NAME")(wide[0]) || !fieldsAre("out")(wide[1]) {
		t.Errorf("-o wide = %q, want a header and one row for out", wide)
	}

	var list struct {
		Kind  string
		Items []corev1.ConfigMap
	}
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "cm", "-l", "app=demo", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	if list.Kind != "List" || len(list.Items) != 1 || list.Items[0].Name != "out" {
		t.Errorf("get -l app=demo -o json: kind %q, %d items", list.Kind, len(list.Items))
	}
}

var ageCell = regexp.MustCompile(`^\d+(s|m|h|d|y)`)

// TestKubectlTableColumns: server-side Table output with the per-kind
// columns kubectl users know.
func TestKubectlTableColumns(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "tbl", "--from-literal=a=1", "--from-literal=b=2")
	s.MustKubectl("create", "secret", "generic", "tbl", "--from-literal=a=1")
	lease := writeFile(t, t.TempDir(), "lease.yaml", `apiVersion: coordination.k8s.io/v1
kind: Lease
metadata:
  name: tbl
spec:
  holderIdentity: holder-1
  leaseDurationSeconds: 15
`)
	s.MustKubectl("create", noValidate, "-f", lease)

	for _, c := range []struct {
		args   []string
		header []string
		row    []string // AGE, always last, is checked by pattern
	}{
		{[]string{"get", "configmap", "tbl"}, []string{"NAME", "DATA", "AGE"}, []string{"tbl", "2"}},
		{[]string{"get", "secret", "tbl"}, []string{"NAME", "TYPE", "DATA", "AGE"}, []string{"tbl", "Opaque", "1"}},
		{[]string{"get", "namespace", "kube-system"}, []string{"NAME", "STATUS", "AGE"}, []string{"kube-system", "Active"}},
		{[]string{"get", "lease", "tbl"}, []string{"NAME", "HOLDER", "AGE"}, []string{"tbl", "holder-1"}},
	} {
		out := s.MustKubectl(c.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 {
			t.Errorf("kubectl %s:\n%s\nwant a header and one row", strings.Join(c.args, " "), out)
			continue
		}
		if h := strings.Fields(lines[0]); !slices.Equal(h, c.header) {
			t.Errorf("kubectl %s: columns %q, want %q", strings.Join(c.args, " "), h, c.header)
		}
		row := strings.Fields(lines[1])
		if len(row) != len(c.row)+1 || !slices.Equal(row[:len(c.row)], c.row) || !ageCell.MatchString(row[len(row)-1]) {
			t.Errorf("kubectl %s: row %q, want %q followed by an age", strings.Join(c.args, " "), row, c.row)
		}
	}
}

// TestKubectlGetSortBy: --sort-by asks for includeObject=Object and sorts the
// rows on a field that is not a column.
func TestKubectlGetSortBy(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	for name, order := range map[string]string{"x": "3", "y": "1", "z": "2"} {
		s.MustKubectl("create", "configmap", name, "--from-literal=order="+order)
		s.MustKubectl("label", "configmap", name, "sortme=yes")
	}
	out := s.MustKubectl("get", "cm", "-l", "sortme=yes", "--sort-by=.data.order", "--no-headers")
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	if want := []string{"y", "z", "x"}; !slices.Equal(names, want) {
		t.Errorf("sorted by .data.order: %q, want %q\n%s", names, want, out)
	}
}

// TestKubectlGetWatch: get -w --output-watch-events prints ADDED, MODIFIED and
// DELETED; a watch of one object by name sees only that object.
func TestKubectlGetWatch(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	all := s.KubectlBackground("get", "configmaps", "-w", "--output-watch-events")
	s.MustKubectl("create", "configmap", "w1", "--from-literal=k=v")
	// ADDED comes from the initial list or from the watch; either way the
	// watch is established from here on.
	all.WaitLine("ADDED w1", fieldsAre("ADDED", "w1"))

	one := s.KubectlBackground("get", "configmap", "w1", "-w", "--output-watch-events")
	one.WaitLine("ADDED w1", fieldsAre("ADDED", "w1"))

	s.MustKubectl("patch", "configmap", "w1", "--type=merge", "-p", `{"data":{"k":"v2"}}`)
	all.WaitLine("MODIFIED w1", fieldsAre("MODIFIED", "w1"))
	one.WaitLine("MODIFIED w1", fieldsAre("MODIFIED", "w1"))

	s.MustKubectl("create", "configmap", "w2")
	all.WaitLine("ADDED w2", fieldsAre("ADDED", "w2"))

	s.MustKubectl("delete", "configmap", "w1")
	all.WaitLine("DELETED w1", fieldsAre("DELETED", "w1"))
	one.WaitLine("DELETED w1", fieldsAre("DELETED", "w1"))
	// w2 was created before w1 was deleted, so a watch that leaked w2 into
	// the by-name watch would have printed it by now.
	if out := one.Output(); strings.Contains(out, "w2") {
		t.Errorf("the watch of configmap w1 printed w2:\n%s", out)
	}
}

func TestKubectlDescribe(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "desc", "--from-literal=greeting=hello")
	s.MustKubectl("label", "configmap", "desc", "app=demo")
	s.MustKubectl("annotate", "configmap", "desc", "note=described")
	s.MustKubectl("create", "secret", "generic", "desc", "--from-literal=pass=123456789")

	uid := s.MustKubectl("get", "cm", "desc", "-o", "jsonpath={.metadata.uid}")
	now := metav1.Now()
	_, err := s.ClientSet().CoreV1().Events("default").Create(context.Background(), &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "desc.e2e"},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "ConfigMap", Namespace: "default", Name: "desc", UID: types.UID(uid),
		},
		Reason: "Described", Message: "an event about desc", Type: corev1.EventTypeNormal,
		Source: corev1.EventSource{Component: "e2e"}, FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	out := s.MustKubectl("describe", "configmap", "desc")
	for _, re := range []string{
		`(?m)^Name:\s+desc$`, `(?m)^Namespace:\s+default$`, `(?m)^Labels:\s+app=demo$`, `(?m)^Annotations:\s+note: described$`,
		`(?m)^greeting:$`, `(?m)^hello$`,
		`(?m)^\s*Normal\s+Described\s+.*e2e\s+an event about desc$`, // the Events section, found by involvedObject field selectors
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("describe configmap lacks %s:\n%s", re, out)
		}
	}

	out = s.MustKubectl("describe", "secret", "desc")
	for _, re := range []string{`(?m)^Type:\s+Opaque$`, `(?m)^pass:\s+9 bytes$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("describe secret lacks %s:\n%s", re, out)
		}
	}
	if strings.Contains(out, "123456789") {
		t.Errorf("describe secret shows the secret value:\n%s", out)
	}

	out = s.MustKubectl("describe", "namespace", "default")
	if !regexp.MustCompile(`(?m)^Status:\s+Active$`).MatchString(out) {
		t.Errorf("describe namespace lacks Status: Active:\n%s", out)
	}
}

func TestKubectlEdit(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "ed", "--from-literal=color=blue")
	dir := t.TempDir()
	editor := writeFile(t, dir, "editor.sh", "#!/bin/sh\nexec sed -i -e 's/color: blue/color: green/' \"$1\"\n")
	if err := os.Chmod(editor, 0o755); err != nil {
		t.Fatal(err)
	}
	run := kubectlRun{env: []string{"EDITOR=" + editor}}

	stdout, stderr, err := s.kubectl(run, "edit", noValidate, "configmap", "ed")
	if err != nil || strings.TrimSpace(stdout) != "configmap/ed edited" {
		t.Fatalf("kubectl edit: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if got := s.MustKubectl("get", "cm", "ed", "-o", "jsonpath={.data.color}"); got != "green" {
		t.Errorf("data.color after edit = %q, want green", got)
	}
	mf := s.MustKubectl("get", "cm", "ed", "-o", "jsonpath={.metadata.managedFields[*].manager}")
	if !strings.Contains(mf, "kubectl-edit") {
		t.Errorf("managedFields managers %q lack kubectl-edit", mf)
	}

	// The editor changes nothing the second time.
	stdout, stderr, err = s.kubectl(run, "edit", noValidate, "configmap", "ed")
	if err != nil || !strings.Contains(stdout+stderr, "Edit cancelled, no changes made.") {
		t.Errorf("kubectl edit without changes: %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
}

func TestKubectlPatchJSON(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "jp", "--from-literal=a=1", "--from-literal=c=3")
	s.MustKubectl("patch", "configmap", "jp", "--type=json", "-p",
		`[{"op":"replace","path":"/data/a","value":"2"},{"op":"add","path":"/data/b","value":"x"},{"op":"remove","path":"/data/c"}]`)
	if got := s.MustKubectl("get", "cm", "jp", "-o", "jsonpath={.data}"); !jsonEqual(got, `{"a":"2","b":"x"}`) {
		t.Errorf("data after JSON patch = %s", got)
	}

	// A failing "test" operation applies nothing.
	rv := s.MustKubectl("get", "cm", "jp", "-o", "jsonpath={.metadata.resourceVersion}")
	if _, _, err := s.Kubectl("patch", "configmap", "jp", "--type=json", "-p",
		`[{"op":"replace","path":"/data/a","value":"3"},{"op":"test","path":"/data/b","value":"not-x"}]`); err == nil {
		t.Errorf("a JSON patch whose test op fails succeeded")
	}
	if got := s.MustKubectl("get", "cm", "jp", "-o", "jsonpath={.data.a} {.metadata.resourceVersion}"); got != "2 "+rv {
		t.Errorf("after a failed JSON patch: data.a resourceVersion = %q, want \"2 %s\"", got, rv)
	}
}

func TestKubectlPatchMerge(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "mp", "--from-literal=a=1", "--from-literal=b=2")
	s.MustKubectl("patch", "configmap", "mp", "--type=merge", "-p",
		`{"metadata":{"labels":{"patched":"yes"}},"data":{"a":null,"b":"two","c":"3"}}`)
	if got := s.MustKubectl("get", "cm", "mp", "-o", "jsonpath={.data}"); !jsonEqual(got, `{"b":"two","c":"3"}`) {
		t.Errorf("data after merge patch = %s, want b=two c=3 (a removed by null)", got)
	}
	if got := s.MustKubectl("get", "cm", "mp", "-o", "jsonpath={.metadata.labels.patched}"); got != "yes" {
		t.Errorf("label after merge patch = %q", got)
	}

	// A merge patch replaces lists wholesale.
	sa := writeFile(t, t.TempDir(), "sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: mp\nsecrets:\n- name: one\n- name: two\n")
	s.MustKubectl("create", noValidate, "-f", sa)
	s.MustKubectl("patch", "serviceaccount", "mp", "--type=merge", "-p", `{"secrets":[{"name":"three"}]}`)
	if got := s.MustKubectl("get", "sa", "mp", "-o", "jsonpath={.secrets[*].name}"); got != "three" {
		t.Errorf("secrets after merge patch = %q, want three", got)
	}
}

func TestKubectlPatchStrategic(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	sa := writeFile(t, t.TempDir(), "sa.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sp\nsecrets:\n- name: one\n- name: two\n")
	s.MustKubectl("create", noValidate, "-f", sa)

	// ServiceAccount.secrets merges on the name key: the list grows.
	s.MustKubectl("patch", "serviceaccount", "sp", "--type=strategic", "-p", `{"secrets":[{"name":"three"}]}`)
	if got := s.MustKubectl("get", "sa", "sp", "-o", "jsonpath={.secrets[*].name}"); got != "three one two" && got != "one two three" {
		t.Errorf("secrets after strategic merge patch = %q, want one, two and three", got)
	}
	// $patch: delete removes one element by its key.
	s.MustKubectl("patch", "serviceaccount", "sp", "-p", `{"secrets":[{"name":"one","$patch":"delete"}]}`) // strategic is kubectl's default
	got := strings.Fields(s.MustKubectl("get", "sa", "sp", "-o", "jsonpath={.secrets[*].name}"))
	slices.Sort(got)
	if !slices.Equal(got, []string{"three", "two"}) {
		t.Errorf("secrets after $patch: delete = %q, want two and three", got)
	}
	// Maps merge as in a merge patch.
	s.MustKubectl("create", "configmap", "sp", "--from-literal=a=1")
	s.MustKubectl("patch", "configmap", "sp", "-p", `{"data":{"b":"2"}}`)
	if got := s.MustKubectl("get", "cm", "sp", "-o", "jsonpath={.data}"); !jsonEqual(got, `{"a":"1","b":"2"}`) {
		t.Errorf("configmap data after strategic patch = %s", got)
	}
	mf := s.MustKubectl("get", "cm", "sp", "-o", "jsonpath={.metadata.managedFields[*].manager}")
	if !strings.Contains(mf, "kubectl-patch") {
		t.Errorf("managedFields managers %q lack kubectl-patch", mf)
	}
}

func TestKubectlLabel(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "lab")
	s.MustKubectl("label", "configmap", "lab", "app=web", "tier=front")
	if got := s.MustKubectl("get", "cm", "lab", "-o", "jsonpath={.metadata.labels}"); !jsonEqual(got, `{"app":"web","tier":"front"}`) {
		t.Errorf("labels = %s", got)
	}
	_, stderr, err := s.Kubectl("label", "configmap", "lab", "app=db")
	if err == nil || !strings.Contains(stderr, "--overwrite is false") {
		t.Errorf("relabel without --overwrite: err %v, stderr %q", err, stderr)
	}
	s.MustKubectl("label", "configmap", "lab", "app=db", "--overwrite")
	s.MustKubectl("label", "configmap", "lab", "tier-")
	if got := s.MustKubectl("get", "cm", "lab", "-o", "jsonpath={.metadata.labels}"); !jsonEqual(got, `{"app":"db"}`) {
		t.Errorf("labels after --overwrite and tier- = %s, want app=db", got)
	}
	if got := strings.TrimSpace(s.MustKubectl("get", "cm", "-l", "app=db", "-o", "name")); got != "configmap/lab" {
		t.Errorf("get -l app=db = %q", got)
	}
}

func TestKubectlAnnotate(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "ann")
	s.MustKubectl("annotate", "configmap", "ann", "owner=team-a", "example.com/note=hello world")
	if got := s.MustKubectl("get", "cm", "ann", "-o", "jsonpath={.metadata.annotations}"); !jsonEqual(got, `{"owner":"team-a","example.com/note":"hello world"}`) {
		t.Errorf("annotations = %s", got)
	}
	if _, stderr, err := s.Kubectl("annotate", "configmap", "ann", "owner=team-b"); err == nil || !strings.Contains(stderr, "--overwrite is false") {
		t.Errorf("re-annotate without --overwrite: err %v, stderr %q", err, stderr)
	}
	s.MustKubectl("annotate", "configmap", "ann", "owner=team-b", "--overwrite")
	s.MustKubectl("annotate", "configmap", "ann", "example.com/note-")
	if got := s.MustKubectl("get", "cm", "ann", "-o", "jsonpath={.metadata.annotations}"); !jsonEqual(got, `{"owner":"team-b"}`) {
		t.Errorf("annotations after --overwrite and removal = %s", got)
	}
}

// TestKubectlSelectors: every label selector operator, and field selectors.
func TestKubectlSelectors(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	for name, labels := range map[string][]string{
		"s-a":  {"env=prod", "tier=web"},
		"s-b":  {"env=dev", "tier=db"},
		"s-c":  {"env=test"},
		"s-no": {"other=x"},
	} {
		s.MustKubectl("create", "configmap", name)
		s.MustKubectl(append([]string{"label", "configmap", name}, labels...)...)
	}
	names := func(args ...string) []string {
		out := s.MustKubectl(append([]string{"get", "cm", "-o", "jsonpath={.items[*].metadata.name}"}, args...)...)
		var got []string
		for _, n := range strings.Fields(out) {
			if strings.HasPrefix(n, "s-") {
				got = append(got, n)
			}
		}
		slices.Sort(got)
		return got
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-l", "env=prod"}, []string{"s-a"}},
		{[]string{"-l", "env==prod"}, []string{"s-a"}},
		{[]string{"-l", "env!=prod"}, []string{"s-b", "s-c", "s-no"}},
		{[]string{"-l", "env in (dev,test)"}, []string{"s-b", "s-c"}},
		{[]string{"-l", "env notin (dev,test)"}, []string{"s-a", "s-no"}},
		{[]string{"-l", "tier"}, []string{"s-a", "s-b"}},
		{[]string{"-l", "!tier"}, []string{"s-c", "s-no"}},
		{[]string{"-l", "env,tier!=db"}, []string{"s-a", "s-c"}},
		{[]string{"--field-selector", "metadata.name=s-b"}, []string{"s-b"}},
		{[]string{"--field-selector", "metadata.name!=s-b", "-l", "env"}, []string{"s-a", "s-c"}},
		{[]string{"--field-selector", "metadata.namespace=default", "-l", "tier"}, []string{"s-a", "s-b"}},
	} {
		if got := names(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("get cm %s = %q, want %q", strings.Join(c.args, " "), got, c.want)
		}
	}
	// Secrets add the per-kind field "type".
	s.MustKubectl("create", "secret", "generic", "plain", "--from-literal=a=b")
	s.MustKubectl("create", "secret", "generic", "custom", "--type=example.com/custom", "--from-literal=a=b")
	for sel, want := range map[string]string{"type=example.com/custom": "custom", "type!=example.com/custom": "plain"} {
		if got := s.MustKubectl("get", "secrets", "--field-selector", sel, "-o", "jsonpath={.items[*].metadata.name}"); got != want {
			t.Errorf("get secrets --field-selector %s = %q, want %q", sel, got, want)
		}
	}

	_, stderr, err := s.Kubectl("get", "cm", "--field-selector", "data.k=v")
	if err == nil || !strings.Contains(stderr, `field label not supported: data.k`) {
		t.Errorf("unknown field selector: err %v, stderr %q; want BadRequest field label not supported", err, stderr)
	}
}

func TestKubectlDelete(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "del")
	if out := s.MustKubectl("delete", "configmap", "del"); strings.TrimSpace(out) != `configmap "del" deleted` {
		t.Errorf("delete printed %q", out)
	}
	_, stderr, err := s.Kubectl("get", "configmap", "del")
	if err == nil || !strings.Contains(stderr, `Error from server (NotFound): configmaps "del" not found`) {
		t.Errorf("get after delete: err %v, stderr %q", err, stderr)
	}
	_, stderr, err = s.Kubectl("delete", "configmap", "del")
	if err == nil || !strings.Contains(stderr, `configmaps "del" not found`) {
		t.Errorf("second delete: err %v, stderr %q", err, stderr)
	}

	for _, n := range []string{"g1", "g2", "keep"} {
		s.MustKubectl("create", "configmap", n)
	}
	s.MustKubectl("label", "configmap", "g1", "g2", "group=doomed")
	s.MustKubectl("delete", "configmap", "-l", "group=doomed")
	if got := s.MustKubectl("get", "cm", "-o", "jsonpath={.items[*].metadata.name}"); strings.Contains(got, "g1") || strings.Contains(got, "g2") || !strings.Contains(got, "keep") {
		t.Errorf("after delete -l group=doomed: %q", got)
	}
}

// finalizerCM creates a configmap that a custom finalizer keeps alive
// after delete.
func finalizerCM(t *testing.T, s *Skiff, name string) {
	t.Helper()
	f := writeFile(t, t.TempDir(), name+".yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+name+
		"\n  finalizers:\n  - example.com/hold\ndata:\n  k: v\n")
	s.MustKubectl("create", noValidate, "-f", f)
}

func TestKubectlDeleteWithFinalizer(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	finalizerCM(t, s, "fin")

	if out := s.MustKubectl("delete", "configmap", "fin", "--wait=false"); strings.TrimSpace(out) != `configmap "fin" deleted` {
		t.Errorf("delete printed %q", out)
	}
	got := s.MustKubectl("get", "cm", "fin", "-o", "jsonpath={.metadata.deletionTimestamp}|{.metadata.finalizers}")
	ts, fins, _ := strings.Cut(got, "|")
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		t.Errorf("deletionTimestamp %q after delete of an object with a finalizer: %v", ts, err)
	}
	if !jsonEqual(fins, `["example.com/hold"]`) {
		t.Errorf("finalizers = %s, want [example.com/hold]", fins)
	}

	// No new finalizers while deleting.
	if _, stderr, err := s.Kubectl("patch", "configmap", "fin", "--type=json", "-p",
		`[{"op":"add","path":"/metadata/finalizers/-","value":"example.com/more"}]`); err == nil || !strings.Contains(stderr, "Forbidden") {
		t.Errorf("adding a finalizer to a deleting object: err %v, stderr %q, want Forbidden", err, stderr)
	}

	w := s.KubectlBackground("wait", "--for=delete", "configmap/fin", "--timeout=30s")
	s.MustKubectl("patch", "configmap", "fin", "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	if err := w.Wait(); err != nil {
		t.Fatalf("kubectl wait --for=delete after removing the finalizer: %v\n%s", err, w.stderr.String())
	}
	expectAbsent(t, s, cmPath+"/fin")
}

func TestKubectlDeleteCascadeForeground(t *testing.T) {
	t.Parallel()
	testCascade(t, "foreground", "foregroundDeletion")
}

func TestKubectlDeleteCascadeOrphan(t *testing.T) {
	t.Parallel()
	testCascade(t, "orphan", "orphan")
}

// testCascade deletes an object held by a custom finalizer with the given
// --cascade; the server adds the policy's finalizer next to the custom one,
// and the garbage collector, having no dependents to handle, then removes
// the policy's finalizer, leaving the custom one holding the object. A
// watch sees both steps, however fast the collector is.
func testCascade(t *testing.T, cascade, finalizer string) {
	s := startSkiff(t)
	finalizerCM(t, s, "casc")
	finalizersAre := func(want ...string) func(string) bool {
		slices.Sort(want)
		return func(line string) bool {
			ts, fins, _ := strings.Cut(line, "|")
			var list []string
			_ = json.Unmarshal([]byte(fins), &list)
			slices.Sort(list)
			return ts != "" && slices.Equal(list, want)
		}
	}
	w := s.KubectlBackground("get", "cm", "casc", "-w", "-o", `jsonpath={.metadata.deletionTimestamp}|{.metadata.finalizers}{"\n"}`)
	w.WaitLine("the ConfigMap before its delete", func(string) bool { return true })
	s.MustKubectl("delete", "configmap", "casc", "--cascade="+cascade, "--wait=false")
	w.WaitLine("the delete's finalizers (custom and "+finalizer+")", finalizersAre("example.com/hold", finalizer))
	w.WaitLine("the garbage collector done with "+finalizer, finalizersAre("example.com/hold"))

	// Removing every finalizer lets the object go.
	s.MustKubectl("patch", "configmap", "casc", "--type=merge", "-p", `{"metadata":{"finalizers":null}}`)
	s.MustKubectl("wait", "--for=delete", "configmap/casc", "--timeout=20s")
}

func TestKubectlAPIResources(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	out := s.MustKubectl("api-resources", "-o", "wide")
	rows := map[string][]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 {
			rows[f[0]+" "+apiVersionField(f)] = f
		}
	}
	allVerbs := "create,delete,deletecollection,get,list,patch,update,watch" // the VERBS column of -o wide
	for _, want := range []struct {
		name, short, version, namespaced, kind string
	}{
		{"configmaps", "cm", "v1", "true", "ConfigMap"},
		{"events", "ev", "v1", "true", "Event"},
		{"namespaces", "ns", "v1", "false", "Namespace"},
		{"secrets", "", "v1", "true", "Secret"},
		{"serviceaccounts", "sa", "v1", "true", "ServiceAccount"},
		{"leases", "", "coordination.k8s.io/v1", "true", "Lease"},
		{"events", "ev", "events.k8s.io/v1", "true", "Event"},
	} {
		f, ok := rows[want.name+" "+want.version]
		if !ok {
			t.Errorf("api-resources lacks %s %s:\n%s", want.name, want.version, out)
			continue
		}
		exp := []string{want.name}
		if want.short != "" {
			exp = append(exp, want.short)
		}
		exp = append(exp, want.version, want.namespaced, want.kind)
		if !slices.Equal(f[:len(exp)], exp) {
			t.Errorf("api-resources row %q, want it to start with %q", f, exp)
		}
		if f[len(f)-1] != allVerbs {
			t.Errorf("api-resources %s %s verbs: %q, want %s", want.name, want.version, f, allVerbs)
		}
	}

	versions := strings.Fields(s.MustKubectl("api-versions"))
	for _, v := range []string{"v1", "coordination.k8s.io/v1", "events.k8s.io/v1"} {
		if !slices.Contains(versions, v) {
			t.Errorf("api-versions %q lacks %s", versions, v)
		}
	}
}

// apiVersionField finds the APIVERSION column of an api-resources row (the
// SHORTNAMES column may be empty).
func apiVersionField(f []string) string {
	for _, x := range f[1:] {
		if x == "v1" || strings.Contains(x, "/") {
			return x
		}
	}
	return ""
}

func TestKubectlExplain(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	out := s.MustKubectl("explain", "configmap.data")
	for _, re := range []string{`(?m)^KIND:\s+ConfigMap$`, `(?m)^VERSION:\s+v1$`, `(?m)^FIELD:\s+data\s+<map\[string\]string>$`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("explain configmap.data lacks %s:\n%s", re, out)
		}
	}
	out = s.MustKubectl("explain", "lease.spec")
	for _, want := range []string{"holderIdentity", "leaseDurationSeconds", "renewTime"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain lease.spec lacks %s:\n%s", want, out)
		}
	}
}

func TestKubectlDiff(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	dir := t.TempDir()
	file := writeFile(t, dir, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  k: before\n")
	s.MustKubectl("apply", noValidate, "-f", file)

	stdout, stderr, err := s.Kubectl("diff", "-f", file)
	if err != nil {
		t.Errorf("diff of an unchanged file: exit %d, want 0\n%s%s", exitCode(err), stdout, stderr)
	}
	writeFile(t, dir, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  k: after\n")
	stdout, stderr, err = s.Kubectl("diff", "-f", file)
	if exitCode(err) != 1 {
		t.Errorf("diff of a changed file: exit %d (%v), want 1\n%s%s", exitCode(err), err, stdout, stderr)
	}
	if !regexp.MustCompile(`(?m)^-\s+k: before$`).MatchString(stdout) || !regexp.MustCompile(`(?m)^\+\s+k: after$`).MatchString(stdout) {
		t.Errorf("diff output lacks -k: before / +k: after:\n%s\nstderr:\n%s", stdout, stderr)
	}
	// diff is a dry run.
	if got := s.MustKubectl("get", "cm", "diffed", "-o", "jsonpath={.data.k}"); got != "before" {
		t.Errorf("kubectl diff changed the object: data.k = %q", got)
	}
}

func TestKubectlApplyServerSideConflict(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	dir := t.TempDir()
	mine := writeFile(t, dir, "mine.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: mine\n  shared: x\n")
	theirs := writeFile(t, dir, "theirs.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: theirs\n")

	if out := s.MustKubectl("apply", noValidate, "--server-side", "-f", mine); strings.TrimSpace(out) != "configmap/ssa serverside-applied" {
		t.Errorf("server-side apply printed %q", out)
	}
	stdout, stderr, err := s.Kubectl("apply", noValidate, "--server-side", "--field-manager=other", "-f", theirs)
	if err == nil {
		t.Fatalf("a conflicting server-side apply succeeded: %s", stdout)
	}
	if !strings.Contains(stderr, "conflict") || !strings.Contains(stderr, `"kubectl"`) || !strings.Contains(stderr, ".data.k") {
		t.Errorf("conflict message %q should name the conflict, the manager \"kubectl\" and .data.k", stderr)
	}
	if got := s.MustKubectl("get", "cm", "ssa", "-o", "jsonpath={.data.k}"); got != "mine" {
		t.Errorf("data.k after the refused apply = %q, want mine", got)
	}

	s.MustKubectl("apply", noValidate, "--server-side", "--field-manager=other", "--force-conflicts", "-f", theirs)
	var cm corev1.ConfigMap
	if err := json.Unmarshal([]byte(s.MustKubectl("get", "cm", "ssa", "-o", "json", "--show-managed-fields")), &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Data["k"] != "theirs" || cm.Data["shared"] != "x" {
		t.Errorf("data after --force-conflicts = %v, want k=theirs and shared=x (still kubectl's)", cm.Data)
	}
	owners := map[string]string{}
	for _, mf := range cm.ManagedFields {
		if mf.FieldsV1 != nil {
			owners[mf.Manager+"/"+string(mf.Operation)] = string(mf.FieldsV1.Raw)
		}
	}
	if !strings.Contains(owners["other/Apply"], `"f:k"`) {
		t.Errorf("managedFields: other/Apply = %q, want it to own f:data.f:k; all: %v", owners["other/Apply"], owners)
	}
	if k := owners["kubectl/Apply"]; strings.Contains(k, `"f:k"`) || !strings.Contains(k, `"f:shared"`) {
		t.Errorf("managedFields: kubectl/Apply = %q, want f:shared but no longer f:k", k)
	}
}

func TestKubectlWaitForJSONPath(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "configmap", "waited", "--from-literal=k=initial")

	// The condition does not hold yet, so a short wait times out.
	if _, _, err := s.Kubectl("wait", "--for=jsonpath={.data.k}=ready", "configmap/waited", "--timeout=1s"); err == nil {
		t.Fatalf("kubectl wait succeeded before the condition held")
	}
	w := s.KubectlBackground("wait", "--for=jsonpath={.data.k}=ready", "configmap/waited", "--timeout=30s")
	s.MustKubectl("patch", "configmap", "waited", "--type=merge", "-p", `{"data":{"k":"ready"}}`)
	w.WaitLine("condition met", func(l string) bool { return strings.TrimSpace(l) == "configmap/waited condition met" })
	if err := w.Wait(); err != nil {
		t.Errorf("kubectl wait: %v\n%s", err, w.stderr.String())
	}
}

func TestKubectlDryRunServer(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	// The watch below must see only the test's own writes: the service
	// account controller's kube-root-ca.crt comes first.
	waitForRootCAs(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cs := s.ClientSet()
	s.MustKubectl("create", "configmap", "existing", "--from-literal=k=v")
	list, err := cs.CoreV1().ConfigMaps("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	out := s.MustKubectl("create", "configmap", "dry", "--from-literal=k=v", "--dry-run=server", "-o", "jsonpath={.metadata.name}")
	if out != "dry" {
		t.Errorf("create --dry-run=server returned %q, want the object", out)
	}
	s.MustKubectl("patch", "configmap", "existing", "--dry-run=server", "--type=merge", "-p", `{"data":{"k":"dry"}}`)
	s.MustKubectl("label", "configmap", "existing", "dry=run", "--dry-run=server")
	s.MustKubectl("delete", "configmap", "existing", "--dry-run=server")
	// Validation still runs in a dry run.
	if _, stderr, err := s.Kubectl("create", "configmap", "Not_Valid", "--dry-run=server"); err == nil || !strings.Contains(stderr, "Invalid value") {
		t.Errorf("an invalid dry-run create: err %v, stderr %q, want Invalid", err, stderr)
	}

	expectAbsent(t, s, cmPath+"/dry")
	if got := s.MustKubectl("get", "cm", "existing", "-o", "jsonpath={.data.k}|{.metadata.labels}"); got != "v|" {
		t.Errorf("existing after dry runs = %q, want unchanged", got)
	}
	// The first event after the dry runs is the real write below: dry runs
	// emit no watch events.
	s.MustKubectl("create", "configmap", "marker")
	select {
	case ev := <-w.ResultChan():
		cm, _ := ev.Object.(*corev1.ConfigMap)
		if cm == nil || cm.Name != "marker" {
			t.Errorf("first watch event after the dry runs: %s %v, want ADDED marker", ev.Type, ev.Object)
		}
	case <-time.After(waitTimeout):
		t.Errorf("no watch event for the marker configmap")
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(got, want string) bool {
	var a, b any
	if json.Unmarshal([]byte(got), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
		return false
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
