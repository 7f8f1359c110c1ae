package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"skiff.dev/skiff/test/operator"
)

// TestCRDOperator runs a real controller-runtime operator (test/operator)
// against skiff, seed 004's promise: it installs the Widget CRD, reconciles
// Widgets into ConfigMaps it owns, reports status with observedGeneration,
// cleans up under a finalizer, and keeps working across an API server
// restart.
func TestCRDOperator(t *testing.T) {
	t.Parallel()
	s := startSkiff(t)
	cfg := s.RESTConfig()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// controller-runtime logs (reconcile errors, retries) go to the test log
	// when the test fails. Set before the first controller-runtime client,
	// which otherwise warns that it has none.
	logs := &syncBuffer{}
	ctrl.SetLogger(funcr.New(func(prefix, args string) { fmt.Fprintln(logs, time.Now().Format("15:04:05.000"), prefix, args) }, funcr.Options{}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- operator log (tail) ---\n%s", logs.Tail(stderrTailBytes))
		}
	})

	scheme, err := operator.NewScheme()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	if err := operator.InstallCRD(ctx, c, operator.WidgetCRD(), waitTimeout); err != nil {
		t.Fatal(err)
	}

	mgr, rec, err := operator.NewManager(cfg, operator.Options{
		LeaderElectionNamespace: "default",
		// Generous, so a restart of the server is not a lost leadership.
		LeaseDuration: 30 * time.Second,
		RenewDeadline: 20 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	// Registered after startSkiff's cleanup, so it runs first: the manager
	// stops (and releases its lease) while the server still runs.
	t.Cleanup(func() {
		stopMgr()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("the manager stopped with %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("the manager did not stop within %v", stopTimeout)
		}
	})
	managerRunning := func(t *testing.T) {
		t.Helper()
		select {
		case err := <-done:
			t.Fatalf("the manager exited: %v", err)
		default:
		}
	}

	widget := func(name string) (*operator.Widget, error) {
		var w operator.Widget
		err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: name}, &w)
		return &w, err
	}
	// reconciled waits until the operator has observed the widget's current
	// generation and the ConfigMap holds want.
	reconciled := func(t *testing.T, name string, want map[string]string) *operator.Widget {
		t.Helper()
		var w *operator.Widget
		eventually(t, "widget "+name+" reconciled", func() (bool, string) {
			var err error
			if w, err = widget(name); err != nil {
				return false, err.Error()
			}
			ready := meta.FindStatusCondition(w.Status.Conditions, operator.ConditionReady)
			if w.Status.ObservedGeneration != w.Generation || ready == nil || ready.Status != "True" || ready.ObservedGeneration != w.Generation {
				return false, fmt.Sprintf("generation %d, status %+v", w.Generation, w.Status)
			}
			var cm corev1.ConfigMap
			if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: operator.ConfigMapName(name)}, &cm); err != nil {
				return false, err.Error()
			}
			if fmt.Sprint(cm.Data) != fmt.Sprint(want) {
				return false, fmt.Sprintf("configmap data %v, want %v", cm.Data, want)
			}
			return true, ""
		})
		return w
	}

	t.Run("Reconcile", func(t *testing.T) {
		file := writeFile(t, t.TempDir(), "w1.yaml", "apiVersion: yourco.io/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  name: foo\n  size: small\n")
		mustKubectl(t, s, "apply", "-f", file)
		w := reconciled(t, "w1", map[string]string{"name": "foo", "size": "small"})
		if w.Generation != 1 || w.Status.State != "Ready" || w.Status.LastProvisioned == nil || !slices.Contains(w.Finalizers, operator.Finalizer) {
			t.Errorf("widget w1: generation %d finalizers %v status %+v", w.Generation, w.Finalizers, w.Status)
		}
		var cm corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "widget-w1"}, &cm); err != nil {
			t.Fatal(err)
		}
		ref := metav1ControllerRef(cm.OwnerReferences)
		if ref == nil || ref.APIVersion != "yourco.io/v1" || ref.Kind != "Widget" || ref.Name != "w1" || ref.UID != w.UID ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Errorf("configmap ownerReferences = %+v, want a controller reference to widget w1 (uid %s)", cm.OwnerReferences, w.UID)
		}
		// The printer column reads the operator's condition.
		out := mustKubectl(t, s, "get", "widgets")
		if !fieldsAre("w1", "small", "True")(strings.Split(strings.TrimSpace(out), "\n")[len(strings.Split(strings.TrimSpace(out), "\n"))-1]) {
			t.Errorf("kubectl get widgets:\n%s", out)
		}
		// Leader election holds a Lease.
		var lease coordinationv1.Lease
		lc, err := client.New(cfg, client.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := lc.Get(ctx, types.NamespacedName{Namespace: "default", Name: "widget-operator.yourco.io"}, &lease); err != nil || lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			t.Errorf("leader election lease: %v %+v", err, lease.Spec)
		}
	})

	t.Run("SpecChange", func(t *testing.T) {
		mustKubectl(t, s, "patch", "widget", "w1", "--type=merge", "-p", `{"spec":{"size":"large"}}`)
		if w := reconciled(t, "w1", map[string]string{"name": "foo", "size": "large"}); w.Generation != 2 {
			t.Errorf("generation %d after one spec change, want 2", w.Generation)
		}
		// Drift in the owned ConfigMap is repaired (the operator watches what it owns).
		mustKubectl(t, s, "patch", "configmap", "widget-w1", "--type=merge", "-p", `{"data":{"size":"tiny"}}`)
		reconciled(t, "w1", map[string]string{"name": "foo", "size": "large"})
		eventually(t, "configmap drift repaired", func() (bool, string) {
			got := mustKubectl(t, s, "get", "configmap", "widget-w1", "-o", "jsonpath={.data.size}")
			return got == "large", "data.size = " + got
		})
		managerRunning(t)
	})

	t.Run("SurvivesRestart", func(t *testing.T) {
		s.Restart()
		mustKubectl(t, s, "patch", "widget", "w1", "--type=merge", "-p", `{"spec":{"name":"bar"}}`)
		if w := reconciled(t, "w1", map[string]string{"name": "bar", "size": "large"}); w.Generation != 3 {
			t.Errorf("generation %d, want 3", w.Generation)
		}
		mustKubectl(t, s, "apply", "-f", writeFile(t, t.TempDir(), "w2.yaml", "apiVersion: yourco.io/v1\nkind: Widget\nmetadata:\n  name: w2\nspec:\n  name: two\n  size: medium\n"))
		reconciled(t, "w2", map[string]string{"name": "two", "size": "medium"})
		managerRunning(t)
	})

	t.Run("FinalizerCleanup", func(t *testing.T) {
		if out := strings.TrimSpace(mustKubectl(t, s, "delete", "widget", "w1", "--wait=false")); out != `widget.yourco.io "w1" deleted` {
			t.Errorf("kubectl delete printed %q", out)
		}
		// The operator cleans up and drops its finalizer; then the widget goes.
		eventually(t, "widget w1 gone", func() (bool, string) {
			w, err := widget("w1")
			if apierrors.IsNotFound(err) {
				return true, ""
			}
			return false, fmt.Sprintf("%v; deletionTimestamp %v finalizers %v", err, w.DeletionTimestamp, w.Finalizers)
		})
		var cm corev1.ConfigMap
		if err := c.Get(ctx, types.NamespacedName{Namespace: "default", Name: "widget-w1"}, &cm); !apierrors.IsNotFound(err) {
			t.Errorf("configmap widget-w1 after its widget's deletion: %v, want NotFound", err)
		}
		if got := rec.Cleanups(); !slices.Contains(got, types.NamespacedName{Namespace: "default", Name: "w1"}) {
			t.Errorf("the operator recorded clean-ups %v, want default/w1", got)
		}
		// w2 is untouched.
		reconciled(t, "w2", map[string]string{"name": "two", "size": "medium"})
		managerRunning(t)

		// kubectl delete (waiting, as by default) returns once the operator
		// has let the widget go.
		if out := strings.TrimSpace(mustKubectl(t, s, "delete", "widget", "w2", "--timeout=20s")); out != `widget.yourco.io "w2" deleted` {
			t.Errorf("kubectl delete printed %q", out)
		}
		if got := rec.Cleanups(); !slices.Contains(got, types.NamespacedName{Namespace: "default", Name: "w2"}) {
			t.Errorf("the operator recorded clean-ups %v, want default/w2 too", got)
		}
	})
}
