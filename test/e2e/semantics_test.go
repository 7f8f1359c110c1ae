package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestGenerateName(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	f := writeFile(t, t.TempDir(), "gen.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  generateName: gen-\ndata:\n  k: v\n")
	names := map[string]bool{}
	for range 3 {
		out := strings.TrimSpace(s.MustKubectl("create", noValidate, "-f", f, "-o", "name"))
		if !regexp.MustCompile(`^configmap/gen-[a-z0-9]{5}$`).MatchString(out) {
			t.Errorf("create with generateName gen- printed %q, want configmap/gen-xxxxx", out)
		}
		names[out] = true
	}
	if len(names) != 3 {
		t.Errorf("three creates with generateName made %d distinct names: %v", len(names), names)
	}
	got, err := s.ClientSet().CoreV1().ConfigMaps("default").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cm := range got.Items {
		if strings.HasPrefix(cm.Name, "gen-") {
			n++
			if cm.GenerateName != "gen-" {
				t.Errorf("%s has generateName %q", cm.Name, cm.GenerateName)
			}
		}
	}
	if n != 3 {
		t.Errorf("%d gen-* configmaps stored, want 3", n)
	}
}

func TestImmutableFields(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)

	s.MustKubectl("create", "secret", "generic", "typed", "--from-literal=a=b")
	_, stderr, err := s.Kubectl("patch", "secret", "typed", "--type=merge", "-p", `{"type":"example.com/other"}`)
	if err == nil || !strings.Contains(stderr, "type: Invalid value") || !strings.Contains(stderr, "field is immutable") {
		t.Errorf("changing a secret's type: err %v, stderr %q; want 422 type: field is immutable", err, stderr)
	}
	if got := s.MustKubectl("get", "secret", "typed", "-o", "jsonpath={.type}"); got != "Opaque" {
		t.Errorf("secret type after the refused patch = %q", got)
	}

	f := writeFile(t, t.TempDir(), "frozen.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: frozen\nimmutable: true\ndata:\n  k: v\n")
	s.MustKubectl("create", noValidate, "-f", f)
	_, stderr, err = s.Kubectl("patch", "configmap", "frozen", "--type=merge", "-p", `{"data":{"k":"changed"}}`)
	if err == nil || !strings.Contains(stderr, "field is immutable when `immutable` is set") {
		t.Errorf("changing an immutable configmap's data: err %v, stderr %q", err, stderr)
	}
	if got := s.MustKubectl("get", "cm", "frozen", "-o", "jsonpath={.data.k}"); got != "v" {
		t.Errorf("immutable configmap data after the refused patch = %q", got)
	}
	// Metadata stays mutable, and the object can be deleted.
	s.MustKubectl("label", "configmap", "frozen", "still=labelable")
	s.MustKubectl("delete", "configmap", "frozen")
}

// TestUpdateKeepsSystemFields: an update cannot rewrite creationTimestamp
// or uid.
func TestUpdateKeepsSystemFields(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx := context.Background()
	cms := s.ClientSet().CoreV1().ConfigMaps("default")
	orig, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "sys"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if orig.UID == "" || orig.CreationTimestamp.IsZero() || orig.ResourceVersion == "" {
		t.Fatalf("create did not set uid/creationTimestamp/resourceVersion: %+v", orig.ObjectMeta)
	}

	upd := orig.DeepCopy()
	upd.CreationTimestamp = metav1.NewTime(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
	upd.Data = map[string]string{"k": "v"}
	got, err := cms.Update(ctx, upd, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if !got.CreationTimestamp.Equal(&orig.CreationTimestamp) {
		t.Errorf("update changed creationTimestamp %v → %v", orig.CreationTimestamp, got.CreationTimestamp)
	}

	upd = got.DeepCopy()
	upd.UID = types.UID("00000000-0000-0000-0000-000000000000")
	if _, err := cms.Update(ctx, upd, metav1.UpdateOptions{}); err == nil {
		if now, _ := cms.Get(ctx, "sys", metav1.GetOptions{}); now != nil && now.UID != orig.UID {
			t.Errorf("update changed uid %s → %s", orig.UID, now.UID)
		}
	} else if !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) {
		t.Errorf("update with another uid: %v, want it refused as Invalid/Conflict or the uid kept", err)
	}
}

func TestDeletePreconditions(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	ctx := context.Background()
	cms := s.ClientSet().CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "pre"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	staleRV := cm.ResourceVersion
	cm.Data = map[string]string{"k": "v"}
	if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	wrongUID := types.UID("11111111-2222-3333-4444-555555555555")
	for what, pre := range map[string]metav1.Preconditions{
		"stale resourceVersion": {ResourceVersion: &staleRV},
		"other uid":             {UID: &wrongUID},
	} {
		err := cms.Delete(ctx, "pre", metav1.DeleteOptions{Preconditions: &pre})
		if !apierrors.IsConflict(err) {
			t.Errorf("delete with a precondition on the %s: %v, want 409 Conflict", what, err)
		}
	}
	if _, err := cms.Get(ctx, "pre", metav1.GetOptions{}); err != nil {
		t.Fatalf("the object is gone after deletes whose preconditions failed: %v", err)
	}
	if err := cms.Delete(ctx, "pre", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &cm.UID, ResourceVersion: &cm.ResourceVersion}}); err != nil {
		t.Fatalf("delete with matching preconditions: %v", err)
	}
	if _, err := cms.Get(ctx, "pre", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("get after delete: %v, want NotFound", err)
	}
}

// TestNamespaceTerminating: a deleted namespace is Terminating while content
// remains (here held by a finalizer), and refuses new content with 403.
func TestNamespaceTerminating(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	s.MustKubectl("create", "namespace", "doomed")
	f := writeFile(t, t.TempDir(), "held.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: doomed\n  finalizers:\n  - example.com/hold\n")
	s.MustKubectl("create", noValidate, "-f", f)

	s.MustKubectl("delete", "namespace", "doomed", "--wait=false")
	got := s.MustKubectl("get", "namespace", "doomed", "-o", "jsonpath={.status.phase}|{.metadata.deletionTimestamp}")
	phase, ts, _ := strings.Cut(got, "|")
	if phase != "Terminating" || ts == "" {
		t.Errorf("deleted namespace: phase %q deletionTimestamp %q, want Terminating with a deletionTimestamp", phase, ts)
	}
	_, stderr, err := s.Kubectl("create", "configmap", "late", "-n", "doomed")
	if err == nil || !strings.Contains(stderr, "unable to create new content in namespace doomed because it is being terminated") {
		t.Errorf("kubectl create in a terminating namespace: err %v, stderr %q; want unable to create new content ... being terminated", err, stderr)
	}
	r := s.Do(http.MethodPost, "/api/v1/namespaces/doomed/configmaps", "application/json",
		[]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}`))
	expectStatus(t, r, http.StatusForbidden, metav1.StatusReasonForbidden)
	expectAbsent(t, s, "/api/v1/namespaces/doomed/configmaps/late")
}

// TestWatchTimeoutSeconds: the server ends a watch after timeoutSeconds.
func TestWatchTimeoutSeconds(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	timeout := int64(1)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	start := time.Now()
	w, err := s.ClientSet().CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{TimeoutSeconds: &timeout})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		select {
		case _, ok := <-w.ResultChan():
			if ok {
				continue
			}
			if d := time.Since(start); d < 900*time.Millisecond {
				t.Errorf("watch with timeoutSeconds=1 ended after %v", d)
			}
			return
		case <-ctx.Done():
			t.Fatalf("watch with timeoutSeconds=1 still open after %v", waitTimeout)
		}
	}
}
